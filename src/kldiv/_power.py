"""The power families Σ P^a Q^(1-a): Rényi, Tsallis, Amari's α and Cressie–Read's λ.

Each is computed from the power sum S: its logarithm by a log-sum-exp (no overflow), and near
S = 1 (P ≈ Q) S - 1 from terms of second order in log(P / Q), as accurate as the KL of the rows
(:func:`kldiv._elementwise.power_sum_near_one`). Each is KL at its singular orders.
"""

from __future__ import annotations

import functools
from typing import Any

from ._array import Array, Namespace, ignore_fp_warnings
from ._divergence_rows import (
    check_number,
    divergence,
    documented,
    kl_kernel,
    log_probabilities,
    reverse_kl_kernel,
    row_step,
)
from ._elementwise import power_sum_near_one

__all__ = ["alpha_divergence", "power_divergence", "renyi_divergence", "tsallis_divergence"]


def _power_sum(
    xp: Namespace, log_prob: bool, p: Array, q: Array, axis: int, a: float
) -> tuple[Array, Array]:
    """(log S, S - 1) of S = Σ P^a Q^(1-a), accurate near S = 1 (see
    :func:`kldiv._elementwise.power_sum_near_one`)."""
    log_p = log_probabilities(xp, p, axis, log_prob)
    log_q = log_probabilities(xp, q, axis, log_prob)
    return power_sum_near_one(xp, log_p, log_q, a, axis, normalized=not log_prob)


def _renyi_rows(
    xp: Namespace, log_prob: bool, p: Array, q: Array, *, axis: int, alpha: float
) -> Array:
    if alpha == float("inf"):
        log_p = log_probabilities(xp, p, axis, log_prob)
        log_q = log_probabilities(xp, q, axis, log_prob)
        no_mass = log_p == -xp.inf
        ratio = xp.where(no_mass, xp.zeros_like(log_p), log_p) - log_q
        if ratio.shape[axis] == 0:  # no outcomes: NaN, as every empty row (max has no identity)
            return xp.sum(ratio, axis=axis) * xp.nan
        return xp.max(xp.where(no_mass, -xp.inf, ratio), axis=axis)
    return _power_sum(xp, log_prob, p, q, axis, alpha)[0] / (alpha - 1)


@documented
@ignore_fp_warnings
def renyi_divergence(
    p: Array,
    q: Array,
    *,
    alpha: float,
    log_prob: bool = False,
    base: float | None = None,
    reduction: str | None = "mean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """Rényi divergence of order α: 1/(α - 1) log Σ P^α Q^(1-α), for α in [0, ∞].

    Computed in log space (a log-sum-exp of α log P + (1 - α) log Q), and near P = Q from
    terms of second order in log(P / Q), so small divergences keep their digits. Orders: α = 1
    is KL, α = ∞ is log max P/Q over the support of P, α = 0 is -log Q(supp P), α = ½ is twice the
    Bhattacharyya distance. Terms with P = 0 contribute 0; Q = 0 < P gives +inf for α ≥ 1
    and a 0 term below (the divergence stays finite unless the supports are disjoint).

    {parameters}
    alpha : float
        The order, in [0, inf].
    {base}

    {returns}

    Notes
    -----
    Conventions elsewhere: dit's ``renyi_divergence(dist1, dist2, alpha)`` is in bits (our
    ``base=2``); TensorFlow Probability's Monte Carlo ``renyi_ratio`` estimates -D_α(q ‖ p).
    SciPy, torchmetrics, pyitlib: none.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> p, q = xp.asarray([[0.5, 0.5]]), xp.asarray([[0.25, 0.75]])
    >>> renyi_divergence(p, q, alpha=2.0)
    Array(0.28768207, dtype=array_api_strict.float64)
    >>> renyi_divergence(p, q, alpha=float("inf"))
    Array(0.69314718, dtype=array_api_strict.float64)
    """
    alpha = check_number("alpha", alpha, minimum=0.0, allow_inf=True)
    kernel = kl_kernel if alpha == 1 else functools.partial(_renyi_rows, alpha=alpha)
    return divergence(row_step(kernel), p, q, log_prob, reduction, axis, validate_args, base)


def _tsallis_rows(
    xp: Namespace, log_prob: bool, p: Array, q: Array, *, axis: int, q_index: float
) -> Array:
    return _power_sum(xp, log_prob, p, q, axis, q_index)[1] / (q_index - 1)


@documented
@ignore_fp_warnings
def tsallis_divergence(
    p: Array,
    q: Array,
    *,
    q_index: float,
    log_prob: bool = False,
    reduction: str | None = "mean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """Tsallis relative entropy 1/(q - 1) (Σ P^q Q^(1-q) - 1), q = ``q_index`` ≥ 0.

    KL at q = 1; (exp((q - 1) D_q) - 1)/(q - 1) of the Rényi divergence D_q. Zeros as in
    :func:`renyi_divergence`.

    {parameters}
    q_index : float
        The index q, finite and ≥ 0.

    {returns}

    Notes
    -----
    Conventions elsewhere: dit's ``tsallis_divergence`` and ``hellinger_divergence`` (Liese and
    Vajda) are this. SciPy, torchmetrics, pyitlib: none.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> tsallis_divergence(xp.asarray([[0.5, 0.5]]), xp.asarray([[0.25, 0.75]]), q_index=2.0)
    Array(0.33333333, dtype=array_api_strict.float64)
    """
    q_index = check_number("q_index", q_index, minimum=0.0)
    kernel = kl_kernel if q_index == 1 else functools.partial(_tsallis_rows, q_index=q_index)
    return divergence(row_step(kernel), p, q, log_prob, reduction, axis, validate_args)


def _alpha_rows(
    xp: Namespace, log_prob: bool, p: Array, q: Array, *, axis: int, alpha: float
) -> Array:
    return -4 * _power_sum(xp, log_prob, p, q, axis, (1 - alpha) / 2)[1] / (1 - alpha * alpha)


@documented
@ignore_fp_warnings
def alpha_divergence(
    p: Array,
    q: Array,
    *,
    alpha: float,
    log_prob: bool = False,
    reduction: str | None = "mean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """Amari's α-divergence 4/(1 - α²) (1 - Σ P^((1-α)/2) Q^((1+α)/2)).

    Its limits: KL(P ‖ Q) at α = -1 and KL(Q ‖ P) at α = 1; α = 0 gives 4 H² (four times
    :func:`hellinger_squared`). Bounded by 4/(1 - α²) for ``|α| < 1``; for α > 1 it is +inf
    where P = 0 < Q, for α < -1 where Q = 0 < P.

    {parameters}
    alpha : float
        Any finite α.

    {returns}

    Notes
    -----
    Conventions elsewhere: dit's ``alpha_divergence`` uses the same formula but returns
    KL(P ‖ Q) at α = 1 and KL(Q ‖ P) at α = -1, the opposite of its formula's limits (ours
    are continuous in α). Some texts write α for our -α. SciPy, torchmetrics: none.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> alpha_divergence(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.5, 0.5]]), alpha=0.0)
    Array(1.17157288, dtype=array_api_strict.float64)
    """
    alpha = check_number("alpha", alpha)
    if alpha in (1.0, -1.0):
        kernel = reverse_kl_kernel if alpha == 1 else kl_kernel
    else:
        kernel = functools.partial(_alpha_rows, alpha=alpha)
    return divergence(row_step(kernel), p, q, log_prob, reduction, axis, validate_args)


#: SciPy's names for the Cressie–Read λ (``scipy.stats.power_divergence``).
LAMBDA_NAMES = {
    "pearson": 1.0,
    "log-likelihood": 0.0,
    "freeman-tukey": -0.5,
    "mod-log-likelihood": -1.0,
    "neyman": -2.0,
    "cressie-read": 2 / 3,
}


def _cressie_read_rows(
    xp: Namespace, log_prob: bool, p: Array, q: Array, *, axis: int, lambda_: float
) -> Array:
    return 2 * _power_sum(xp, log_prob, p, q, axis, 1 + lambda_)[1] / (lambda_ * (lambda_ + 1))


def _doubled(kernel: Any, xp: Namespace, log_prob: bool, p: Array, q: Array, *, axis: int) -> Array:
    return 2 * kernel(xp, log_prob, p, q, axis=axis)


@documented
@ignore_fp_warnings
def power_divergence(
    p: Array,
    q: Array,
    *,
    lambda_: float | str = 2 / 3,
    log_prob: bool = False,
    reduction: str | None = "mean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """Cressie–Read power divergence 2/(λ(λ+1)) Σ P ((P/Q)^λ - 1).

    λ = 1 is Pearson's χ², λ = 0 is 2 KL(P ‖ Q), λ = -1 is 2 KL(Q ‖ P), λ = -2 is Neyman's
    χ², λ = -½ is 8 H² (Freeman–Tukey), λ = ⅔ (default) Cressie and Read's. For λ > -1 a term
    with P = 0 contributes 0 and Q = 0 < P gives +inf (λ > 0); for λ < -1, P = 0 < Q gives
    +inf.

    {parameters}
    lambda_ : float or str, optional
        λ, or one of SciPy's names: 'pearson', 'log-likelihood', 'freeman-tukey',
        'mod-log-likelihood', 'neyman', 'cressie-read'.

    {returns}

    Notes
    -----
    Exactly: ``scipy.stats.power_divergence(f_obs, f_exp, lambda_=λ).statistic`` equals
    n · ``power_divergence(f_obs, f_exp, lambda_=λ)``, n = Σ f_obs (SciPy needs Σ f_exp = n):
    SciPy's statistic is 2/(λ(λ+1)) Σ f_obs ((f_obs/f_exp)^λ - 1), ours that of the
    proportions. The factor 2 is in both. dit, torchmetrics, pyitlib: none.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> f_obs = xp.asarray([16.0, 18, 16, 14, 12, 12])
    >>> f_exp = xp.asarray([16.0, 16, 16, 16, 16, 8])
    >>> 88 * power_divergence(f_obs, f_exp, lambda_="log-likelihood")  # n = 88: SciPy's G
    Array(3.32810315, dtype=array_api_strict.float64)
    """
    if isinstance(lambda_, str):
        if lambda_ not in LAMBDA_NAMES:
            names = ", ".join(repr(name) for name in LAMBDA_NAMES)
            raise ValueError(f"lambda_={lambda_!r} is not a known name; use a number or {names}")
        lambda_ = LAMBDA_NAMES[lambda_]
    lambda_ = check_number("lambda_", lambda_)
    if lambda_ in (0.0, -1.0):
        kernel: Any = functools.partial(_doubled, kl_kernel if lambda_ == 0 else reverse_kl_kernel)
    else:
        kernel = functools.partial(_cressie_read_rows, lambda_=lambda_)
    return divergence(row_step(kernel), p, q, log_prob, reduction, axis, validate_args)
