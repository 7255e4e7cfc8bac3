"""The f-divergence family and its neighbours between discrete distributions along ``axis``.

Every function takes ``p`` and ``q`` as :func:`kldiv.kl_divergence` does: rows renormalised
(P = p / Σp) unless ``log_prob``, batch axes broadcast, ``reduction`` 'mean' over every row,
'sum' or 'none'/None. A negative probability makes its row NaN; 16-bit inputs compute in
float32. Where a term's value is a limit at a zero, the docstring says which.

Conventions elsewhere: dit (``dit.divergences``) computes Hellinger, Bhattacharyya and total
variation as here and Rényi in bits; pyitlib, the ``divergence`` package and torchmetrics offer
KL and Jensen–Shannon only, and SciPy has :func:`power_divergence` and :func:`wasserstein_1d`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

from ._array import Array, Namespace, ignore_fp_warnings
from ._divergence_rows import divergence, documented, probabilities, row_step
from ._elementwise import logsumexp
from ._hellinger import (
    bhattacharyya_coefficient,
    bhattacharyya_distance,
    hellinger,
    hellinger_squared,
)
from ._power import alpha_divergence, power_divergence, renyi_divergence, tsallis_divergence
from ._rows import kl_rows_of_logs, kl_rows_of_probs
from ._wasserstein import wasserstein_1d

__all__ = [
    "alpha_divergence",
    "bhattacharyya_coefficient",
    "bhattacharyya_distance",
    "chi2",
    "f_divergence",
    "hellinger",
    "hellinger_squared",
    "power_divergence",
    "psi",
    "renyi_divergence",
    "total_variation",
    "tsallis_divergence",
    "wasserstein_1d",
]


def _total_variation_rows(xp: Namespace, log_prob: bool, p: Array, q: Array, *, axis: int) -> Array:
    difference = probabilities(xp, p, axis, log_prob) - probabilities(xp, q, axis, log_prob)
    return xp.sum(xp.abs(difference), axis=axis) / 2


@documented
@ignore_fp_warnings
def total_variation(
    p: Array,
    q: Array,
    *,
    log_prob: bool = False,
    reduction: str | None = "mean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """Total variation distance ``½ Σ |P - Q|`` = max over events ``|P(A) - Q(A)|``, in [0, 1].

    {parameters}

    {returns}

    Notes
    -----
    Conventions elsewhere: dit's ``variational_distance`` (same); the L1 distance ``Σ |P - Q|``
    (e.g. ``scipy.spatial.distance.cityblock`` of the normalised rows) is twice ours.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> total_variation(xp.asarray([[0.5, 0.5]]), xp.asarray([[0.25, 0.75]]))
    Array(0.25, dtype=array_api_strict.float64)
    """
    return divergence(
        row_step(_total_variation_rows), p, q, log_prob, reduction, axis, validate_args
    )


def _pearson_rows(
    xp: Namespace, log_prob: bool, p: Array, q: Array, *, axis: int, neyman: bool
) -> Array:
    probs_p = probabilities(xp, p, axis, log_prob)
    probs_q = probabilities(xp, q, axis, log_prob)
    if neyman:
        probs_p, probs_q = probs_q, probs_p
    empty = probs_q == 0
    terms = (probs_p - probs_q) ** 2 / xp.where(empty, xp.ones_like(probs_q), probs_q)
    edge = xp.where(probs_p == 0, xp.zeros_like(terms), xp.full_like(terms, xp.inf))
    return xp.sum(xp.where(empty, edge, terms), axis=axis)


@documented
@ignore_fp_warnings
def chi2(
    p: Array,
    q: Array,
    *,
    kind: str = "pearson",
    log_prob: bool = False,
    reduction: str | None = "mean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """χ² divergence: Pearson Σ (P - Q)² / Q, or Neyman Σ (P - Q)² / P.

    A term with both zero is 0; Pearson is +inf where Q = 0 < P (Neyman where P = 0 < Q).

    {parameters}
    kind : {'pearson', 'neyman'}, optional
        Which argument divides.

    {returns}

    Notes
    -----
    Conventions elsewhere: ``scipy.stats.chisquare(f_obs, f_exp)`` returns n · Pearson χ²
    with n = Σ f_obs (counts, same totals); Pearson is :func:`power_divergence` at λ = 1 and
    Neyman at λ = -2. dit, torchmetrics, pyitlib: none.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> chi2(xp.asarray([[0.5, 0.5]]), xp.asarray([[0.25, 0.75]]))
    Array(0.33333333, dtype=array_api_strict.float64)
    """
    if kind not in ("pearson", "neyman"):
        raise ValueError(f"kind must be 'pearson' or 'neyman', got {kind!r}")
    kernel = functools.partial(_pearson_rows, neyman=kind == "neyman")
    return divergence(row_step(kernel), p, q, log_prob, reduction, axis, validate_args)


def _psi_rows(
    xp: Namespace, log_prob: bool, p: Array, q: Array, *, axis: int, epsilon: float
) -> Array:
    """Jeffreys' Σ (P - Q) log(P / Q) of the rows with empty bins set to ``epsilon``."""
    if log_prob:  # empty bins are those at -inf: filled and renormalised in log space
        log_epsilon = math.log(epsilon) if epsilon > 0 else -math.inf
        filled = [xp.where(x == -xp.inf, log_epsilon, x) for x in (p, q)]
        log_p, log_q = (x - logsumexp(xp, x, axis=axis, keepdims=True) for x in filled)
        return kl_rows_of_logs(xp, log_p, log_q, axis=axis) + kl_rows_of_logs(
            xp, log_q, log_p, axis=axis
        )
    filled = []
    for x in (p, q):
        probs = probabilities(xp, x, axis, log_prob)
        filled.append(xp.where(probs == 0, xp.full_like(probs, epsilon), probs))
    p_filled, q_filled = filled
    return kl_rows_of_probs(xp, p_filled, q_filled, axis=axis) + kl_rows_of_probs(
        xp, q_filled, p_filled, axis=axis
    )


@documented
@ignore_fp_warnings
def psi(
    p: Array,
    q: Array,
    *,
    epsilon: float = 1e-4,
    log_prob: bool = False,
    base: float | None = None,
    reduction: str | None = "mean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """Population stability index Σ (P - Q) log(P / Q), with empty bins set to ``epsilon``.

    Each row is normalised to proportions, every zero proportion (a log-probability of -inf
    with ``log_prob``) is replaced by ``epsilon``, and the rows are renormalised before the sum
    (Jeffreys' divergence of the filled rows). ``epsilon=0`` leaves the zeros (+inf where
    exactly one of P, Q is 0).

    {parameters}
    epsilon : float, optional
        The proportion given to an empty bin (default 1e-4, i.e. 0.01 %).
    base : float, optional
        The logarithm's base (None: nats, the usual PSI scale: < 0.1 stable, > 0.25 shifted).

    {returns}

    Notes
    -----
    Conventions elsewhere: PSI scripts take (actual - expected) · ln(actual / expected) of
    percentages /100 (the same number) and differ in the empty-bin rule (0.0001, 1e-6, or
    dropping the bin); equal to :func:`kldiv.jeffreys` when no bin is empty.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> psi(xp.asarray([[0.5, 0.5]]), xp.asarray([[0.25, 0.75]]))
    Array(0.27465307, dtype=array_api_strict.float64)
    """
    if isinstance(epsilon, bool) or not (isinstance(epsilon, int | float) and 0 <= epsilon < 1):
        raise ValueError(f"epsilon must be a number in [0, 1), got {epsilon!r}")
    kernel = functools.partial(_psi_rows, epsilon=float(epsilon))
    return divergence(row_step(kernel), p, q, log_prob, reduction, axis, validate_args, base)


def _f_rows(
    xp: Namespace,
    log_prob: bool,
    p: Array,
    q: Array,
    *,
    axis: int,
    f: Callable[[Array], Array],
    f_at_zero: float | None,
    slope_at_infinity: float,
) -> Array:
    probs_p = probabilities(xp, p, axis, log_prob)
    probs_q = probabilities(xp, q, axis, log_prob)
    q_empty, p_empty = probs_q == 0, probs_p == 0
    ratio = probs_p / xp.where(q_empty, xp.ones_like(probs_q), probs_q)
    if f_at_zero is None:
        values = f(ratio)
    else:  # f is not evaluated at 0, where its formula (and gradient) may be NaN
        values = f(xp.where(p_empty, xp.ones_like(ratio), ratio))
        values = xp.where(p_empty, xp.full_like(values, f_at_zero), values)
    terms = probs_q * values
    if math.isinf(slope_at_infinity):  # a constant: no gradient through P · inf
        edge = xp.where(p_empty, 0.0, xp.full_like(terms, slope_at_infinity))
    else:
        edge = xp.where(p_empty, 0.0, probs_p * slope_at_infinity)
    return xp.sum(xp.where(q_empty, edge, terms), axis=axis)


@documented
@ignore_fp_warnings
def f_divergence(
    p: Array,
    q: Array,
    f: Callable[[Array], Array],
    *,
    f_at_zero: float | None = None,
    slope_at_infinity: float = math.inf,
    log_prob: bool = False,
    reduction: str | None = "mean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """Csiszár f-divergence Σ Q f(P / Q) for a convex ``f`` with f(1) = 0.

    Conventions at zeros (Csiszár's): a term with P = Q = 0 is 0; Q > 0 = P gives Q · f(0),
    with ``f_at_zero`` in place of f(0) when given (for f whose formula is NaN at 0, such as
    t log t); Q = 0 < P gives P · f'(∞), f'(∞) = lim f(t) / t = ``slope_at_infinity``
    (default +inf, as for KL and χ²; 1 for the total variation ``f(t) = |t - 1| / 2``).

    {parameters}
    f : callable
        Maps an array of ratios t = P / Q (of the inputs' library, float32 for 16-bit inputs)
        to f(t), elementwise, with that library's functions.
    f_at_zero : float, optional
        The limit f(0+), used where P = 0 (None: call ``f`` at 0).
    slope_at_infinity : float, optional
        lim f(t) / t as t → ∞, used where Q = 0 < P.

    {returns}

    Notes
    -----
    Conventions elsewhere: dit's ``f_divergence(dist1, dist2, f)`` takes Σ Q f(P / Q) and
    drops the NaN terms (``nansum``), so a Q = 0 < P term is dropped rather than +inf.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> p, q = xp.asarray([[0.5, 0.5]]), xp.asarray([[0.25, 0.75]])
    >>> f_divergence(p, q, lambda t: (t - 1) ** 2)  # Pearson's chi-squared
    Array(0.33333333, dtype=array_api_strict.float64)
    >>> f_divergence(p, q, lambda t: t * xp.log(t), f_at_zero=0.0)  # KL
    Array(0.14384104, dtype=array_api_strict.float64)
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    kernel = functools.partial(
        _f_rows, f=f, f_at_zero=f_at_zero, slope_at_infinity=float(slope_at_infinity)
    )
    return divergence(row_step(kernel), p, q, log_prob, reduction, axis, validate_args)
