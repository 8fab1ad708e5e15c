"""``BnplRouter``: the FastAPI/Starlette router with the webhook, checkout-return, "as low as" and widget routes."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from bnpl.client import AsyncClient
from bnpl.errors import APIConnectionError, APIStatusError, InvalidParamsError, InvalidRequestError, NotFoundError
from bnpl.models.checkouts import Checkout
from bnpl.webhooks.raw_body.starlette import webhook_endpoint
from bnpl.webhooks.signing import Webhook
from bnpl.webhooks.stores.base import DEFAULT_LEASE_SECONDS, DedupStore
from bnpl.webhooks.stores.sqlite import SQLiteStore
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

__all__ = ["BnplRouter"]

logger = logging.getLogger("bnpl_fastapi")
H = TypeVar("H", bound=Hook)


def _bad_param(exc: InvalidParamError) -> JSONResponse:
    return JSONResponse({"error": {"type": "invalid_param", "param": exc.param, "message": exc.message}}, 400)


class BnplRouter(APIRouter):
    """An ``APIRouter`` (mounted at ``/bnpl`` by default) for pay-later checkouts.

    Routes: ``POST /bnpl/webhook``, ``GET /bnpl/return?checkout_id=…``, ``GET /bnpl/as-low-as?amount=&currency=``
    and ``GET /bnpl/widget.js``. Register your hooks with ``@bnpl_router.on("order.captured")``. Install with
    ``app = FastAPI(lifespan=bnpl_router.app_lifespan); app.include_router(bnpl_router)`` so
    :func:`bnpl_fastapi.get_bnpl_client` works in your own routes and the client closes on shutdown.
    """

    def __init__(
        self,
        settings: BnplSettings | None = None,
        *,
        prefix: str = "/bnpl",
        order_store: OrderStore | None = None,
        webhook_store: DedupStore | None = None,
        quote_cache: QuoteCache | None = None,
        client: AsyncClient | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        super().__init__(prefix=prefix, tags=["bnpl"], dependencies=[Depends(self._bind)])
        self.settings = settings if settings is not None else BnplSettings.from_env()
        self.book = OrderBook(order_store if order_store is not None else SQLiteOrderStore(self.settings.order_db))
        self.webhooks = MerchantWebhooks(self.book, allow_async=True)
        store = webhook_store if webhook_store is not None else SQLiteStore(self.settings.webhook_db)
        self.handler = self.webhooks.async_handler(
            Webhook(self.settings.require_webhook_secret()), store, lease_seconds=lease_seconds
        )
        self.quote_cache = quote_cache if quote_cache is not None else QuoteCache(self.settings.quote_cache_seconds)
        self._client = client
        self._owns_client = client is None
        self.add_route(self.prefix + "/webhook", webhook_endpoint(self.handler), methods=["POST"], name="bnpl_webhook")
        self.add_api_route("/return", self._return, methods=["GET"], name="bnpl_return", include_in_schema=False)
        self.add_api_route("/as-low-as", self._as_low_as, methods=["GET"], name="bnpl_as_low_as")
        self.add_api_route("/widget.js", self._widget, methods=["GET"], name="bnpl_widget", include_in_schema=False)

    def __repr__(self) -> str:
        return f"BnplRouter(prefix={self.prefix!r}, settings={self.settings!r})"

    # --- wiring -------------------------------------------------------------------------------------------

    async def _bind(self, request: Request) -> None:
        request.state.bnpl = self

    def client(self) -> AsyncClient:
        """The ``AsyncClient`` for the lender (created on first use from the settings, or the one passed in)."""
        if self._client is None:
            self._client = AsyncClient(self.settings.api_key, base_url=self.settings.base_url)
        return self._client

    async def aclose(self) -> None:
        """Close the client if this router created it."""
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    def install(self, app: FastAPI) -> None:
        """Include the routes and make ``get_bnpl_client`` find this router (for apps with their own lifespan;
        call :meth:`aclose` on shutdown)."""
        app.include_router(self)
        app.state.bnpl = self

    @contextlib.asynccontextmanager
    async def app_lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        """A FastAPI lifespan: ``FastAPI(lifespan=bnpl_router.app_lifespan)``."""
        app.state.bnpl = self
        try:
            yield
        finally:
            await self.aclose()

    def on(self, *event_types: str) -> Callable[[H], H]:
        """Register ``hook(event, order)`` (sync or ``async def``) for event types, ``"*"`` for all.

        It runs once per event, after the merchant order moved; raise ``bnpl.webhooks.RetryLater`` to have
        the lender redeliver later (503), any other exception answers 500 (also redelivered).
        """
        return self.webhooks.on(*event_types)

    # --- merchant helpers ---------------------------------------------------------------------------------

    async def open_checkout(
        self,
        request: Request,
        *,
        reference: str,
        amount: int,
        currency: str,
        items: Sequence[Mapping[str, Any]] | None = None,
        description: str | None = None,
        **extra: Any,
    ) -> Checkout:
        """Open a checkout whose ``return_url`` is this router's return route, and record the merchant order.

        ``extra`` goes to ``client.checkouts.create`` (``customer=``, ``travel=``, ``metadata=`` …). Raises the
        SDK's ``InvalidParamsError`` for bad arguments and ``OrderConflictError`` if ``reference`` already has
        an authorized order.
        """
        params = checkout_params(
            reference=reference,
            amount=amount,
            currency=currency,
            return_url=str(request.url_for("bnpl_return")),
            items=items,
            description=description,
            **extra,
        )
        checkout = await self.client().checkouts.create(**params)
        await anyio.to_thread.run_sync(self.book.record_opened, checkout)
        return checkout

    async def redirect_to_checkout(self, request: Request, **kwargs: Any) -> RedirectResponse:
        """:meth:`open_checkout`, then a 303 redirect to the lender's approval page."""
        checkout = await self.open_checkout(request, **kwargs)
        return RedirectResponse(checkout.approval_url, status_code=303)

    async def handle_webhook(self, request: Request) -> Response:
        """Answer a webhook delivery from inside your own route (the body is read raw, whatever read it first)."""
        return await webhook_endpoint(self.handler)(request)

    async def as_low_as(self, amount: int, currency: str) -> AsLowAs:
        """The cheapest monthly amount and the plans for ``amount`` (minor units), cached per amount."""
        cached = self.quote_cache.get(amount, currency)
        if cached is not None:
            return cached
        quotes = await self.client().plans.quote(amount=amount, currency=currency)
        result = as_low_as(amount, currency, quotes, locale=self.settings.locale)
        self.quote_cache.put(result)
        return result

    # --- routes -------------------------------------------------------------------------------------------

    async def _return(self, request: Request) -> Response:
        try:
            checkout_id = validate_checkout_id(request.query_params.get("checkout_id"))
        except InvalidParamError as exc:
            return _bad_param(exc)
        try:
            checkout = await self.client().checkouts.retrieve(checkout_id)
        except NotFoundError:
            failure = fill_url(self.settings.failure_url, reference="", reason="unknown_checkout")
            return RedirectResponse(failure, status_code=303)
        except (APIConnectionError, APIStatusError) as exc:
            logger.warning("checkout return: the lender could not confirm %s: %s", checkout_id, type(exc).__name__)
            return PlainTextResponse("We could not confirm your payment yet; please reload this page.", 503)
        decision = await anyio.to_thread.run_sync(
            lambda: decide_return(
                self.book, checkout, success_url=self.settings.success_url, failure_url=self.settings.failure_url
            )
        )
        return RedirectResponse(decision.redirect_url, status_code=303)

    async def _as_low_as(self, request: Request) -> Response:
        try:
            amount, currency = parse_amount_query(
                request.query_params.get("amount"), request.query_params.get("currency")
            )
        except InvalidParamError as exc:
            return _bad_param(exc)
        try:
            result = await self.as_low_as(amount, currency)
        except (InvalidParamsError, InvalidRequestError) as exc:
            return JSONResponse({"error": {"type": "invalid_request", "message": str(exc)}}, 400)
        except (APIConnectionError, APIStatusError) as exc:
            logger.warning("as-low-as: quote failed: %s", type(exc).__name__)
            return JSONResponse({"error": {"type": "lender_unavailable", "message": "try again later"}}, 502)
        return JSONResponse(result.as_json(), headers={"Cache-Control": "public, max-age=60"})

    async def _widget(self) -> Response:
        return Response(WIDGET_JS, media_type=WIDGET_CONTENT_TYPE, headers={"Cache-Control": "public, max-age=300"})
