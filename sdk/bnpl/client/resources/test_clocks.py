"""``client.test_clocks`` (sandbox only): freeze time and move it forward to watch repayments happen."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from bnpl.client._base import AsyncResource, SyncResource, async_raw, raw
from bnpl.client._core import APIRequest, make_request, path_id, validate_params
from bnpl.client._params import TestClockAdvanceArgs, TestClockCreateArgs
from bnpl.models import ID_PREFIXES, TestClock, TestClockAdvanceParams, TestClockCreateParams

PATH = "/v1/test_clocks"
PREFIX = ID_PREFIXES["test_clock"]

CreateParams = TestClockCreateParams | Mapping[str, Any] | None


def _create(params: CreateParams, kwargs: dict[str, Any], idempotency_key: str | None) -> APIRequest:
    body = validate_params(TestClockCreateParams, params, kwargs)
    return make_request("POST", PATH, body=body, idempotency_key=idempotency_key)


def _retrieve(clock_id: str) -> APIRequest:
    return make_request("GET", f"{PATH}/{path_id(clock_id, PREFIX)}")


def _advance(
    clock_id: str, params: TestClockAdvanceParams | None, kwargs: dict[str, Any], idempotency_key: str | None
) -> APIRequest:
    escaped = path_id(clock_id, PREFIX)
    body = validate_params(TestClockAdvanceParams, params, kwargs)
    return make_request("POST", f"{PATH}/{escaped}/advance", body=body, idempotency_key=idempotency_key)


class TestClocks(SyncResource):
    """Sandbox test clocks."""

    __slots__ = ()
    __test__ = False  # not a pytest test class despite the name

    def create(
        self,
        params: CreateParams = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[TestClockCreateArgs],
    ) -> TestClock:
        """Create a clock frozen at ``frozen_time`` (``POST /v1/test_clocks``)."""
        return self._model(_create(params, dict(kwargs), idempotency_key), TestClock)

    def retrieve(self, clock_id: str, /) -> TestClock:
        """Read a clock (``GET /v1/test_clocks/{id}``)."""
        return self._model(_retrieve(clock_id), TestClock)

    get = retrieve

    def advance(
        self,
        clock_id: str,
        params: TestClockAdvanceParams | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[TestClockAdvanceArgs],
    ) -> TestClock:
        """Move the clock forward to ``frozen_time`` (``POST /v1/test_clocks/{id}/advance``)."""
        return self._model(_advance(clock_id, params, dict(kwargs), idempotency_key), TestClock)


class AsyncTestClocks(AsyncResource):
    """The async twin of :class:`TestClocks`."""

    __slots__ = ()
    __test__ = False

    async def create(
        self,
        params: CreateParams = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[TestClockCreateArgs],
    ) -> TestClock:
        """Create a clock frozen at ``frozen_time`` (``POST /v1/test_clocks``)."""
        return await self._model(_create(params, dict(kwargs), idempotency_key), TestClock)

    async def retrieve(self, clock_id: str, /) -> TestClock:
        """Read a clock (``GET /v1/test_clocks/{id}``)."""
        return await self._model(_retrieve(clock_id), TestClock)

    get = retrieve

    async def advance(
        self,
        clock_id: str,
        params: TestClockAdvanceParams | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **kwargs: Unpack[TestClockAdvanceArgs],
    ) -> TestClock:
        """Move the clock forward to ``frozen_time`` (``POST /v1/test_clocks/{id}/advance``)."""
        return await self._model(_advance(clock_id, params, dict(kwargs), idempotency_key), TestClock)


class TestClocksWithRawResponse:
    """``client.with_raw_response.test_clocks``."""

    __test__ = False

    def __init__(self, resource: TestClocks) -> None:
        raw_mode = TestClocks(resource._transport, raw=True)
        self.create = raw(raw_mode.create)
        self.retrieve = raw(raw_mode.retrieve)
        self.get = self.retrieve
        self.advance = raw(raw_mode.advance)


class AsyncTestClocksWithRawResponse:
    """``client.with_raw_response.test_clocks`` on the async client."""

    __test__ = False

    def __init__(self, resource: AsyncTestClocks) -> None:
        raw_mode = AsyncTestClocks(resource._transport, raw=True)
        self.create = async_raw(raw_mode.create)
        self.retrieve = async_raw(raw_mode.retrieve)
        self.get = self.retrieve
        self.advance = async_raw(raw_mode.advance)
