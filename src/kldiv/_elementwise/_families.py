"""Kernels and constants of the parametric families (distributions, gaussian)."""

from __future__ import annotations

import math

from .._array import Array, Namespace
from ._core import expm1_minus_identity

__all__ = [
    "EULER_GAMMA",
    "HALF_LOG_2PI",
    "binary_logits",
    "identity_minus_log1p",
    "kl_normal_log_ratio",
    "log1mexp",
    "log1mexp_from_log",
    "log_or_neg_inf",
    "replace_where",
    "sigmoid",
    "where_inf",
]


#: The Euler–Mascheroni constant γ = −ψ(1).
EULER_GAMMA = 0.57721566490153286061
#: ½ log(2π), the normalising term of a standard normal log-density.
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def replace_where(xp: Namespace, mask: Array, value: float, array: Array) -> Array:
    """``array`` with ``value`` where ``mask`` holds: a safe argument before a masked branch."""
    return xp.where(mask, xp.full_like(array, value), array)


def where_inf(xp: Namespace, mask: Array, value: Array) -> Array:
    """+inf where ``mask`` holds (q misses part of p's support), ``value`` elsewhere."""
    return xp.where(mask, xp.full_like(value, xp.inf), value)


def sigmoid(xp: Namespace, logits: Array) -> Array:
    """``1 / (1 + exp(−logits))``: 0 at −inf, 1 at +inf."""
    return 1 / (1 + xp.exp(-logits))


def log_or_neg_inf(xp: Namespace, values: Array) -> Array:
    """``log(values)``: −inf at 0, NaN below 0, without the warnings some libraries give."""
    positive = values > 0
    logs = xp.log(replace_where(xp, ~positive, 1.0, values))
    edge = xp.where(values == 0, xp.full_like(values, -xp.inf), xp.full_like(values, xp.nan))
    return xp.where(positive, logs, edge)


def binary_logits(xp: Namespace, probs: Array) -> Array:
    """``log(p / (1 − p))``: −inf at p = 0, +inf at p = 1."""
    return log_or_neg_inf(xp, probs) - log_or_neg_inf(xp, 1 - probs)


# u − log1p(u) = Σ_{k≥2} (−u)^k / k; below this |u| twenty terms are exact to rounding.
_LOG1P_SERIES_LIMIT = 0.125
_LOG1P_SERIES_TERMS = 20  # 0.125**21 / 21 < 1e-20


def identity_minus_log1p(xp: Namespace, u: Array) -> Array:
    """``u − log1p(u) ≥ 0`` for u > −1, without cancellation near 0 (where it is ≈ u²/2).

    With r = 1 + u it is r − 1 − log r, the Bregman divergence of −log: the KL between two
    Exponential laws and the rate part of the Gamma pairs.

    >>> import array_api_strict as xp
    >>> identity_minus_log1p(xp, xp.asarray([1e-9, 1.0]))
    Array([5.00000000e-19, 3.06852819e-01], dtype=array_api_strict.float64)
    """
    small = xp.abs(u) < _LOG1P_SERIES_LIMIT
    near_u = replace_where(xp, ~small, 0.0, u)
    power = near_u * near_u
    series = xp.zeros_like(u)
    for k in range(2, _LOG1P_SERIES_TERMS + 2):
        series = series + power / k
        power = -power * near_u
    far_u = replace_where(xp, small, 1.0, u)
    return xp.where(small, series, far_u - xp.log1p(far_u))


def kl_normal_log_ratio(xp: Namespace, log_var_ratio: Array, scaled_sq_distance: Array) -> Array:
    """KL(N(μp, σp²) ‖ N(μq, σq²)) = ½(expm1(d) − d + (μp − μq)²/σq²), d = log(σp²/σq²).

    ``scaled_sq_distance`` is (μp − μq)²/σq². Exact to rounding near p ≈ q.
    """
    return 0.5 * (expm1_minus_identity(xp, log_var_ratio) + scaled_sq_distance)


_LOG_2 = math.log(2.0)


def log1mexp(xp: Namespace, x: Array) -> Array:
    """``log(1 − exp(−x))`` for x ≥ 0, accurate at both ends (Mächler's switch at log 2)."""
    small = x <= _LOG_2
    near = xp.log(-xp.expm1(-replace_where(xp, ~small, _LOG_2, x)))
    far = xp.log1p(-xp.exp(-replace_where(xp, small, _LOG_2, x)))
    return xp.where(small, near, far)


# Below t = 0.01 the series log t − t/2 + t²/24 − t⁴/2880 is exact to rounding.
_LOG_SERIES_LIMIT = math.log(0.01)


def log1mexp_from_log(xp: Namespace, log_t: Array) -> Array:
    """``log(1 − exp(−t))`` from ``log t``: exact as t → 0 (where e^log_t would underflow).

    >>> import array_api_strict as xp
    >>> log1mexp_from_log(xp, xp.asarray([-800.0, 0.0]))
    Array([-8.00000000e+02, -4.58675145e-01], dtype=array_api_strict.float64)
    """
    small = log_t < _LOG_SERIES_LIMIT
    t_small = xp.exp(replace_where(xp, ~small, -10.0, log_t))
    t_large = xp.exp(replace_where(xp, small, 0.0, log_t))
    series = log_t + t_small * (-0.5 + t_small * (1.0 / 24.0 - t_small**2 / 2880.0))
    return xp.where(small, series, log1mexp(xp, t_large))
