"""``client.prequalifications``: what may this customer borrow for this amount, and on which plans."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from bnpl.client._base import AsyncResource, SyncResource, async_raw, raw
from bnpl.client._core import APIRequest, make_request, validate_params
from bnpl.client._params import PrequalificationCreateArgs
from bnpl.models import Prequalification, PrequalificationCreateParams

PATH = "/v1/prequalifications"

CreateParams = PrequalificationCreateParams | Mapping[str, Any] | None


def _create(params: CreateParams, kwargs: dict[str, Any], idempotency_key: str | None) -> APIRequest:
    body = validate_params(PrequalificationCreateParams, params, kwargs)
    return make_request("POST", PATH, body=body, idempotency_key=idempotency_key)


class Prequalifications(SyncResource):
    """Pre-loan decisions: eligibility, the order-amount range and the plans offered to a customer."""

    __slots__ = ()

    def create(
        self,
        params: CreateParams = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[PrequalificationCreateArgs],
    ) -> Prequalification:
        """Ask for a pre-loan decision (``POST /v1/prequalifications``)."""
        return self._model(_create(params, dict(kwargs), idempotency_key), Prequalification)


class AsyncPrequalifications(AsyncResource):
    """The async twin of :class:`Prequalifications`."""

    __slots__ = ()

    async def create(
        self,
        params: CreateParams = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[PrequalificationCreateArgs],
    ) -> Prequalification:
        """Ask for a pre-loan decision (``POST /v1/prequalifications``)."""
        return await self._model(_create(params, dict(kwargs), idempotency_key), Prequalification)


class PrequalificationsWithRawResponse:
    """``client.with_raw_response.prequalifications``."""

    def __init__(self, resource: Prequalifications) -> None:
        raw_mode = Prequalifications(resource._transport, raw=True)
        self.create = raw(raw_mode.create)


class AsyncPrequalificationsWithRawResponse:
    """``client.with_raw_response.prequalifications`` on the async client."""

    def __init__(self, resource: AsyncPrequalifications) -> None:
        raw_mode = AsyncPrequalifications(resource._transport, raw=True)
        self.create = async_raw(raw_mode.create)
