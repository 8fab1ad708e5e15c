"""``client.checkouts``: open a checkout, read it, cancel it, list them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from bnpl.client._base import AsyncResource, SyncResource, async_raw, raw
from bnpl.client._core import APIRequest, make_request, path_id, validate_params
from bnpl.client._pagination import AsyncPaginator, SyncCursorPage
from bnpl.client._params import CheckoutCancelArgs, CheckoutCreateArgs, CheckoutListArgs
from bnpl.models import (
    ID_PREFIXES,
    Checkout,
    CheckoutCancelParams,
    CheckoutCreateParams,
    CheckoutList,
    CheckoutListParams,
)

PATH = "/v1/checkouts"
PREFIX = ID_PREFIXES["checkout"]

CreateParams = CheckoutCreateParams | Mapping[str, Any] | None


def _create(params: CreateParams, kwargs: dict[str, Any], idempotency_key: str | None) -> APIRequest:
    body = validate_params(CheckoutCreateParams, params, kwargs)
    return make_request("POST", PATH, body=body, idempotency_key=idempotency_key)


def _retrieve(checkout_id: str) -> APIRequest:
    return make_request("GET", f"{PATH}/{path_id(checkout_id, PREFIX)}")


def _cancel(
    checkout_id: str, params: CheckoutCancelParams | None, kwargs: dict[str, Any], idempotency_key: str | None
) -> APIRequest:
    escaped = path_id(checkout_id, PREFIX)
    body = validate_params(CheckoutCancelParams, params, kwargs)
    return make_request("POST", f"{PATH}/{escaped}/cancel", body=body, idempotency_key=idempotency_key)


class Checkouts(SyncResource):
    """Checkout sessions: create one, send the customer to ``approval_url``, then read the outcome."""

    __slots__ = ()

    def create(
        self,
        params: CreateParams = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[CheckoutCreateArgs],
    ) -> Checkout:
        """Open a checkout (``POST /v1/checkouts``); redirect the customer to ``Checkout.approval_url``."""
        return self._model(_create(params, dict(kwargs), idempotency_key), Checkout)

    def retrieve(self, checkout_id: str, /) -> Checkout:
        """Read a checkout (``GET /v1/checkouts/{id}``); ``order_id`` is set once it is approved."""
        return self._model(_retrieve(checkout_id), Checkout)

    get = retrieve

    def cancel(
        self,
        checkout_id: str,
        params: CheckoutCancelParams | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[CheckoutCancelArgs],
    ) -> Checkout:
        """Cancel an open checkout (``POST /v1/checkouts/{id}/cancel``)."""
        return self._model(_cancel(checkout_id, params, dict(kwargs), idempotency_key), Checkout)

    def list(
        self, params: CheckoutListParams | None = None, /, **kwargs: Unpack[CheckoutListArgs]
    ) -> SyncCursorPage[Checkout]:
        """List checkouts, newest first; iterate the page to walk every checkout across pages."""
        return self._page(PATH, validate_params(CheckoutListParams, params, dict(kwargs)), CheckoutList)


class AsyncCheckouts(AsyncResource):
    """The async twin of :class:`Checkouts`."""

    __slots__ = ()

    async def create(
        self,
        params: CreateParams = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[CheckoutCreateArgs],
    ) -> Checkout:
        """Open a checkout (``POST /v1/checkouts``); redirect the customer to ``Checkout.approval_url``."""
        return await self._model(_create(params, dict(kwargs), idempotency_key), Checkout)

    async def retrieve(self, checkout_id: str, /) -> Checkout:
        """Read a checkout (``GET /v1/checkouts/{id}``); ``order_id`` is set once it is approved."""
        return await self._model(_retrieve(checkout_id), Checkout)

    get = retrieve

    async def cancel(
        self,
        checkout_id: str,
        params: CheckoutCancelParams | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[CheckoutCancelArgs],
    ) -> Checkout:
        """Cancel an open checkout (``POST /v1/checkouts/{id}/cancel``)."""
        return await self._model(_cancel(checkout_id, params, dict(kwargs), idempotency_key), Checkout)

    def list(
        self, params: CheckoutListParams | None = None, /, **kwargs: Unpack[CheckoutListArgs]
    ) -> AsyncPaginator[Checkout]:
        """List checkouts: ``await`` for the first page, or ``async for`` over every checkout."""
        return self._page(PATH, validate_params(CheckoutListParams, params, dict(kwargs)), CheckoutList)


class CheckoutsWithRawResponse:
    """``client.with_raw_response.checkouts``: the same methods, returning :class:`RawResponse`."""

    def __init__(self, checkouts: Checkouts) -> None:
        raw_mode = Checkouts(checkouts._transport, raw=True)
        self.create = raw(raw_mode.create)
        self.retrieve = raw(raw_mode.retrieve)
        self.get = self.retrieve
        self.cancel = raw(raw_mode.cancel)
        self.list = raw(raw_mode.list)


class AsyncCheckoutsWithRawResponse:
    """``client.with_raw_response.checkouts`` on the async client."""

    def __init__(self, checkouts: AsyncCheckouts) -> None:
        raw_mode = AsyncCheckouts(checkouts._transport, raw=True)
        self.create = async_raw(raw_mode.create)
        self.retrieve = async_raw(raw_mode.retrieve)
        self.get = self.retrieve
        self.cancel = async_raw(raw_mode.cancel)
        self.list = async_raw(raw_mode.list)
