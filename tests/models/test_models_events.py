"""Webhook events: every type parses into its own model, unknown types survive, bad input is one error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from model_samples import event

from bnpl.models import (
    EVENT_TYPES,
    CustomerCreditFreezeScheduledEvent,
    EventBase,
    EventParseError,
    InstalmentOverdueNotice,
    Order,
    OrderCapturedEvent,
    OrderInstalmentOverdueEvent,
    UnknownEvent,
    parse_event,
)
from bnpl.models.events import EVENT_CLASSES

SCHEMAS = Path(__file__).resolve().parents[2] / "webhooks" / "schemas"


def test_event_types_are_the_documented_twenty_one() -> None:
    assert len(EVENT_TYPES) == len(set(EVENT_TYPES)) == 21
    assert {"checkout.approved", "order.instalment_overdue", "customer.credit_freeze_scheduled"} <= set(EVENT_TYPES)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_each_type_parses_to_its_own_class_from_bytes_str_and_mapping(event_type: str) -> None:
    raw = event(event_type)
    body = json.dumps(raw).encode()
    for payload in (body, body.decode(), raw):
        parsed = parse_event(payload)
        assert type(parsed) is EVENT_CLASSES[event_type]
        assert parsed.type == event_type
        assert parsed.sequence == 3
        assert parsed.object_id == raw["object_id"]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_round_trip_is_lossless_and_matches_the_published_schema(event_type: str) -> None:
    parsed = parse_event(json.dumps(event(event_type)))
    wire = parsed.model_dump_json()
    assert parse_event(wire) == parsed
    schema = json.loads((SCHEMAS / f"{event_type}.json").read_text(encoding="utf-8"))
    errors = list(Draft202012Validator(schema).iter_errors(json.loads(wire)))
    assert errors == []


@pytest.mark.parametrize("event_type", [t for t in EVENT_TYPES if t != "customer.rate_changed"])
def test_published_schema_and_parser_both_reject_a_float_amount(event_type: str) -> None:
    raw = event(event_type)
    data = raw["data"].get("order", raw["data"])  # notices wrap the order snapshot
    key = next(k for k in ("amount", "amount_captured", "credit_limit_after") if k in data)
    data[key] = 12.5
    schema = json.loads((SCHEMAS / f"{event_type}.json").read_text(encoding="utf-8"))
    assert not Draft202012Validator(schema).is_valid(raw)
    with pytest.raises(EventParseError, match=key):
        parse_event(raw)


def test_typed_data_gives_domain_access() -> None:
    captured = parse_event(event("order.captured"))
    assert isinstance(captured, OrderCapturedEvent)
    assert isinstance(captured.data, Order)
    assert captured.data.captures[-1].amount == 129900
    assert captured.data.amount_refundable == 129900 - 20000

    overdue = parse_event(event("order.instalment_overdue"))
    assert isinstance(overdue, OrderInstalmentOverdueEvent)
    assert isinstance(overdue.data, InstalmentOverdueNotice)
    assert overdue.data.days_overdue == 3
    assert overdue.data.instalment.amount == overdue.data.amount == 44170

    freeze = parse_event(event("customer.credit_freeze_scheduled"))
    assert isinstance(freeze, CustomerCreditFreezeScheduledEvent)
    assert freeze.data.effective_at > freeze.created  # announced before it happens


def test_unknown_type_keeps_raw_data_and_ignores_new_fields() -> None:
    raw = event("order.teleported")
    raw["brand_new_field"] = {"x": 1}
    parsed = parse_event(json.dumps(raw))
    assert isinstance(parsed, UnknownEvent)
    assert parsed.type == "order.teleported"
    assert parsed.data == {"anything": [1, 2, {"nested": True}]}


def test_newer_server_fields_are_ignored_on_known_events() -> None:
    raw = event("checkout.approved")
    raw["data"]["risk_score"] = 0.3
    raw["delivery_attempt"] = 2
    parsed = parse_event(raw)
    assert parsed.type == "checkout.approved"
    assert "risk_score" not in parsed.data.model_dump()


def test_known_type_with_wrong_data_is_an_error_not_an_unknown_event() -> None:
    raw = event("order.captured")
    raw["data"] = {"anything": 1}
    with pytest.raises(EventParseError) as info:
        parse_event(raw)
    assert "data.id" in info.value.reason


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"", "Invalid JSON"),
        (b"{", "Invalid JSON"),
        (b"[]", "type"),
        (b'{"type": 7}', "type"),
        (b'"just a string"', "type"),
        (b"\xff\xfe", "Invalid JSON"),
    ],
)
def test_malformed_payloads_raise_event_parse_error_with_a_reason(payload: bytes, fragment: str) -> None:
    with pytest.raises(EventParseError) as info:
        parse_event(payload)
    assert fragment in info.value.reason
    assert info.value.__cause__ is None  # no pydantic traceback chained on


def test_wrong_input_type_is_an_event_parse_error() -> None:
    with pytest.raises(EventParseError, match="got int"):
        parse_event(42)  # type: ignore[arg-type]


def test_errors_never_echo_payload_values() -> None:
    raw = event("order.captured")
    raw["sequence"] = "13800138000-secret-phone"
    raw["data"]["currency"] = "zz-private-value"
    with pytest.raises(EventParseError) as info:
        parse_event(json.dumps(raw))
    assert "sequence" in info.value.reason
    assert "13800138000" not in str(info.value)
    assert "private-value" not in str(info.value)


def test_sequence_and_amounts_refuse_floats_and_strings() -> None:
    for bad in (3.0, "3"):
        raw = event("order.paid_off")
        raw["sequence"] = bad
        with pytest.raises(EventParseError, match="sequence"):
            parse_event(json.dumps(raw))


def test_naive_timestamp_is_refused_and_offsets_are_normalised_to_utc() -> None:
    raw = event("checkout.expired")
    raw["created"] = "2026-11-02T16:30:00+08:00"
    assert parse_event(raw).created.isoformat() == "2026-11-02T08:30:00+00:00"
    raw["created"] = "2026-11-02T08:30:00"
    with pytest.raises(EventParseError, match="created"):
        parse_event(raw)


def _outcome(payload: Any) -> EventBase | EventParseError:
    # Any exception other than EventParseError propagates and fails the test.
    try:
        return parse_event(payload)
    except EventParseError as exc:
        return exc


@given(st.binary(max_size=512))
def test_arbitrary_bytes_only_ever_raise_event_parse_error(payload: bytes) -> None:
    outcome = _outcome(payload)
    assert isinstance(outcome, EventBase | EventParseError)
    if isinstance(outcome, EventParseError):
        assert outcome.reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@given(
    st.sampled_from([*EVENT_TYPES, "x.unknown"]),
    st.sampled_from(["id", "type", "created", "sequence", "object_id", "data", "api_version"]),
    json_values,
)
def test_corrupting_any_field_gives_an_event_or_event_parse_error(event_type: str, field: str, value: Any) -> None:
    raw = event(event_type)
    raw[field] = value
    outcome = _outcome(json.dumps(raw))
    if isinstance(outcome, EventParseError):
        assert outcome.reason
    else:
        assert outcome.type == raw["type"]
        assert isinstance(outcome, UnknownEvent) == (raw["type"] not in EVENT_TYPES)


@given(st.text(min_size=1, max_size=40).filter(lambda t: t not in EVENT_TYPES))
def test_any_other_type_string_is_an_unknown_event(event_type: str) -> None:
    parsed = parse_event(event(event_type))
    assert isinstance(parsed, UnknownEvent)
    assert parsed.type == event_type
