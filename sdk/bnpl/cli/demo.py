"""`bnpl demo`: the README's main job, an OTA flight booked with pay-later against the embedded sandbox lender.

Everything is real: the sandbox lender runs on 127.0.0.1 with a temporary database, the merchant side talks to it
through :class:`bnpl.Client`, the customer approves on the hosted page through its own HTTP form, and a local
webhook receiver verifies every signed event and applies it once. A test clock then plays the months of
repayment in seconds.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import click
import httpx

from bnpl.cli._output import render_table
from bnpl.cli._receiver import LocalReceiver
from bnpl.client import Client
from bnpl.models import CustomerCreditNotice, Event, InstalmentNotice, Order, PlanQuote
from bnpl.money import Money
from bnpl.plans import add_months
from bnpl.sandbox.customer import complete_hosted_page
from bnpl.sandbox.server import run_sandbox
from bnpl.webhooks import HandleOutcome

__all__ = ["demo"]

FARE = Money.of("1299", "CNY")
CHEAPER_FARE = Money.of("1099", "CNY")
PERSONA_EMAIL = "limit-increase@bnpl.test"
CHOSEN_PLAN = ("monthly", 6, "flat_fee")


class DemoFailedError(Exception):
    """A step did not check out; the message says what was expected."""


@dataclass
class Step:
    """One narrated step of the demo and what it established."""

    title: str
    ok: bool = False
    seconds: float = 0.0
    lines: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


class Narrator:
    """Prints each step as it happens (unless ``--json``) and keeps the machine-readable transcript."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.steps: list[Step] = []

    def say(self, text: str = "") -> None:
        if not self.quiet:
            click.echo(text)

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[Step]:
        step = Step(title)
        self.steps.append(step)
        self.say(click.style(f"\n▶ {len(self.steps)}. {title}", bold=True))
        started = time.perf_counter()
        try:
            yield step
        except Exception as exc:  # any failure ends the demo with the step named, never a bare traceback
            step.seconds = time.perf_counter() - started
            step.facts["error"] = f"{type(exc).__name__}: {exc}"
            self.say(click.style(f"  ✗ {exc}", fg="red"))
            raise DemoFailedError(title) from exc
        step.seconds = time.perf_counter() - started
        step.ok = True
        for line in step.lines:
            self.say(f"  {line}")
        self.say(click.style(f"  ✓ done in {step.seconds * 1000:.0f} ms", fg="green"))


def _yuan(minor: int) -> str:
    return Money(minor, "CNY").format("zh_CN")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailedError(message)


def _rates(quote: PlanQuote) -> str:
    rates = quote.annual_rates
    return f"{rates['cn_compound']} % IRR · {rates['cn_simple']} % 单利 · APR {rates['us_reg_z']} %"


def _plan_name(product: str, periods: int, method: str | None) -> str:
    if product == "pay_in_4":
        return "pay in 4"
    if product == "pay_in_30":
        return "pay in 30 days"
    return f"{periods} months, {method}"


def _schedule_table(order: Order) -> str:
    rows = [
        [
            str(i.number),
            i.due_date.isoformat(),
            _yuan(i.amount),
            _yuan(i.amount_paid),
            i.status,
        ]
        for i in order.plan.schedule
    ]
    table = render_table(["#", "due", "amount", "paid", "status"], rows, right=[True, False, True, True, False])
    return table.replace("\n", "\n  ")


def _events_of(receiver: LocalReceiver, start: int, types: tuple[str, ...]) -> list[Event]:
    return [e for e in receiver.applied[start:] if e.type in types]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable transcript instead of the story.")
def demo(as_json: bool) -> None:
    """Book a ¥1,299 Shanghai → Chengdu flight with pay-later, end to end, against the embedded sandbox lender."""
    narrator = Narrator(quiet=as_json)
    started = time.perf_counter()
    ok = True
    try:
        with run_sandbox() as sandbox, LocalReceiver() as receiver:
            narrator.say(
                f"Sandbox lender on {sandbox.base_url} (temporary database); merchant receiver on {receiver.url}"
            )
            with Client(api_key=sandbox.secret_key, base_url=sandbox.base_url) as client:
                _play(narrator, client, receiver, sandbox.base_url, sandbox.secret_key)
    except DemoFailedError:
        ok = False
    elapsed = time.perf_counter() - started
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": ok,
                    "seconds": round(elapsed, 3),
                    "steps": [
                        {"title": s.title, "ok": s.ok, "ms": round(s.seconds * 1000, 1), **s.facts}
                        for s in narrator.steps
                    ],
                },
                ensure_ascii=False,
                indent=2,
                default=str,
            )
        )
    else:
        verdict = "every step checked out" if ok else "a step failed (see above)"
        narrator.say(f"\n{'✓' if ok else '✗'} demo finished in {elapsed:.1f} s: {verdict}")
    if not ok:
        raise SystemExit(1)


def _play(narrator: Narrator, client: Client, receiver: LocalReceiver, base_url: str, secret_key: str) -> None:
    with narrator.step("Register the merchant's webhook endpoint") as step:
        endpoint = client.webhook_endpoints.create(url=receiver.url, enabled_events=["*"], description="demo")
        receiver.use_secret(endpoint.secret)
        step.lines.append(f"{endpoint.id} → {receiver.url} (signed with a whsec_ secret, Standard Webhooks)")
        step.facts["endpoint_id"] = endpoint.id

    with narrator.step(f"Quote the fare {FARE.format('zh_CN')} (Shanghai SHA → Chengdu CTU) with every plan") as step:
        quotes = client.plans.quote(amount=FARE.minor, currency="CNY").data
        _check(len(quotes) >= 3, "the lender quoted fewer than 3 plans")
        rows = []
        for q in quotes:
            _check(sum(i.amount for i in q.schedule) == q.total_payable, "a schedule does not add up")
            rows.append(
                [
                    _plan_name(q.product, q.periods, q.method),
                    f"{q.periods} × {_yuan(q.schedule[-1].amount)}" if q.periods > 1 else _yuan(q.schedule[0].amount),
                    _yuan(q.total_payable),
                    _yuan(q.total_cost_of_credit),
                    _rates(q),
                ]
            )
        table = render_table(["plan", "instalments", "total", "cost", "annual rates"], rows)
        step.lines.append(table.replace("\n", "\n  "))
        cheapest = min((q for q in quotes if q.product == "monthly"), key=lambda q: q.schedule[0].amount)
        step.lines.append(f"“as low as {_yuan(cheapest.schedule[0].amount)}/month” for the fare page")
        step.facts["plans"] = len(quotes)

    customer = {"reference": "traveller-0042", "email": PERSONA_EMAIL, "country": "CN"}
    with narrator.step("Prequalify the traveller (decision in milliseconds)") as step:
        pq = client.prequalifications.create(customer=customer, amount=FARE.minor, currency="CNY", category="flight")
        _check(pq.eligible, f"the traveller was not eligible: {pq.decline_reason}")
        credit, low, high = pq.available_credit or 0, pq.min_order_amount or 0, pq.max_order_amount or 0
        step.lines.append(
            f"eligible: credit available {_yuan(credit)}, orders from {_yuan(low)} to {_yuan(high)}, "
            f"{len(pq.plans)} plans offered"
        )
        plan_index = next((i for i, p in enumerate(pq.plans) if (p.product, p.periods, p.method) == CHOSEN_PLAN), None)
        if plan_index is None:
            raise DemoFailedError("the 6-month plan was not offered")
        step.facts.update(available_credit=pq.available_credit, plans_offered=len(pq.plans))

    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with narrator.step("Open a checkout on a test clock") as step:
        clock = client.test_clocks.create(frozen_time=start, name="demo")
        checkout = client.checkouts.create(
            merchant_reference="PNR-SHA-CTU-0042",
            amount=FARE.minor,
            currency="CNY",
            items=[
                {
                    "name": "Economy SHA→CTU MU5401",
                    "category": "flight",
                    "quantity": 1,
                    "unit_amount": FARE.minor,
                    "total_amount": FARE.minor,
                }
            ],
            travel={
                "origin": "SHA",
                "destination": "CTU",
                "travel_date": add_months(start.date(), 1).isoformat(),
                "passengers": [{"name": "LI Lei", "type": "adult"}],
            },
            customer=customer,
            return_url="https://ota.example/bnpl/return",
            cancel_url="https://ota.example/bnpl/cancel",
            metadata={"test_clock": clock.id},
        )
        _check(checkout.status == "open", f"checkout is {checkout.status}, expected open")
        step.lines.append(
            f"{checkout.id} is open until {checkout.expires_at:%H:%M} UTC; clock {clock.id} at {start:%Y-%m-%d}"
        )
        step.facts.update(checkout_id=checkout.id, clock_id=clock.id)

    with narrator.step("The traveller approves on the hosted page (its own HTTP form, no back door)") as step:
        outcome = complete_hosted_page(checkout.approval_url, plan=plan_index, locale="zh-CN")
        _check(outcome.status == "approved", f"the hosted page answered {outcome.status}")
        approved = client.checkouts.retrieve(checkout.id)  # confirm with the API, never trust the redirect
        if approved.status != "approved" or approved.order_id is None:
            raise DemoFailedError(f"the checkout is {approved.status}, expected approved")
        order_id = approved.order_id
        receiver.wait_for(lambda e: e.type == "order.authorized" and e.object_id == order_id)
        step.lines.append(f"redirected to {outcome.redirect_url}")
        step.lines.append(f"webhooks verified: checkout.approved, order.authorized for {order_id}")
        step.facts["order_id"] = order_id

    with narrator.step("Ticket issued: capture the order") as step:
        order = client.orders.capture(order_id, reference="TKT-781-2345678901")
        _check(order.amount_captured == FARE.minor and order.status == "captured", "the capture did not go through")
        captured = receiver.wait_for(lambda e: e.type == "order.captured" and e.object_id == order_id)
        step.lines.append(f"captured {_yuan(order.amount_captured)}; webhook {captured.id} verified")
        step.lines.append(_schedule_table(order))
        step.facts["captured"] = order.amount_captured

    with narrator.step("The lender delivers order.captured again: the receiver drops the duplicate") as step:
        duplicates_before = receiver.outcomes[HandleOutcome.DUPLICATE.value]
        response = httpx.post(
            f"{base_url}/v1/events/{captured.id}/redeliver", headers={"Authorization": f"Bearer {secret_key}"}
        )
        _check(response.status_code < 300, f"redelivery answered {response.status_code}")
        receiver.wait_for_outcome(HandleOutcome.DUPLICATE, duplicates_before + 1)
        step.lines.append("second delivery verified, recognised by event id and not applied again")

    refund = FARE - CHEAPER_FARE
    with narrator.step(f"Rebooked to a cheaper flight ({CHEAPER_FARE.format('zh_CN')}): refund the difference") as step:
        order = client.orders.refund(order_id, amount=refund.minor, reason="rebooked", reference="REBOOK-1")
        _check(order.amount_refunded == refund.minor, "the refund was not applied")
        _check(sum(i.amount for i in order.plan.schedule) == order.disclosures.total_payable, "schedule mismatch")
        receiver.wait_for(lambda e: e.type == "order.refunded" and e.object_id == order_id)
        step.lines.append(f"refunded {_yuan(refund.minor)}; the adjusted schedule:")
        step.lines.append(_schedule_table(order))
        step.facts["refunded"] = order.amount_refunded

    months = len(order.plan.schedule) + 1
    with narrator.step(f"Advance the test clock month by month ({months} months)") as step:
        seen = len(receiver.applied)
        interesting = (
            "order.instalment_due_soon",
            "order.instalment_paid",
            "customer.credit_limit_increased",
            "order.paid_off",
        )
        lines: list[str] = []

        def advance_to(month: int) -> None:
            nonlocal seen
            target = datetime.combine(add_months(start.date(), month), start.timetz())
            client.test_clocks.advance(clock.id, frozen_time=target)
            for event in _events_of(receiver, seen, interesting):
                lines.append(f"{target:%Y-%m-%d}  {event.type:<34} {_describe(event)}")
            seen = len(receiver.applied)

        _with_progress(narrator, months, advance_to)
        receiver.wait_for(lambda e: e.type == "order.paid_off" and e.object_id == order_id)
        order = client.orders.retrieve(order_id)
        _check(order.status == "paid_off", f"the order is {order.status}, expected paid_off")
        paid = sum(i.amount_paid for i in order.plan.schedule)
        _check(paid == order.disclosures.total_payable, "what was paid differs from the plan")
        step.lines.extend(lines)
        step.lines.append(f"order {order.status}: {_yuan(paid)} repaid in {len(order.plan.schedule)} instalments")
        step.facts.update(status=order.status, repaid=paid)

    with narrator.step("Summary") as step:
        deliveries, verified = receiver.deliveries, receiver.verified
        applied = len(receiver.applied)
        duplicates = receiver.outcomes[HandleOutcome.DUPLICATE.value]
        stale = receiver.outcomes[HandleOutcome.STALE.value]
        rejected = deliveries - verified
        _check(rejected == 0, f"{rejected} deliveries failed verification")
        _check(duplicates >= 1, "the duplicate delivery was not detected")
        step.lines.append(
            f"webhooks received {deliveries}, verified {verified}, applied {applied}, "
            f"duplicates dropped {duplicates}, stale dropped {stale}"
        )
        step.facts.update(
            received=deliveries, verified=verified, applied=applied, duplicates_dropped=duplicates, stale_dropped=stale
        )


def _describe(event: Event) -> str:
    data = event.data
    if isinstance(data, InstalmentNotice):
        return f"instalment {data.instalment_number}: {_yuan(data.amount)} due {data.due_date}"
    if isinstance(data, CustomerCreditNotice):
        return f"credit limit {_yuan(data.credit_limit_before)} → {_yuan(data.credit_limit_after)}"
    return event.object_id


def _with_progress(narrator: Narrator, months: int, advance_to: Callable[[int], None]) -> None:
    if narrator.quiet:
        for month in range(1, months + 1):
            advance_to(month)
        return
    with click.progressbar(range(1, months + 1), label="  months", show_pos=True) as bar:
        for month in bar:
            advance_to(month)
