"""Special functions in plain array-API calls: the fallback of :mod:`kldiv._special`.

Used for namespaces without a native implementation (array-api-strict, any other compliant
library). Every function takes ``(xp, x)`` and returns an array of ``x``'s dtype and device; no
host conversion, no in-place writes, no boolean-mask indexing (fixed-length loops of ``where``).
Accuracy in float64, measured against SciPy and mpmath in ``tests/test_special.py``: about 1e-15
relative (1e-14 for ``erfc`` in its tail), except next to a zero of the function, where the error
is a few units of 1e-16 absolute.
"""

from __future__ import annotations

import math

from ._array import Array, Namespace
from ._elementwise import HALF_LOG_2PI

__all__ = ["digamma", "erf", "erfc", "i0e", "i1e", "lgamma"]


# Cephes ``lgam``: rational approximation of lgamma(2 + t) on 0 <= t < 1, and Stirling's series.
_LGAMMA_B = (
    -1.37825152569120859100e3,
    -3.88016315134637840924e4,
    -3.31612992738871184744e5,
    -1.16237097492762307383e6,
    -1.72173700820839662146e6,
    -8.53555664245765465627e5,
)
_LGAMMA_C = (
    1.0,
    -3.51815701436523470549e2,
    -1.70642106651881159223e4,
    -2.20528590553854454839e5,
    -1.13933444367982507207e6,
    -2.53252307177582951285e6,
    -2.01889141433532773231e6,
)
_STIRLING = (
    8.11614167470508450300e-4,
    -5.95061904284301438324e-4,
    7.93650340457716943945e-4,
    -2.77777777730099687205e-3,
    8.33333333333331927722e-2,
)
_LGAMMA_LARGE = 13.0
# Bernoulli numbers B_2k / (2k) for the asymptotic series of digamma, k = 1..8.
_DIGAMMA_SERIES = (
    1.0 / 12,
    -1.0 / 120,
    1.0 / 252,
    -1.0 / 240,
    1.0 / 132,
    -691.0 / 32760,
    1.0 / 12,
    -3617.0 / 8160,
)
_DIGAMMA_LARGE = 10.0


def _polynomial(xp: Namespace, coefficients: tuple[float, ...], x: Array) -> Array:
    """Horner's rule, highest power first."""
    result = xp.full_like(x, coefficients[0])
    for coefficient in coefficients[1:]:
        result = result * x + coefficient
    return result


def _sin_pi(xp: Namespace, x: Array) -> Array:
    """sin(pi x) with the argument reduced exactly: no error growth for large |x|."""
    reduced = x - 2.0 * xp.floor(x / 2.0)  # in [0, 2), exact
    sign = xp.where(reduced >= 1.0, xp.full_like(x, -1.0), xp.full_like(x, 1.0))
    half = reduced - xp.floor(reduced)  # in [0, 1)
    return sign * xp.sin(math.pi * xp.minimum(half, 1.0 - half))


def _tan_pi(xp: Namespace, x: Array) -> Array:
    """tan(pi x) with exact argument reduction to (-1/2, 1/2]."""
    reduced = x - xp.round(x)
    return xp.tan(math.pi * reduced)


def _lgamma_positive(xp: Namespace, x: Array) -> Array:
    """lgamma for finite x > 0 (Cephes): recurrence into [2, 3) and a rational function there,
    Stirling's series from 13 on."""
    small = x < _LGAMMA_LARGE
    shifted = xp.where(small, x, xp.full_like(x, 2.5))
    product = xp.ones_like(x)  # Γ(x) = Γ(shifted) · product / divisor
    divisor = xp.ones_like(x)
    for _ in range(11):  # down from [3, 13) into [2, 3)
        step = shifted >= 3.0
        shifted = xp.where(step, shifted - 1.0, shifted)
        product = xp.where(step, product * shifted, product)
    for _ in range(2):  # up from (0, 2) into [2, 3)
        step = shifted < 2.0
        divisor = xp.where(step, divisor * shifted, divisor)
        shifted = xp.where(step, shifted + 1.0, shifted)
    t = shifted - 2.0
    rational = t * _polynomial(xp, _LGAMMA_B, t) / _polynomial(xp, _LGAMMA_C, t)
    near = (xp.log(product) - xp.log(divisor)) + rational

    large = xp.where(small, xp.full_like(x, _LGAMMA_LARGE), x)
    inverse = 1.0 / large
    stirling = (large - 0.5) * xp.log(large) - large + HALF_LOG_2PI
    stirling = stirling + _polynomial(xp, _STIRLING, inverse * inverse) * inverse
    return xp.where(small, near, stirling)


def _replace(xp: Namespace, x: Array, where: Array, value: float) -> Array:
    """``x`` with ``value`` where ``where`` holds: a harmless argument for the main formula."""
    return xp.where(where, xp.full_like(x, value), x)


def lgamma(xp: Namespace, x: Array) -> Array:
    """log|Γ(x)|; +inf at 0, the negative integers and ±inf (reflection formula for x < 0.5)."""
    pole = (x <= 0) & (x == xp.floor(x))
    edge = pole | (x == xp.inf)
    safe = _replace(xp, x, edge, 1.0)
    reflect = safe < 0.5
    positive = _lgamma_positive(xp, xp.where(reflect, 1.0 - safe, safe))
    sine = xp.abs(_sin_pi(xp, _replace(xp, safe, ~reflect, 0.5)))
    reflected = math.log(math.pi) - xp.log(sine) - positive
    result = xp.where(reflect, reflected, positive)
    return _replace(xp, result, edge, xp.inf)


def _digamma_large(xp: Namespace, x: Array) -> Array:
    inverse = 1.0 / x
    inverse_square = inverse * inverse
    series = _polynomial(xp, _DIGAMMA_SERIES[::-1], inverse_square) * inverse_square
    return xp.log(x) - 0.5 * inverse - series


def _digamma_positive(xp: Namespace, x: Array) -> Array:
    """ψ(x) for x > 0: ψ(x) = ψ(x + n) - Σ 1/(x + k), then the asymptotic series at x + n >= 10."""
    shifted = x
    correction = xp.zeros_like(x)
    for _ in range(int(_DIGAMMA_LARGE)):
        step = shifted < _DIGAMMA_LARGE
        correction = xp.where(step, correction + 1.0 / shifted, correction)
        shifted = xp.where(step, shifted + 1.0, shifted)
    return _digamma_large(xp, shifted) - correction


def digamma(xp: Namespace, x: Array) -> Array:
    """ψ(x) = d/dx lgamma(x); reflection ψ(x) = ψ(1 - x) - π / tan(πx) for x < 0.5.

    SciPy's values at the edges: -inf at 0, NaN at the negative integers and -inf, +inf at +inf.
    """
    pole = (x < 0) & (x == xp.floor(x))
    edge = pole | (x == 0) | (x == xp.inf)
    safe = _replace(xp, x, edge, 1.0)
    reflect = safe < 0.5
    positive = _digamma_positive(xp, xp.where(reflect, 1.0 - safe, safe))
    tangent = _tan_pi(xp, _replace(xp, safe, ~reflect, 0.25))
    result = xp.where(reflect, positive - math.pi / tangent, positive)
    result = _replace(xp, result, pole, xp.nan)
    result = _replace(xp, result, x == 0, -xp.inf)
    return _replace(xp, result, x == xp.inf, xp.inf)


_ERF_SERIES_TERMS = 60
_ERFC_FRACTION_DEPTH = 80
_ERFC_SWITCH = 1.5
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _exp_minus_square(xp: Namespace, x: Array) -> Array:
    """exp(-x²) with x² split as hi² + (x - hi)(x + hi): no error from rounding x²."""
    high = xp.floor(x * 16.0) / 16.0
    return xp.exp(-high * high) * xp.exp(-(x - high) * (x + high))


def _erf_series(xp: Namespace, x: Array) -> Array:
    """erf(x) = 2/√π e^{-x²} Σ 2ⁿ x^{2n+1} / (1·3···(2n+1)): positive terms, for |x| < 1.5."""
    square = x * x
    term = x
    total = x
    for n in range(1, _ERF_SERIES_TERMS):
        term = term * (2.0 * square / (2 * n + 1))
        total = total + term
    return _TWO_OVER_SQRT_PI * _exp_minus_square(xp, x) * total


def _erfc_fraction(xp: Namespace, x: Array) -> Array:
    """erfc(x) = e^{-x²}/√π / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))) for x >= 1.5."""
    denominator = x
    for k in range(_ERFC_FRACTION_DEPTH, 0, -1):
        denominator = x + (k / 2.0) / denominator
    return _exp_minus_square(xp, x) / (math.sqrt(math.pi) * denominator)


def _erfc_nonnegative(xp: Namespace, x: Array) -> Array:
    """erfc(|x|): 1 - series below the switch, the continued fraction above."""
    tail = x >= _ERFC_SWITCH
    near = 1.0 - _erf_series(xp, xp.where(tail, xp.zeros_like(x), x))
    far = _erfc_fraction(xp, xp.where(tail, x, xp.full_like(x, _ERFC_SWITCH)))
    return xp.where(tail, far, near)


def erf(xp: Namespace, x: Array) -> Array:
    """The error function 2/√π ∫₀ˣ e^{-t²} dt."""
    infinite = xp.isinf(x)
    result = _erf_finite(xp, _replace(xp, x, infinite, 0.0))
    return xp.where(infinite, xp.sign(x), result)


def _erf_finite(xp: Namespace, x: Array) -> Array:
    magnitude = xp.abs(x)
    tail = magnitude >= _ERFC_SWITCH
    near = _erf_series(xp, xp.where(tail, xp.zeros_like(x), x))
    far = 1.0 - _erfc_nonnegative(xp, xp.where(tail, magnitude, xp.full_like(x, _ERFC_SWITCH)))
    return xp.where(tail, xp.where(x < 0, -far, far), near)


def erfc(xp: Namespace, x: Array) -> Array:
    """The complementary error function 1 - erf(x), accurate in the tail x → +inf."""
    infinite = xp.isinf(x)
    upper = _erfc_nonnegative(xp, xp.abs(_replace(xp, x, infinite, 0.0)))
    result = xp.where(x < 0, 2.0 - upper, upper)
    return xp.where(infinite, 1.0 - xp.sign(x), result)


_BESSEL_SERIES_TERMS = 45
_BESSEL_ASYMPTOTIC_TERMS = 30
_BESSEL_SWITCH = 20.0


def _bessel_series(xp: Namespace, x: Array, order: int) -> Array:
    """e^{-|x|} I_ν(x) = e^{-|x|} (x/2)^ν Σ (x²/4)^k / (k! (k+ν)!) for ν in {0, 1}, |x| < 20."""
    quarter_square = x * x / 4.0
    term = xp.ones_like(x)
    total = term
    for k in range(1, _BESSEL_SERIES_TERMS):
        term = term * (quarter_square / (k * (k + order)))
        total = total + term
    prefactor = xp.exp(-xp.abs(x))
    if order == 1:
        prefactor = prefactor * (x / 2.0)
    return prefactor * total


def _bessel_asymptotic(xp: Namespace, x: Array, order: int) -> Array:
    """e^{-x} I_ν(x) ~ Σ (-1)^k a_k(ν) x^{-k} / √(2πx), a_k = Π (4ν² - (2j-1)²) / (k! 8^k)."""
    mu = 4.0 * order * order
    term = xp.ones_like(x)
    total = term
    for k in range(1, _BESSEL_ASYMPTOTIC_TERMS):
        term = term * (-(mu - (2 * k - 1) ** 2) / (8.0 * k)) / x
        total = total + term
    return total / (math.sqrt(2.0 * math.pi) * xp.sqrt(x))


def _bessel_scaled(xp: Namespace, x: Array, order: int) -> Array:
    """e^{-|x|} I_ν(x), 0 at ±inf: the series below |x| = 20, the asymptotic expansion above."""
    infinite = xp.isinf(x)
    x = _replace(xp, x, infinite, 1.0)
    magnitude = xp.abs(x)
    far = magnitude >= _BESSEL_SWITCH
    near = _bessel_series(xp, xp.where(far, xp.zeros_like(x), x), order)
    tail = _bessel_asymptotic(xp, xp.where(far, magnitude, xp.full_like(x, _BESSEL_SWITCH)), order)
    if order == 1:
        tail = xp.where(x < 0, -tail, tail)
    return _replace(xp, xp.where(far, tail, near), infinite, 0.0)


def i0e(xp: Namespace, x: Array) -> Array:
    """The exponentially scaled modified Bessel function e^{-|x|} I₀(x)."""
    return _bessel_scaled(xp, x, 0)


def i1e(xp: Namespace, x: Array) -> Array:
    """The exponentially scaled modified Bessel function e^{-|x|} I₁(x)."""
    return _bessel_scaled(xp, x, 1)
