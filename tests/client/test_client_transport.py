"""Transport behaviour over real HTTP (pytest-httpserver on 127.0.0.1): retries, idempotency keys,
Retry-After, timeouts, error mapping and malformed bodies."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Any

import pytest
from client_samples import CHECKOUT_ARGS, checkout, error, order
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import bnpl.client as bc
from bnpl import errors

ORDER_PATH = "/v1/orders/ord_9Qa"


def sent_headers(httpserver: HTTPServer, name: str) -> list[str | None]:
    return [request.headers.get(name) for request, _ in httpserver.log]


def test_retrieve_returns_typed_order_with_request_id(httpserver: HTTPServer, client: bc.Client) -> None:
    httpserver.expect_request(ORDER_PATH, method="GET").respond_with_json(order(), headers={"Request-Id": "req_1"})
    got = client.orders.retrieve("ord_9Qa")
    assert got.id == "ord_9Qa"
    assert got.plan.schedule[3].balance == 0
    assert got._request_id == "req_1"  # type: ignore[attr-defined]
    request = httpserver.log[0][0]
    assert request.headers["Authorization"] == "Bearer " + client._config.api_key
    assert request.headers["BNPL-Version"] == "2026-11-01"
    assert request.headers["User-Agent"].startswith("bnpl-python/")
    assert request.headers["BNPL-Retry-Attempt"] == "0"
    assert "Idempotency-Key" not in request.headers  # GETs are naturally idempotent


def test_get_is_an_alias_of_retrieve(httpserver: HTTPServer, client: bc.Client) -> None:
    httpserver.expect_request(ORDER_PATH).respond_with_json(order())
    assert client.orders.get("ord_9Qa").id == "ord_9Qa"


def test_5xx_is_retried_with_attempt_numbers_and_backoff(
    httpserver: HTTPServer, client: bc.Client, sleeps: list[float]
) -> None:
    httpserver.expect_ordered_request(ORDER_PATH).respond_with_json(error("api_error", "boom"), status=503)
    httpserver.expect_ordered_request(ORDER_PATH).respond_with_json(error("api_error", "boom"), status=500)
    httpserver.expect_ordered_request(ORDER_PATH).respond_with_json(order())
    assert client.orders.retrieve("ord_9Qa").status == "authorized"
    assert sent_headers(httpserver, "BNPL-Retry-Attempt") == ["0", "1", "2"]
    # full jitter under a cap of 0.5 s * 2^n
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.5
    assert 0 <= sleeps[1] <= 1.0


def test_retries_are_exhausted_then_server_error_raised(
    httpserver: HTTPServer, make_client: Callable[..., bc.Client]
) -> None:
    client = make_client(max_retries=1)
    httpserver.expect_request(ORDER_PATH).respond_with_json(
        error("api_error", "down"), status=502, headers={"Request-Id": "req_last"}
    )
    with pytest.raises(errors.APIServerError) as info:
        client.orders.retrieve("ord_9Qa")
    assert len(httpserver.log) == 2
    assert info.value.status_code == 502
    assert info.value.request_id == "req_last"
    assert "retry later" in str(info.value)


def test_post_reuses_one_generated_idempotency_key_on_every_retry(httpserver: HTTPServer, client: bc.Client) -> None:
    path = "/v1/orders/ord_9Qa/capture"
    httpserver.expect_ordered_request(path, method="POST").respond_with_json({}, status=500)
    httpserver.expect_ordered_request(path, method="POST").respond_with_data("", status=429)
    httpserver.expect_ordered_request(path, method="POST").respond_with_json(order())
    client.orders.capture("ord_9Qa", amount=30000)
    keys = sent_headers(httpserver, "Idempotency-Key")
    assert len(keys) == 3
    assert keys[0] is not None
    assert len(keys[0]) == 36
    assert len(set(keys)) == 1
    assert httpserver.log[0][0].get_json() == {"amount": 30000}


def test_two_calls_get_different_keys_and_caller_key_wins(httpserver: HTTPServer, client: bc.Client) -> None:
    httpserver.expect_request("/v1/checkouts", method="POST").respond_with_json(checkout(), status=201)
    client.checkouts.create(**CHECKOUT_ARGS)
    client.checkouts.create(**CHECKOUT_ARGS)
    client.checkouts.create(idempotency_key="my-key-1", **CHECKOUT_ARGS)
    first, second, mine = sent_headers(httpserver, "Idempotency-Key")
    assert first != second
    assert mine == "my-key-1"


def test_caller_key_is_reused_on_retries(httpserver: HTTPServer, client: bc.Client) -> None:
    path = "/v1/orders/ord_9Qa/void"
    httpserver.expect_ordered_request(path).respond_with_json({}, status=503)
    httpserver.expect_ordered_request(path).respond_with_json(order(status="voided"))
    client.orders.void("ord_9Qa", idempotency_key="void-ord_9Qa")
    assert sent_headers(httpserver, "Idempotency-Key") == ["void-ord_9Qa", "void-ord_9Qa"]


def test_retry_after_seconds_is_honoured_and_capped(
    httpserver: HTTPServer, client: bc.Client, sleeps: list[float]
) -> None:
    httpserver.expect_ordered_request(ORDER_PATH).respond_with_json({}, status=429, headers={"Retry-After": "3"})
    httpserver.expect_ordered_request(ORDER_PATH).respond_with_json({}, status=503, headers={"Retry-After": "600"})
    httpserver.expect_ordered_request(ORDER_PATH).respond_with_json(order())
    client.orders.retrieve("ord_9Qa")
    assert sleeps == [3.0, 60.0]


def test_retry_after_http_date_is_honoured(httpserver: HTTPServer, client: bc.Client, sleeps: list[float]) -> None:
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    httpserver.expect_ordered_request(ORDER_PATH).respond_with_json({}, status=503, headers={"Retry-After": date})
    httpserver.expect_ordered_request(ORDER_PATH).respond_with_json(order())
    client.orders.retrieve("ord_9Qa")
    assert len(sleeps) == 1
    assert 25 <= sleeps[0] <= 31


def test_rate_limit_error_carries_retry_after(httpserver: HTTPServer, make_client: Callable[..., bc.Client]) -> None:
    client = make_client(max_retries=0)
    httpserver.expect_request(ORDER_PATH).respond_with_json(
        error("rate_limit_error", "slow down", code="rate_limited"), status=429, headers={"Retry-After": "7"}
    )
    with pytest.raises(errors.RateLimitError) as info:
        client.orders.retrieve("ord_9Qa")
    assert info.value.retry_after == 7.0
    assert info.value.code == "rate_limited"


def test_409_in_progress_is_retried(httpserver: HTTPServer, client: bc.Client) -> None:
    path = "/v1/orders/ord_9Qa/refund"
    body = error("idempotency_error", "still running", code="idempotency_request_in_progress")
    httpserver.expect_ordered_request(path).respond_with_json(body, status=409)
    httpserver.expect_ordered_request(path).respond_with_json(order())
    client.orders.refund("ord_9Qa", amount=100)
    assert len(httpserver.log) == 2


def test_409_idempotency_key_reuse_is_not_retried(httpserver: HTTPServer, client: bc.Client) -> None:
    path = "/v1/orders/ord_9Qa/refund"
    body = error("idempotency_error", "key used with another body", code="idempotency_key_reused")
    httpserver.expect_request(path).respond_with_json(body, status=409, headers={"Request-Id": "req_c"})
    with pytest.raises(errors.IdempotencyConflictError) as info:
        client.orders.refund("ord_9Qa", amount=100, idempotency_key="k1")
    assert len(httpserver.log) == 1
    assert info.value.request_id == "req_c"
    assert "new idempotency_key" in str(info.value)


def test_409_state_conflict_is_a_conflict_error_not_retried(httpserver: HTTPServer, client: bc.Client) -> None:
    httpserver.expect_request("/v1/orders/ord_9Qa/capture").respond_with_json(
        error("conflict_error", "order is voided", code="order_not_capturable"), status=409
    )
    with pytest.raises(errors.ConflictError) as info:
        client.orders.capture("ord_9Qa")
    assert type(info.value) is errors.ConflictError
    assert len(httpserver.log) == 1


def test_server_should_retry_header_wins(httpserver: HTTPServer, client: bc.Client) -> None:
    httpserver.expect_request(ORDER_PATH).respond_with_json({}, status=503, headers={"BNPL-Should-Retry": "false"})
    with pytest.raises(errors.APIServerError):
        client.orders.retrieve("ord_9Qa")
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    ("status", "err_type", "cls"),
    [
        (400, "invalid_request_error", errors.InvalidRequestError),
        (422, "invalid_request_error", errors.InvalidRequestError),
        (401, "authentication_error", errors.AuthenticationError),
        (403, "permission_error", errors.PermissionDeniedError),
        (404, "not_found_error", errors.NotFoundError),
        (409, "conflict_error", errors.ConflictError),
        (429, "rate_limit_error", errors.RateLimitError),
        (500, "api_error", errors.APIServerError),
        (418, "invalid_request_error", errors.APIStatusError),
    ],
)
def test_each_status_maps_to_its_error_class(
    httpserver: HTTPServer,
    make_client: Callable[..., bc.Client],
    status: int,
    err_type: str,
    cls: type[errors.APIStatusError],
) -> None:
    client = make_client(max_retries=0)
    httpserver.expect_request(ORDER_PATH).respond_with_json(
        error(err_type, "went wrong", code="some_code", param="amount"),
        status=status,
        headers={"Request-Id": f"req_{status}"},
    )
    with pytest.raises(cls) as info:
        client.orders.retrieve("ord_9Qa")
    err = info.value
    assert type(err) is cls
    assert isinstance(err, errors.BNPLError)
    assert (err.status_code, err.request_id, err.type, err.code, err.param) == (
        status,
        f"req_{status}",
        err_type,
        "some_code",
        "amount",
    )
    assert isinstance(err.body, dict)
    assert err.headers["request-id"] == f"req_{status}"
    assert "went wrong" in err.message


def test_401_message_says_what_to_do_and_hides_key(httpserver: HTTPServer, client: bc.Client) -> None:
    httpserver.expect_request(ORDER_PATH).respond_with_json(error("authentication_error", "bad key"), status=401)
    with pytest.raises(errors.AuthenticationError) as info:
        client.orders.retrieve("ord_9Qa")
    assert "BNPL_API_KEY" in str(info.value)
    assert client._config.api_key not in str(info.value) + repr(info.value)


def test_request_id_falls_back_to_error_body(httpserver: HTTPServer, client: bc.Client) -> None:
    body = error("not_found_error", "no such order")
    body["error"]["request_id"] = "req_body"
    httpserver.expect_request(ORDER_PATH).respond_with_json(body, status=404)
    with pytest.raises(errors.NotFoundError) as info:
        client.orders.retrieve("ord_9Qa")
    assert info.value.request_id == "req_body"


def test_non_json_error_body_still_maps_by_status(
    httpserver: HTTPServer, make_client: Callable[..., bc.Client]
) -> None:
    client = make_client(max_retries=0)
    httpserver.expect_request(ORDER_PATH).respond_with_data("<html>Bad Gateway</html>", status=502)
    with pytest.raises(errors.APIServerError) as info:
        client.orders.retrieve("ord_9Qa")
    assert info.value.body is None
    assert "Bad Gateway" in info.value.message


@pytest.mark.parametrize(
    ("body", "content_type", "fragment"),
    [
        ("<html><body>Welcome to nginx</body></html>", "text/html", "Welcome to nginx"),
        ('{"id": "ord_9Qa", "status": "auth', "application/json", "ord_9Qa"),
        ('{"id": "ord_9Qa"}', "application/json", "Field required"),
        ("", "application/json", "first bytes: ''"),
    ],
)
def test_malformed_success_body_raises_response_validation_error(
    httpserver: HTTPServer, client: bc.Client, body: str, content_type: str, fragment: str
) -> None:
    httpserver.expect_request(ORDER_PATH).respond_with_data(
        body, status=200, content_type=content_type, headers={"Request-Id": "req_m"}
    )
    with pytest.raises(errors.APIResponseValidationError) as info:
        client.orders.retrieve("ord_9Qa")
    err = info.value
    assert err.expected == "Order"
    assert err.request_id == "req_m"
    assert fragment in str(err)
    assert "Traceback" not in str(err)
    assert err.__cause__ is None
    assert err.__suppress_context__


def test_connection_refused_is_retried_then_raises(refused_url: str, make_client: Callable[..., bc.Client]) -> None:
    client = make_client(base_url=refused_url, max_retries=2)
    sleeps: list[float] = client._sleep  # type: ignore[assignment]
    with pytest.raises(errors.APIConnectionError) as info:
        client.orders.retrieve("ord_9Qa")
    assert not isinstance(info.value, errors.APITimeoutError)
    assert len(sleeps) == 2
    assert "3 attempts" in str(info.value)


def test_timeout_is_retried_then_raises_api_timeout_error(
    silent_url: str, make_client: Callable[..., bc.Client]
) -> None:
    client = make_client(base_url=silent_url, max_retries=1, timeout=0.05)
    with pytest.raises(errors.APITimeoutError) as info:
        client.orders.capture("ord_9Qa", idempotency_key="cap-1")
    assert "2 attempts" in str(info.value)
    assert isinstance(info.value, errors.APIConnectionError)


def test_invalid_params_raise_before_any_network_call(httpserver: HTTPServer, client: bc.Client) -> None:
    with pytest.raises(errors.InvalidParamsError) as info:
        client.orders.refund("ord_9Qa", amount=12.5)  # type: ignore[typeddict-item]
    assert info.value.param == "amount"
    with pytest.raises(errors.InvalidParamsError) as info:
        client.checkouts.create(**{**CHECKOUT_ARGS, "amount": 999})
    assert "items total_amount" in str(info.value)
    with pytest.raises(errors.InvalidParamsError) as info:
        client.orders.retrieve("chk_7Yx2")
    assert info.value.param == "id"
    with pytest.raises(errors.InvalidParamsError) as info:
        client.orders.retrieve("ord_../../admin")
    with pytest.raises(errors.InvalidParamsError) as info:
        client.orders.capture("ord_9Qa", idempotency_key="")
    assert info.value.param == "idempotency_key"
    with pytest.raises(errors.InvalidParamsError) as info:
        client.orders.capture("ord_9Qa", amoutn=5)  # type: ignore[call-arg]
    assert info.value.param == "amoutn"
    assert httpserver.log == []


def test_params_model_instance_is_accepted(httpserver: HTTPServer, client: bc.Client) -> None:
    from bnpl.models import RefundParams

    httpserver.expect_request("/v1/orders/ord_9Qa/refund").respond_with_json(order())
    client.orders.refund("ord_9Qa", RefundParams(amount=500, reason="trip_canceled"))
    assert httpserver.log[0][0].get_json() == {"amount": 500, "reason": "trip_canceled"}


def test_handler_sees_json_content_type(httpserver: HTTPServer, client: bc.Client) -> None:
    seen: dict[str, Any] = {}

    def handler(request: Request) -> Response:
        seen["ct"] = request.headers.get("Content-Type")
        return Response(order_json(), content_type="application/json")

    httpserver.expect_request("/v1/orders/ord_9Qa/amend").respond_with_handler(handler)
    client.orders.amend("ord_9Qa", new_amount=100000, reason="cheaper flight")
    assert seen["ct"] == "application/json"


def order_json() -> str:
    import json

    return json.dumps(order())
