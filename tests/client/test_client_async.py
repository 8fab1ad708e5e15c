"""The async client's twins of the important transport behaviours, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from client_samples import CHECKOUT_ARGS, checkout, error, order
from pytest_httpserver import HTTPServer

import bnpl.client as bc
from bnpl import errors


async def test_retrieve_capture_refund(
    httpserver: HTTPServer, make_async_client: Callable[..., bc.AsyncClient]
) -> None:
    httpserver.expect_request("/v1/orders/ord_9Qa").respond_with_json(order(), headers={"Request-Id": "req_a"})
    httpserver.expect_request("/v1/orders/ord_9Qa/capture", method="POST").respond_with_json(order())
    async with make_async_client() as client:
        got = await client.orders.get("ord_9Qa")
        await client.orders.capture("ord_9Qa", amount=30000, final_capture=True)
    assert got._request_id == "req_a"  # type: ignore[attr-defined]
    assert httpserver.log[1][0].get_json() == {"amount": 30000, "final_capture": True}


async def test_retries_reuse_the_idempotency_key(
    httpserver: HTTPServer, make_async_client: Callable[..., bc.AsyncClient], sleeps: list[float]
) -> None:
    httpserver.expect_ordered_request("/v1/checkouts").respond_with_json({}, status=502)
    httpserver.expect_ordered_request("/v1/checkouts").respond_with_json({}, status=429, headers={"Retry-After": "2"})
    httpserver.expect_ordered_request("/v1/checkouts").respond_with_json(checkout(), status=201)
    async with make_async_client() as client:
        created = await client.checkouts.create(**CHECKOUT_ARGS)
    assert created.id == "chk_7Yx2"
    keys = {request.headers["Idempotency-Key"] for request, _ in httpserver.log}
    assert len(keys) == 1
    assert [request.headers["BNPL-Retry-Attempt"] for request, _ in httpserver.log] == ["0", "1", "2"]
    assert sleeps[1] == 2.0


async def test_status_errors_and_validation(
    httpserver: HTTPServer, make_async_client: Callable[..., bc.AsyncClient]
) -> None:
    httpserver.expect_request("/v1/orders/ord_9Qa/refund").respond_with_json(
        error("invalid_request_error", "refund exceeds captured", code="amount_too_large", param="amount"),
        status=400,
        headers={"Request-Id": "req_400"},
    )
    async with make_async_client() as client:
        with pytest.raises(errors.InvalidRequestError) as info:
            await client.orders.refund("ord_9Qa", amount=10**6)
        with pytest.raises(errors.InvalidParamsError):
            await client.orders.refund("ord_9Qa")  # amount is required
    assert (info.value.param, info.value.request_id) == ("amount", "req_400")
    assert len(httpserver.log) == 1


async def test_timeout_after_retries(silent_url: str, make_async_client: Callable[..., bc.AsyncClient]) -> None:
    async with make_async_client(base_url=silent_url, timeout=0.05, max_retries=1) as client:
        with pytest.raises(errors.APITimeoutError, match="2 attempts"):
            await client.orders.retrieve("ord_9Qa")


async def test_connection_refused(refused_url: str, make_async_client: Callable[..., bc.AsyncClient]) -> None:
    async with make_async_client(base_url=refused_url, max_retries=0) as client:
        with pytest.raises(errors.APIConnectionError, match="1 attempt"):
            await client.orders.retrieve("ord_9Qa")


async def test_malformed_body(httpserver: HTTPServer, make_async_client: Callable[..., bc.AsyncClient]) -> None:
    httpserver.expect_request("/v1/orders/ord_9Qa").respond_with_data("<html>oops</html>", content_type="text/html")
    async with make_async_client() as client:
        with pytest.raises(errors.APIResponseValidationError, match="oops"):
            await client.orders.retrieve("ord_9Qa")


async def test_raw_response_and_with_options(
    httpserver: HTTPServer, make_async_client: Callable[..., bc.AsyncClient]
) -> None:
    httpserver.expect_request("/v1/orders/ord_9Qa").respond_with_json(order(), headers={"Request-Id": "req_r"})
    async with make_async_client() as client:
        raw = await client.with_raw_response.orders.retrieve("ord_9Qa")
        copy = client.with_options(max_retries=0)
        assert copy._http is client._http
        assert copy.max_retries == 0
        assert (await copy.orders.retrieve("ord_9Qa")).id == "ord_9Qa"
    assert raw.request_id == "req_r"
    assert raw.parse().id == "ord_9Qa"
    assert client._http.is_closed
