"""The desk's one error type, shared by the booking desk and its down-payment side."""

from __future__ import annotations

__all__ = ["DeskError"]


class DeskError(Exception):
    """An action the booking cannot take now, or a party refused it; the message is shown to the customer."""
