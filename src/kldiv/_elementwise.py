"""Stable elementwise kernels and the constants they use, written once for every module.

Each kernel takes the namespace ``xp`` first and arrays already prepared by
:func:`kldiv._array.prepare`. The conventions at zeros hold in every kernel: a term without mass
(``x = 0``, or ``log x = -inf``) is 0 even where the other argument is 0 or ``-inf``, NaN
propagates, and gradients stay finite where a term has no mass.
"""

from __future__ import annotations

import math

from ._array import Array, Namespace

__all__ = [
    "EULER_GAMMA",
    "HALF_LOG_2PI",
    "binary_logits",
    "expm1_minus_identity",
    "identity_minus_log1p",
    "kl_normal_log_ratio",
    "log1mexp",
    "log1mexp_from_log",
    "log_midpoint",
    "log_or_neg_inf",
    "log_ratio",
    "log_softmax",
    "logsumexp",
    "replace_where",
    "sigmoid",
    "sqrt_at_least_zero",
    "where_inf",
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


def log_midpoint(xp: Namespace, log_x: Array, log_y: Array) -> Array:
    """``log((exp(log_x) + exp(log_y)) / 2)``: the log of the mixture ½(x + y).

    -inf where both are -inf, with finite (zero) gradients there, where ``logaddexp`` alone
    gives NaN gradients.
    """
    both_empty = (log_x == -xp.inf) & (log_y == -xp.inf)
    zero = xp.zeros_like(log_x)
    mixed = xp.logaddexp(xp.where(both_empty, zero, log_x), xp.where(both_empty, zero, log_y))
    return xp.where(both_empty, -xp.inf, mixed - math.log(2.0))


def sqrt_at_least_zero(xp: Namespace, x: Array) -> Array:
    """``sqrt(max(x, 0))`` with gradient 0 (a subgradient) where ``x <= 0``, not NaN or inf.

    For distances that are square roots of divergences: at p = q the divergence is 0 and the
    square root's derivative diverges; 0 is the subgradient of the distance's minimum there.
    """
    positive = x > 0
    return xp.where(positive, xp.sqrt(xp.where(positive, x, xp.ones_like(x))), xp.zeros_like(x))


def logsumexp(xp: Namespace, x: Array, axis: int, keepdims: bool = False) -> Array:
    """``log(sum(exp(x), axis))`` without overflow; -inf for all -inf slices, +inf for any +inf."""
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


# ---------------------------------------------------------------------------------------------
# KL between the softmaxes of two logit arrays, one block of rows at a time: the row values that
# the forward pass keeps, and the gradients recomputed from them.
# ---------------------------------------------------------------------------------------------

__all__ += ["kl_logits_gradients", "kl_logits_rows"]


def _shifted_exp_sum(xp: Namespace, logits: Array, axis: int) -> tuple[Array, Array, Array]:
    """``exp(logits - peak)``, its sum along ``axis`` and the log-sum-exp (both kept, size 1).

    ``peak`` is the row maximum where finite (0 otherwise): all ``-inf`` rows give ``-inf``, a
    ``+inf`` logit gives ``+inf``, NaN propagates.
    """
    peak = xp.max(logits, axis=axis, keepdims=True)
    safe_peak = xp.where(xp.isfinite(peak), peak, xp.zeros_like(peak))
    shifted_exp = xp.exp(logits - safe_peak)
    total = xp.sum(shifted_exp, axis=axis, keepdims=True)
    return shifted_exp, total, xp.log(total) + safe_peak


def kl_logits_rows(
    xp: Namespace, input_logits: Array, target_logits: Array, axis: int
) -> tuple[Array, Array, Array]:
    """Per-row KL(softmax(target) ‖ softmax(input)) along ``axis``, and both log-sum-exps.

    All three keep ``axis`` (size 1). KL = Σ p (target - input) + lse(input) - lse(target), with
    p = softmax(target): two exponentials per element pair, no log-probabilities stored. A
    target logit of ``-inf`` contributes 0, even where the input logit is ``-inf``; ``+inf`` and
    NaN give NaN or +inf through the log-sum-exps, as the elementwise form does.

    >>> import array_api_strict as xp
    >>> rows, lse_input, lse_target = kl_logits_rows(
    ...     xp, xp.asarray([[0.0, 0.0]]), xp.asarray([[0.0, 2.0]]), axis=1
    ... )
    >>> rows
    Array([[0.32781333]], dtype=array_api_strict.float64)
    """
    lse_input = _shifted_exp_sum(xp, input_logits, axis)[2]
    target_exp, target_total, lse_target = _shifted_exp_sum(xp, target_logits, axis)
    weighted = target_exp * (target_logits - input_logits)
    weighted = xp.where(target_exp > 0, weighted, xp.zeros_like(weighted))
    cross = xp.sum(weighted, axis=axis, keepdims=True) / target_total
    return cross + (lse_input - lse_target), lse_input, lse_target


def kl_logits_gradients(
    xp: Namespace,
    input_logits: Array,
    target_logits: Array,
    row_values: tuple[Array, Array, Array],
    target_gradient: bool,
) -> tuple[Array, Array | None]:
    """Gradients of the summed row KL with respect to both logit arrays, from the row values.

    ``row_values`` is what :func:`kl_logits_rows` returned (KL, log-sum-exps, broadcastable to
    the logits). With q = softmax(input) and p = softmax(target): ``q - p`` for the input, and
    ``p (log p - log q - KL_row)`` for the target (0 where p = 0), or None unless
    ``target_gradient``.
    """
    rows, lse_input, lse_target = row_values
    log_q = input_logits - lse_input
    log_p = target_logits - lse_target
    probs_p = xp.exp(log_p)
    input_grad = xp.exp(log_q) - probs_p
    if not target_gradient:
        return input_grad, None
    no_mass = log_p == -xp.inf
    safe_log_ratio = xp.where(no_mass, 0.0, log_p - log_q - rows)
    return input_grad, probs_p * safe_log_ratio


# -- Kernels of the parametric families (kldiv.distributions, kldiv.gaussian) ------------------

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


# ---------------------------------------------------------------------------------------------
# Sample-based KL estimators: per-token terms of delta = log pi(x) - log pi_ref(x), x ~ pi.
# ---------------------------------------------------------------------------------------------

__all__ += ["K3_FORMS", "KL_ESTIMATOR_TERMS", "k3_term"]


def k3_term(xp: Namespace, delta: Array) -> Array:
    """``exp(-delta) - 1 + delta`` = ``expm1(-delta) + delta``, exact for tiny ``delta``.

    Computed as :func:`expm1_minus_identity` of ``-delta``: near 0 the naive forms lose every
    digit (``delta = 1e-8`` gives 0 in float64, the true value being 4.99999998e-17).

    >>> import array_api_strict as xp
    >>> k3_term(xp, xp.asarray([1e-8, -1.0]))
    Array([4.99999998e-17, 7.18281828e-01], dtype=array_api_strict.float64)
    """
    return expm1_minus_identity(xp, -delta)


def _k3_ratio_first(xp: Namespace, delta: Array) -> Array:
    """``(exp(r) - r) - 1`` with r = -delta: the naive form, in this order of operations."""
    log_ratio = -delta
    return (xp.exp(log_ratio) - log_ratio) - 1.0


def _k3_one_first(xp: Namespace, delta: Array) -> Array:
    """``(exp(r) - 1) - r`` with r = -delta: the naive form, in this order of operations."""
    log_ratio = -delta
    return (xp.exp(log_ratio) - 1.0) - log_ratio


#: The per-token term of each estimator, as a function of ``(xp, delta)``: k1 = delta (unbiased,
#: high variance, can be negative), k2 = delta²/2 (biased, its gradient is the gradient of KL),
#: k3 = exp(-delta) - 1 + delta (unbiased, non-negative, low variance near pi = pi_ref),
#: abs = |delta|.
KL_ESTIMATOR_TERMS = {
    "k1": lambda xp, delta: delta,
    "k2": lambda xp, delta: 0.5 * (delta * delta),
    "k3": k3_term,
    "abs": lambda xp, delta: xp.abs(delta),
}

#: The ways frameworks write k3, each by its formula (r = -delta), so a preset can reproduce the
#: rounding of the framework it names; "expm1" is the exact form.
K3_FORMS = {
    "expm1": k3_term,
    "(exp(r) - r) - 1": _k3_ratio_first,
    "(exp(r) - 1) - r": _k3_one_first,
}


# ---------------------------------------------------------------------------------------------
# Power sums of two distributions, log Σ x^a y^b: the Rényi, Tsallis, Amari and Cressie–Read
# families, evaluated in log space.
# ---------------------------------------------------------------------------------------------

__all__ += ["log_power_sum"]


def log_power_sum(
    xp: Namespace, log_x: Array, log_y: Array, a: float, b: float, axis: int
) -> Array:
    """``log Σ x^a y^b`` along ``axis`` from ``log x`` and ``log y`` (a log-sum-exp).

    A term whose zero base has a positive exponent (``a >= 0`` for x, ``b > 0`` for y) is 0,
    whatever the other factor; otherwise a zero base with a negative exponent makes the term
    +inf. So a term without mass in x contributes 0 wherever the exponent of x is not negative,
    and ``Σ x^0 y`` is the mass of y on the support of x. NaN propagates.

    >>> import array_api_strict as xp
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


__all__ += ["power_sum_near_one"]


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
