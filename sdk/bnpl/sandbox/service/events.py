"""Reading the event outbox: ``GET /v1/events`` (newest first) and one event by id."""

from __future__ import annotations

from typing import Any

from bnpl.models.events import EventListParams
from bnpl.sandbox.db import Database
from bnpl.sandbox.service._common import InvalidRequestError, NotFoundError, dumps

__all__ = ["get_event_json", "list_events_json"]


def get_event_json(db: Database, merchant_id: str, event_id: str) -> str:
    """The stored event body (exactly what webhooks deliver) of one of the merchant's events."""
    with db.transaction(readonly=True) as tx:
        row = tx.fetchone("SELECT payload FROM events WHERE id = ? AND merchant_id = ?", (event_id, merchant_id))
    if row is None:
        raise NotFoundError("event", event_id)
    return str(row["payload"])


def list_events_json(db: Database, merchant_id: str, params: EventListParams) -> str:
    """A page of events as the list JSON, newest first; ``starting_after`` continues after (older than) that
    event. Filters: ``types`` (any of) and ``object_id``. Payloads are stored serialised, so they are spliced
    in as they are, byte for byte what the webhooks carry."""
    sql = "SELECT id, payload FROM events WHERE merchant_id = ?"
    args: list[Any] = [merchant_id]
    with db.transaction(readonly=True) as tx:
        if params.starting_after is not None:
            anchor = tx.fetchone(
                "SELECT pk FROM events WHERE id = ? AND merchant_id = ?", (params.starting_after, merchant_id)
            )
            if anchor is None:
                raise InvalidRequestError(
                    "starting_after is not one of your events", code="resource_missing", param="starting_after"
                )
            sql += " AND pk < ?"
            args.append(anchor["pk"])
        if params.types:
            sql += f" AND type IN ({','.join('?' * len(params.types))})"
            args.extend(params.types)
        if params.object_id is not None:
            sql += " AND object_id = ?"
            args.append(params.object_id)
        rows = tx.fetchall(sql + " ORDER BY pk DESC LIMIT ?", [*args, params.limit + 1])
    page = rows[: params.limit]
    more = len(rows) > params.limit
    cursor = page[-1]["id"] if more and page else None
    return (
        '{"object":"list","data":['
        + ",".join(str(r["payload"]) for r in page)
        + '],"has_more":'
        + ("true" if more else "false")
        + ',"next_cursor":'
        + dumps(cursor)
        + "}"
    )
