"""Test clocks (sandbox only): freeze time for an object tree and move it forward to watch repayments."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import StringConstraints

from bnpl.models.common import ApiObject, ApiParams, TestClockId, Timestamp

__all__ = ["TestClock", "TestClockAdvanceParams", "TestClockCreateParams"]

Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class TestClock(ApiObject):
    """A sandbox clock; objects created under it live at ``frozen_time``."""

    __test__: ClassVar[bool] = False  # not a pytest test class despite the name

    id: TestClockId
    object: Literal["test_clock"] = "test_clock"
    frozen_time: Timestamp
    status: Literal["ready", "advancing"]
    name: str | None = None
    created: Timestamp
    livemode: bool = False


class TestClockCreateParams(ApiParams):
    """Create a clock: ``POST /v1/test_clocks``."""

    __test__: ClassVar[bool] = False

    frozen_time: Timestamp
    name: Name | None = None


class TestClockAdvanceParams(ApiParams):
    """Move a clock forward: ``POST /v1/test_clocks/{id}/advance``. ``frozen_time`` must be later than the
    clock's current time (the lender answers 400 ``invalid_request_error`` otherwise)."""

    __test__: ClassVar[bool] = False

    frozen_time: Timestamp
