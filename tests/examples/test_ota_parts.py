"""The OTA example's pure parts: down-payment split, plan keys, booking store, flight search validation."""

from __future__ import annotations

import dataclasses
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the examples folder is not an installed package
    sys.path.insert(0, str(ROOT))

from examples.ota_flights.bookings import Booking, BookingNotFoundError, BookingStore  # noqa: E402
from examples.ota_flights.down_payment import DownPaymentConfigError, DownPaymentPolicy  # noqa: E402
from examples.ota_flights.flights import search_flights  # noqa: E402
from examples.ota_flights.plans import allowed_plans, parse_plan_key, plan_key  # noqa: E402


@given(st.integers(min_value=1, max_value=10**12))
def test_an_enabled_down_payment_is_whole_yuan_at_most_20_percent_and_leaves_an_exact_remainder(fare: int) -> None:
    policy = DownPaymentPolicy(enabled=True)
    down = policy.amount_for(fare)
    if fare < 800_000:
        assert down == 0
    else:
        assert down % 100 == 0
        assert 0 < down <= fare * 20 // 100
        assert fare * 20 // 100 - down < 100  # rounded down by less than one yuan
    assert 0 < fare - down <= fare


def test_the_down_payment_is_off_without_stripe_and_on_with_both_settings() -> None:
    assert DownPaymentPolicy.from_env({}).amount_for(1_299_900) == 0
    env = {"STRIPE_API_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_y", "STRIPE_API_BASE": "http://127.0.0.1:9"}
    policy = DownPaymentPolicy.from_env(env)
    assert policy.amount_for(1_299_900) == 259_900
    assert policy.stripe is not None
    assert policy.stripe.api_base == "http://127.0.0.1:9"
    custom = DownPaymentPolicy.from_env(
        env | {"OTA_DOWN_PAYMENT_THRESHOLD": "100000", "OTA_DOWN_PAYMENT_PERCENT": "50"}
    )
    assert (custom.amount_for(99_999), custom.amount_for(100_000)) == (0, 50_000)
    # secrets never show in reprs or reasons
    assert "sk_test_x" not in repr(policy) + policy.reason
    assert "whsec_y" not in repr(policy) + policy.reason


_STRIPE = {"STRIPE_API_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_y"}


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"STRIPE_API_KEY": "sk_test_x"}, "STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_WEBHOOK_SECRET": "whsec_y"}, "STRIPE_API_KEY"),
        ({"STRIPE_API_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_y"}, "test-mode"),
        ({"STRIPE_API_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "nope"}, "whsec_"),
        ({"STRIPE_API_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_y", "STRIPE_API_BASE": "ftp://x"}, "http"),
        ({**_STRIPE, "OTA_DOWN_PAYMENT_PERCENT": "95"}, "1 to 90"),
        ({**_STRIPE, "OTA_DOWN_PAYMENT_THRESHOLD": "8k"}, "whole"),
    ],
)
def test_incomplete_stripe_settings_are_refused_by_name(env: dict[str, str], names: str) -> None:
    with pytest.raises(DownPaymentConfigError, match=names) as exc:
        DownPaymentPolicy.from_env(env)
    assert "sk_live_x" not in str(exc.value)


@pytest.mark.parametrize("fare", [0, -1, True, 1.5])
def test_a_bad_fare_is_refused(fare: object) -> None:
    with pytest.raises(ValueError, match="positive integer number of fen"):
        DownPaymentPolicy().amount_for(fare)  # type: ignore[arg-type]


@given(
    st.sampled_from(
        [
            ("pay_in_4", 4, None),
            ("pay_in_30", 1, None),
            *[("monthly", n, m) for n in (3, 6, 12, 24) for m in ("annuity", "equal_principal", "flat_fee")],
        ]
    )
)
def test_plan_keys_round_trip_into_the_checkout_filter(plan: tuple[str, int, str | None]) -> None:
    key = plan_key(*plan)
    assert parse_plan_key(key) == plan
    (choice,) = allowed_plans(key)
    assert (choice["product"], choice["periods"], choice.get("method")) == (plan[0], [plan[1]], plan[2])


@pytest.mark.parametrize("key", ["", "monthly", "monthly:0:annuity", "monthly:6:<b>", "loan:6:annuity", "monthly:6:x"])
def test_bad_plan_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="plan:"):
        parse_plan_key(key)


def test_search_validates_codes() -> None:
    assert [f.fare for f in search_flights(" sha", "ctu ")] == sorted(f.fare for f in search_flights("SHA", "CTU"))
    with pytest.raises(ValueError, match="origin"):
        search_flights("XXX", "CTU")
    with pytest.raises(ValueError, match="destination"):
        search_flights("SHA", "")


def test_booking_store_keeps_bookings_and_history_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "bookings.sqlite3"
    store = BookingStore(path)
    booking = Booking(
        "OTA-ABCDEFGHJK", "MU5401-Y", date(2030, 2, 1), "LI Lei", "a@b.cn", "cust_x", 129900, "pay_in_4:4:"
    )
    first = store.add(booking, "booked")
    second = store.update(dataclasses.replace(booking, attempt=2, fare=89900), "rebooked")
    assert second > first
    store.close()
    again = BookingStore(path)
    stored = again.get(booking.reference)
    assert (stored.attempt, stored.fare, stored.payment_reference) == (2, 89900, "OTA-ABCDEFGHJK-2")
    assert stored.earlier_payment_references == ["OTA-ABCDEFGHJK-1"]
    assert [line.text for line in again.history(booking.reference)] == ["booked", "rebooked"]
    with pytest.raises(BookingNotFoundError):
        again.get("OTA-NOPE")
    with pytest.raises(BookingNotFoundError):
        again.note("OTA-NOPE", "x")
    assert again.history("OTA-NOPE") == []
