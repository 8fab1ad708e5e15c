"""Root finding for the equation of value: sum of a_j / ((1 + f_j x) (1 + x)^e_j) = 0.

Drawdowns are positive, repayments negative. ``e`` is time in base periods (possibly fractional),
``f`` an Appendix J simple-interest fraction (0 elsewhere). Newton's method on floats does the work;
when it fails (no convergence, leaves the domain) a bracketing scan plus bisection always finishes
or proves that no rate above -100 % exists.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["NoRootError", "solve_general", "solve_level"]

_TOL = 1e-14
_MAX_NEWTON = 60
_SCAN = (
    *(-0.999999999999, -0.9999, -0.99, -0.9, -0.5, -0.1, 0.0, 0.1, 0.5, 1.0, 3.0, 10.0, 100.0, 1e4, 1e6),
    *(1e9, 1e12, 1e16, 1e24, 1e40, 1e70, 1e120, 1e200, 1e300),  # absurd, but a day-long loan can get there
)


class NoRootError(ArithmeticError):
    """No rate above -100 % per period balances the flows."""


Terms = list[tuple[float, float, float]]


def _npv_general(terms: Terms, x: float) -> tuple[float, float]:
    """NPV and its derivative at rate ``x``."""
    log_v = -math.log1p(x)
    v = 1.0 / (1.0 + x)
    val = 0.0
    der = 0.0
    for a, e, f in terms:
        w = a * math.exp(e * log_v) if e else a
        if f:
            den = 1.0 + f * x
            term = w / den
            val += term
            der -= term * (e * v + f / den)
        else:
            val += w
            der -= w * e * v
    return val, der


def _sign_scaled(terms: Terms, x: float) -> float:
    """Sign-faithful NPV at ``x``, scaled by the largest term so no power overflows."""
    log_v = -math.log1p(x)
    logs: list[tuple[float, float]] = []
    for a, e, f in terms:
        if a == 0.0:
            continue
        den = 1.0 + f * x
        logs.append((a, e * log_v - math.log(den)))
    if not logs:
        return 0.0
    top = max(lg for _, lg in logs)
    return math.fsum(a * math.exp(lg - top) for a, lg in logs)


def _newton(evaluate: Callable[[float], tuple[float, float]], x0: float) -> float | None:
    x = x0
    for _ in range(_MAX_NEWTON):
        try:
            val, der = evaluate(x)
        except (OverflowError, ZeroDivisionError, ValueError):
            return None
        if val == 0.0:
            return x
        if der == 0.0 or not math.isfinite(val) or not math.isfinite(der):
            return None
        nxt = x - val / der
        if nxt <= -1.0:
            nxt = (x - 1.0) / 2.0  # halve the distance to -100 % instead of leaving the domain
        if abs(nxt - x) <= _TOL * max(1.0, abs(x)):
            return nxt
        x = nxt
    return None


def _bracketed(terms: Terms) -> float:
    """Scan for a sign change, then bisect it to full float precision."""
    prev_x = _SCAN[0]
    prev_s = _sign_scaled(terms, prev_x)
    for x in _SCAN[1:]:
        s = _sign_scaled(terms, x)
        if s == 0.0:
            return x
        if (s > 0.0) != (prev_s > 0.0) and prev_s != 0.0:
            lo, hi, s_lo = prev_x, x, prev_s
            for _ in range(400):
                # Geometric midpoint above 1, so huge brackets shrink in a few dozen steps.
                mid = math.sqrt(lo) * math.sqrt(hi) if lo >= 1.0 else (lo + hi) / 2.0
                if mid in (lo, hi):
                    break
                s_mid = _sign_scaled(terms, mid)
                if s_mid == 0.0:
                    return mid
                if (s_mid > 0.0) == (s_lo > 0.0):
                    lo, s_lo = mid, s_mid
                else:
                    hi = mid
            return (lo + hi) / 2.0
        prev_x, prev_s = x, s
    raise NoRootError("no rate above -100 % (and below 1e300 % per period) balances these drawdowns and repayments")


def _guess(terms: Terms) -> float:
    """First-order (simple-interest) estimate: sum a_j (1 - x e_j) = 0."""
    total = 0.0
    weighted = 0.0
    for a, e, f in terms:
        total += a
        weighted += a * (e + f)
    if weighted == 0.0:
        return 0.01
    x = total / weighted
    return x if -0.9 < x < 10.0 else 0.01


def solve_general(terms: Terms) -> float:
    """The rate per base period that zeroes the NPV of ``terms`` ((amount, e, f) triples)."""
    root = _newton(lambda x: _npv_general(terms, x), _guess(terms))
    if root is not None and root > -1.0:
        return root
    return _bracketed(terms)


def solve_level(
    advance: float, payment: float, e0: float, n: int, f: float, deviations: list[tuple[float, float]]
) -> float:
    """Rate for ``advance`` at time 0 repaid by ``n`` payments of ``payment`` at e0, e0+1, ... e0+n-1,
    each discounted also by 1/(1 + f x), plus sparse ``deviations`` (amount difference, time).

    The level part is a geometric series summed in closed form, so an evaluation costs O(1) plus the
    deviations, whatever n is. Newton's loop is inlined: this is the hot path of every plan quote.
    """
    # First-order start: advance = sum P_j (1 - x e_j)  =>  x = (sum P_j - advance) / sum P_j e_j.
    total = payment * n
    moment = total * (e0 + (n - 1) / 2.0)
    for d, e in deviations:
        total += d
        moment += d * e
    x = (total - advance) / moment if moment > 0.0 else 0.01
    if not -0.9 < x < 10.0:
        x = 0.01
    for _ in range(_MAX_NEWTON):
        if -1e-9 < x < 1e-9:
            break  # the closed form divides by x: leave the neighbourhood of 0 to the general solver
        log_v = -math.log1p(x)
        v = 1.0 / (1.0 + x)
        w = x * v  # 1 - v
        one_minus_vn = -math.expm1(n * log_v)
        vn = 1.0 - one_minus_vn
        g = one_minus_vn / w
        k = (v - n * vn + (n - 1) * vn * v) / (w * w)
        ve0 = v if e0 == 1.0 else math.exp(e0 * log_v)
        pv = payment * ve0 * g
        dpv = payment * ve0 * (e0 * g + k)
        for d, e in deviations:
            ve = math.exp(e * log_v)
            pv += d * ve
            dpv += d * e * ve
        dpv *= -v
        if f:
            den = 1.0 + f * x
            val = advance - pv / den
            der = -(dpv / den - pv * f / (den * den))
        else:
            val = advance - pv
            der = -dpv
        if der == 0.0 or not math.isfinite(val) or not math.isfinite(der):
            break
        step = val / der
        x -= step
        if x <= -1.0 or x != x:
            break
        # Quadratic convergence: once a step is below 1e-9, the error left is far below float noise.
        if abs(step) <= 1e-9 * max(1.0, abs(x)):
            return x
    return solve_general(_level_terms(advance, payment, e0, n, f, deviations))


def _level_terms(
    advance: float, payment: float, e0: float, n: int, f: float, deviations: list[tuple[float, float]]
) -> Terms:
    terms: Terms = [(advance, 0.0, 0.0)]
    terms += [(-payment, e0 + k, f) for k in range(n)]
    terms += [(-d, e, f) for d, e in deviations]
    return terms
