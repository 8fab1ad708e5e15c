"""``client.webhook_endpoints``: register where signed events go, and rotate their secrets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from bnpl.client._base import AsyncResource, SyncResource, async_raw, raw
from bnpl.client._core import APIRequest, make_request, path_id, validate_params
from bnpl.client._pagination import AsyncPaginator, SyncCursorPage
from bnpl.client._params import RotateSecretArgs, WebhookEndpointCreateArgs, WebhookEndpointListArgs
from bnpl.models import (
    ID_PREFIXES,
    DeletedObject,
    RotateSecretParams,
    WebhookEndpoint,
    WebhookEndpointCreateParams,
    WebhookEndpointList,
    WebhookEndpointListParams,
    WebhookEndpointWithSecret,
)

PATH = "/v1/webhook_endpoints"
PREFIX = ID_PREFIXES["webhook_endpoint"]

CreateParams = WebhookEndpointCreateParams | Mapping[str, Any] | None


def _create(params: CreateParams, kwargs: dict[str, Any], idempotency_key: str | None) -> APIRequest:
    body = validate_params(WebhookEndpointCreateParams, params, kwargs)
    return make_request("POST", PATH, body=body, idempotency_key=idempotency_key)


def _delete(endpoint_id: str, idempotency_key: str | None) -> APIRequest:
    return make_request("DELETE", f"{PATH}/{path_id(endpoint_id, PREFIX)}", idempotency_key=idempotency_key)


def _rotate(
    endpoint_id: str, params: RotateSecretParams | None, kwargs: dict[str, Any], idempotency_key: str | None
) -> APIRequest:
    escaped = path_id(endpoint_id, PREFIX)
    body = validate_params(RotateSecretParams, params, kwargs)
    return make_request("POST", f"{PATH}/{escaped}/rotate_secret", body=body, idempotency_key=idempotency_key)


class WebhookEndpoints(SyncResource):
    """Webhook endpoints. The ``whsec_`` secret is returned only by ``create`` and ``rotate_secret``."""

    __slots__ = ()

    def create(
        self,
        params: CreateParams = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[WebhookEndpointCreateArgs],
    ) -> WebhookEndpointWithSecret:
        """Register an endpoint (``POST /v1/webhook_endpoints``); store the returned ``secret`` now."""
        return self._model(_create(params, dict(kwargs), idempotency_key), WebhookEndpointWithSecret)

    def list(
        self, params: WebhookEndpointListParams | None = None, /, **kwargs: Unpack[WebhookEndpointListArgs]
    ) -> SyncCursorPage[WebhookEndpoint]:
        """List endpoints; iterate the page to walk them all."""
        query = validate_params(WebhookEndpointListParams, params, dict(kwargs))
        return self._page(PATH, query, WebhookEndpointList)

    def delete(self, endpoint_id: str, /, *, idempotency_key: str | None = None) -> DeletedObject:
        """Delete an endpoint (``DELETE /v1/webhook_endpoints/{id}``); no further events go to it."""
        return self._model(_delete(endpoint_id, idempotency_key), DeletedObject)

    def rotate_secret(
        self,
        endpoint_id: str,
        params: RotateSecretParams | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[RotateSecretArgs],
    ) -> WebhookEndpointWithSecret:
        """Issue a new secret; events are signed with both until the old one expires."""
        return self._model(_rotate(endpoint_id, params, dict(kwargs), idempotency_key), WebhookEndpointWithSecret)


class AsyncWebhookEndpoints(AsyncResource):
    """The async twin of :class:`WebhookEndpoints`."""

    __slots__ = ()

    async def create(
        self,
        params: CreateParams = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[WebhookEndpointCreateArgs],
    ) -> WebhookEndpointWithSecret:
        """Register an endpoint (``POST /v1/webhook_endpoints``); store the returned ``secret`` now."""
        return await self._model(_create(params, dict(kwargs), idempotency_key), WebhookEndpointWithSecret)

    def list(
        self, params: WebhookEndpointListParams | None = None, /, **kwargs: Unpack[WebhookEndpointListArgs]
    ) -> AsyncPaginator[WebhookEndpoint]:
        """List endpoints: ``await`` for the first page, or ``async for`` over all of them."""
        query = validate_params(WebhookEndpointListParams, params, dict(kwargs))
        return self._page(PATH, query, WebhookEndpointList)

    async def delete(self, endpoint_id: str, /, *, idempotency_key: str | None = None) -> DeletedObject:
        """Delete an endpoint (``DELETE /v1/webhook_endpoints/{id}``); no further events go to it."""
        return await self._model(_delete(endpoint_id, idempotency_key), DeletedObject)

    async def rotate_secret(
        self,
        endpoint_id: str,
        params: RotateSecretParams | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[RotateSecretArgs],
    ) -> WebhookEndpointWithSecret:
        """Issue a new secret; events are signed with both until the old one expires."""
        request = _rotate(endpoint_id, params, dict(kwargs), idempotency_key)
        return await self._model(request, WebhookEndpointWithSecret)


class WebhookEndpointsWithRawResponse:
    """``client.with_raw_response.webhook_endpoints``."""

    def __init__(self, resource: WebhookEndpoints) -> None:
        raw_mode = WebhookEndpoints(resource._transport, raw=True)
        self.create = raw(raw_mode.create)
        self.list = raw(raw_mode.list)
        self.delete = raw(raw_mode.delete)
        self.rotate_secret = raw(raw_mode.rotate_secret)


class AsyncWebhookEndpointsWithRawResponse:
    """``client.with_raw_response.webhook_endpoints`` on the async client."""

    def __init__(self, resource: AsyncWebhookEndpoints) -> None:
        raw_mode = AsyncWebhookEndpoints(resource._transport, raw=True)
        self.create = async_raw(raw_mode.create)
        self.list = async_raw(raw_mode.list)
        self.delete = async_raw(raw_mode.delete)
        self.rotate_secret = async_raw(raw_mode.rotate_secret)
