"""The retry loops: the only code that differs between the sync and async clients is here (I/O and sleeping)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import httpx

from bnpl.client import _core
from bnpl.client._core import APIRequest
from bnpl.client._retry import RetryPolicy, parse_retry_after, should_retry_status

T = TypeVar("T")

_DEBUG = logging.DEBUG


class SyncTransport:
    """Sends an :class:`APIRequest` with retries over a shared ``httpx.Client``; returns the 2xx response."""

    __slots__ = ("base_headers", "base_url", "http", "policy", "sleep", "timeout")

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        base_headers: Mapping[str, str],
        timeout: httpx.Timeout,
        policy: RetryPolicy,
        sleep: Callable[[float], None] | None,
    ) -> None:
        self.http = http
        self.base_url = base_url
        self.base_headers = base_headers
        self.timeout = timeout
        self.policy = policy
        self.sleep = sleep if sleep is not None else time.sleep

    def send(self, request: APIRequest) -> httpx.Response:
        """Run the attempts; raise the typed error of the last one when retries are exhausted."""
        url = self.base_url + request.path
        max_retries = self.policy.max_retries
        attempt = 0
        while True:
            headers = _core.attempt_headers(self.base_headers, request, attempt)
            started = time.perf_counter()
            try:
                response = self.http.request(
                    request.method,
                    url,
                    content=request.body,
                    params=request.query,
                    headers=headers,
                    timeout=self.timeout,
                )
            except httpx.TransportError as exc:
                if _core.logger.isEnabledFor(_DEBUG):
                    _core.log_attempt(request, type(exc).__name__, None, time.perf_counter() - started, attempt)
                if attempt >= max_retries:
                    raise _core.connection_error(exc, request, attempt + 1) from exc
                self.sleep(self.policy.delay(attempt, None))
                attempt += 1
                continue
            if _core.logger.isEnabledFor(_DEBUG):
                _core.log_attempt(
                    request,
                    response.status_code,
                    response.headers.get("request-id"),
                    time.perf_counter() - started,
                    attempt,
                )
            status = response.status_code
            if status < 300:
                return response
            if attempt < max_retries and should_retry_status(status, response.headers, _core.error_code(response)):
                self.sleep(self.policy.delay(attempt, parse_retry_after(response.headers)))
                attempt += 1
                continue
            raise _core.make_status_error(response, request)


class AsyncTransport:
    """The async twin of :class:`SyncTransport` over a shared ``httpx.AsyncClient``."""

    __slots__ = ("base_headers", "base_url", "http", "policy", "sleep", "timeout")

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        base_headers: Mapping[str, str],
        timeout: httpx.Timeout,
        policy: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]] | None,
    ) -> None:
        self.http = http
        self.base_url = base_url
        self.base_headers = base_headers
        self.timeout = timeout
        self.policy = policy
        self.sleep = sleep if sleep is not None else asyncio.sleep

    async def send(self, request: APIRequest) -> httpx.Response:
        """Run the attempts; raise the typed error of the last one when retries are exhausted."""
        url = self.base_url + request.path
        max_retries = self.policy.max_retries
        attempt = 0
        while True:
            headers = _core.attempt_headers(self.base_headers, request, attempt)
            started = time.perf_counter()
            try:
                response = await self.http.request(
                    request.method,
                    url,
                    content=request.body,
                    params=request.query,
                    headers=headers,
                    timeout=self.timeout,
                )
            except httpx.TransportError as exc:
                if _core.logger.isEnabledFor(_DEBUG):
                    _core.log_attempt(request, type(exc).__name__, None, time.perf_counter() - started, attempt)
                if attempt >= max_retries:
                    raise _core.connection_error(exc, request, attempt + 1) from exc
                await self.sleep(self.policy.delay(attempt, None))
                attempt += 1
                continue
            if _core.logger.isEnabledFor(_DEBUG):
                _core.log_attempt(
                    request,
                    response.status_code,
                    response.headers.get("request-id"),
                    time.perf_counter() - started,
                    attempt,
                )
            status = response.status_code
            if status < 300:
                return response
            if attempt < max_retries and should_retry_status(status, response.headers, _core.error_code(response)):
                await self.sleep(self.policy.delay(attempt, parse_retry_after(response.headers)))
                attempt += 1
                continue
            raise _core.make_status_error(response, request)
