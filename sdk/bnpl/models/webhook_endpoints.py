"""Webhook endpoints: where the lender delivers signed events, and their signing secrets."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, StrictBool, StrictInt, StringConstraints, model_validator

from bnpl.models.common import (
    ApiObject,
    ApiParams,
    HttpUrlStr,
    ListResponse,
    Metadata,
    Timestamp,
    WebhookEndpointId,
)
from bnpl.models.events import EVENT_TYPES

__all__ = [
    "RotateSecretParams",
    "WebhookEndpoint",
    "WebhookEndpointCreateParams",
    "WebhookEndpointList",
    "WebhookEndpointListParams",
    "WebhookEndpointWithSecret",
]

Description = Annotated[str, StringConstraints(max_length=500)]


class WebhookEndpointCreateParams(ApiParams):
    """Register an endpoint: ``POST /v1/webhook_endpoints``. ``enabled_events`` lists event types, or is
    ``["*"]`` for all (including types added later)."""

    url: HttpUrlStr
    enabled_events: list[str] = Field(min_length=1, max_length=len(EVENT_TYPES) + 1)
    description: Description | None = None
    encrypt_pii: StrictBool = Field(
        default=False, description="Encrypt personal data in event bodies (AES-256-GCM resource envelope)."
    )
    metadata: Metadata = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_events(self) -> Self:
        events = self.enabled_events
        if "*" in events:
            if events != ["*"]:
                raise ValueError('"*" enables every event and must be the only entry of enabled_events')
            return self
        unknown = sorted(set(events) - set(EVENT_TYPES))
        if unknown:
            raise ValueError(f"unknown event types {unknown}; known: {', '.join(EVENT_TYPES)}")
        if len(set(events)) != len(events):
            raise ValueError("enabled_events lists a type twice")
        return self


class WebhookEndpoint(ApiObject):
    """A registered endpoint (the signing secret is only returned on create and rotate)."""

    id: WebhookEndpointId
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    url: str
    enabled_events: list[str]
    description: str | None = None
    encrypt_pii: bool = False
    status: Literal["enabled", "disabled"] = "enabled"
    created: Timestamp
    metadata: dict[str, str] = Field(default_factory=dict)
    livemode: bool = False


class WebhookEndpointWithSecret(WebhookEndpoint):
    """The create and rotate responses: the endpoint plus its new ``whsec_`` secret. Store the secret now;
    it is never shown again, and it is kept out of ``repr``."""

    secret: Annotated[str, StringConstraints(pattern=r"^whsec_[A-Za-z0-9+/=]{16,}$")] = Field(repr=False)
    previous_secret_expires_at: Timestamp | None = Field(
        default=None, description="Until when signatures with the previous secret are still sent (rotation)."
    )


class RotateSecretParams(ApiParams):
    """Rotate the signing secret: ``POST /v1/webhook_endpoints/{id}/rotate_secret``. Events are signed with
    both secrets until the current one expires, so receivers can roll over without dropping events."""

    expire_current_in_seconds: StrictInt = Field(default=86_400, ge=0, le=7 * 86_400)


class WebhookEndpointListParams(ApiParams):
    """Page ``GET /v1/webhook_endpoints``."""

    limit: int = Field(default=10, ge=1, le=100)  # lax: it arrives as a query string
    starting_after: WebhookEndpointId | None = None


class WebhookEndpointList(ListResponse[WebhookEndpoint]):
    """A page of webhook endpoints."""
