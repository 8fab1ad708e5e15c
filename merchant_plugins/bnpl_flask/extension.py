"""The Flask extension: ``Bnpl(app)`` or ``bnpl.init_app(app)`` registers the ``bnpl`` blueprint and keeps
the per-app state (settings, client, order book, webhook handler) in ``app.extensions["bnpl"]``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, Response, current_app, jsonify, redirect, request, url_for
from werkzeug.wrappers.response import Response as BaseResponse

from bnpl.client import Client
from bnpl.errors import APIConnectionError, APIStatusError, InvalidParamsError, InvalidRequestError, NotFoundError
from bnpl.models.checkouts import Checkout
from bnpl.webhooks.dispatch import WebhookHandler
from bnpl.webhooks.errors import RawBodyRequiredError
from bnpl.webhooks.raw_body.flask import raw_body
from bnpl.webhooks.signing import Webhook
from bnpl.webhooks.stores.base import DEFAULT_LEASE_SECONDS, DedupStore
from bnpl.webhooks.stores.sqlite import SQLiteStore
from bnpl_flask.rawbody import RAW_BODY_KEY, RawBodyMiddleware
from bnpl_merchant_kit import (
    WIDGET_CONTENT_TYPE,
    WIDGET_JS,
    AsLowAs,
    BnplSettings,
    Hook,
    InvalidParamError,
    MerchantWebhooks,
    OrderBook,
    OrderStore,
    QuoteCache,
    SQLiteOrderStore,
    as_low_as,
    checkout_params,
    decide_return,
    fill_url,
    parse_amount_query,
    validate_checkout_id,
)

__all__ = ["Bnpl", "BnplState", "current_bnpl"]

logger = logging.getLogger("bnpl_flask")
H = TypeVar("H", bound=Hook)


@dataclass(slots=True)
class BnplState:
    """What one Flask app uses: ``app.extensions["bnpl"]``."""

    settings: BnplSettings
    client: Client
    book: OrderBook
    webhooks: MerchantWebhooks
    handler: WebhookHandler
    quote_cache: QuoteCache

    def as_low_as(self, amount: int, currency: str) -> AsLowAs:
        """The cheapest monthly amount and the plans for ``amount`` (minor units), cached per amount."""
        cached = self.quote_cache.get(amount, currency)
        if cached is not None:
            return cached
        result = as_low_as(
            amount, currency, self.client.plans.quote(amount=amount, currency=currency), locale=self.settings.locale
        )
        self.quote_cache.put(result)
        return result


def current_bnpl() -> BnplState:
    """The current app's :class:`BnplState` (inside a request or app context)."""
    state = current_app.extensions.get("bnpl")
    if not isinstance(state, BnplState):
        raise RuntimeError("bnpl is not initialised on this app: call Bnpl(app) or bnpl.init_app(app)")
    return state


def _bad_param(exc: InvalidParamError) -> tuple[Response, int]:
    return jsonify({"error": {"type": "invalid_param", "param": exc.param, "message": exc.message}}), 400


class Bnpl:
    """Pay-later checkouts for Flask: the ``bnpl`` blueprint (``/bnpl/webhook``, ``/bnpl/return``,
    ``/bnpl/as-low-as``, ``/bnpl/widget.js``), hooks, and a checkout redirect helper.

    Settings come from ``settings=`` or the app's config (``BNPL_API_KEY``, ``BNPL_WEBHOOK_SECRET``,
    ``BNPL_SUCCESS_URL`` …), falling back to the environment. Stores, cache and client may be passed in
    (tests, PostgreSQL/Redis de-duplication).
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        settings: BnplSettings | None = None,
        url_prefix: str = "/bnpl",
        order_store: OrderStore | None = None,
        webhook_store: DedupStore | None = None,
        quote_cache: QuoteCache | None = None,
        client: Client | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self.settings = settings
        self.url_prefix = url_prefix
        self.order_store = order_store
        self.webhook_store = webhook_store
        self.quote_cache = quote_cache
        self.client = client
        self.lease_seconds = lease_seconds
        self.hooks = MerchantWebhooks(None, allow_async=False)
        self.blueprint = self._make_blueprint()
        if app is not None:
            self.init_app(app)

    def __repr__(self) -> str:
        return f"Bnpl(url_prefix={self.url_prefix!r})"

    def on(self, *event_types: str) -> Callable[[H], H]:
        """Register ``hook(event, order)`` for event types (``"*"`` for all); runs once per event after the
        merchant order moved. Raise ``bnpl.webhooks.RetryLater`` to be redelivered later (503)."""
        return self.hooks.on(*event_types)

    def init_app(self, app: Flask) -> None:
        """Build this app's state from ``settings=`` or ``app.config``/environment and register the blueprint."""
        import os

        settings = self.settings or BnplSettings.from_mapping({**os.environ, **app.config})
        book = OrderBook(self.order_store if self.order_store is not None else SQLiteOrderStore(settings.order_db))
        webhooks = self.hooks.bound_to(book)
        store = self.webhook_store if self.webhook_store is not None else SQLiteStore(settings.webhook_db)
        handler = webhooks.sync_handler(
            Webhook(settings.require_webhook_secret()), store, lease_seconds=self.lease_seconds
        )
        client = self.client if self.client is not None else Client(settings.api_key, base_url=settings.base_url)
        cache = self.quote_cache if self.quote_cache is not None else QuoteCache(settings.quote_cache_seconds)
        app.extensions["bnpl"] = BnplState(settings, client, book, webhooks, handler, cache)
        app.register_blueprint(self.blueprint, url_prefix=self.url_prefix)
        app.wsgi_app = RawBodyMiddleware(app.wsgi_app, self.url_prefix + "/webhook")  # type: ignore[method-assign]

    # --- merchant helpers ---------------------------------------------------------------------------------

    def open_checkout(
        self,
        *,
        reference: str,
        amount: int,
        currency: str,
        items: Sequence[Mapping[str, Any]] | None = None,
        description: str | None = None,
        **extra: Any,
    ) -> Checkout:
        """Open a checkout returning to ``/bnpl/return`` and record the merchant order (in a request context).

        ``extra`` goes to ``client.checkouts.create``. Raises the SDK's ``InvalidParamsError`` for bad arguments
        and ``OrderConflictError`` if ``reference`` already has an authorized order.
        """
        state = current_bnpl()
        params = checkout_params(
            reference=reference,
            amount=amount,
            currency=currency,
            return_url=url_for(f"{self.blueprint.name}.checkout_return", _external=True),
            items=items,
            description=description,
            **extra,
        )
        checkout = state.client.checkouts.create(**params)
        state.book.record_opened(checkout)
        return checkout

    def redirect_to_checkout(self, **kwargs: Any) -> BaseResponse:
        """:meth:`open_checkout`, then a 303 redirect to the lender's approval page."""
        return redirect(self.open_checkout(**kwargs).approval_url, code=303)

    # --- the blueprint ------------------------------------------------------------------------------------

    def _make_blueprint(self) -> Blueprint:
        bp = Blueprint("bnpl", __name__)
        bp.add_url_rule("/webhook", "webhook", _webhook, methods=["POST"])
        bp.add_url_rule("/return", "checkout_return", _checkout_return, methods=["GET"])
        bp.add_url_rule("/as-low-as", "as_low_as", _as_low_as, methods=["GET"])
        bp.add_url_rule("/widget.js", "widget", _widget, methods=["GET"])
        return bp


def _webhook() -> Response:
    state = current_bnpl()
    body = request.environ.get(RAW_BODY_KEY)
    try:
        raw = body if isinstance(body, bytes) else raw_body()
    except RawBodyRequiredError:
        logger.error("webhook body was consumed before the bnpl view; answering 500 so the lender retries")
        return Response(b'{"outcome":"handler_failed"}', status=500, content_type="application/json")
    result = state.handler.handle(raw, cast(Mapping[str, str], request.headers))
    return Response(result.body, status=result.status_code, headers=result.headers)


def _checkout_return() -> BaseResponse | tuple[Response, int]:
    state = current_bnpl()
    try:
        checkout_id = validate_checkout_id(request.args.get("checkout_id"))
    except InvalidParamError as exc:
        return _bad_param(exc)
    try:
        checkout = state.client.checkouts.retrieve(checkout_id)
    except NotFoundError:
        return redirect(fill_url(state.settings.failure_url, reference="", reason="unknown_checkout"), code=303)
    except (APIConnectionError, APIStatusError) as exc:
        logger.warning("checkout return: the lender could not confirm %s: %s", checkout_id, type(exc).__name__)
        return Response("We could not confirm your payment yet; please reload this page.", 503), 503
    decision = decide_return(
        state.book, checkout, success_url=state.settings.success_url, failure_url=state.settings.failure_url
    )
    return redirect(decision.redirect_url, code=303)


def _as_low_as() -> Response | tuple[Response, int]:
    state = current_bnpl()
    try:
        amount, currency = parse_amount_query(request.args.get("amount"), request.args.get("currency"))
    except InvalidParamError as exc:
        return _bad_param(exc)
    try:
        result = state.as_low_as(amount, currency)
    except (InvalidParamsError, InvalidRequestError) as exc:
        return jsonify({"error": {"type": "invalid_request", "message": str(exc)}}), 400
    except (APIConnectionError, APIStatusError) as exc:
        logger.warning("as-low-as: quote failed: %s", type(exc).__name__)
        return jsonify({"error": {"type": "lender_unavailable", "message": "try again later"}}), 502
    response = jsonify(result.as_json())
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


def _widget() -> Response:
    return Response(WIDGET_JS, content_type=WIDGET_CONTENT_TYPE, headers={"Cache-Control": "public, max-age=300"})
