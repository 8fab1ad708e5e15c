"""Resource and parameter models: strict money, forward-compatible responses, strict params, invariants."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from model_samples import checkout, event, order
from pydantic import BaseModel, ValidationError

from bnpl.models import (
    ROUTES,
    ROUTES_BY_ID,
    CaptureParams,
    Checkout,
    CheckoutCreateParams,
    CheckoutList,
    CustomerInfo,
    ErrorBody,
    EventListParams,
    Order,
    OrderListParams,
    PlanQuote,
    Prequalification,
    RefundParams,
    RouteError,
    TestClockCreateParams,
    WebhookEndpointCreateParams,
    WebhookEndpointWithSecret,
    encode_query,
)


def checkout_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "merchant_reference": "PNR-ABC123",
        "amount": 129900,
        "currency": "CNY",
        "items": [
            {"name": "PEK→SHA economy", "category": "flight", "quantity": 2, "unit_amount": 59950,
             "total_amount": 119900},
            {"name": "Airport transfer", "category": "service", "unit_amount": 10000, "total_amount": 10000},
        ],
        "travel": {"origin": "PEK", "destination": "SHA", "travel_date": "2026-12-20",
                   "return_date": "2026-12-27",
                   "passengers": [{"name": "Li Lei"}, {"name": "Li Mei", "type": "child"}]},
        "return_url": "https://ota.example/return",
        "metadata": {"cart": "c-1"},
    }  # fmt: skip
    params.update(overrides)
    return params


def errors_of(model: type[BaseModel], data: Any) -> list[str]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in info.value.errors()]


# --- money and field types -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [12.5, 1299.0, "129900", True, 0, -1])
def test_amounts_are_strict_positive_integers(bad: Any) -> None:
    errors = errors_of(CheckoutCreateParams, checkout_params(amount=bad))
    assert any(e.startswith("amount:") for e in errors), errors


@pytest.mark.parametrize("bad", ["cny", "XXZ", "CN", "RMB", ""])
def test_currency_must_be_an_active_uppercase_iso_4217_code(bad: str) -> None:
    errors = errors_of(CheckoutCreateParams, checkout_params(currency=bad))
    assert any(e.startswith("currency:") for e in errors), errors


def test_jpy_and_kwd_are_accepted() -> None:
    for code in ("JPY", "KWD", "USD", "EUR"):
        items = [{"name": "x", "category": "goods", "unit_amount": 500, "total_amount": 500}]
        assert CheckoutCreateParams.model_validate(checkout_params(currency=code, amount=500, items=items))


def test_request_params_refuse_unknown_fields_and_responses_ignore_them() -> None:
    errors = errors_of(CheckoutCreateParams, checkout_params(ammount=129900))
    assert errors == ["ammount: Extra inputs are not permitted"]
    newer = {**checkout(), "risk_tier": "A", "installments_preview": [1, 2]}
    parsed = Checkout.model_validate(newer)
    assert parsed == Checkout.model_validate(checkout())


def test_responses_are_frozen() -> None:
    parsed = Checkout.model_validate(checkout())
    with pytest.raises(ValidationError):
        parsed.status = "canceled"  # type: ignore[misc]


@pytest.mark.parametrize(
    "metadata",
    [
        {f"k{i}": "v" for i in range(51)},
        {"k" * 41: "v"},
        {"k": "v" * 501},
        {"": "v"},
        {"k": 1},
    ],
)
def test_metadata_limits(metadata: dict[str, Any]) -> None:
    errors = errors_of(CheckoutCreateParams, checkout_params(metadata=metadata))
    assert all(e.startswith("metadata") for e in errors), errors


def test_metadata_at_the_limits_is_accepted() -> None:
    metadata = {f"{i:02d}" + "k" * 38: "v" * 500 for i in range(50)}
    assert CheckoutCreateParams.model_validate(checkout_params(metadata=metadata)).metadata == metadata


def test_timestamps_must_be_aware_and_are_normalised_to_utc() -> None:
    clock = TestClockCreateParams.model_validate({"frozen_time": "2026-11-02T16:00:00+08:00"})
    assert clock.frozen_time == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    assert clock.frozen_time.utcoffset() is not None
    errors = errors_of(TestClockCreateParams, {"frozen_time": "2026-11-02T16:00:00"})
    assert errors[0].startswith("frozen_time:")


# --- checkout params -----------------------------------------------------------------------------------------


def test_items_must_sum_to_the_amount() -> None:
    errors = errors_of(CheckoutCreateParams, checkout_params(amount=129901))
    assert errors == [": Value error, items total_amount sums to 129900, not the amount 129901"]


def test_line_item_total_is_quantity_times_unit() -> None:
    params = checkout_params()
    params["items"][0]["total_amount"] = 119901
    errors = errors_of(CheckoutCreateParams, params)
    assert errors == ["items.0: Value error, total_amount 119901 != quantity 2 * unit_amount 59950"]


def test_item_currency_must_match() -> None:
    params = checkout_params()
    params["items"][1]["currency"] = "USD"
    assert "differs from the currency CNY" in errors_of(CheckoutCreateParams, params)[0]


def test_subsidy_xor_promotion_and_expiry_xor() -> None:
    both = checkout_params(merchant_subsidy_percent=100, promotion_code="SPRING")
    assert "not both" in errors_of(CheckoutCreateParams, both)[0]
    expiry = checkout_params(expires_in_seconds=600, expires_at="2026-11-03T00:00:00Z")
    assert "not both" in errors_of(CheckoutCreateParams, expiry)[0]
    assert errors_of(CheckoutCreateParams, checkout_params(merchant_subsidy_percent=101))[0].startswith(
        "merchant_subsidy_percent"
    )


def test_travel_return_cannot_precede_departure_and_passenger_types_are_closed() -> None:
    params = checkout_params()
    params["travel"]["return_date"] = "2026-12-19"
    assert "before travel_date" in errors_of(CheckoutCreateParams, params)[0]
    params = checkout_params()
    params["travel"]["passengers"][0]["type"] = "pet"
    assert errors_of(CheckoutCreateParams, params)[0].startswith("travel.passengers.0.type")


@pytest.mark.parametrize("url", ["ftp://ota.example/x", "javascript:alert(1)", "/relative", "https://"])
def test_urls_must_be_absolute_http(url: str) -> None:
    assert errors_of(CheckoutCreateParams, checkout_params(return_url=url))[0].startswith("return_url")


def test_customer_info_accepts_hashes_not_raw_ids() -> None:
    good = {"reference": "u-1", "national_id_hash": "a" * 64, "country": "CN", "phone": "+8613800138000",
            "alternative_data": {"social_insurance_months": 14, "payroll_months": 20}}  # fmt: skip
    assert CustomerInfo.model_validate(good).alternative_data is not None
    raw_id = {**good, "national_id_hash": "110101199003074514"}
    assert errors_of(CustomerInfo, raw_id)[0].startswith("national_id_hash")
    assert errors_of(CustomerInfo, {**good, "country": "China"})[0].startswith("country")
    assert errors_of(CustomerInfo, {**good, "alternative_data": {"payroll_months": -1}})[0].startswith(
        "alternative_data.payroll_months"
    )


def test_capture_and_refund_params() -> None:
    assert CaptureParams().amount is None  # capture the rest
    assert errors_of(CaptureParams, {"amount": 0})[0].startswith("amount")
    assert errors_of(RefundParams, {"amount": 100, "reason": "changed_mind"})[0].startswith("reason")
    assert RefundParams.model_validate({"amount": 100, "reason": "trip_canceled"}).reason == "trip_canceled"


def test_order_list_window_must_be_ordered() -> None:
    errors = errors_of(OrderListParams, {"created_gte": "2026-12-01T00:00:00Z", "created_lte": "2026-11-01T00:00:00Z"})
    assert "created_gte is after created_lte" in errors[0]
    assert errors_of(OrderListParams, {"limit": 101})[0].startswith("limit")


def test_webhook_endpoint_events_are_known_or_star() -> None:
    ok = WebhookEndpointCreateParams.model_validate({"url": "https://m.example/hook", "enabled_events": ["*"]})
    assert ok.enabled_events == ["*"]
    err = errors_of(WebhookEndpointCreateParams, {"url": "https://m.example/h", "enabled_events": ["order.oops"]})
    assert "unknown event types ['order.oops']" in err[0]
    err = errors_of(
        WebhookEndpointCreateParams, {"url": "https://m.example/h", "enabled_events": ["*", "order.paid_off"]}
    )
    assert "must be the only entry" in err[0]


def test_webhook_secret_is_kept_out_of_repr() -> None:
    endpoint = WebhookEndpointWithSecret.model_validate(
        {
            "id": "we_1",
            "url": "https://m.example/h",
            "enabled_events": ["*"],
            "created": "2026-11-02T00:00:00Z",
            "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        }
    )
    assert "MfKQ9r8G" not in repr(endpoint)
    assert "MfKQ9r8G" not in str(endpoint)
    assert endpoint.secret.startswith("whsec_")


# --- responses -----------------------------------------------------------------------------------------------


def test_order_round_trip_and_helpers() -> None:
    parsed = Order.model_validate(order())
    assert Order.model_validate_json(parsed.model_dump_json()) == parsed
    assert parsed.amount_capturable == 0
    assert parsed.amount_refundable == 109900
    assert parsed.instalment(2).status == "due"
    with pytest.raises(KeyError, match="no instalment 4"):
        parsed.instalment(4)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount_refunded": 200000}, "amount_refunded exceeds amount_captured"),
        ({"amount_voided": 1}, "exceeds amount_authorized"),
        ({"amount_captured": 100000, "amount_refunded": 0, "refunds": []}, "captures do not sum"),
    ],
)
def test_order_amount_invariants(change: dict[str, Any], message: str) -> None:
    assert message in errors_of(Order, {**order(), **change})[0]


def test_schedule_must_sum_exactly() -> None:
    data = order()
    data["plan"]["schedule"][0]["amount"] += 1
    assert "principal + interest + fee" in errors_of(Order, data)[0]
    data = order()
    data["disclosures"]["total_payable"] += 1
    assert "not total_payable" in errors_of(Order, data)[0]


def quote(**overrides: Any) -> dict[str, Any]:
    schedule = [
        {"number": n, "due_date": f"2026-{10 + n}-02", "principal": p, "interest": 0, "fee": 0, "amount": p,
         "balance": b}
        for n, p, b in [(1, 33334, 66666), (2, 33333, 33333)]
    ]  # fmt: skip
    data = {
        "product": "monthly", "periods": 2, "method": "annuity", "pricing": {"annual_interest_rate": "0"},
        "amount": 66667, "currency": "CNY", "schedule": schedule, "total_payable": 66667,
        "total_cost_of_credit": 0, "merchant_subsidy": 700,
        "annual_rates": {"us_reg_z": "0", "eu_aprc": "0", "cn_compound": "0", "cn_simple": "0"},
    }  # fmt: skip
    data.update(overrides)
    return data


def test_plan_quote_invariants() -> None:
    parsed = PlanQuote.model_validate(quote())
    assert parsed.simple_rate_label == "单利"
    assert "not the amount" in errors_of(PlanQuote, quote(amount=66668))[0]
    assert "total_cost_of_credit" in errors_of(PlanQuote, quote(total_cost_of_credit=1))[0]
    assert errors_of(PlanQuote, quote(annual_rates={"us_reg_z": 0.0}))[0].startswith("annual_rates")


def test_prequalification_range_is_ordered() -> None:
    data = {"id": "pq_1", "eligible": True, "currency": "CNY", "amount": 100, "min_order_amount": 500,
            "max_order_amount": 400, "expires_at": "2026-11-02T00:00:00Z",
            "created": "2026-11-01T00:00:00Z"}  # fmt: skip
    assert "exceeds max_order_amount" in errors_of(Prequalification, data)[0]


def test_ids_carry_their_prefix() -> None:
    assert errors_of(Checkout, {**checkout(), "id": "ord_7Yx2"})[0].startswith("id")
    assert errors_of(Checkout, {**checkout(), "order_id": "chk_1"})[0].startswith("order_id")


def test_list_and_error_bodies() -> None:
    page = CheckoutList.model_validate(
        {"object": "list", "data": [checkout()], "has_more": True, "next_cursor": "chk_7Yx2"}
    )
    assert page.data[0].id == "chk_7Yx2"
    body = ErrorBody.model_validate_json(
        b'{"error": {"type": "invalid_request_error", "code": "amount_mismatch", "message": "m", "param": "amount",'
        b' "request_id": "req_1", "doc_url": "new-field"}}'
    )
    assert body.error.param == "amount"
    assert errors_of(ErrorBody, {"error": {"type": "teapot_error", "message": "m"}})[0].startswith("error.type")


@given(st.integers(min_value=1, max_value=10**12), st.integers(min_value=1, max_value=20))
def test_items_summing_to_amount_always_validate(amount: int, parts: int) -> None:
    base, rest = divmod(amount, parts)
    totals = [base + (1 if i < rest else 0) for i in range(parts)]
    items = [{"name": f"i{i}", "category": "goods", "unit_amount": t, "total_amount": t} for i, t in enumerate(totals)]
    params = CheckoutCreateParams.model_validate(checkout_params(amount=amount, items=items, travel=None))
    assert sum(i.total_amount for i in params.items) == params.amount
    assert CheckoutCreateParams.model_validate_json(params.model_dump_json()) == params


# --- routes --------------------------------------------------------------------------------------------------


def test_route_table_is_complete_and_posts_are_idempotent() -> None:
    assert len(ROUTES) == len(ROUTES_BY_ID) == 21
    for route in ROUTES:
        assert route.idempotent == (route.method == "POST"), route.operation_id
        assert (route.body is not None) <= (route.method == "POST")
        assert route.path.startswith("/v1/")


def test_path_for_validates_ids() -> None:
    capture = ROUTES_BY_ID["orders.capture"]
    assert capture.path_for(id="ord_9Qa") == "/v1/orders/ord_9Qa/capture"
    for bad in ("chk_9Qa", "ord_../../admin", "ord_", ""):
        with pytest.raises(RouteError):
            capture.path_for(id=bad)
    with pytest.raises(RouteError, match="needs path parameters"):
        capture.path_for()
    assert (capture.resource, capture.action) == ("orders", "capture")


def test_encode_query_round_trips_through_the_query_model() -> None:
    params = EventListParams(types=["order.paid_off", "order.refunded"], limit=5)
    assert encode_query(params) == [("types", "order.paid_off"), ("types", "order.refunded"), ("limit", "5")]
    window = OrderListParams.model_validate({"created_gte": "2026-11-01T08:00:00+08:00", "status": "captured"})
    pairs = encode_query(window)
    assert ("created_gte", "2026-11-01T00:00:00Z") in pairs
    assert OrderListParams.model_validate(dict(pairs)) == window


def test_response_adapter_parses_the_event_union() -> None:

    parsed = ROUTES_BY_ID["events.retrieve"].response_adapter.validate_json(json.dumps(event("order.voided")))
    assert parsed.type == "order.voided"
    assert copy.deepcopy(parsed) == parsed
