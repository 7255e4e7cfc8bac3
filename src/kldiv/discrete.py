"""Divergences between discrete distributions: probability vectors along ``axis``.

Conventions at zeros, everywhere: a term with ``p = 0`` contributes 0 (even where ``q = 0`` or
``log q = -inf``); ``p > 0`` with ``q = 0`` gives +inf; a negative probability gives NaN (a
``ValueError`` with ``validate_args=True``). Gradients are finite at ``p = 0``.
"""

from __future__ import annotations

import functools

from ._array import Array, Context, broadcast_shapes, ignore_fp_warnings, prepare
from ._blocked import blocked_rows
from ._divergence_rows import RowStep, divergence, documented
from ._elementwise import log_ratio, sqrt_at_least_zero
from ._fast import small_kl_divergence
from ._kl_div import KLDivLoss, kl_div, kl_div_logits
from ._rows import (
    check_values,
    cross_entropy_rows,
    entropy_rows,
    in_base,
    js_rows,
    kl_rows,
    prepare_rows,
)
from ._validate import resolve_validate_args

__all__ = [
    "KLDivLoss",
    "cross_entropy",
    "entropy",
    "jeffreys",
    "js_distance",
    "js_divergence",
    "kl_div",
    "kl_div_logits",
    "kl_divergence",
    "rel_entr",
]


@documented
@ignore_fp_warnings
def rel_entr(p: Array, q: Array, *, validate_args: bool | None = None) -> Array:
    """Elementwise relative entropy ``p * log(p / q)``, with SciPy's conventions.

    ``0`` where ``p = 0, q >= 0``; ``+inf`` where ``p < 0`` or ``q <= 0 < p`` (SciPy's rule);
    NaN where either is NaN. Near ``p = q`` it is ``p * log1p((p - q) / q)``, exact to rounding,
    and where ``p / q`` overflows, underflows or is subnormal it is ``p * (log p - log q)`` (both
    as SciPy). Broadcasts ``p`` and ``q``.

    Parameters
    ----------
    p, q : array
        The two arrays, elementwise (not renormalised); they broadcast.
    {validate_args}

    Returns
    -------
    array
        The elementwise terms, with the broadcast shape, in the inputs' library and dtype.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> rel_entr(xp.asarray([0.5, 0.0]), xp.asarray([0.25, 0.0]))
    Array([0.34657359, 0.        ], dtype=array_api_strict.float64)
    """
    context, (p, q) = prepare(p=p, q=q)
    broadcast_shapes(p=tuple(p.shape), q=tuple(q.shape))
    check_values(context, False, validate_args, p=p, q=q)
    xp = context.xp
    both_positive = (p > 0) & (q > 0)
    safe_p, safe_q = xp.where(both_positive, p, 1.0), xp.where(both_positive, q, 1.0)
    near_one = xp.abs(safe_p / safe_q - 1) < 0.5
    log_near_one = xp.log1p((safe_p - safe_q) / xp.where(near_one, safe_q, 1.0))
    log_ratio_pq = xp.where(near_one, log_near_one, log_ratio(xp, safe_p, safe_q))
    edge = xp.where((p == 0) & (q >= 0), 0.0, xp.full_like(safe_p, xp.inf))
    either = p + q
    edge = xp.where(xp.isnan(either), either, edge)
    return context.finish(xp.where(both_positive, p * log_ratio_pq, edge))


@documented
@ignore_fp_warnings
def kl_divergence(
    p: Array,
    q: Array,
    *,
    log_prob: bool = False,
    reduction: str | None = "mean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """KL(P ‖ Q) = Σ P log(P / Q) per row along ``axis``, in torchmetrics' order and reductions.

    With ``log_prob=False`` the rows are renormalised (P = p / Σp); with ``log_prob=True`` the
    inputs are log-probabilities, used as they are. 'mean' averages over every row, 'sum' adds
    them, 'none'/None returns one value per row. Any batch rank; batch axes broadcast. +inf
    where q = 0 < p.

    {parameters}

    {returns}

    Examples
    --------
    >>> import array_api_strict as xp
    >>> kl_divergence(xp.asarray([[0.36, 0.48, 0.16]]), xp.asarray([[1/3, 1/3, 1/3]]))
    Array(0.0852996, dtype=array_api_strict.float64)
    """
    if log_prob is False and not resolve_validate_args(validate_args, "discrete"):
        small = small_kl_divergence(p, q, reduction, axis)
        if small is not None:
            return small
    return divergence(kl_rows, p, q, log_prob, reduction, axis, validate_args)


def _unreduced(
    step: RowStep,
    p: Array,
    q: Array,
    axis: int,
    validate_args: bool | None,
    base: float | None = None,
) -> Array:
    """``step``'s value of each row of the probabilities ``(p, q)``, in ``base``."""
    return divergence(step, p, q, False, None, axis, validate_args, base)


@documented
@ignore_fp_warnings
def entropy(
    p: Array,
    q: Array | None = None,
    *,
    base: float | None = None,
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """``scipy.stats.entropy``: H(P) = -Σ P log P, or KL(P ‖ Q) when ``q`` is given.

    Rows are renormalised; ``base`` changes the unit (None: nats). One value per row.

    Parameters
    ----------
    p : array
        Probabilities (renormalised) along ``axis``.
    q : array, optional
        Probabilities of the second distribution: the result is then KL(P ‖ Q).
    {base_axis_validate_args}

    Returns
    -------
    array
        H(P), or KL(P ‖ Q) with ``q``, per row (the batch shape).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> entropy(xp.asarray([1.0, 1.0]), base=2)
    Array(1., dtype=array_api_strict.float64)
    """
    if q is not None:
        return _unreduced(kl_rows, p, q, axis, validate_args, base)
    context, (p,), axis = prepare_rows(axis, False, validate_args, p=p)
    rows = blocked_rows(context.xp, functools.partial(entropy_rows, context.xp), (p,), axis)
    return context.finish(in_base(context, rows, base))


def _cross_entropy_step(context: Context, p: Array, q: Array, axis: int, log_prob: bool) -> Array:
    """H(P, Q) per row, a block of rows at a time (``log_prob`` is False here)."""
    kernel = functools.partial(cross_entropy_rows, context.xp)
    return blocked_rows(context.xp, kernel, (p, q), axis)


@documented
@ignore_fp_warnings
def cross_entropy(
    p: Array,
    q: Array,
    *,
    base: float | None = None,
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """Cross-entropy H(P, Q) = -Σ P log Q = H(P) + KL(P ‖ Q), rows renormalised, one per row.

    Parameters
    ----------
    {weights}
    {base_axis_validate_args}

    Returns
    -------
    array
        H(P, Q) per row (the broadcast batch shape).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> cross_entropy(xp.asarray([0.5, 0.5]), xp.asarray([0.25, 0.75]), base=2)
    Array(1.20751875, dtype=array_api_strict.float64)
    """
    return _unreduced(_cross_entropy_step, p, q, axis, validate_args, base)


@documented
@ignore_fp_warnings
def js_divergence(
    p: Array,
    q: Array,
    *,
    log_prob: bool = False,
    base: float | None = None,
    reduction: str | None = "mean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """Jensen–Shannon divergence ½ KL(P ‖ M) + ½ KL(Q ‖ M), M = (P + Q) / 2 (torchmetrics').

    Symmetric, in [0, log 2] nats (or [0, 1] in ``base=2``). ``log_prob`` and ``reduction`` as in
    :func:`kl_divergence`; with ``log_prob`` M is ``logaddexp(p, q) - log 2``, in the input's
    precision (torchmetrics subtracts a float32 log 2).

    {parameters}
    {base}

    {returns}

    Examples
    --------
    >>> import array_api_strict as xp
    >>> js_divergence(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.0, 1.0]]), base=2)
    Array(1., dtype=array_api_strict.float64)
    """
    return divergence(js_rows, p, q, log_prob, reduction, axis, validate_args, base)


def _js_distance_step(
    base: float, context: Context, p: Array, q: Array, axis: int, log_prob: bool
) -> Array:
    """sqrt(JS(P, Q)) per row, the divergence in ``base``."""
    js_in_base = in_base(context, js_rows(context, p, q, axis, log_prob), base)
    return sqrt_at_least_zero(context.xp, js_in_base)


@documented
@ignore_fp_warnings
def js_distance(
    p: Array,
    q: Array,
    *,
    base: float = 2,
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """Jensen–Shannon distance sqrt(JS(P, Q)), one per row: a metric, in [0, 1] for ``base=2``.

    Like ``scipy.spatial.distance.jensenshannon`` with our default axis and base 2.

    Parameters
    ----------
    {weights}
    base : float, optional
        The logarithm's base of the divergence under the square root.
    {axis}
    {validate_args}

    Returns
    -------
    array
        The distance per row (the broadcast batch shape).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> js_distance(xp.asarray([1.0, 0.0]), xp.asarray([0.0, 1.0]))
    Array(1., dtype=array_api_strict.float64)
    """
    step = functools.partial(_js_distance_step, base)
    return _unreduced(step, p, q, axis, validate_args)


def _jeffreys_step(context: Context, p: Array, q: Array, axis: int, log_prob: bool) -> Array:
    """KL(P ‖ Q) + KL(Q ‖ P) per row."""
    return kl_rows(context, p, q, axis, log_prob) + kl_rows(context, q, p, axis, log_prob)


@documented
@ignore_fp_warnings
def jeffreys(
    p: Array,
    q: Array,
    *,
    log_prob: bool = False,
    reduction: str | None = "mean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """Jeffreys divergence KL(P ‖ Q) + KL(Q ‖ P) = Σ (P - Q) log(P / Q): symmetric, unbounded.

    Arguments as in :func:`kl_divergence`.

    {parameters}

    {returns}

    Examples
    --------
    >>> import array_api_strict as xp
    >>> jeffreys(xp.asarray([[0.5, 0.5]]), xp.asarray([[0.25, 0.75]]))
    Array(0.27465307, dtype=array_api_strict.float64)
    """
    return divergence(_jeffreys_step, p, q, log_prob, reduction, axis, validate_args)
