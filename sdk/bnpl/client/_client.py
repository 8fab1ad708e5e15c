"""``Client`` and ``AsyncClient``: configuration, the shared connection pool and the resource namespaces."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable, Mapping
from functools import cached_property
from types import TracebackType
from typing import Self

import httpx

from bnpl.client._config import (
    DEFAULT_MAX_RETRIES,
    ResolvedConfig,
    TimeoutTypes,
    VerifyTypes,
    check_max_retries,
    resolve_config,
    resolve_timeout,
)
from bnpl.client._retry import RetryPolicy
from bnpl.client._transport import AsyncTransport, SyncTransport
from bnpl.client.resources.checkouts import (
    AsyncCheckouts,
    AsyncCheckoutsWithRawResponse,
    Checkouts,
    CheckoutsWithRawResponse,
)
from bnpl.client.resources.events import AsyncEvents, AsyncEventsWithRawResponse, Events, EventsWithRawResponse
from bnpl.client.resources.orders import AsyncOrders, AsyncOrdersWithRawResponse, Orders, OrdersWithRawResponse
from bnpl.client.resources.plans import AsyncPlans, AsyncPlansWithRawResponse, Plans, PlansWithRawResponse
from bnpl.client.resources.prequalifications import (
    AsyncPrequalifications,
    AsyncPrequalificationsWithRawResponse,
    Prequalifications,
    PrequalificationsWithRawResponse,
)
from bnpl.client.resources.test_clocks import (
    AsyncTestClocks,
    AsyncTestClocksWithRawResponse,
    TestClocks,
    TestClocksWithRawResponse,
)
from bnpl.client.resources.webhook_endpoints import (
    AsyncWebhookEndpoints,
    AsyncWebhookEndpointsWithRawResponse,
    WebhookEndpoints,
    WebhookEndpointsWithRawResponse,
)
from bnpl.errors import ConfigurationError
from bnpl.models import API_VERSION, API_VERSION_HEADER


def _version() -> str:
    import bnpl  # the package is fully initialised by the time a client is built

    return str(getattr(bnpl, "__version__", "0"))


def _base_headers(config: ResolvedConfig, extra: Mapping[str, str] | None) -> dict[str, str]:
    headers = {
        "Accept": "application/json",
        "User-Agent": f"bnpl-python/{_version()}",
        API_VERSION_HEADER: API_VERSION,
    }
    if extra:
        for name in extra:
            if name.lower() in {"authorization", "idempotency-key", "bnpl-retry-attempt"}:
                raise ConfigurationError(
                    f"default_headers may not set {name!r}: the client manages it (use api_key= / idempotency_key=)."
                )
        headers.update(extra)
    headers["Authorization"] = f"Bearer {config.api_key}"
    return headers


def _ssl_verify(verify: VerifyTypes) -> bool | ssl.SSLContext:
    # httpx 0.28 deprecates a CA-bundle path for verify=; turn it into an SSLContext here.
    if isinstance(verify, str):
        try:
            return ssl.create_default_context(cafile=verify)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(f"Could not load the CA bundle {verify!r} given as verify=: {exc}.") from None
    return verify


def _check_backoff(backoff_base: float) -> float:
    if isinstance(backoff_base, bool) or not isinstance(backoff_base, int | float) or not 0 <= backoff_base <= 60:
        raise ConfigurationError(f"backoff_base must be a number of seconds from 0 to 60, got {backoff_base!r}.")
    return float(backoff_base)


class _ClientBase:
    """What both clients share: the checked settings and a repr that never shows the key."""

    _config: ResolvedConfig
    _timeout: httpx.Timeout
    _policy: RetryPolicy
    _headers: dict[str, str]

    @property
    def base_url(self) -> str:
        """The API's base URL."""
        return self._config.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        """The per-attempt timeout."""
        return self._timeout

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt."""
        return self._policy.max_retries

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self._config.base_url!r}, api_key={self._config.masked_key!r}, "
            f"max_retries={self._policy.max_retries})"
        )

    def __reduce__(self) -> str | tuple[object, ...]:
        # Pickling would write the API key to wherever the pickle goes; a client holds sockets anyway.
        raise TypeError(f"{type(self).__name__} cannot be pickled; build a new client from the environment.")


class Client(_ClientBase):
    """The synchronous BNPL API client.

    ``Client()`` reads ``BNPL_API_KEY`` (and ``BNPL_BASE_URL``); ``sk_test_`` keys default to the local sandbox at
    ``http://127.0.0.1:8787``, ``sk_live_`` keys need an explicit https ``base_url``. Use it as a context manager,
    or call :meth:`close`, to release the connection pool.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | httpx.URL | None = None,
        timeout: TimeoutTypes | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        verify: VerifyTypes = True,
        http_client: httpx.Client | None = None,
        default_headers: Mapping[str, str] | None = None,
        backoff_base: float = 0.5,
        _sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._config = resolve_config(api_key, base_url, verify)
        self._timeout = resolve_timeout(timeout)
        self._policy = RetryPolicy(check_max_retries(max_retries), backoff_base=_check_backoff(backoff_base))
        self._headers = _base_headers(self._config, default_headers)
        self._sleep = _sleep
        self._owns_http = http_client is None
        if http_client is None:
            # Our own pool carries the constant headers, so each attempt only adds its few own (cheaper merge).
            self._http = httpx.Client(verify=_ssl_verify(verify), headers=self._headers)
            self._request_headers: dict[str, str] = {}
        else:
            self._http = http_client
            self._request_headers = self._headers
        self._transport = SyncTransport(
            self._http, self._config.base_url, self._request_headers, self._timeout, self._policy, self._sleep
        )

    def with_options(self, *, timeout: TimeoutTypes | None = None, max_retries: int | None = None) -> Client:
        """A copy with other settings that shares this client's connection pool (and its lifetime)."""
        copy = object.__new__(Client)
        copy._config = self._config
        copy._timeout = self._timeout if timeout is None else resolve_timeout(timeout)
        copy._policy = (
            self._policy
            if max_retries is None
            else RetryPolicy(check_max_retries(max_retries), backoff_base=self._policy.backoff_base)
        )
        copy._headers = self._headers
        copy._request_headers = self._request_headers
        copy._sleep = self._sleep
        copy._owns_http = self._owns_http
        copy._http = self._http
        copy._transport = SyncTransport(
            copy._http, copy._config.base_url, copy._request_headers, copy._timeout, copy._policy, copy._sleep
        )
        return copy

    def close(self) -> None:
        """Close the connection pool (shared with ``with_options`` copies) unless it was passed in."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @cached_property
    def prequalifications(self) -> Prequalifications:
        """Pre-loan decisions."""
        return Prequalifications(self._transport)

    @cached_property
    def plans(self) -> Plans:
        """Plan quotes."""
        return Plans(self._transport)

    @cached_property
    def checkouts(self) -> Checkouts:
        """Checkout sessions."""
        return Checkouts(self._transport)

    @cached_property
    def orders(self) -> Orders:
        """Orders: capture, refund, void, amend."""
        return Orders(self._transport)

    @cached_property
    def events(self) -> Events:
        """Events."""
        return Events(self._transport)

    @cached_property
    def webhook_endpoints(self) -> WebhookEndpoints:
        """Webhook endpoints."""
        return WebhookEndpoints(self._transport)

    @cached_property
    def test_clocks(self) -> TestClocks:
        """Sandbox test clocks."""
        return TestClocks(self._transport)

    @cached_property
    def with_raw_response(self) -> ClientWithRawResponse:
        """The same namespaces, returning :class:`RawResponse` (headers, status, request id, ``.parse()``)."""
        return ClientWithRawResponse(self)


class ClientWithRawResponse:
    """``client.with_raw_response``: every method returns a :class:`RawResponse` of its usual result."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @cached_property
    def prequalifications(self) -> PrequalificationsWithRawResponse:
        return PrequalificationsWithRawResponse(self._client.prequalifications)

    @cached_property
    def plans(self) -> PlansWithRawResponse:
        return PlansWithRawResponse(self._client.plans)

    @cached_property
    def checkouts(self) -> CheckoutsWithRawResponse:
        return CheckoutsWithRawResponse(self._client.checkouts)

    @cached_property
    def orders(self) -> OrdersWithRawResponse:
        return OrdersWithRawResponse(self._client.orders)

    @cached_property
    def events(self) -> EventsWithRawResponse:
        return EventsWithRawResponse(self._client.events)

    @cached_property
    def webhook_endpoints(self) -> WebhookEndpointsWithRawResponse:
        return WebhookEndpointsWithRawResponse(self._client.webhook_endpoints)

    @cached_property
    def test_clocks(self) -> TestClocksWithRawResponse:
        return TestClocksWithRawResponse(self._client.test_clocks)


class AsyncClient(_ClientBase):
    """The asynchronous BNPL API client: the same settings and namespaces as :class:`Client`, with awaitables.

    Use ``async with AsyncClient() as client:`` or ``await client.aclose()`` to release the connection pool.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | httpx.URL | None = None,
        timeout: TimeoutTypes | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        verify: VerifyTypes = True,
        http_client: httpx.AsyncClient | None = None,
        default_headers: Mapping[str, str] | None = None,
        backoff_base: float = 0.5,
        _sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self._config = resolve_config(api_key, base_url, verify)
        self._timeout = resolve_timeout(timeout)
        self._policy = RetryPolicy(check_max_retries(max_retries), backoff_base=_check_backoff(backoff_base))
        self._headers = _base_headers(self._config, default_headers)
        self._sleep = _sleep
        self._owns_http = http_client is None
        if http_client is None:
            # Our own pool carries the constant headers, so each attempt only adds its few own (cheaper merge).
            self._http = httpx.AsyncClient(verify=_ssl_verify(verify), headers=self._headers)
            self._request_headers: dict[str, str] = {}
        else:
            self._http = http_client
            self._request_headers = self._headers
        self._transport = AsyncTransport(
            self._http, self._config.base_url, self._request_headers, self._timeout, self._policy, self._sleep
        )

    def with_options(self, *, timeout: TimeoutTypes | None = None, max_retries: int | None = None) -> AsyncClient:
        """A copy with other settings that shares this client's connection pool (and its lifetime)."""
        copy = object.__new__(AsyncClient)
        copy._config = self._config
        copy._timeout = self._timeout if timeout is None else resolve_timeout(timeout)
        copy._policy = (
            self._policy
            if max_retries is None
            else RetryPolicy(check_max_retries(max_retries), backoff_base=self._policy.backoff_base)
        )
        copy._headers = self._headers
        copy._request_headers = self._request_headers
        copy._sleep = self._sleep
        copy._owns_http = self._owns_http
        copy._http = self._http
        copy._transport = AsyncTransport(
            copy._http, copy._config.base_url, copy._request_headers, copy._timeout, copy._policy, copy._sleep
        )
        return copy

    async def aclose(self) -> None:
        """Close the connection pool (shared with ``with_options`` copies) unless it was passed in."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    @cached_property
    def prequalifications(self) -> AsyncPrequalifications:
        """Pre-loan decisions."""
        return AsyncPrequalifications(self._transport)

    @cached_property
    def plans(self) -> AsyncPlans:
        """Plan quotes."""
        return AsyncPlans(self._transport)

    @cached_property
    def checkouts(self) -> AsyncCheckouts:
        """Checkout sessions."""
        return AsyncCheckouts(self._transport)

    @cached_property
    def orders(self) -> AsyncOrders:
        """Orders: capture, refund, void, amend."""
        return AsyncOrders(self._transport)

    @cached_property
    def events(self) -> AsyncEvents:
        """Events."""
        return AsyncEvents(self._transport)

    @cached_property
    def webhook_endpoints(self) -> AsyncWebhookEndpoints:
        """Webhook endpoints."""
        return AsyncWebhookEndpoints(self._transport)

    @cached_property
    def test_clocks(self) -> AsyncTestClocks:
        """Sandbox test clocks."""
        return AsyncTestClocks(self._transport)

    @cached_property
    def with_raw_response(self) -> AsyncClientWithRawResponse:
        """The same namespaces, returning :class:`RawResponse` (headers, status, request id, ``.parse()``)."""
        return AsyncClientWithRawResponse(self)


class AsyncClientWithRawResponse:
    """``client.with_raw_response`` on the async client."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    @cached_property
    def prequalifications(self) -> AsyncPrequalificationsWithRawResponse:
        return AsyncPrequalificationsWithRawResponse(self._client.prequalifications)

    @cached_property
    def plans(self) -> AsyncPlansWithRawResponse:
        return AsyncPlansWithRawResponse(self._client.plans)

    @cached_property
    def checkouts(self) -> AsyncCheckoutsWithRawResponse:
        return AsyncCheckoutsWithRawResponse(self._client.checkouts)

    @cached_property
    def orders(self) -> AsyncOrdersWithRawResponse:
        return AsyncOrdersWithRawResponse(self._client.orders)

    @cached_property
    def events(self) -> AsyncEventsWithRawResponse:
        return AsyncEventsWithRawResponse(self._client.events)

    @cached_property
    def webhook_endpoints(self) -> AsyncWebhookEndpointsWithRawResponse:
        return AsyncWebhookEndpointsWithRawResponse(self._client.webhook_endpoints)

    @cached_property
    def test_clocks(self) -> AsyncTestClocksWithRawResponse:
        return AsyncTestClocksWithRawResponse(self._client.test_clocks)
