"""bnpl_merchant_kit without a framework: forward-only order rules (hypothesis), both stores, as-low-as, widget
HTML escaping, settings."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bnpl.models.checkouts import Checkout
from bnpl.models.orders import Order
from bnpl_merchant_kit import (
    BnplSettings,
    InvalidParamError,
    MemoryOrderStore,
    OrderBook,
    OrderConflictError,
    PluginConfigurationError,
    QuoteCache,
    SQLiteOrderStore,
    UnknownOrderError,
    fill_url,
    parse_amount_query,
    widget_snippet,
)

NOW = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
REF = "ORD-1"


def checkout(status: str = "open", cid: str = "chk_1", order_id: str | None = None) -> Checkout:
    return Checkout(
        id=cid,
        status=status,  # type: ignore[arg-type]
        amount=129900,
        currency="CNY",
        merchant_reference=REF,
        approval_url="http://127.0.0.1/pay",
        expires_at=NOW,
        order_id=order_id,
        created=NOW,
    )


def order(status: str, captured: int, refunded: int) -> Order:
    sched = [
        {
            "number": 1,
            "due_date": "2026-08-01",
            "principal": 129900,
            "interest": 0,
            "fee": 0,
            "amount": 129900,
            "balance": 0,
            "status": "scheduled",
        }
    ]
    data: dict[str, Any] = {
        "id": "ord_1",
        "status": status,
        "checkout_id": "chk_1",
        "merchant_reference": REF,
        "currency": "CNY",
        "amount_authorized": 129900,
        "amount_captured": captured,
        "amount_refunded": refunded,
        "plan": {"product": "pay_in_30", "periods": 1, "schedule": sched},
        "disclosures": {"total_payable": 129900, "total_cost_of_credit": 0, "annual_rates": {}},
        "captures": [{"id": "cap_1", "amount": captured, "created": NOW}] if captured else [],
        "refunds": [{"id": "re_1", "amount": refunded, "reason": "other", "created": NOW}] if refunded else [],
        "created": NOW,
    }
    return Order.model_validate(data)


# the lender's history of one order: (sequence, snapshot), each later state has more progress
HISTORY = [
    (1, ("authorized", 0, 0)),
    (2, ("partially_captured", 50000, 0)),
    (3, ("captured", 129900, 0)),
    (4, ("partially_refunded", 129900, 20000)),
    (5, ("refunded", 129900, 129900)),
]


@pytest.fixture(params=["memory", "sqlite"])
def book(request: pytest.FixtureRequest, tmp_path: Path) -> OrderBook:
    store = MemoryOrderStore() if request.param == "memory" else SQLiteOrderStore(tmp_path / "orders.db")
    return OrderBook(store)


def _book_with_order(kind: str, tmp: Path) -> OrderBook:
    store = MemoryOrderStore() if kind == "memory" else SQLiteOrderStore(tmp / f"o{threading.get_ident()}.db")
    b = OrderBook(store)
    b.record_opened(checkout())
    b.apply_checkout(checkout("approved", order_id="ord_1"))
    return b


@settings(max_examples=40, deadline=None)
@given(
    deliveries=st.lists(st.sampled_from(range(len(HISTORY))), min_size=1, max_size=12),
    kind=st.sampled_from(["memory", "sqlite"]),
)
def test_any_delivery_order_ends_at_the_newest_state_and_never_goes_back(
    deliveries: list[int], kind: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    b = _book_with_order(kind, tmp_path_factory.mktemp("kit"))
    newest = -1
    for index in deliveries:
        seq, (status, cap, ref) = HISTORY[index]
        before = b.get(REF)
        applied = b.apply_order(order(status, cap, ref), seq)
        assert applied.changed == (seq > newest)
        if seq > newest:
            newest = seq
        after = b.get(REF)
        assert after is not None
        assert before is not None
        assert after.amount_captured >= before.amount_captured
        assert after.amount_refunded >= before.amount_refunded
        assert after.version == before.version + (1 if applied.changed else 0)
        assert (after.status, after.amount_captured, after.amount_refunded) == HISTORY[newest - 1][1]
        assert after.order_sequence == newest


def test_unsequenced_api_read_only_fills_an_order_nothing_moved_yet(book: OrderBook) -> None:
    book.record_opened(checkout())
    book.apply_checkout(checkout("approved", order_id="ord_1"))
    assert book.apply_order(order("captured", 129900, 0)).changed  # API read, no webhooks yet
    # an older webhook (authorized, less captured) cannot roll it back; it only records its sequence
    book.apply_order(order("authorized", 0, 0), 1)
    assert book.get(REF).status == "captured"  # type: ignore[union-attr]
    book.apply_order(order("partially_refunded", 129900, 100), 4)
    # once webhooks drive the order, an unsequenced read is ignored
    assert not book.apply_order(order("captured", 129900, 0)).changed
    assert book.get(REF).amount_refunded == 100  # type: ignore[union-attr]


def test_checkout_rules(book: OrderBook) -> None:
    with pytest.raises(UnknownOrderError) as info:
        book.apply_checkout(checkout("approved", order_id="ord_1"), 2)
    assert info.value.retry_after == 30
    book.record_opened(checkout())
    book.apply_checkout(checkout("declined"), 2)
    assert book.get(REF).status == "declined"  # type: ignore[union-attr]
    assert not book.apply_checkout(checkout("declined"), 2).changed  # same sequence: stale
    book.record_opened(checkout(cid="chk_2"))  # a retry replaces the declined attempt
    reopened = book.get(REF)
    assert reopened is not None
    assert (reopened.status, reopened.checkout_id, reopened.checkout_sequence) == ("pending", "chk_2", None)
    book.apply_checkout(checkout("approved", cid="chk_2", order_id="ord_2"), 2)
    assert book.get(REF).order_id == "ord_2"  # type: ignore[union-attr]
    assert not book.apply_checkout(checkout("canceled", cid="chk_2"), 3).changed  # an order exists: stays
    with pytest.raises(OrderConflictError, match="already has order"):
        book.record_opened(checkout(cid="chk_3"))


def test_concurrent_writers_never_lose_an_update(tmp_path: Path) -> None:
    b = OrderBook(SQLiteOrderStore(tmp_path / "o.db"))
    b.record_opened(checkout())
    b.apply_checkout(checkout("approved", order_id="ord_1"))
    barrier = threading.Barrier(len(HISTORY))

    def deliver(seq: int, snap: tuple[str, int, int]) -> None:
        barrier.wait()
        b.apply_order(order(*snap), seq)

    threads = [threading.Thread(target=deliver, args=item) for item in HISTORY]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = b.get(REF)
    assert final is not None
    assert (final.status, final.amount_refunded, final.order_sequence) == ("refunded", 129900, 5)


def test_quote_params_and_cache() -> None:
    assert parse_amount_query("129900", "CNY") == (129900, "CNY")
    for amount, currency, param in (("12.5", "CNY", "amount"), ("0", "CNY", "amount"), ("1", "RMB", "currency")):
        with pytest.raises(InvalidParamError) as info:
            parse_amount_query(amount, currency)
        assert info.value.param == param
    with pytest.raises(ValueError, match="ttl_seconds"):
        QuoteCache(-1)


def test_widget_snippet_and_urls_escape_everything() -> None:
    html = widget_snippet(129900, 'CNY"><script>x</script>', label="<b>{amount}</b>")
    assert "<script>x" not in html
    assert "&quot;&gt;&lt;script&gt;" in html
    assert "&lt;b&gt;{amount}&lt;/b&gt;" in html
    with pytest.raises(ValueError, match="minor units"):
        widget_snippet(1299.0, "CNY")  # type: ignore[arg-type]
    assert fill_url("/s/{reference}?r={reason}", reference="a/b?c", reason="x y") == "/s/a%2Fb%3Fc?r=x%20y"


def test_settings_from_mapping_and_validation() -> None:
    s = BnplSettings.from_mapping(
        {"BNPL_WEBHOOK_SECRET": "whsec_abc", "BNPL_QUOTE_CACHE_SECONDS": "5", "BNPL_API_KEY": "sk_test_hidden"}
    )
    assert s.quote_cache_seconds == 5.0
    assert "sk_test_hidden" not in repr(s)
    with pytest.raises(PluginConfigurationError, match="whsec_"):
        BnplSettings(webhook_secret="not-a-secret")
    with pytest.raises(PluginConfigurationError, match="number of seconds"):
        BnplSettings.from_mapping({"BNPL_QUOTE_CACHE_SECONDS": "soon"})
