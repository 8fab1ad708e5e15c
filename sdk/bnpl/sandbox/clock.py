"""Test-clock simulation: what happens to a clock's objects when a merchant advances it.

``POST /v1/test_clocks/{id}/advance`` moves the clock's ``frozen_time`` and then calls :func:`advance`, which
plays, in time order, everything that falls due up to the new time for the objects attached to the clock (its
checkouts, their orders and customers): instalment reminders, collections by persona, failures, overdue
notices and arrears, paid-off orders, authorization expiry warnings and expiries, checkout expiries and the
personas' credit notices. Each step is its own transaction, its events stamped at the simulated instant it
happened. Timing rules: :class:`~bnpl.sandbox.clock_plan.ClockPolicy`; what is due:
:mod:`bnpl.sandbox.clock_plan`; the steps: :mod:`bnpl.sandbox.clock_steps` and
:mod:`bnpl.sandbox.clock_credit`. Documented in docs/sandbox-clocks.md.

Safety: the plan is recomputed from persisted state at the start of every run and each step re-checks its
precondition, so advancing to the same time twice does nothing new, and a run that crashed midway is finished
by the next one (the steps already committed are not repeated). One jump over 13 months produces exactly the
events of thirteen monthly advances, in the same order.
"""

from __future__ import annotations

import heapq
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bnpl.models.test_clocks import TestClock
from bnpl.sandbox.clock_credit import apply_credit, plan_credit
from bnpl.sandbox.clock_plan import Action, ClockPolicy, plan_checkouts, plan_expiry, plan_repayments
from bnpl.sandbox.clock_steps import (
    collect,
    expire_authorization,
    expire_checkout,
    mark_overdue,
    remind,
    settle,
    warn_expiry,
)
from bnpl.sandbox.db import Database, Transaction
from bnpl.sandbox.service._common import InvalidRequestError, NotFoundError, from_us, to_us

__all__ = [
    "DEFAULT_POLICY",
    "AdvanceResult",
    "ClockPolicy",
    "DeliveryStepper",
    "StepHook",
    "advance",
    "delivery_hook",
]

DEFAULT_POLICY: Final = ClockPolicy()
"""Reminders 3 days before each due date, overdue 3 days after a failed collection, expiry warning 1 day before."""

StepHook = Callable[[datetime], object]
"""Called with each simulated instant once its steps are committed (e.g. to step the webhook delivery worker)."""

_DAY_US: Final = 86_400_000_000


@dataclass(frozen=True, slots=True)
class AdvanceResult:
    """What one :func:`advance` run did: committed steps that changed something, and events written."""

    steps: int
    events: int


class DeliveryStepper:
    """Steps a :class:`bnpl.sandbox.delivery.DeliveryWorker` with simulated times, so retries compress: a retry
    due "in 2 hours" is attempted once the clock passes that time. Call :meth:`close` when done."""

    def __init__(self, worker: Any) -> None:
        self._worker = worker

    def __call__(self, now: datetime) -> object:
        """Deliver every attempt due at ``now`` (new events included)."""
        return self._worker.run_due(now)

    def close(self) -> None:
        """Release the worker's HTTP pool and threads."""
        self._worker.close()


def delivery_hook(db: Database) -> DeliveryStepper | None:
    """A :class:`DeliveryStepper` over ``db`` when :mod:`bnpl.sandbox.delivery` exists and some webhook endpoint
    is registered; None otherwise. It runs whether or not the background worker does
    (``BNPL_SANDBOX_DELIVERY=0`` turns off only the wall-clock background worker)."""
    try:
        module = importlib.import_module("bnpl.sandbox.delivery")
    except ImportError:
        return None
    worker_class: Any = getattr(module, "DeliveryWorker", None)
    if worker_class is None:
        return None
    with db.transaction(readonly=True) as tx:
        if tx.fetchone("SELECT 1 FROM webhook_endpoints WHERE deleted_at IS NULL LIMIT 1") is None:
            return None  # nobody to deliver to: skip the worker's per-step queries
    return DeliveryStepper(worker_class(db))


def _plan(tx: Transaction, merchant_id: str, clock_id: str, until: int, policy: ClockPolicy) -> list[Action]:
    return [
        *plan_checkouts(tx, clock_id, until),
        *plan_expiry(tx, clock_id, until, policy),
        *plan_credit(tx, clock_id, until),
        *plan_repayments(tx, merchant_id, clock_id, until, policy),
    ]


def _run(tx: Transaction, clock_id: str, action: Action, policy: ClockPolicy) -> tuple[int, list[str]]:
    """Run one step; return (events written, order ids whose plan must be refreshed)."""
    kind = action.kind
    if kind == "checkout_expire":
        return expire_checkout(tx, action), []
    if kind == "auth_warn":
        return warn_expiry(tx, action), []
    if kind == "auth_expire":
        # Releasing a partly captured authorization makes the order repayable from now on.
        return expire_authorization(tx, action), [action.object_id]
    if kind == "credit":
        return apply_credit(tx, clock_id, action), []
    if kind == "remind":
        return remind(tx, action), []
    if kind == "collect":
        events, failed = collect(tx, action)
        return events, [action.object_id] if failed else []
    if kind == "overdue":
        return mark_overdue(tx, action, policy), []
    return settle(tx, action), []


def _advance(db: Database, clock_id: str, until: int, policy: ClockPolicy, hook: StepHook | None) -> tuple[int, int]:
    with db.transaction() as tx:
        row = tx.fetchone(
            "UPDATE test_clocks SET status = 'advancing', frozen_time = CASE WHEN frozen_time < ? THEN ? "
            "ELSE frozen_time END WHERE id = ? RETURNING merchant_id",
            (until, until, clock_id),
        )
        if row is None:
            raise NotFoundError("test_clock", clock_id)
        merchant_id = str(row["merchant_id"])
        queue = _plan(tx, merchant_id, clock_id, until, policy)
    heapq.heapify(queue)
    queued = {a.key for a in queue}
    steps = events = 0
    pending_hook: int | None = None  # the instant whose events the hook has not seen yet
    while queue:
        action = heapq.heappop(queue)
        if hook is not None and pending_hook is not None and action.at > pending_hook:
            hook(from_us(pending_hook))  # once per simulated instant, after all of its steps
            pending_hook = None
        with db.transaction() as tx:
            written, refresh = _run(tx, clock_id, action, policy)
            follow: list[Action] = []
            for order_id in refresh:
                follow += plan_repayments(tx, merchant_id, clock_id, until, policy, order_id=order_id)
        for nxt in follow:
            # Follow-ups are never earlier than the step that caused them, so time order is kept.
            if nxt.key not in queued and nxt.at >= action.at:
                queued.add(nxt.key)
                heapq.heappush(queue, nxt)
        if written:
            steps += 1
            events += written
            pending_hook = action.at
    if hook is not None:
        hook(from_us(until))  # deliveries and retries due by the new time
    with db.transaction() as tx:
        tx.execute("UPDATE test_clocks SET status = 'ready' WHERE id = ?", (clock_id,))
    return steps, events


def advance(
    db: Database,
    clock: TestClock,
    new_time: datetime,
    *,
    policy: ClockPolicy | None = None,
    on_step: StepHook | None = None,
) -> AdvanceResult:
    """Let time pass on ``clock`` up to ``new_time``: run every step due by then, in time order.

    ``new_time`` must be timezone-aware. The clock's ``frozen_time`` is raised to ``new_time`` if it is
    earlier (the API has already done so) and never lowered; its ``status`` is ``advancing`` during the run.
    ``on_step`` (default: a :func:`delivery_hook` stepper) is called with each simulated instant at which
    steps wrote events, once all of that instant's steps are committed, and finally with ``new_time``. A crash
    (or an exception from ``on_step``) leaves ``status`` ``advancing`` and every committed step in place; the
    next advance finishes the work. Raises :class:`~bnpl.sandbox.service._common.NotFoundError` for an unknown clock and
    :class:`~bnpl.sandbox.service._common.InvalidRequestError` for a naive ``new_time``.
    """
    if not isinstance(clock, TestClock):
        raise InvalidRequestError(f"clock must be a TestClock, got {type(clock).__name__}", param="clock")
    if not isinstance(new_time, datetime) or new_time.tzinfo is None:
        raise InvalidRequestError("new_time must be a timezone-aware datetime", param="frozen_time")
    policy = DEFAULT_POLICY if policy is None else policy
    if not isinstance(policy, ClockPolicy):
        raise InvalidRequestError(f"policy must be a ClockPolicy, got {type(policy).__name__}", param="policy")
    stepper = delivery_hook(db) if on_step is None else None
    hook: StepHook | None = on_step if on_step is not None else stepper
    try:
        steps, events = _advance(db, clock.id, to_us(new_time), policy, hook)
    finally:
        if stepper is not None:
            stepper.close()
    return AdvanceResult(steps=steps, events=events)
