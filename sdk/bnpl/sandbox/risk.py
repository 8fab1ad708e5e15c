"""The sandbox lender's risk model: a points scorecard that decides in microseconds.

Pure functions, no I/O. :func:`decide` turns a customer, an order amount, a category and the customer's history
with this lender into a :class:`Decision`: approve or decline (with a machine-readable reason), the credit limit,
the available credit, the customer's minimum and maximum order amount and the plans offered to them.

The model (documented with its tables in docs/sandbox-personas.md):

1. **Customer score** = 600 (base) + alternative data (months of social insurance, payroll, utility and rent
   payments, job tenure, residence; capped, so thin-file 新市民 customers with none of the classic credit data
   still start at the base and get small, affordable credit) + contact data (phone, email, hashed national ID)
   + history with this lender (each paid-off order up, each overdue instalment down hard) + a deterministic
   spread of -10..+10 from a hash of the customer reference. It is independent of the order, so the customer's
   **band** (credit limit, order range and plans) is stable across orders.
2. **Order score** (:attr:`Decision.score`) = customer score + category points (travel lower risk than goods)
   + points for the order amount relative to the credit limit. Below :data:`CUTOFF` the order is declined.
3. Declines, first match wins: ``credit_frozen``, ``persona_always_declines``, ``category_not_allowed``,
   ``score_below_cutoff``, ``amount_below_minimum``, ``amount_above_maximum``, ``insufficient_credit``.

Every rate offered is at most :data:`RATE_CAP_PERCENT` (24 %) a year under every disclosure method (the
historical Chinese judicial-protection ceiling; see docs), which the tests check by building every plan.
Amounts in the tables are major units; they are scaled to the order currency by its exponent.
"""

from __future__ import annotations

import decimal
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Final, Literal, get_args

from bnpl.models.customers import CustomerInfo
from bnpl.money import Currency, Money
from bnpl.plans import Plan, Pricing, Product, RepaymentMethod, build_plan
from bnpl.sandbox.personas import Persona, persona_for

__all__ = [
    "ALLOWED_CATEGORIES",
    "BANDS",
    "BASE_SCORE",
    "CATEGORY_POINTS",
    "CUTOFF",
    "DECLINE_REASONS",
    "DISALLOWED_CATEGORIES",
    "RATE_CAP_PERCENT",
    "Band",
    "CustomerHistory",
    "Decision",
    "DeclineReason",
    "PlanOffer",
    "RiskInputError",
    "apply_rate_cut",
    "band_for",
    "band_offers",
    "customer_score",
    "decide",
]

DeclineReason = Literal[
    "credit_frozen",
    "persona_always_declines",
    "category_not_allowed",
    "score_below_cutoff",
    "amount_below_minimum",
    "amount_above_maximum",
    "insufficient_credit",
]
"""Machine-readable decline codes, in the order they are checked."""

DECLINE_REASONS: Final[tuple[str, ...]] = get_args(DeclineReason)

BASE_SCORE: Final = 600
CUTOFF: Final = 560
"""Orders whose score is below this are declined ``score_below_cutoff``."""

RATE_CAP_PERCENT: Final = Decimal(24)
"""No plan is offered above this annual rate (percent) under any disclosure method."""

_HUNDRED: Final = Decimal(100)
_RATE_QUANTUM: Final = Decimal("0.0001")


class RiskInputError(ValueError):
    """:func:`decide` was called with an invalid argument; the message names it and what is expected."""


# --- history --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    """What this lender already knows about the customer.

    ``orders_count``: orders ever authorized; ``paid_off_count``: orders fully repaid; ``overdue_count``:
    times the customer went overdue with this lender (orders in arrears or overdue instalments; each costs 70
    points); ``outstanding_minor``: principal still owed, in minor units of the order
    currency; ``credit_limit_minor``: the limit the lender already assigned (None: computed from the band);
    ``frozen``: the credit line is frozen; ``rate_discount_percent``: a rate cut in force (20 means every rate is
    cut by 20 % of itself).
    """

    orders_count: int = 0
    paid_off_count: int = 0
    overdue_count: int = 0
    outstanding_minor: int = 0
    credit_limit_minor: int | None = None
    frozen: bool = False
    rate_discount_percent: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        for name in ("orders_count", "paid_off_count", "overdue_count", "outstanding_minor"):
            _check_count(f"history.{name}", getattr(self, name))
        if self.credit_limit_minor is not None:
            _check_count("history.credit_limit_minor", self.credit_limit_minor)
        if not isinstance(self.frozen, bool):
            raise RiskInputError(f"history.frozen must be a bool, got {type(self.frozen).__name__}")
        discount = self.rate_discount_percent
        if not isinstance(discount, Decimal) or not discount.is_finite() or not 0 <= discount < _HUNDRED:
            raise RiskInputError(
                f"history.rate_discount_percent must be a Decimal in [0, 100), e.g. Decimal('20'), got {discount!r}"
            )


def _check_count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RiskInputError(f"{name} must be an int >= 0, got {value!r}")


_NO_HISTORY: Final = CustomerHistory()


# --- plans ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanOffer:
    """A plan the lender offers: ``product``, ``periods`` (4 for pay_in_4, 1 for pay_in_30), ``method`` (monthly
    plans only), the nominal ``annual_interest_rate`` and the per-period ``fee_rate`` (both percent) and a
    customer-facing ``label`` (Chinese, then English)."""

    product: Product
    periods: int | None
    method: RepaymentMethod | None
    annual_interest_rate: Decimal
    fee_rate: Decimal
    label: str

    def pricing(self, subsidy: Decimal = Decimal(0)) -> Pricing:
        """The :class:`bnpl.plans.Pricing` of this offer; ``subsidy`` is the merchant's share (percent, 贴息)."""
        return Pricing(annual_interest_rate=self.annual_interest_rate, fee_rate=self.fee_rate, merchant_subsidy=subsidy)

    def build(self, price: Money, *, start: date, subsidy: Decimal = Decimal(0)) -> Plan:
        """The exact schedule of this offer for ``price`` bought on ``start`` (see :func:`bnpl.plans.build_plan`)."""
        return build_plan(
            price,
            product=self.product,
            periods=self.periods,
            method=self.method,
            pricing=self.pricing(subsidy),
            start=start,
        )


def _offer(product: Product, periods: int, method: RepaymentMethod | None, rate: str, fee: str) -> PlanOffer:
    annual, fee_rate = Decimal(rate), Decimal(fee)
    return PlanOffer(product, periods, method, annual, fee_rate, _label(product, periods, annual, fee_rate))


def _label(product: str, periods: int, annual: Decimal, fee_rate: Decimal) -> str:
    if product == "pay_in_4":
        return "分4次 · 免息 / Pay in 4, interest-free" if not annual and not fee_rate else "分4次 / Pay in 4"
    if product == "pay_in_30":
        return "30天后付 · 免息 / Pay in 30 days, interest-free" if not annual and not fee_rate else "30天后付"
    if fee_rate:
        return f"{periods}期 · 月费率{fee_rate:.2f}% / {periods} months, {fee_rate:.2f} % fee a month"
    return f"{periods}期 · 年利率{annual:.2f}% / {periods} months, {annual:.2f} % a year"


def apply_rate_cut(rate: Decimal, percent: Decimal) -> Decimal:
    """``rate`` cut by ``percent`` percent of itself, to 4 decimals, rounding down so a cut never rounds up."""
    cut = (rate * (_HUNDRED - percent) / _HUNDRED).quantize(_RATE_QUANTUM, rounding=decimal.ROUND_DOWN)
    # Drop trailing zeros without exponent notation: "12" not "12.0000" or "1.2E+1" (rates go on the wire).
    return cut.normalize() if cut != cut.to_integral_value() else cut.quantize(Decimal(1))


def _discounted(offer: PlanOffer, percent: Decimal) -> PlanOffer:
    annual = apply_rate_cut(offer.annual_interest_rate, percent)
    fee = apply_rate_cut(offer.fee_rate, percent)
    periods = offer.periods if offer.periods is not None else 1
    label = _label(offer.product, periods, annual, fee)
    return PlanOffer(offer.product, offer.periods, offer.method, annual, fee, label)


# --- bands ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Band:
    """A score band: customers whose customer score is at least ``min_score`` (and below the next band's) get
    this credit limit, order range and plans. Amounts are major units of the order currency."""

    key: str
    min_score: int
    credit_limit_major: int
    min_order_major: int
    max_order_major: int
    short_term_max_major: int
    """pay_in_4 and pay_in_30 are offered only up to this amount."""
    offers: tuple[PlanOffer, ...]


def _short_term() -> tuple[PlanOffer, ...]:
    return (_offer("pay_in_4", 4, None, "0", "0"), _offer("pay_in_30", 1, None, "0", "0"))


def _monthly(
    method: RepaymentMethod, periods: tuple[int, ...], rate: str = "0", fee: str = "0"
) -> tuple[PlanOffer, ...]:
    return tuple(_offer("monthly", n, method, rate, fee) for n in periods)


# Better bands: higher limits, more periods, lower prices. Every price here is checked against the 24 % cap on
# all four disclosure methods by tests/sandbox/test_risk.py (the highest, 0.75 % a month over 6 months flat
# fee, is about 16.4 % compound).
BANDS: Final[tuple[Band, ...]] = (
    Band("E", -(10**9), 1_000, 50, 1_000, 1_000, (*_short_term(), *_monthly("flat_fee", (3, 6), fee="0.75"))),
    Band(
        "D",
        640,
        3_000,
        50,
        3_000,
        2_000,
        (*_short_term(), *_monthly("flat_fee", (3, 6, 12), fee="0.7"), *_monthly("annuity", (3, 6, 12), "15")),
    ),
    Band(
        "C",
        700,
        8_000,
        50,
        8_000,
        3_000,
        (*_short_term(), *_monthly("flat_fee", (3, 6, 12), fee="0.65"), *_monthly("annuity", (3, 6, 12), "13.5")),
    ),
    Band(
        "B",
        760,
        20_000,
        50,
        15_000,
        5_000,
        (*_short_term(), *_monthly("flat_fee", (3, 6, 12), fee="0.6"), *_monthly("annuity", (3, 6, 12), "12")),
    ),
    Band(
        "A",
        820,
        50_000,
        50,
        50_000,
        5_000,
        (
            *_short_term(),
            *_monthly("flat_fee", (3, 6, 12), fee="0.5"),
            *_monthly("annuity", (3, 6, 12, 24, 36), "9.9"),
        ),
    ),
)
"""The bands from worst to best."""

_BAND_BY_KEY: Final[Mapping[str, Band]] = {b.key: b for b in BANDS}


def band_for(score: int) -> Band:
    """The band of a customer score (the best band whose ``min_score`` it reaches)."""
    for band in reversed(BANDS):
        if score >= band.min_score:
            return band
    return BANDS[0]  # pragma: no cover - the first band has no lower bound


@lru_cache(maxsize=256)
def _band_offers(band_key: str, discount: Decimal) -> tuple[PlanOffer, ...]:
    offers = _BAND_BY_KEY[band_key].offers
    return offers if not discount else tuple(_discounted(o, discount) for o in offers)


def band_offers(band: Band | str, rate_discount_percent: Decimal = Decimal(0)) -> tuple[PlanOffer, ...]:
    """Every plan of ``band`` (a :class:`Band` or its key) with a rate cut of ``rate_discount_percent`` applied."""
    key = band.key if isinstance(band, Band) else band
    if key not in _BAND_BY_KEY:
        raise RiskInputError(f"unknown band {key!r}: one of {', '.join(_BAND_BY_KEY)}")
    if not isinstance(rate_discount_percent, Decimal) or not 0 <= rate_discount_percent < _HUNDRED:
        raise RiskInputError(f"rate_discount_percent must be a Decimal in [0, 100), got {rate_discount_percent!r}")
    return _band_offers(key, rate_discount_percent)


# --- the scorecard --------------------------------------------------------------------------------------------

# (field of AlternativeData, points per step, months per step, months counted at most): capped and concave so a
# long record helps but cannot buy a top band on its own.
_ALT_DATA: Final = (
    ("social_insurance_months", 2, 1, 36, "social insurance"),
    ("payroll_months", 2, 1, 24, "payroll"),
    ("utility_payment_months", 1, 1, 24, "utility payments"),
    ("rent_payment_months", 1, 1, 24, "rent payments"),
    ("tenure_months", 1, 2, 48, "job tenure"),
    ("residence_months", 1, 3, 60, "residence in the city"),
)
_PHONE_POINTS: Final = 10
_EMAIL_POINTS: Final = 5
_ID_POINTS: Final = 25
_PAID_OFF_POINTS: Final = 15
_PAID_OFF_COUNTED: Final = 10
_OVERDUE_POINTS: Final = -70
_SPREAD: Final = 10

CATEGORY_POINTS: Final[Mapping[str | None, int]] = {
    "flight": 20,
    "train": 20,
    "hotel": 15,
    "package": 10,
    "car_rental": 5,
    "goods": 0,
    "service": -5,
    None: 0,
}
"""Points by item category: travel is booked by name and refundable to the lender, so lower risk than goods."""
_UNKNOWN_CATEGORY_POINTS: Final = -10

ALLOWED_CATEGORIES: Final[frozenset[str]] = frozenset(k for k in CATEGORY_POINTS if k is not None)
DISALLOWED_CATEGORIES: Final[frozenset[str]] = frozenset(
    {"gift_card", "cash", "cash_advance", "crypto", "lottery", "gambling", "money_transfer"}
)
"""Cash-like goods are never financed (declined ``category_not_allowed``)."""


@lru_cache(maxsize=65_536)
def _spread(reference: str) -> int:
    # blake2b rather than hash(): stable across processes and PYTHONHASHSEED.
    digest = hashlib.blake2b(reference.encode(), digest_size=2).digest()
    return int.from_bytes(digest, "big") % (2 * _SPREAD + 1) - _SPREAD


def _customer_score(customer: CustomerInfo, history: CustomerHistory, reasons: list[str] | None) -> int:
    score = BASE_SCORE
    alt = customer.alternative_data
    if alt is not None:
        for field, points, step, cap, name in _ALT_DATA:
            months = getattr(alt, field)
            if months:
                gained = min(months, cap) // step * points
                score += gained
                if reasons is not None and gained:
                    reasons.append(f"{name} {months} months: +{gained}")
    contact = 0
    if customer.phone is not None:
        contact += _PHONE_POINTS
    if customer.email is not None:
        contact += _EMAIL_POINTS
    if customer.national_id_hash is not None:
        contact += _ID_POINTS
    score += contact
    if reasons is not None and contact:
        reasons.append(f"contact and identity data: +{contact}")
    if history.paid_off_count:
        gained = min(history.paid_off_count, _PAID_OFF_COUNTED) * _PAID_OFF_POINTS
        score += gained
        if reasons is not None:
            reasons.append(f"{history.paid_off_count} orders paid off: +{gained}")
    if history.overdue_count:
        lost = history.overdue_count * _OVERDUE_POINTS
        score += lost
        if reasons is not None:
            reasons.append(f"{history.overdue_count} overdue instalments: {lost}")
    spread = _spread(customer.reference)
    if reasons is not None and spread:
        reasons.append(f"customer spread: {spread:+d}")
    return score + spread


def customer_score(customer: CustomerInfo, history: CustomerHistory = _NO_HISTORY) -> int:
    """The order-independent score that picks the customer's band (see the module docstring)."""
    if not isinstance(customer, CustomerInfo):
        raise RiskInputError(f"customer must be a CustomerInfo, got {type(customer).__name__}")
    if not isinstance(history, CustomerHistory):
        raise RiskInputError(f"history must be a CustomerHistory, got {type(history).__name__}")
    return _customer_score(customer, history, None)


def _amount_points(amount_minor: int, limit_minor: int) -> int:
    # Integer comparisons instead of a ratio: exact and fast. Amounts above the limit score like those just
    # below it: they are declined on the amount anyway, and the amount is the reason worth reporting.
    if amount_minor * 4 <= limit_minor:
        return 20
    if amount_minor * 2 <= limit_minor:
        return 10
    if amount_minor * 5 <= limit_minor * 4:
        return 0
    return -15


# --- the decision ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of :func:`decide`. Amounts are in the order currency.

    ``credit_limit``, ``min_order_amount``, ``max_order_amount`` are the customer's line and order range
    (reported on declines too); ``available_credit`` is the limit less what is outstanding (zero while frozen);
    ``plans`` are the plans offered for this amount (empty when declined); ``score`` is the order score;
    ``reasons`` explain it to a human; ``band`` is the key of the band used.
    """

    approved: bool
    decline_reason: DeclineReason | None
    credit_limit: Money
    available_credit: Money
    min_order_amount: Money
    max_order_amount: Money
    plans: list[PlanOffer]
    persona: Persona | None
    score: int
    reasons: tuple[str, ...]
    band: str = ""


def decide(
    customer: CustomerInfo,
    amount: Money,
    *,
    category: str | None = None,
    history: CustomerHistory = _NO_HISTORY,
    now: datetime,
) -> Decision:
    """Decide an order of ``amount`` for ``customer``; deterministic, no I/O, a few microseconds.

    ``category`` is an item category (``flight``, ``goods`` …); cash-like ones (:data:`DISALLOWED_CATEGORIES`)
    are declined, unknown ones score as riskier than goods. ``now`` must be timezone-aware; the scorecard does
    not depend on it today, so the same inputs give the same decision at any time.
    Raises :class:`RiskInputError` for arguments of the wrong type or range.
    """
    if not isinstance(customer, CustomerInfo):
        raise RiskInputError(f"customer must be a CustomerInfo, got {type(customer).__name__}")
    if not isinstance(amount, Money):
        raise RiskInputError(f"amount must be Money, e.g. Money.of('1299', 'CNY'), got {type(amount).__name__}")
    if amount.minor <= 0:
        raise RiskInputError(f"amount must be positive, got {amount}")
    if category is not None and not isinstance(category, str):
        raise RiskInputError(f"category must be a str such as 'flight' or None, got {type(category).__name__}")
    if not isinstance(history, CustomerHistory):
        raise RiskInputError(f"history must be a CustomerHistory, got {type(history).__name__}")
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise RiskInputError("now must be a timezone-aware datetime, e.g. datetime.now(UTC)")

    reasons: list[str] = [f"base score: {BASE_SCORE}"]
    persona = persona_for(customer)
    cscore = _customer_score(customer, history, reasons)
    if persona is not None and persona.band:
        band = _BAND_BY_KEY[persona.band]
        reasons.append(f"customer score {cscore}; band {band.key} set by test persona {persona.key}")
    else:
        band = band_for(cscore)
        reasons.append(f"customer score {cscore}: band {band.key}")

    currency: Currency = amount.currency
    scale = currency.minor_per_major
    if history.credit_limit_minor is not None:
        limit = history.credit_limit_minor
    elif persona is not None and persona.credit_limit_major is not None:
        limit = persona.credit_limit_major * scale
    else:
        limit = band.credit_limit_major * scale
    available = 0 if history.frozen else max(0, limit - history.outstanding_minor)
    minimum, maximum = band.min_order_major * scale, band.max_order_major * scale

    if category in CATEGORY_POINTS:
        cat_points = CATEGORY_POINTS[category]
    elif category in DISALLOWED_CATEGORIES:
        cat_points = 0
    else:
        cat_points = _UNKNOWN_CATEGORY_POINTS
    amt_points = _amount_points(amount.minor, limit)
    score = cscore + cat_points + amt_points
    if cat_points:
        reasons.append(f"category {category}: {cat_points:+d}")
    if amt_points:
        reasons.append(f"amount relative to the credit limit: {amt_points:+d}")
    reasons.append(f"order score {score} (cutoff {CUTOFF})")

    reason = _decline_reason(persona, history, category, score, amount.minor, minimum, maximum, available)
    plans: list[PlanOffer] = []
    if reason is None:
        short_max = band.short_term_max_major * scale
        plans = [
            o
            for o in _band_offers(band.key, history.rate_discount_percent)
            if o.product == "monthly" or amount.minor <= short_max
        ]
        if persona is not None and persona.decision is not None:
            reasons.append(f"test persona {persona.key}: {persona.decision}")
    else:
        reasons.append(_DECLINE_TEXT[reason])
    return Decision(
        approved=reason is None,
        decline_reason=reason,
        credit_limit=Money(limit, currency),
        available_credit=Money(available, currency),
        min_order_amount=Money(minimum, currency),
        max_order_amount=Money(maximum, currency),
        plans=plans,
        persona=persona,
        score=score,
        reasons=tuple(reasons),
        band=band.key,
    )


def _decline_reason(
    persona: Persona | None,
    history: CustomerHistory,
    category: str | None,
    score: int,
    amount: int,
    minimum: int,
    maximum: int,
    available: int,
) -> DeclineReason | None:
    decision = persona.decision if persona is not None else None
    if history.frozen:
        return "credit_frozen"
    if decision == "always_decline":
        return "persona_always_declines"
    if category in DISALLOWED_CATEGORIES:
        return "category_not_allowed"
    if decision is None and score < CUTOFF:
        return "score_below_cutoff"
    if amount < minimum:
        return "amount_below_minimum"
    if amount > maximum:
        return "amount_above_maximum"
    if amount > available:
        return "insufficient_credit"
    return None


_DECLINE_TEXT: Final[Mapping[str, str]] = {
    "credit_frozen": "declined: the customer's credit line is frozen",
    "persona_always_declines": "declined: test persona that always declines",
    "category_not_allowed": "declined: this category (cash-like goods) is never financed",
    "score_below_cutoff": f"declined: order score below the cutoff {CUTOFF}",
    "amount_below_minimum": "declined: amount below the customer's minimum order amount",
    "amount_above_maximum": "declined: amount above the customer's maximum order amount",
    "insufficient_credit": "declined: amount above the available credit",
}
