"""``client.plans``: priced instalment plans for an amount, with schedules and annual-rate disclosures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from bnpl.client._base import AsyncResource, SyncResource, async_raw, raw
from bnpl.client._core import APIRequest, make_request, validate_params
from bnpl.client._params import PlanQuoteArgs
from bnpl.models import PlanQuoteList, PlanQuoteParams

PATH = "/v1/plan_quotes"

QuoteParams = PlanQuoteParams | Mapping[str, Any] | None


def _quote(params: QuoteParams, kwargs: dict[str, Any], idempotency_key: str | None) -> APIRequest:
    body = validate_params(PlanQuoteParams, params, kwargs)
    return make_request("POST", PATH, body=body, idempotency_key=idempotency_key)


class Plans(SyncResource):
    """Plan quotes ("as low as ¥86.58/month"): every plan with its schedule, totals and annual rates."""

    __slots__ = ()

    def quote(
        self,
        params: QuoteParams = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[PlanQuoteArgs],
    ) -> PlanQuoteList:
        """Quote the plans for an amount (``POST /v1/plan_quotes``); ``.data`` holds one quote per plan."""
        return self._model(_quote(params, dict(kwargs), idempotency_key), PlanQuoteList)


class AsyncPlans(AsyncResource):
    """The async twin of :class:`Plans`."""

    __slots__ = ()

    async def quote(
        self,
        params: QuoteParams = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[PlanQuoteArgs],
    ) -> PlanQuoteList:
        """Quote the plans for an amount (``POST /v1/plan_quotes``); ``.data`` holds one quote per plan."""
        return await self._model(_quote(params, dict(kwargs), idempotency_key), PlanQuoteList)


class PlansWithRawResponse:
    """``client.with_raw_response.plans``."""

    def __init__(self, resource: Plans) -> None:
        self.quote = raw(Plans(resource._transport, raw=True).quote)


class AsyncPlansWithRawResponse:
    """``client.with_raw_response.plans`` on the async client."""

    def __init__(self, resource: AsyncPlans) -> None:
        self.quote = async_raw(AsyncPlans(resource._transport, raw=True).quote)
