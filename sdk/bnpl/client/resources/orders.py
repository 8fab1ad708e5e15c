"""``client.orders``: capture, refund, void and amend the authorized order behind an approved checkout."""

from __future__ import annotations

from typing import Any, Unpack

import pydantic

from bnpl.client._base import AsyncResource, SyncResource, async_raw, raw
from bnpl.client._core import APIRequest, make_request, path_id, validate_params
from bnpl.client._pagination import AsyncPaginator, SyncCursorPage
from bnpl.client._params import AmendArgs, CaptureArgs, OrderListArgs, RefundArgs, VoidArgs
from bnpl.models import (
    ID_PREFIXES,
    AmendParams,
    CaptureParams,
    Order,
    OrderList,
    OrderListParams,
    RefundParams,
    VoidParams,
)

PATH = "/v1/orders"
PREFIX = ID_PREFIXES["order"]


def _retrieve(order_id: str) -> APIRequest:
    return make_request("GET", f"{PATH}/{path_id(order_id, PREFIX)}")


def _action(
    order_id: str,
    action: str,
    model: type[pydantic.BaseModel],
    params: Any,
    kwargs: dict[str, Any],
    idempotency_key: str | None,
) -> APIRequest:
    escaped = path_id(order_id, PREFIX)
    body = validate_params(model, params, kwargs)
    return make_request("POST", f"{PATH}/{escaped}/{action}", body=body, idempotency_key=idempotency_key)


class Orders(SyncResource):
    """Orders: read them, capture what you ship, refund what comes back, void what never ships."""

    __slots__ = ()

    def retrieve(self, order_id: str, /) -> Order:
        """Read an order (``GET /v1/orders/{id}``) with its plan, captures, refunds and disclosures."""
        return self._model(_retrieve(order_id), Order)

    get = retrieve

    def capture(
        self,
        order_id: str,
        params: CaptureParams | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[CaptureArgs],
    ) -> Order:
        """Capture all (no amount) or part of the authorization (``POST /v1/orders/{id}/capture``)."""
        request = _action(order_id, "capture", CaptureParams, params, dict(kwargs), idempotency_key)
        return self._model(request, Order)

    def refund(
        self,
        order_id: str,
        params: RefundParams | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[RefundArgs],
    ) -> Order:
        """Refund part or all of what was captured (``POST /v1/orders/{id}/refund``)."""
        request = _action(order_id, "refund", RefundParams, params, dict(kwargs), idempotency_key)
        return self._model(request, Order)

    def void(
        self,
        order_id: str,
        params: VoidParams | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[VoidArgs],
    ) -> Order:
        """Release the uncaptured authorization (``POST /v1/orders/{id}/void``)."""
        request = _action(order_id, "void", VoidParams, params, dict(kwargs), idempotency_key)
        return self._model(request, Order)

    def amend(
        self,
        order_id: str,
        params: AmendParams | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[AmendArgs],
    ) -> Order:
        """Lower the authorized amount, e.g. after a cheaper rebooking (``POST /v1/orders/{id}/amend``)."""
        request = _action(order_id, "amend", AmendParams, params, dict(kwargs), idempotency_key)
        return self._model(request, Order)

    def list(self, params: OrderListParams | None = None, /, **kwargs: Unpack[OrderListArgs]) -> SyncCursorPage[Order]:
        """List orders, newest first; iterate the page to walk every order across pages."""
        return self._page(PATH, validate_params(OrderListParams, params, dict(kwargs)), OrderList)


class AsyncOrders(AsyncResource):
    """The async twin of :class:`Orders`."""

    __slots__ = ()

    async def retrieve(self, order_id: str, /) -> Order:
        """Read an order (``GET /v1/orders/{id}``) with its plan, captures, refunds and disclosures."""
        return await self._model(_retrieve(order_id), Order)

    get = retrieve

    async def capture(
        self,
        order_id: str,
        params: CaptureParams | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[CaptureArgs],
    ) -> Order:
        """Capture all (no amount) or part of the authorization (``POST /v1/orders/{id}/capture``)."""
        request = _action(order_id, "capture", CaptureParams, params, dict(kwargs), idempotency_key)
        return await self._model(request, Order)

    async def refund(
        self,
        order_id: str,
        params: RefundParams | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[RefundArgs],
    ) -> Order:
        """Refund part or all of what was captured (``POST /v1/orders/{id}/refund``)."""
        request = _action(order_id, "refund", RefundParams, params, dict(kwargs), idempotency_key)
        return await self._model(request, Order)

    async def void(
        self,
        order_id: str,
        params: VoidParams | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[VoidArgs],
    ) -> Order:
        """Release the uncaptured authorization (``POST /v1/orders/{id}/void``)."""
        request = _action(order_id, "void", VoidParams, params, dict(kwargs), idempotency_key)
        return await self._model(request, Order)

    async def amend(
        self,
        order_id: str,
        params: AmendParams | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[AmendArgs],
    ) -> Order:
        """Lower the authorized amount, e.g. after a cheaper rebooking (``POST /v1/orders/{id}/amend``)."""
        request = _action(order_id, "amend", AmendParams, params, dict(kwargs), idempotency_key)
        return await self._model(request, Order)

    def list(self, params: OrderListParams | None = None, /, **kwargs: Unpack[OrderListArgs]) -> AsyncPaginator[Order]:
        """List orders: ``await`` for the first page, or ``async for`` over every order."""
        return self._page(PATH, validate_params(OrderListParams, params, dict(kwargs)), OrderList)


class OrdersWithRawResponse:
    """``client.with_raw_response.orders``."""

    def __init__(self, resource: Orders) -> None:
        raw_mode = Orders(resource._transport, raw=True)
        self.retrieve = raw(raw_mode.retrieve)
        self.get = self.retrieve
        self.capture = raw(raw_mode.capture)
        self.refund = raw(raw_mode.refund)
        self.void = raw(raw_mode.void)
        self.amend = raw(raw_mode.amend)
        self.list = raw(raw_mode.list)


class AsyncOrdersWithRawResponse:
    """``client.with_raw_response.orders`` on the async client."""

    def __init__(self, resource: AsyncOrders) -> None:
        raw_mode = AsyncOrders(resource._transport, raw=True)
        self.retrieve = async_raw(raw_mode.retrieve)
        self.get = self.retrieve
        self.capture = async_raw(raw_mode.capture)
        self.refund = async_raw(raw_mode.refund)
        self.void = async_raw(raw_mode.void)
        self.amend = async_raw(raw_mode.amend)
        self.list = async_raw(raw_mode.list)
