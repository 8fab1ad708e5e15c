"""Pagination, raw responses, with_options, configuration, redaction and the route-table contract."""

from __future__ import annotations

import logging
import typing
from collections.abc import Callable

import httpx
import pytest
from client_samples import API_KEY, checkout, order
from pytest_httpserver import HTTPServer

import bnpl.client as bc
from bnpl import errors
from bnpl.client import _params
from bnpl.models import (
    AmendParams,
    CaptureParams,
    CheckoutCancelParams,
    CheckoutCreateParams,
    CheckoutListParams,
    EventListParams,
    OrderListParams,
    PlanQuoteParams,
    PrequalificationCreateParams,
    RefundParams,
    RotateSecretParams,
    TestClockAdvanceParams,
    TestClockCreateParams,
    VoidParams,
    WebhookEndpointCreateParams,
    WebhookEndpointListParams,
)
from bnpl.models.routes import ROUTES


def serve_three_checkout_pages(httpserver: HTTPServer) -> None:
    pages = [
        (None, ["chk_a1", "chk_a2"], "chk_a2"),
        ("chk_a2", ["chk_b1", "chk_b2"], "chk_b2"),
        ("chk_b2", ["chk_c1"], None),
    ]
    for cursor, ids, next_cursor in pages:
        query = {"limit": "2", "status": "open"}
        if cursor:
            query["starting_after"] = cursor
        httpserver.expect_request("/v1/checkouts", method="GET", query_string=query).respond_with_json(
            {
                "object": "list",
                "data": [checkout(i) for i in ids],
                "has_more": next_cursor is not None,
                "next_cursor": next_cursor,
            }
        )


def test_iterating_a_page_walks_all_three_pages(httpserver: HTTPServer, client: bc.Client) -> None:
    serve_three_checkout_pages(httpserver)
    page = client.checkouts.list(limit=2, status="open")
    assert [c.id for c in page.data] == ["chk_a1", "chk_a2"]
    assert page.has_more
    assert page.next_cursor == "chk_a2"
    assert len(httpserver.log) == 1  # lazily: the next page is fetched only when needed
    assert [c.id for c in page] == ["chk_a1", "chk_a2", "chk_b1", "chk_b2", "chk_c1"]
    assert len(httpserver.log) == 3
    assert [len(p.data) for p in page.iter_pages()] == [2, 2, 1]
    assert [c.id for c in page.auto_paging_iter()][-1] == "chk_c1"


def test_last_page_has_no_next(httpserver: HTTPServer, client: bc.Client) -> None:
    httpserver.expect_request("/v1/orders").respond_with_json(
        {"object": "list", "data": [order()], "has_more": False, "next_cursor": None}
    )
    page = client.orders.list()
    assert not page.has_next_page()
    with pytest.raises(LookupError):
        page.next_page()
    assert [o.id for o in page] == ["ord_9Qa"]


def test_list_filters_are_encoded_like_the_route_table(httpserver: HTTPServer, client: bc.Client) -> None:
    httpserver.expect_request("/v1/events").respond_with_json({"object": "list", "data": [], "has_more": False})
    list(client.events.list(types=["order.captured", "order.refunded"], limit=5))
    args = httpserver.log[0][0].args
    assert args.getlist("types") == ["order.captured", "order.refunded"]
    assert args["limit"] == "5"


async def test_async_for_walks_all_three_pages(
    httpserver: HTTPServer, make_async_client: Callable[..., bc.AsyncClient]
) -> None:
    serve_three_checkout_pages(httpserver)
    async with make_async_client() as client:
        ids = [c.id async for c in client.checkouts.list(limit=2, status="open")]
        first = await client.checkouts.list(limit=2, status="open")
        assert [c.id for c in first.data] == ["chk_a1", "chk_a2"]
        pages = [len(p.data) async for p in first.iter_pages()]
    assert ids == ["chk_a1", "chk_a2", "chk_b1", "chk_b2", "chk_c1"]
    assert pages == [2, 2, 1]


def test_with_raw_response_gives_headers_and_parse(httpserver: HTTPServer, client: bc.Client) -> None:
    httpserver.expect_request("/v1/orders/ord_9Qa").respond_with_json(
        order(), headers={"Request-Id": "req_raw", "X-Extra": "1"}
    )
    raw = client.with_raw_response.orders.retrieve("ord_9Qa")
    assert isinstance(raw, bc.RawResponse)
    assert raw.status_code == 200
    assert raw.request_id == "req_raw"
    assert raw.headers["x-extra"] == "1"
    parsed = raw.parse()
    assert parsed.id == "ord_9Qa"
    assert raw.parse() is parsed
    raw_get = client.with_raw_response.orders.get("ord_9Qa")
    assert raw_get.parse().status == "authorized"


def test_with_raw_response_on_lists_and_errors(httpserver: HTTPServer, make_client: Callable[..., bc.Client]) -> None:
    client = make_client(max_retries=0)
    serve_three_checkout_pages(httpserver)
    raw = client.with_raw_response.checkouts.list(limit=2, status="open")
    assert [c.id for c in raw.parse()] == ["chk_a1", "chk_a2", "chk_b1", "chk_b2", "chk_c1"]
    httpserver.expect_request("/v1/orders/ord_404").respond_with_json({"error": {}}, status=404)
    with pytest.raises(errors.NotFoundError):
        client.with_raw_response.orders.retrieve("ord_404")


def test_with_options_copies_settings_and_shares_the_pool(
    httpserver: HTTPServer, make_client: Callable[..., bc.Client]
) -> None:
    client = make_client(max_retries=2)
    strict = client.with_options(max_retries=0, timeout=3)
    assert strict.max_retries == 0
    assert strict.timeout.read == 3.0
    assert client.max_retries == 2
    assert strict._http is client._http
    httpserver.expect_request("/v1/orders/ord_9Qa").respond_with_json({}, status=500)
    with pytest.raises(errors.APIServerError):
        strict.orders.retrieve("ord_9Qa")
    assert len(httpserver.log) == 1
    with strict:
        pass
    assert client._http.is_closed  # closing a copy closes the shared pool


def test_context_manager_closes_the_pool(make_client: Callable[..., bc.Client]) -> None:
    with make_client() as client:
        assert not client._http.is_closed
    assert client._http.is_closed


def test_a_passed_in_http_client_is_not_closed(httpserver: HTTPServer) -> None:
    http = httpx.Client()
    with bc.Client(API_KEY, base_url=httpserver.url_for("/"), http_client=http):
        pass
    assert not http.is_closed
    http.close()


def test_env_vars_supply_key_and_base_url(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BNPL_API_KEY", API_KEY)
    monkeypatch.setenv("BNPL_BASE_URL", httpserver.url_for("/"))
    httpserver.expect_request("/v1/orders/ord_9Qa").respond_with_json(order())
    with bc.Client() as client:
        assert client.orders.retrieve("ord_9Qa").id == "ord_9Qa"
    assert httpserver.log[0][0].headers["Authorization"] == f"Bearer {API_KEY}"


def test_test_key_defaults_to_the_local_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BNPL_BASE_URL", raising=False)
    with bc.Client(API_KEY) as client:
        assert client.base_url == "http://127.0.0.1:8787"


def test_missing_key_names_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BNPL_API_KEY", raising=False)
    with pytest.raises(errors.ConfigurationError, match="BNPL_API_KEY"):
        bc.Client()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"api_key": "pk_test_abcdefgh12345678"}, "publishable key"),
        ({"api_key": "rk_test_abcdefgh12345678"}, "sk_test_ or sk_live_"),
        ({"api_key": "sk_live_abcdefgh12345678"}, "explicit https base_url"),
        ({"api_key": "sk_live_abcdefgh12345678", "base_url": "http://127.0.0.1:8787"}, "needs an https"),
        ({"api_key": API_KEY, "base_url": "http://api.example.com"}, "plain http"),
        ({"api_key": API_KEY, "base_url": "https://api.example.com", "verify": False}, "verify=False"),
        ({"api_key": API_KEY, "base_url": "ftp://x"}, "absolute http(s) URL"),
        ({"api_key": API_KEY, "timeout": 0}, "timeout"),
        ({"api_key": API_KEY, "max_retries": -1}, "max_retries"),
        ({"api_key": API_KEY, "default_headers": {"Authorization": "x"}}, "default_headers"),
    ],
)
def test_unsafe_or_malformed_settings_are_refused(
    kwargs: dict[str, object], fragment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BNPL_BASE_URL", raising=False)
    with pytest.raises(errors.ConfigurationError) as info:
        bc.Client(**kwargs)  # type: ignore[arg-type]
    assert fragment in str(info.value)
    assert "abcdefgh12345678" not in str(info.value)


def test_live_key_with_https_and_verification_is_accepted() -> None:
    with bc.Client("sk_live_abcdefgh12345678", base_url="https://api.lender.example/") as client:
        assert client.base_url == "https://api.lender.example"


def test_repr_masks_the_key(client: bc.Client) -> None:
    text = repr(client)
    assert API_KEY not in text
    assert "sk_test_…p7dc" in text
    assert "base_url=" in text
    with pytest.raises(TypeError, match="pickled"):
        client.__reduce__()


def test_debug_log_has_one_line_per_attempt_and_no_secrets(
    httpserver: HTTPServer, client: bc.Client, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_ordered_request("/v1/orders/ord_9Qa/capture").respond_with_json({}, status=503)
    httpserver.expect_ordered_request("/v1/orders/ord_9Qa/capture").respond_with_json(
        order(), headers={"Request-Id": "req_log"}
    )
    with caplog.at_level(logging.DEBUG, logger="bnpl"):
        client.orders.capture("ord_9Qa", reference="whsec_leakedsecretvalue")
    lines = [r.getMessage() for r in caplog.records if r.name == "bnpl"]
    assert len(lines) == 2
    assert "POST /v1/orders/ord_9Qa/capture -> 503" in lines[0]
    assert "attempt=0" in lines[0]
    assert "request_id=req_log" in lines[1]
    assert "attempt=1" in lines[1]
    assert API_KEY not in caplog.text
    assert "leakedsecret" not in caplog.text


def test_error_messages_redact_secrets_echoed_by_the_server(httpserver: HTTPServer, client: bc.Client) -> None:
    httpserver.expect_request("/v1/orders/ord_9Qa").respond_with_json(
        {"error": {"type": "authentication_error", "message": f"key {API_KEY} revoked"}}, status=401
    )
    with pytest.raises(errors.AuthenticationError) as info:
        client.orders.retrieve("ord_9Qa")
    assert API_KEY not in str(info.value)
    assert "sk_test_[REDACTED]" in str(info.value)


# --- contract: the client's methods follow the route table and mirror the params models --------------------

CLIENT_NAMESPACE = {"plan_quotes": "plans"}
CLIENT_ACTION = {"plan_quotes.create": "quote"}


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.operation_id)
def test_every_route_has_a_sync_and_async_method(route: object) -> None:
    from bnpl.models.routes import Route

    assert isinstance(route, Route)
    namespace = CLIENT_NAMESPACE.get(route.resource, route.resource)
    action = CLIENT_ACTION.get(route.operation_id, route.action)
    for cls in (bc.Client, bc.AsyncClient):
        resource_type = typing.get_type_hints(getattr(cls, namespace).func)["return"]
        assert callable(getattr(resource_type, action)), f"{cls.__name__}.{namespace}.{action}"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.operation_id)
def test_every_route_is_called_with_its_method_and_path(
    route: object, httpserver: HTTPServer, make_client: Callable[..., bc.Client]
) -> None:
    from bnpl.models.routes import Route

    assert isinstance(route, Route)
    client = make_client(max_retries=0)
    # No handler is registered: the server answers 500 to anything, and only the request line matters here.
    namespace = getattr(client, CLIENT_NAMESPACE.get(route.resource, route.resource))
    method = getattr(namespace, CLIENT_ACTION.get(route.operation_id, route.action))
    args: list[object] = [f"{route.id_prefix}abc123"] if route.id_prefix else []
    if route.body is not None:
        args.append(route.body.model_construct())  # unvalidated: only the wire path matters here
    with pytest.raises(errors.APIServerError):
        method(*args)
    request = httpserver.log[0][0]
    assert request.method == route.method
    assert request.path == route.path_for(**dict(zip(route.path_params, args[: len(route.path_params)], strict=True)))
    assert ("Idempotency-Key" in request.headers) == (route.method in {"POST", "DELETE"})


PARAM_ARGS = [
    (PrequalificationCreateParams, _params.PrequalificationCreateArgs),
    (PlanQuoteParams, _params.PlanQuoteArgs),
    (CheckoutCreateParams, _params.CheckoutCreateArgs),
    (CheckoutCancelParams, _params.CheckoutCancelArgs),
    (CheckoutListParams, _params.CheckoutListArgs),
    (CaptureParams, _params.CaptureArgs),
    (RefundParams, _params.RefundArgs),
    (VoidParams, _params.VoidArgs),
    (AmendParams, _params.AmendArgs),
    (OrderListParams, _params.OrderListArgs),
    (EventListParams, _params.EventListArgs),
    (WebhookEndpointCreateParams, _params.WebhookEndpointCreateArgs),
    (WebhookEndpointListParams, _params.WebhookEndpointListArgs),
    (RotateSecretParams, _params.RotateSecretArgs),
    (TestClockCreateParams, _params.TestClockCreateArgs),
    (TestClockAdvanceParams, _params.TestClockAdvanceArgs),
]


@pytest.mark.parametrize(("model", "args"), PARAM_ARGS, ids=lambda x: getattr(x, "__name__", ""))
def test_keyword_argument_types_mirror_the_params_models(model: type, args: type) -> None:
    assert set(args.__annotations__) == set(model.model_fields)
