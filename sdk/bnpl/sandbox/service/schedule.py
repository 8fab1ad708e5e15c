"""How refunds, voids and amendments change a live schedule (pure functions on instalment rows).

The rule (documented in docs/sandbox.md): the principal removed comes off the **last** unpaid instalments
first; then the interest and the fee of every unpaid instalment are scaled by the ratio of the unpaid
principal after the change to the unpaid principal before it (each rounded half up), so the customer pays
interest and fees only on credit they still use. Paid instalments never change; a removal larger than the
unpaid principal leaves the rest to be returned to the customer's payment method. ``amount`` is always
``principal + interest + fee`` and ``balance`` is recomputed, so every sum stays exact.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["Line", "reduce_principal"]


@dataclass(frozen=True, slots=True)
class Line:
    """One instalment as stored: amounts in minor units."""

    number: int
    principal: int
    interest: int
    fee: int
    amount_paid: int
    status: str

    @property
    def amount(self) -> int:
        """``principal + interest + fee``."""
        return self.principal + self.interest + self.fee

    @property
    def open(self) -> bool:
        """Untouched by any payment, so the schedule may still change it."""
        return self.amount_paid == 0 and self.status not in ("paid", "waived")


def _scale(value: int, numerator: int, denominator: int) -> int:
    # Half up on non-negative integers, exact (no floats).
    return (2 * value * numerator + denominator) // (2 * denominator)


def reduce_principal(lines: list[Line], amount: int) -> tuple[list[Line], int]:
    """Remove ``amount`` of principal from the schedule; return the new lines and the part that could not be
    taken from unpaid instalments (to be paid back directly)."""
    if amount < 0:
        raise ValueError("amount must be >= 0")
    before = sum(line.principal for line in lines if line.open)
    take_total = min(amount, before)
    remaining = take_total
    out = list(lines)
    for index in range(len(out) - 1, -1, -1):
        if remaining == 0:
            break
        line = out[index]
        if not line.open or line.principal == 0:
            continue
        take = min(line.principal, remaining)
        out[index] = replace(line, principal=line.principal - take)
        remaining -= take
    after = before - take_total
    if take_total and before:
        for index, line in enumerate(out):
            if line.open:
                out[index] = replace(
                    line, interest=_scale(line.interest, after, before), fee=_scale(line.fee, after, before)
                )
    out = [replace(line, status="waived") if line.open and line.amount == 0 else line for line in out]
    return out, amount - take_total


def balances(lines: list[Line]) -> list[int]:
    """The principal still outstanding after each instalment."""
    total = sum(line.principal for line in lines)
    result = []
    for line in lines:
        total -= line.principal
        result.append(total)
    return result
