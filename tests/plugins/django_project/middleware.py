"""A middleware that reads ``request.POST`` first: the Django raw-body pitfall, on purpose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def reads_post_first(get_response: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def middleware(request: Any) -> Any:
        request.POST  # noqa: B018 - parsing a multipart body consumes the stream request.body needs
        return get_response(request)

    return middleware
