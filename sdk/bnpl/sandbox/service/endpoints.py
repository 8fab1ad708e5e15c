"""Webhook endpoints: where the delivery worker sends each merchant's events, and their signing secrets."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from bnpl.models.common import DeletedObject
from bnpl.models.webhook_endpoints import (
    RotateSecretParams,
    WebhookEndpoint,
    WebhookEndpointCreateParams,
    WebhookEndpointList,
    WebhookEndpointListParams,
    WebhookEndpointWithSecret,
)
from bnpl.sandbox.db import Database, Row, Transaction
from bnpl.sandbox.service._common import InvalidRequestError, NotFoundError, dumps, from_us, new_id, to_us
from bnpl.webhooks.keys import generate_secret

__all__ = ["create_endpoint", "delete_endpoint", "list_endpoints", "rotate_endpoint_secret"]


def _fields(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "url": row["url"],
        "enabled_events": json.loads(row["enabled_events"]),
        "description": row["description"],
        "encrypt_pii": bool(row["encrypt_pii"]),
        "status": row["status"],
        "created": from_us(row["created"]),
        "metadata": json.loads(row["metadata"]),
    }


def _with_secret(row: Row) -> WebhookEndpointWithSecret:
    expires = row["previous_secret_expires_at"]
    return WebhookEndpointWithSecret(
        **_fields(row),
        secret=row["secret"],
        previous_secret_expires_at=from_us(expires) if expires is not None else None,
    )


def _fetch(tx: Transaction, merchant_id: str, endpoint_id: str) -> Row:
    row = tx.fetchone(
        "SELECT * FROM webhook_endpoints WHERE id = ? AND merchant_id = ? AND deleted_at IS NULL",
        (endpoint_id, merchant_id),
    )
    if row is None:
        raise NotFoundError("webhook_endpoint", endpoint_id)
    return row


def create_endpoint(
    db: Database, merchant_id: str, params: WebhookEndpointCreateParams, now: datetime
) -> WebhookEndpointWithSecret:
    """Register an endpoint; the response carries its new ``whsec_`` secret (shown only here and on rotate)."""
    endpoint_id = new_id("we_")
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO webhook_endpoints (id, merchant_id, url, secret, enabled_events, description, encrypt_pii, "
            "metadata, created) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                endpoint_id,
                merchant_id,
                params.url,
                generate_secret(),
                dumps(params.enabled_events),
                params.description,
                int(params.encrypt_pii),
                dumps(params.metadata),
                to_us(now),
            ),
        )
        return _with_secret(_fetch(tx, merchant_id, endpoint_id))


def list_endpoints(db: Database, merchant_id: str, params: WebhookEndpointListParams) -> WebhookEndpointList:
    """The merchant's endpoints, newest first."""
    sql = "SELECT * FROM webhook_endpoints WHERE merchant_id = ? AND deleted_at IS NULL"
    args: list[Any] = [merchant_id]
    with db.transaction(readonly=True) as tx:
        if params.starting_after is not None:
            anchor = tx.fetchone(
                "SELECT pk FROM webhook_endpoints WHERE id = ? AND merchant_id = ?",
                (params.starting_after, merchant_id),
            )
            if anchor is None:
                raise InvalidRequestError(
                    "starting_after is not one of your webhook endpoints",
                    code="resource_missing",
                    param="starting_after",
                )
            sql += " AND pk < ?"
            args.append(anchor["pk"])
        rows = tx.fetchall(sql + " ORDER BY pk DESC LIMIT ?", [*args, params.limit + 1])
    data = [WebhookEndpoint(**_fields(r)) for r in rows[: params.limit]]
    more = len(rows) > params.limit
    return WebhookEndpointList(data=data, has_more=more, next_cursor=data[-1].id if more and data else None)


def delete_endpoint(db: Database, merchant_id: str, endpoint_id: str, now: datetime) -> DeletedObject:
    """Stop delivering to the endpoint (kept for the delivery log, invisible to the API afterwards)."""
    with db.transaction() as tx:
        _fetch(tx, merchant_id, endpoint_id)
        tx.execute(
            "UPDATE webhook_endpoints SET deleted_at = ?, status = 'disabled' WHERE id = ?", (to_us(now), endpoint_id)
        )
    return DeletedObject(id=endpoint_id, object="webhook_endpoint")


def rotate_endpoint_secret(
    db: Database, merchant_id: str, endpoint_id: str, params: RotateSecretParams, now: datetime
) -> WebhookEndpointWithSecret:
    """A new secret now; the current one keeps signing (alongside) for ``expire_current_in_seconds``."""
    with db.transaction() as tx:
        row = _fetch(tx, merchant_id, endpoint_id)
        tx.execute(
            "UPDATE webhook_endpoints SET previous_secret = ?, previous_secret_expires_at = ?, secret = ? WHERE id = ?",
            (
                row["secret"],
                to_us(now + timedelta(seconds=params.expire_current_in_seconds)),
                generate_secret(),
                endpoint_id,
            ),
        )
        return _with_secret(_fetch(tx, merchant_id, endpoint_id))
