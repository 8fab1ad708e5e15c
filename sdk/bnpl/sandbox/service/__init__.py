"""The lender's domain operations. Each state change is ONE transaction that updates the rows and writes its
event(s) to the outbox, so an event exists exactly when its change happened.

Signatures take the :class:`~bnpl.sandbox.db.Database`, the calling merchant's id (every query is scoped to
it: another merchant's object is a 404, like a missing one) and ``now`` from the app's injectable clock
(objects attached to a test clock use the clock's ``frozen_time`` instead).
"""

from __future__ import annotations

from bnpl.sandbox.service._common import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    ServiceError,
    emit_event,
)
from bnpl.sandbox.service.checkouts import (
    OfferedPlan,
    approve_checkout,
    cancel_checkout,
    checkout_merchant,
    checkout_owner,
    create_checkout,
    decline_checkout,
    get_checkout,
    list_checkouts,
    offered_plans,
)
from bnpl.sandbox.service.clocks import advance_clock, create_clock, get_clock, object_now
from bnpl.sandbox.service.endpoints import create_endpoint, delete_endpoint, list_endpoints, rotate_endpoint_secret
from bnpl.sandbox.service.events import get_event_json, list_events_json
from bnpl.sandbox.service.expiry import expire_authorizations, expire_checkouts
from bnpl.sandbox.service.orders import (
    amend_order,
    capture_order,
    get_order,
    list_orders,
    load_order,
    refund_order,
    void_order,
)
from bnpl.sandbox.service.prequalifications import prequalify
from bnpl.sandbox.service.quotes import standard_quotes

__all__ = [
    "ConflictError",
    "InvalidRequestError",
    "NotFoundError",
    "OfferedPlan",
    "ServiceError",
    "advance_clock",
    "amend_order",
    "approve_checkout",
    "cancel_checkout",
    "capture_order",
    "checkout_merchant",
    "checkout_owner",
    "create_checkout",
    "create_clock",
    "create_endpoint",
    "decline_checkout",
    "delete_endpoint",
    "emit_event",
    "expire_authorizations",
    "expire_checkouts",
    "get_checkout",
    "get_clock",
    "get_event_json",
    "get_order",
    "list_checkouts",
    "list_endpoints",
    "list_events_json",
    "list_orders",
    "load_order",
    "object_now",
    "offered_plans",
    "prequalify",
    "refund_order",
    "rotate_endpoint_secret",
    "standard_quotes",
    "void_order",
]
