"""Exact money: integer minor units plus an ISO 4217 currency.

Rules this module enforces:

* An amount is an ``int`` count of minor units (fen, cents, fils). Floats are refused everywhere, because
  ``0.1 + 0.2`` is not ``0.3`` and a pay-later schedule must add up to the cent.
* Parsing from major units (``"1299.00"``, ``Decimal("1299")``, ``1299``) is exact: a value with more decimals
  than the currency has raises :class:`PrecisionError` unless the caller names a rounding mode.
* Arithmetic only combines amounts of one currency (:class:`CurrencyMismatchError` otherwise).
* :meth:`Money.split` and :meth:`Money.allocate` always return parts that sum exactly to the whole; where minor
  units cannot be shared evenly, the leftover units go where the ``remainder`` argument says (documented below).

Currency exponents come from the ``iso4217`` package, which tracks the ISO 4217 maintenance agency's list, and
formatting from Babel's CLDR data, so neither is a hand-kept table.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any, Final, Literal, SupportsIndex, overload

import iso4217
from babel import Locale
from babel.core import UnknownLocaleError
from babel.numbers import NumberPattern, parse_pattern

__all__ = [
    "Currency",
    "CurrencyMismatchError",
    "FloatAmountError",
    "InvalidAmountError",
    "Money",
    "MoneyError",
    "PrecisionError",
    "RemainderPlacement",
    "UnknownCurrencyError",
    "total",
]

RemainderPlacement = Literal["first", "last", "largest_fraction"]
"""Where leftover minor units go when a split is not even.

* ``"first"``: one extra unit to each of the first parts (a pay-in-4 charges the odd cent at checkout).
* ``"last"``: one extra unit to each of the last parts.
* ``"largest_fraction"``: to the parts whose exact share lost the largest fraction (Hamilton's method);
  ties go to the earlier part. The fairest choice for proportional splits such as refunds across captures.
"""

_REMAINDER_CHOICES: Final = ("first", "last", "largest_fraction")


class MoneyError(ValueError):
    """Base class of every money error: the value or operation is not valid money."""


class UnknownCurrencyError(MoneyError):
    """The code is not an active ISO 4217 currency with a minor unit."""


class FloatAmountError(MoneyError):
    """A float was given where an exact amount is required."""


class InvalidAmountError(MoneyError):
    """The amount could not be read as a finite decimal number."""


class PrecisionError(MoneyError):
    """The amount has more decimals than the currency's minor unit allows."""


class CurrencyMismatchError(MoneyError):
    """Two amounts of different currencies were combined."""


class Currency:
    """An ISO 4217 currency: its alphabetic code and the exponent of its minor unit (CNY 2, JPY 0, KWD 3)."""

    __slots__ = ("_code", "_exponent", "_name", "_scale")

    def __init__(self, code: str, exponent: int, name: str) -> None:
        self._code = code
        self._exponent = exponent
        self._name = name
        self._scale = 10**exponent

    @classmethod
    def of(cls, code: str | Currency) -> Currency:
        """Return the currency for an ISO 4217 code such as ``"CNY"`` (case-insensitive)."""
        if isinstance(code, Currency):
            return code
        if not isinstance(code, str):
            raise UnknownCurrencyError(f"currency must be an ISO 4217 code such as 'CNY', got {type(code).__name__}")
        found = _CURRENCIES.get(code.strip().upper())
        if found is None:
            raise UnknownCurrencyError(
                f"unknown currency {code!r}: use an active ISO 4217 code with a minor unit, e.g. CNY, USD, EUR, JPY"
            )
        return found

    @property
    def code(self) -> str:
        """The three-letter code, e.g. ``"CNY"``."""
        return self._code

    @property
    def exponent(self) -> int:
        """Number of decimals of the minor unit: 2 for CNY, 0 for JPY, 3 for KWD."""
        return self._exponent

    @property
    def name(self) -> str:
        """The English name from ISO 4217, e.g. ``"Yuan Renminbi"``."""
        return self._name

    @property
    def minor_per_major(self) -> int:
        """How many minor units make one major unit (100 for CNY)."""
        return int(self._scale)

    def __repr__(self) -> str:
        return f"Currency({self._code!r})"

    def __str__(self) -> str:
        return self._code

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Currency):
            return self._code == other._code
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._code)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (Currency.of, (self._code,))


def _load_currencies() -> dict[str, Currency]:
    table: dict[str, Currency] = {}
    for entry in iso4217.Currency:
        # Entries without an exponent (gold, SDR, test codes) have no minor unit and cannot be money here.
        if entry.exponent is None:
            continue
        table[entry.code] = Currency(entry.code, int(entry.exponent), entry.currency_name)
    return table


_CURRENCIES: Final[dict[str, Currency]] = _load_currencies()


def _to_decimal(amount: object) -> Decimal:
    if isinstance(amount, bool):
        raise InvalidAmountError("an amount cannot be a bool")
    if isinstance(amount, float):
        raise FloatAmountError(
            f"floats are not exact ({amount!r}): pass the amount as a string ('12.99'), a Decimal, "
            "or an int of minor units via Money(minor, currency)"
        )
    if isinstance(amount, Decimal):
        value = amount
    elif isinstance(amount, int):
        value = Decimal(amount)
    elif isinstance(amount, str):
        text = amount.strip().replace("_", "")
        try:
            value = Decimal(text)
        except decimal.InvalidOperation:
            raise InvalidAmountError(
                f"cannot read {amount!r} as an amount: use digits with an optional '.' and sign, e.g. '1299.00'"
            ) from None
    else:
        raise InvalidAmountError(f"an amount must be str, Decimal or int, got {type(amount).__name__}")
    if not value.is_finite():
        raise InvalidAmountError(f"an amount must be finite, got {amount!r}")
    return value


class Money:
    """An immutable amount: ``minor`` units of ``currency``.

    >>> Money.of("1299", "CNY")
    Money('1299.00', 'CNY')
    >>> Money.of("100.00", "CNY").split(3)
    (Money('33.34', 'CNY'), Money('33.33', 'CNY'), Money('33.33', 'CNY'))
    """

    __slots__ = ("_currency", "_minor")

    _minor: int
    _currency: Currency

    def __init__(self, minor: int, currency: Currency | str) -> None:
        if isinstance(minor, bool) or not isinstance(minor, int):
            if isinstance(minor, float):
                raise FloatAmountError(
                    f"minor units must be an int, got the float {minor!r}; use Money.of('…') for major units"
                )
            raise InvalidAmountError(f"minor units must be an int, got {type(minor).__name__}")
        object.__setattr__(self, "_minor", minor)
        object.__setattr__(self, "_currency", currency if type(currency) is Currency else Currency.of(currency))

    # -- construction -------------------------------------------------------------------------------------

    @classmethod
    def of(
        cls,
        amount: str | Decimal | int,
        currency: Currency | str,
        *,
        rounding: str | None = None,
    ) -> Money:
        """Parse an amount in major units (``"1299.00"``, ``Decimal("12.5")``, ``1299``).

        Raises :class:`PrecisionError` when the amount has more decimals than the currency allows, unless a
        ``decimal`` rounding mode (e.g. ``decimal.ROUND_HALF_UP``) is given to say how to round.
        """
        cur = Currency.of(currency)
        value = _to_decimal(amount)
        with decimal.localcontext() as ctx:
            # The default context keeps 28 significant digits: a longer amount would be rounded silently.
            ctx.prec = max(ctx.prec, len(value.as_tuple().digits) + 2)
            scaled = value.scaleb(cur.exponent)
            integral = scaled.to_integral_value(rounding=rounding or decimal.ROUND_HALF_EVEN)
        if integral != scaled and rounding is None:
            raise PrecisionError(
                f"{amount!r} has more than {cur.exponent} decimals, the minor unit of {cur.code}: "
                "round it first or pass rounding=decimal.ROUND_HALF_UP (or another mode)"
            )
        return cls(int(integral), cur)

    @classmethod
    def from_minor(cls, minor: int, currency: Currency | str) -> Money:
        """Build from an int count of minor units (the same as ``Money(minor, currency)``)."""
        return cls(minor, currency)

    @classmethod
    def zero(cls, currency: Currency | str) -> Money:
        """Zero in ``currency``."""
        return cls(0, currency)

    # -- accessors ----------------------------------------------------------------------------------------

    @property
    def minor(self) -> int:
        """The amount in minor units (an int)."""
        return self._minor

    @property
    def currency(self) -> Currency:
        """The currency."""
        return self._currency

    @property
    def amount(self) -> Decimal:
        """The amount in major units as an exact Decimal with the currency's number of decimals."""
        return Decimal(self._minor).scaleb(-self._currency.exponent)

    def to_decimal_string(self) -> str:
        """Major units as a plain decimal string with exactly the currency's decimals: ``"1299.00"``."""
        return f"{self.amount:f}"

    def is_zero(self) -> bool:
        """True when the amount is zero."""
        return self._minor == 0

    # -- arithmetic ---------------------------------------------------------------------------------------

    def _same(self, other: object, op: str) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot {op} Money and {type(other).__name__}")
        if other._currency != self._currency:
            raise CurrencyMismatchError(f"cannot {op} {self._currency.code} and {other._currency.code}: convert first")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self._minor + self._same(other, "add")._minor, self._currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self._minor - self._same(other, "subtract")._minor, self._currency)

    def __neg__(self) -> Money:
        return Money(-self._minor, self._currency)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return Money(abs(self._minor), self._currency)

    def __mul__(self, factor: SupportsIndex) -> Money:
        if isinstance(factor, float):
            raise FloatAmountError("multiply Money by an int, or use .multiply(Decimal, rounding=...)")
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self._minor * factor, self._currency)

    __rmul__ = __mul__

    def multiply(self, factor: Decimal | Fraction | int, *, rounding: str = decimal.ROUND_HALF_UP) -> Money:
        """Multiply by an exact factor (a rate, a share) and round to the minor unit with ``rounding``."""
        if isinstance(factor, float):
            raise FloatAmountError("pass the factor as a Decimal or Fraction, not a float")
        exact = Fraction(self._minor) * Fraction(factor)
        return Money(_round_fraction(exact, rounding), self._currency)

    def __lt__(self, other: Money) -> bool:
        return self._minor < self._same(other, "compare")._minor

    def __le__(self, other: Money) -> bool:
        return self._minor <= self._same(other, "compare")._minor

    def __gt__(self, other: Money) -> bool:
        return self._minor > self._same(other, "compare")._minor

    def __ge__(self, other: Money) -> bool:
        return self._minor >= self._same(other, "compare")._minor

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Money):
            return self._minor == other._minor and self._currency == other._currency
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._minor, self._currency))

    def __bool__(self) -> bool:
        return self._minor != 0

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Money is immutable")

    def __reduce__(self) -> tuple[Any, tuple[int, str]]:
        return (Money, (self._minor, self._currency.code))

    # -- exact splitting ----------------------------------------------------------------------------------

    def split(self, parts: int, *, remainder: RemainderPlacement = "first") -> tuple[Money, ...]:
        """Split into ``parts`` amounts that differ by at most one minor unit and sum exactly to this one.

        The leftover minor units go to the first parts by default (``remainder="last"`` for the last ones).
        """
        if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
            raise MoneyError(f"parts must be a positive int, got {parts!r}")
        return self.allocate([1] * parts, remainder=remainder)

    def allocate(
        self,
        weights: Sequence[int | Decimal | Fraction],
        *,
        remainder: RemainderPlacement = "largest_fraction",
    ) -> tuple[Money, ...]:
        """Split in proportion to ``weights``; the parts always sum exactly to this amount.

        Each part first gets the floor of its exact share (of the absolute amount; the sign is applied
        afterwards, so negative amounts split symmetrically). The minor units left over are then handed out
        one each according to ``remainder`` (see :data:`RemainderPlacement`). Zero weights get zero.
        """
        if remainder not in _REMAINDER_CHOICES:
            raise MoneyError(f"remainder must be one of {', '.join(_REMAINDER_CHOICES)}; got {remainder!r}")
        shares = [_exact_weight(w) for w in weights]
        if not shares:
            raise MoneyError("allocate needs at least one weight")
        total_weight = sum(shares, Fraction(0))
        if total_weight <= 0:
            raise MoneyError("the weights must not all be zero")
        sign = -1 if self._minor < 0 else 1
        whole = abs(self._minor)
        exact = [whole * share / total_weight for share in shares]
        floors = [int(x) for x in exact]  # shares are non-negative, so int() is the floor
        leftover = whole - sum(floors)
        order = _remainder_order(exact, floors, remainder)
        for index in order[:leftover]:
            floors[index] += 1
        return tuple(Money(sign * part, self._currency) for part in floors)

    # -- presentation -------------------------------------------------------------------------------------

    def format(self, locale: str = "en_US", *, symbol: bool = True) -> str:
        """Format for people in ``locale``: ``¥1,299.00`` (zh_CN), ``1.299,00 €`` (de_DE), ``￥1,299`` (ja_JP).

        The number of decimals is always the ISO 4217 exponent of the currency, even where CLDR's display
        convention differs, so what is shown is exactly what is charged.
        """
        pattern, loc = _currency_pattern(locale, self._currency.exponent, symbol)
        return str(pattern.apply(self.amount, loc, currency=self._currency.code, currency_digits=False))

    def __repr__(self) -> str:
        return f"Money({self.to_decimal_string()!r}, {self._currency.code!r})"

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self._currency.code}"


def _exact_weight(weight: object) -> Fraction:
    if isinstance(weight, float):
        raise FloatAmountError("weights must be int, Decimal or Fraction, not float")
    if isinstance(weight, bool) or not isinstance(weight, int | Decimal | Fraction):
        raise MoneyError(f"weights must be int, Decimal or Fraction, got {type(weight).__name__}")
    share = Fraction(weight)
    if share < 0:
        raise MoneyError(f"weights must not be negative, got {weight}")
    return share


def _remainder_order(exact: list[Fraction], floors: list[int], remainder: str) -> list[int]:
    indices = range(len(exact))
    # Only parts with a non-zero weight may receive leftover units; zero weights must stay zero.
    eligible = [i for i in indices if exact[i] > 0]
    if remainder == "first":
        return eligible
    if remainder == "last":
        return eligible[::-1]
    return sorted(eligible, key=lambda i: (-(exact[i] - floors[i]), i))


def _round_fraction(value: Fraction, rounding: str) -> int:
    if value.denominator == 1:
        return value.numerator
    # Enough digits that a non-terminating quotient can never be rounded across a .5 boundary.
    with decimal.localcontext() as ctx:
        ctx.prec = len(str(abs(value.numerator))) + len(str(value.denominator)) + 10
        quotient = Decimal(value.numerator) / Decimal(value.denominator)
        return int(quotient.to_integral_value(rounding=rounding))


@lru_cache(maxsize=128)
def _currency_pattern(locale: str, exponent: int, symbol: bool) -> tuple[NumberPattern, Locale]:
    try:
        loc = Locale.parse(locale)
    except (UnknownLocaleError, ValueError, TypeError):
        raise MoneyError(f"unknown locale {locale!r}: use a CLDR locale such as 'zh_CN', 'en_US', 'de_DE'") from None
    standard = loc.currency_formats["standard"]
    pattern = parse_pattern(standard.pattern if symbol else "#,##0.00")
    pattern.frac_prec = (exponent, exponent)
    return pattern, loc


@overload
def total(amounts: Iterable[Money], currency: Currency | str) -> Money: ...
@overload
def total(amounts: Iterable[Money]) -> Money: ...
def total(amounts: Iterable[Money], currency: Currency | str | None = None) -> Money:
    """Sum amounts of one currency; ``currency`` is required when ``amounts`` may be empty."""
    iterator = iter(amounts)
    result: Money | None = Money.zero(currency) if currency is not None else None
    for item in iterator:
        result = item if result is None else result + item
    if result is None:
        raise MoneyError("cannot total an empty sequence without a currency")
    return result
