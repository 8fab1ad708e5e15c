"""``{% load bnpl_oscar %}{% bnpl_instalment_schedule order %}``: the lender's instalment schedule of an order."""

from __future__ import annotations

from typing import Any

from django import template  # type: ignore[import-untyped]

from bnpl.errors import BNPLError
from bnpl_oscar.conf import bnpl_settings
from bnpl_oscar.sync import to_decimal

register = template.Library()


@register.inclusion_tag("bnpl_oscar/schedule.html")  # type: ignore[untyped-decorator]
def bnpl_instalment_schedule(order: Any) -> dict[str, Any]:
    """Fetch the schedule of each pay-later Source of ``order`` from the API (the lender's live view)."""
    conf = bnpl_settings()
    schedules: list[dict[str, Any]] = []
    for source in order.sources.filter(source_type__name=conf.source_type):
        try:
            lender = conf.client.orders.retrieve(source.reference)
        except BNPLError as exc:
            # the dashboard page must still render when the lender is unreachable
            schedules.append({"reference": source.reference, "error": type(exc).__name__})
            continue
        rows = [
            {
                "number": i.number,
                "due_date": i.due_date,
                "amount": to_decimal(i.amount, lender.currency),
                "paid": to_decimal(i.amount_paid, lender.currency),
                "status": i.status,
            }
            for i in lender.plan.schedule
        ]
        schedules.append(
            {
                "reference": lender.id,
                "status": lender.status,
                "plan": f"{lender.plan.periods} x {lender.plan.product}",
                "currency": lender.currency,
                "rows": rows,
            }
        )
    return {"schedules": schedules}
