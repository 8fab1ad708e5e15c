"""User code calling the client, as a merchant backend would write it; ``test_client_typing.py`` runs
``mypy --strict`` on this file. It is never executed."""

from __future__ import annotations

import datetime as dt

import bnpl.client as bc
from bnpl.errors import APIStatusError, BNPLError, IdempotencyConflictError, InvalidParamsError, RateLimitError
from bnpl.models import Checkout, Event, Order, PlanQuoteList, RefundParams, WebhookEndpointWithSecret


def sync_flow() -> None:
    with bc.Client(api_key="sk_test_x", timeout=10.0, max_retries=3) as client:
        quotes: PlanQuoteList = client.plans.quote(amount=129900, currency="CNY", products=["monthly"], periods=[6])
        cheapest: int = min(q.total_payable for q in quotes.data)
        checkout: Checkout = client.checkouts.create(
            merchant_reference="PNR-ABC123",
            amount=129900,
            currency="CNY",
            items=[{"name": "PEK-SHA", "category": "flight", "unit_amount": 129900, "total_amount": 129900}],
            return_url="https://shop.example/return",
            idempotency_key="booking-42",
        )
        url: str = checkout.approval_url
        order: Order = client.orders.get("ord_9Qa")
        order = client.orders.capture(order.id, amount=cheapest // 2)
        order = client.orders.refund(order.id, RefundParams(amount=100, reason="trip_canceled"))
        order = client.orders.refund(order.id, amount=100, reason="rebooked")
        remaining: int = order.amount_refundable
        for c in client.checkouts.list(limit=50, status="approved"):
            reveal_checkout(c)
        page = client.orders.list(created_gte=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        more: bool = page.has_more
        cursor: str | None = page.next_cursor
        raw: bc.RawResponse[Order] = client.with_raw_response.orders.retrieve("ord_9Qa")
        request_id: str | None = raw.request_id
        parsed: Order = raw.parse()
        event: Event = client.events.retrieve("evt_1")
        endpoint: WebhookEndpointWithSecret = client.webhook_endpoints.create(
            url="https://shop.example/hooks", enabled_events=["*"]
        )
        secret: str = endpoint.secret
        fast = client.with_options(timeout=2.0, max_retries=0)
        fast.test_clocks.advance("clk_1", frozen_time=dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
        print(url, remaining, more, cursor, request_id, parsed, event.type, secret)


def errors(client: bc.Client) -> str:
    try:
        client.orders.void("ord_9Qa", reason="never shipped")
    except InvalidParamsError as exc:
        return f"bad argument {exc.param}"
    except IdempotencyConflictError as exc:
        return f"key reused: {exc.request_id}"
    except RateLimitError as exc:
        return f"wait {exc.retry_after}"
    except APIStatusError as exc:
        return f"{exc.status_code} {exc.code} {exc.param} {exc.request_id}"
    except BNPLError as exc:
        return exc.message
    return "ok"


def reveal_checkout(checkout: Checkout) -> str:
    return checkout.status


async def async_flow() -> None:
    async with bc.AsyncClient() as client:
        order: Order = await client.orders.retrieve("ord_9Qa")
        order = await client.orders.void(order.id)
        ids: list[str] = [c.id async for c in client.checkouts.list(limit=10)]
        first: bc.AsyncCursorPage[Checkout] = await client.checkouts.list()
        raw: bc.RawResponse[Order] = await client.with_raw_response.orders.capture("ord_9Qa", amount=5)
        print(order.status, ids, first.data, raw.status_code)
