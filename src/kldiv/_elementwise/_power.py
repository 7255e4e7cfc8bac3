"""Power sums of two distributions, log Σ x^a y^b: the Rényi, Tsallis, Amari and Cressie–Read
families, evaluated in log space."""

from __future__ import annotations

import math

from .._array import Array, Namespace
from ._core import expm1_minus_identity, logsumexp

__all__ = ["log_power_sum", "power_sum_near_one"]


def log_power_sum(
    xp: Namespace, log_x: Array, log_y: Array, a: float, b: float, axis: int
) -> Array:
    """``log Σ x^a y^b`` along ``axis`` from ``log x`` and ``log y`` (a log-sum-exp).

    A term whose zero base has a positive exponent (``a >= 0`` for x, ``b > 0`` for y) is 0,
    whatever the other factor; otherwise a zero base with a negative exponent makes the term
    +inf. So a term without mass in x contributes 0 wherever the exponent of x is not negative,
    and ``Σ x^0 y`` is the mass of y on the support of x. NaN propagates.

    >>> import array_api_strict as xp
    >>> from kldiv._elementwise import log_or_neg_inf
    >>> log_x = log_or_neg_inf(xp, xp.asarray([0.5, 0.5, 0.0]))
    >>> log_y = log_or_neg_inf(xp, xp.asarray([0.25, 0.25, 0.5]))
    >>> xp.exp(log_power_sum(xp, log_x, log_y, 0.0, 1.0, axis=0))
    Array(0.5, dtype=array_api_strict.float64)
    """
    x_empty, y_empty = log_x == -xp.inf, log_y == -xp.inf
    zero = xp.zeros_like(log_x)
    exponent = a * xp.where(x_empty, zero, log_x) + b * xp.where(y_empty, zero, log_y)
    if a < 0:
        exponent = xp.where(x_empty, xp.inf, exponent)
    if b < 0:
        exponent = xp.where(y_empty, xp.inf, exponent)
    vanishing = x_empty if a >= 0 else xp.zeros_like(x_empty)
    if b > 0:
        vanishing = vanishing | y_empty
    return logsumexp(xp, xp.where(vanishing, -xp.inf, exponent), axis=axis)


#: Below this |log Σ x^a y^b|, the power sum is taken from its second-order terms.
_NEAR_ONE_LOG = 0.5


def _second_order_terms(xp: Namespace, log_x: Array, log_y: Array, a: float) -> Array:
    """``x^a y^(1-a) - y - a (x - y)`` elementwise: second order in log(x / y), so near x = y
    it is ``y (E(a L) - a E(L))`` with E(t) = expm1(t) - t, L = log(x / y); the direct form
    elsewhere (both capped against overflow). Zeros follow :func:`log_power_sum`."""
    x_empty, y_empty = log_x == -xp.inf, log_y == -xp.inf
    both = ~(x_empty | y_empty)
    zero = xp.zeros_like(log_x)
    x = xp.where(x_empty, zero, xp.exp(xp.where(x_empty, zero, log_x)))
    y = xp.where(y_empty, zero, xp.exp(xp.where(y_empty, zero, log_y)))
    safe_log_x, safe_log_y = xp.where(both, log_x, zero), xp.where(both, log_y, zero)
    ratio = safe_log_x - safe_log_y
    small = xp.abs(ratio) < 1
    small_ratio = xp.where(small, ratio, zero)
    near = y * (
        expm1_minus_identity(xp, a * small_ratio) - a * expm1_minus_identity(xp, small_ratio)
    )
    cap = math.log(xp.finfo(log_x.dtype).max) - 1
    power = xp.exp(xp.minimum(a * safe_log_x + (1 - a) * safe_log_y, cap))
    terms = xp.where(small, near, power - y - a * (x - y))
    # One side empty: x^a y^(1-a) is 0 (positive exponent) or +inf (negative exponent).
    x_only = xp.full_like(x, xp.inf) if 1 - a < 0 else -a * x
    y_only = xp.full_like(y, xp.inf) if a < 0 else (a - 1) * y
    terms = xp.where(y_empty, x_only, xp.where(x_empty, y_only, terms))
    return xp.where(x_empty & y_empty, zero, terms)


def power_sum_near_one(
    xp: Namespace, log_x: Array, log_y: Array, a: float, axis: int, normalized: bool
) -> tuple[Array, Array]:
    """``(log S, S - 1)`` for the power sum S = Σ x^a y^(1-a) along ``axis``, both accurate.

    Near S = 1 (x ≈ y), S - 1 is the sum of the second-order terms ``x^a y^(1-a) - y - a (x -
    y)`` (plus ``Σ y - 1 + a (Σ x - Σ y)`` unless the rows are ``normalized``): no digit is lost
    to the cancellation of ``exp(log S) - 1``, and rounding in the normalisation moves it only
    in second order. Elsewhere both come from :func:`log_power_sum` (no overflow).

    >>> import array_api_strict as xp
    >>> log_x = xp.log(xp.asarray([0.5, 0.5]))
    >>> log_y = xp.log(xp.asarray([0.5 + 1e-9, 0.5 - 1e-9]))
    >>> power_sum_near_one(xp, log_x, log_y, 2.0, axis=0, normalized=True)[1]
    Array(4.e-18, dtype=array_api_strict.float64)
    """
    log_sum = log_power_sum(xp, log_x, log_y, a, 1 - a, axis)
    deviation = xp.sum(_second_order_terms(xp, log_x, log_y, a), axis=axis)
    if not normalized:
        sum_x, sum_y = xp.sum(xp.exp(log_x), axis=axis), xp.sum(xp.exp(log_y), axis=axis)
        deviation = deviation + (sum_y - 1) + a * (sum_x - sum_y)
    near = xp.abs(log_sum) < _NEAR_ONE_LOG
    near_deviation = xp.where(near, deviation, xp.zeros_like(deviation))
    log_result = xp.where(near, xp.log1p(near_deviation), log_sum)
    return log_result, xp.where(near, near_deviation, xp.expm1(log_sum))
