"""Stable kernels of the discrete divergences: x·log y, x·log(x/y), log-sum-exp, log-softmax."""

from __future__ import annotations

import math

from array_api_compat import device

from .._array import Array, Namespace

__all__ = [
    "expm1_minus_identity",
    "log_midpoint",
    "log_ratio",
    "log_softmax",
    "logsumexp",
    "sqrt_at_least_zero",
    "xlog_ratio",
    "xlog_ratio_log",
    "xlog_ratio_mixed",
    "xlogy",
    "zero_unless_nan",
]


def zero_unless_nan(xp: Namespace, other: Array) -> Array:
    """0 where ``other`` is a number, NaN where it is NaN: the value of a term with no mass."""
    return xp.where(xp.isnan(other), other, 0.0)


def xlogy(xp: Namespace, x: Array, y: Array) -> Array:
    """``x * log(y)``, 0 where ``x == 0`` (even where ``y`` is 0); finite gradients there."""
    no_mass = x == 0
    return xp.where(no_mass, zero_unless_nan(xp, y), x * xp.log(xp.where(no_mass, 1.0, y)))


def log_ratio(
    xp: Namespace, x: Array, y: Array, sum_x: Array | None = None, sum_y: Array | None = None
) -> Array:
    """``log((x / sum_x) / (y / sum_y))`` (sums 1 by default), one logarithm where it can.

    The quotient ``(x / y) · (sum_y / sum_x)`` is formed first; where it overflows, underflows
    or is subnormal (rows of very different scale), the result is ``log x - log y + log sum_y -
    log sum_x`` instead, chosen elementwise: the quotient's own rounding would give ±inf or lose
    digits there (as SciPy's ``rel_entr`` falls back). ``y = 0 < x`` gives +inf, a negative
    argument NaN.
    """
    finfo = xp.finfo(x.dtype)
    ratio = x / y if sum_x is None else (x / y) * (sum_y / sum_x)
    normal = (ratio >= finfo.smallest_normal) & (ratio <= finfo.max)
    one = xp.ones_like(ratio)
    fallback = xp.log(xp.where(normal, one, x)) - xp.log(xp.where(normal, one, y))
    if sum_x is not None:
        fallback = fallback + (xp.log(sum_y) - xp.log(sum_x))
    return xp.where(normal, xp.log(xp.where(normal, ratio, one)), fallback)


def xlog_ratio(
    xp: Namespace, x: Array, y: Array, sum_x: Array | None = None, sum_y: Array | None = None
) -> Array:
    """``X · log(X / Y)`` with ``X = x / sum_x``, ``Y = y / sum_y``; 0 where ``x == 0``.

    The KL term of rows normalised on the fly (no array divided by its sum before the
    quotient, see :func:`log_ratio`). ``x > 0, y = 0`` gives +inf; ``x < 0 < y`` gives NaN.
    Gradients stay finite where ``x == 0``. A weight ``X`` too small for the dtype counts as
    its smallest normal number, so ``x > 0 = y`` stays +inf.
    """
    no_mass = x == 0
    safe_x, safe_y = xp.where(no_mass, 1.0, x), xp.where(no_mass, 1.0, y)
    weight = x if sum_x is None else xp.maximum(x / sum_x, xp.finfo(x.dtype).smallest_normal)
    return xp.where(no_mass, 0.0, weight * log_ratio(xp, safe_x, safe_y, sum_x, sum_y))


def xlog_ratio_mixed(xp: Namespace, x: Array, log_y: Array) -> Array:
    """``x * (log(x) - log_y)``: the KL term from p and log q, 0 where ``x == 0`` (NaN log_y
    propagates); gradients finite at ``x == 0`` even where ``log_y = -inf``.
    """
    no_mass = x == 0
    terms = x * (xp.log(xp.where(no_mass, 1.0, x)) - xp.where(no_mass, 0.0, log_y))
    return xp.where(no_mass, zero_unless_nan(xp, log_y), terms)


def xlog_ratio_log(xp: Namespace, log_x: Array, log_y: Array) -> Array:
    """``exp(log_x) * (log_x - log_y)``: the KL term in log space, 0 where ``log_x = -inf``."""
    no_mass = log_x == -xp.inf
    safe_log_x = xp.where(no_mass, 0.0, log_x)
    terms = xp.exp(safe_log_x) * (safe_log_x - xp.where(no_mass, 0.0, log_y))
    return xp.where(no_mass, zero_unless_nan(xp, log_y), terms)


def log_midpoint(xp: Namespace, log_x: Array, log_y: Array, weight: float = 0.5) -> Array:
    """``log(w·exp(log_x) + (1 - w)·exp(log_y))``: the log of the mixture w·x + (1 - w)·y
    (0 < w < 1), by default the midpoint ½(x + y).

    -inf where both are -inf, with finite (zero) gradients there, where ``logaddexp`` alone
    gives NaN gradients.
    """
    both_empty = (log_x == -xp.inf) & (log_y == -xp.inf)
    zero = xp.zeros_like(log_x)
    safe_x, safe_y = xp.where(both_empty, zero, log_x), xp.where(both_empty, zero, log_y)
    if weight == 0.5:
        mixed = xp.logaddexp(safe_x, safe_y) - math.log(2.0)
    else:
        mixed = xp.logaddexp(safe_x + math.log(weight), safe_y + math.log1p(-weight))
    return xp.where(both_empty, -xp.inf, mixed)


def sqrt_at_least_zero(xp: Namespace, x: Array) -> Array:
    """``sqrt(max(x, 0))`` with gradient 0 (a subgradient) where ``x <= 0``, not NaN or inf.

    For distances that are square roots of divergences: at p = q the divergence is 0 and the
    square root's derivative diverges; 0 is the subgradient of the distance's minimum there.
    """
    positive = x > 0
    return xp.where(positive, xp.sqrt(xp.where(positive, x, xp.ones_like(x))), xp.zeros_like(x))


def logsumexp(xp: Namespace, x: Array, axis: int, keepdims: bool = False) -> Array:
    """``log(sum(exp(x), axis))`` without overflow; -inf for all -inf slices, +inf for any +inf,
    -inf (the log of an empty sum) along an empty axis."""
    if x.shape[axis] == 0:
        shape = list(x.shape)
        shape[axis] = 1
        empty_sum = xp.full(tuple(shape), -xp.inf, dtype=x.dtype, device=device(x))
        return empty_sum if keepdims else xp.squeeze(empty_sum, axis=axis)
    peak = xp.max(x, axis=axis, keepdims=True)
    safe_peak = xp.where(xp.isfinite(peak), peak, xp.zeros_like(peak))
    total = xp.sum(xp.exp(x - safe_peak), axis=axis, keepdims=True)
    result = xp.log(total) + safe_peak
    return result if keepdims else xp.squeeze(result, axis=axis)


def log_softmax(xp: Namespace, x: Array, axis: int) -> Array:
    """``x - logsumexp(x)`` along ``axis``: log-probabilities from logits."""
    return x - logsumexp(xp, x, axis=axis, keepdims=True)


# expm1(x) − x = Σ_{n≥2} xⁿ/n!; below this |x| the series (to x¹²) is exact to rounding.
_SERIES_LIMIT = 0.1
_SERIES_TERMS = tuple(1 / math.factorial(n) for n in range(2, 13))


def expm1_minus_identity(xp: Namespace, x: Array) -> Array:
    """``expm1(x) − x`` without cancellation near 0 (where it is ≈ x²/2).

    The Taylor series for |x| < 0.1, ``expm1(x) − x`` elsewhere (relative error ≤ 20 ulp there).

    >>> import array_api_strict as xp
    >>> expm1_minus_identity(xp, xp.asarray([1e-9, 1.0]))
    Array([5.00000000e-19, 7.18281828e-01], dtype=array_api_strict.float64)
    """
    small = xp.abs(x) < _SERIES_LIMIT
    tiny = xp.where(small, x, xp.zeros_like(x))
    series = xp.zeros_like(x)
    for coefficient in reversed(_SERIES_TERMS):
        series = series * tiny + coefficient
    return xp.where(small, series * tiny * tiny, xp.expm1(x) - x)
