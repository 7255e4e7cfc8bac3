"""Divergences between discrete distributions: probability vectors along ``axis``.

Conventions at zeros, everywhere: a term with ``p = 0`` contributes 0 (even where ``q = 0`` or
``log q = -inf``); ``p > 0`` with ``q = 0`` gives +inf; a negative probability gives NaN (a
``ValueError`` with ``validate_args=True``). Gradients are finite at ``p = 0``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from ._array import (
    Array,
    Context,
    Namespace,
    broadcast_shapes,
    ignore_fp_warnings,
    normalize_axis,
    prepare,
)
from ._blocked import blocked_rows
from ._custom_grad import kl_div_total
from ._elementwise import (
    log_midpoint,
    log_ratio,
    sqrt_at_least_zero,
    xlog_ratio,
    xlog_ratio_log,
    xlog_ratio_mixed,
    xlogy,
)
from ._fast import kl_div_block_kernel, kl_row_kernel
from ._logits import kl_div_logits_values
from ._reduce import POINTWISE, reduce_pointwise, reduce_rows, scale_total
from ._validate import (
    check_finite_or_neg_inf,
    check_nonnegative,
    check_positive_number,
    check_reduction,
    resolve_validate_args,
)

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


def _check_values(
    context: Context, log_prob: bool, validate_args: bool | None, **arrays: Array
) -> None:
    if not resolve_validate_args(validate_args, "discrete"):
        return
    if log_prob:
        check_finite_or_neg_inf(context.xp, **arrays)
    else:
        check_nonnegative(context.xp, **arrays)


def _broadcast(context: Context, **arrays: Array) -> list[Array]:
    """The arrays broadcast to one shape (a ``ValueError`` naming them if impossible)."""
    values = list(arrays.values())
    if all(value.shape == values[0].shape for value in values):
        return values
    broadcast_shapes(**{name: tuple(array.shape) for name, array in arrays.items()})
    return list(context.xp.broadcast_arrays(*values))


def prepare_rows(
    axis: int, log_prob: bool, validate_args: bool | None, **arrays: Any
) -> tuple[Context, list[Array], int]:
    """Prepare distribution arguments: resolve, check, broadcast, and normalise ``axis``."""
    context, converted = prepare(**arrays)
    named = dict(zip(arrays, converted, strict=True))
    _check_values(context, log_prob, validate_args, **named)
    broadcast = _broadcast(context, **named)
    return context, broadcast, normalize_axis(axis, broadcast[0].ndim)


def _normalized(xp: Namespace, probs: Array, axis: int) -> Array:
    return probs / xp.sum(probs, axis=axis, keepdims=True)


def _nan_where_invalid(xp: Namespace, rows: Array, axis: int, p: Array, q: Array) -> Array:
    """``rows`` with NaN for every row that holds a negative probability or has no support.

    The terms are NaN there already unless both p and q are negative or the row is empty (a
    sum over nothing is 0); this row-level check makes the rule hold always (``any`` rather
    than ``min``: it has an identity on empty rows).
    """
    invalid = xp.any(p < 0, axis=axis) | xp.any(q < 0, axis=axis)
    if p.shape[axis] == 0:
        invalid = xp.ones_like(invalid)
    return xp.where(invalid, xp.nan, rows)


def _kl_rows_of_probs(xp: Namespace, p: Array, q: Array, *, axis: int) -> Array:
    sum_p = xp.sum(p, axis=axis, keepdims=True)
    sum_q = xp.sum(q, axis=axis, keepdims=True)
    rows = xp.sum(xlog_ratio(xp, p, q, sum_p, sum_q), axis=axis)
    return _nan_where_invalid(xp, rows, axis, p, q)


def _kl_rows_of_logs(xp: Namespace, log_p: Array, log_q: Array, *, axis: int) -> Array:
    return xp.sum(xlog_ratio_log(xp, log_p, log_q), axis=axis)


def kl_rows(context: Context, p: Array, q: Array, axis: int, log_prob: bool) -> Array:
    """KL(P ‖ Q) = Σ P log(P / Q) per row, P = p / Σp and Q = q / Σq unless ``log_prob``.

    The normalisation folds into the quotient, so rows of any scale neither overflow nor
    underflow; one logarithm per element where P / Q is a normal number. Evaluated a block of
    rows at a time, with the library's fast kernel where it has one.
    """
    xp = context.xp
    kernel: Callable[..., Array]
    if log_prob:
        kernel = functools.partial(_kl_rows_of_logs, xp)
    else:
        kernel = kl_row_kernel(xp, functools.partial(_kl_rows_of_probs, xp), (p, q))
    return blocked_rows(xp, kernel, (p, q), axis)


def _in_base(context: Context, values: Array, base: float | None) -> Array:
    if base is None:
        return values
    check_positive_number("base", base)
    if base == 1:
        raise ValueError("base must not be 1")
    return values / math.log(base)


@ignore_fp_warnings
def rel_entr(p: Array, q: Array, *, validate_args: bool | None = None) -> Array:
    """Elementwise relative entropy ``p * log(p / q)``, with SciPy's conventions.

    ``0`` where ``p = 0, q >= 0``; ``+inf`` where ``p < 0`` or ``q <= 0 < p`` (SciPy's rule);
    NaN where either is NaN. Near ``p = q`` it is ``p * log1p((p - q) / q)``, exact to rounding,
    and where ``p / q`` overflows, underflows or is subnormal it is ``p * (log p - log q)`` (both
    as SciPy). Broadcasts ``p`` and ``q``.

    >>> import array_api_strict as xp
    >>> rel_entr(xp.asarray([0.5, 0.0]), xp.asarray([0.25, 0.0]))
    Array([0.34657359, 0.        ], dtype=array_api_strict.float64)
    """
    context, (p, q) = prepare(p=p, q=q)
    broadcast_shapes(p=tuple(p.shape), q=tuple(q.shape))
    _check_values(context, False, validate_args, p=p, q=q)
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


@ignore_fp_warnings
def kl_div(
    input: Array,
    target: Array,
    *,
    reduction: str = "mean",
    log_target: bool = False,
    validate_args: bool | None = None,
) -> Array:
    """``torch.nn.functional.kl_div``: ``input`` is log q, ``target`` is p (or log p).

    Pointwise ``target * (log(target) - input)``, or ``exp(target) * (target - input)`` with
    ``log_target``; then 'mean' (over all elements; not the KL), 'batchmean' (sum /
    ``input.shape[0]``: the KL per sample), 'sum' or 'none'. Unlike torch, ``target = 0`` (or
    ``-inf`` with ``log_target``) contributes 0 where ``input = -inf`` (torch: NaN).

    >>> import array_api_strict as xp
    >>> log_q = xp.log(xp.asarray([[0.5, 0.5]]))
    >>> kl_div(log_q, xp.asarray([[0.25, 0.75]]), reduction="batchmean")
    Array(0.13081204, dtype=array_api_strict.float64)
    """
    context, (log_q, p) = prepare(input=input, target=target)
    broadcast_shapes(input=tuple(log_q.shape), target=tuple(p.shape))
    _check_values(context, log_target, validate_args, target=p)
    xp = context.xp
    batch_size = log_q.shape[0] if log_q.ndim else None
    check_reduction(reduction, POINTWISE)
    if reduction == "none" or log_q.ndim == 0 or tuple(log_q.shape) != tuple(p.shape):
        terms = (xlog_ratio_log if log_target else xlog_ratio_mixed)(xp, p, log_q)
        return context.finish(reduce_pointwise(xp, terms, reduction, batch_size))
    total = kl_div_total(xp, functools.partial(_kl_div_total, xp, log_target), log_q, p, log_target)
    return context.finish(scale_total(total, tuple(p.shape), reduction, batch_size))


def _kl_div_rows(xp: Namespace, log_target: bool, log_q: Array, p: Array, *, axis: int) -> Array:
    return xp.sum((xlog_ratio_log if log_target else xlog_ratio_mixed)(xp, p, log_q), axis=axis)


def _kl_div_total(xp: Namespace, log_target: bool, log_q: Array, p: Array) -> Array:
    """Σ of ``kl_div``'s terms, a block of rows at a time."""
    generic = functools.partial(_kl_div_rows, xp, log_target)
    kernel = generic if log_target else kl_div_block_kernel(xp, generic, (log_q, p))
    return xp.sum(blocked_rows(xp, kernel, (log_q, p), log_q.ndim - 1))


class KLDivLoss:
    """``torch.nn.KLDivLoss`` for any array library: ``KLDivLoss(...)(input, target)``.

    Same arguments and numbers as :func:`kl_div`.
    """

    def __init__(
        self,
        *,
        reduction: str = "mean",
        log_target: bool = False,
        validate_args: bool | None = None,
    ) -> None:
        check_reduction(reduction, POINTWISE)
        self.reduction = reduction
        self.log_target = log_target
        self.validate_args = validate_args

    def __call__(self, input: Array, target: Array) -> Array:
        return kl_div(
            input,
            target,
            reduction=self.reduction,
            log_target=self.log_target,
            validate_args=self.validate_args,
        )

    def __repr__(self) -> str:
        return f"KLDivLoss(reduction={self.reduction!r}, log_target={self.log_target})"


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
    them, 'none'/None returns one value per row. Any batch rank; batch axes broadcast.

    >>> import array_api_strict as xp
    >>> kl_divergence(xp.asarray([[0.36, 0.48, 0.16]]), xp.asarray([[1/3, 1/3, 1/3]]))
    Array(0.0852996, dtype=array_api_strict.float64)
    """
    context, (p, q), axis = prepare_rows(axis, log_prob, validate_args, p=p, q=q)
    rows = kl_rows(context, p, q, axis, log_prob)
    return context.finish(reduce_rows(context.xp, rows, reduction))


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

    >>> import array_api_strict as xp
    >>> entropy(xp.asarray([1.0, 1.0]), base=2)
    Array(1., dtype=array_api_strict.float64)
    """
    if q is not None:
        context, (p, q), axis = prepare_rows(axis, False, validate_args, p=p, q=q)
        rows = kl_rows(context, p, q, axis, log_prob=False)
    else:
        context, (p,), axis = prepare_rows(axis, False, validate_args, p=p)
        rows = blocked_rows(context.xp, functools.partial(_entropy_rows, context.xp), (p,), axis)
    return context.finish(_in_base(context, rows, base))


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

    >>> import array_api_strict as xp
    >>> cross_entropy(xp.asarray([0.5, 0.5]), xp.asarray([0.25, 0.75]), base=2)
    Array(1.20751875, dtype=array_api_strict.float64)
    """
    context, (p, q), axis = prepare_rows(axis, False, validate_args, p=p, q=q)
    kernel = functools.partial(_cross_entropy_rows, context.xp)
    rows = blocked_rows(context.xp, kernel, (p, q), axis)
    return context.finish(_in_base(context, rows, base))


def js_rows(context: Context, p: Array, q: Array, axis: int, log_prob: bool) -> Array:
    """½ KL(P ‖ M) + ½ KL(Q ‖ M), M = (P + Q) / 2, per row, a block of rows at a time."""
    xp = context.xp
    kernel = _js_rows_of_logs if log_prob else _js_rows_of_probs
    return blocked_rows(xp, functools.partial(kernel, xp), (p, q), axis)


def _entropy_rows(xp: Namespace, p: Array, *, axis: int) -> Array:
    probs = _normalized(xp, p, axis)
    return -xp.sum(xlogy(xp, probs, probs), axis=axis)


def _cross_entropy_rows(xp: Namespace, p: Array, q: Array, *, axis: int) -> Array:
    """-Σ P log Q = -Σ P log q + log Σq: no normalised Q is formed, so none underflows."""
    sum_q = xp.sum(q, axis=axis)
    rows = xp.log(sum_q) - xp.sum(xlogy(xp, _normalized(xp, p, axis), q), axis=axis)
    return _nan_where_invalid(xp, rows, axis, p, q)


def _js_rows_of_logs(xp: Namespace, log_p: Array, log_q: Array, *, axis: int) -> Array:
    log_m = log_midpoint(xp, log_p, log_q)
    terms = xlog_ratio_log(xp, log_p, log_m) + xlog_ratio_log(xp, log_q, log_m)
    return xp.sum(terms, axis=axis) / 2


def _js_rows_of_probs(xp: Namespace, p: Array, q: Array, *, axis: int) -> Array:
    probs_p, probs_q = _normalized(xp, p, axis), _normalized(xp, q, axis)
    m = (probs_p + probs_q) / 2
    rows = xp.sum(xlog_ratio(xp, probs_p, m) + xlog_ratio(xp, probs_q, m), axis=axis) / 2
    return _nan_where_invalid(xp, rows, axis, p, q)


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

    >>> import array_api_strict as xp
    >>> js_divergence(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.0, 1.0]]), base=2)
    Array(1., dtype=array_api_strict.float64)
    """
    context, (p, q), axis = prepare_rows(axis, log_prob, validate_args, p=p, q=q)
    rows = _in_base(context, js_rows(context, p, q, axis, log_prob), base)
    return context.finish(reduce_rows(context.xp, rows, reduction))


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

    >>> import array_api_strict as xp
    >>> js_distance(xp.asarray([1.0, 0.0]), xp.asarray([0.0, 1.0]))
    Array(1., dtype=array_api_strict.float64)
    """
    context, (p, q), axis = prepare_rows(axis, False, validate_args, p=p, q=q)
    xp = context.xp
    divergence = _in_base(context, js_rows(context, p, q, axis, log_prob=False), base)
    return context.finish(sqrt_at_least_zero(xp, divergence))


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

    >>> import array_api_strict as xp
    >>> jeffreys(xp.asarray([[0.5, 0.5]]), xp.asarray([[0.25, 0.75]]))
    Array(0.27465307, dtype=array_api_strict.float64)
    """
    context, (p, q), axis = prepare_rows(axis, log_prob, validate_args, p=p, q=q)
    rows = kl_rows(context, p, q, axis, log_prob) + kl_rows(context, q, p, axis, log_prob)
    return context.finish(reduce_rows(context.xp, rows, reduction))


@ignore_fp_warnings
def kl_div_logits(
    input_logits: Array,
    target_logits: Array,
    *,
    temperature: float = 1.0,
    reduction: str = "batchmean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """KL(softmax(target / T) ‖ softmax(input / T)) from raw logits, e.g. for distillation.

    Equal to ``kl_div(log_softmax(input / T), log_softmax(target / T), log_target=True,
    reduction=...)``, computed stably (log-sum-exp with the row maximum) and, for reduced results,
    in bounded memory: blocks of rows at a time, keeping per-row scalars only. On torch and JAX
    the gradient is defined directly (softmax differences recomputed block by block), so a
    backward pass needs no more than the gradient itself. No T² factor: Hinton-style losses
    multiply by T² themselves.

    Parameters
    ----------
    input_logits : array
        Logits of the model being trained (q = softmax(input_logits / T) along ``axis``).
    target_logits : array
        Logits of the target (p = softmax(target_logits / T)); broadcast with ``input_logits``.
        A target logit of ``-inf`` contributes 0, even where the input logit is ``-inf``.
    temperature : float, optional
        T > 0, dividing both logit arrays.
    reduction : {'batchmean', 'sum', 'mean', 'none'}, optional
        Of the pointwise terms p (log p - log q), as :func:`kl_div`: 'batchmean' divides their
        sum by the size of the first axis (the KL per sample for 2-D logits), 'mean' by the number
        of elements, 'none' keeps them.
    axis : int, optional
        The vocabulary (distribution) axis.
    validate_args : bool, optional
        Check the values (no NaN, no ``+inf``); default off (see :func:`set_validate_args`).

    Returns
    -------
    array
        A 0-d array, or the pointwise terms for 'none', in the inputs' dtype (16-bit inputs
        compute in float32).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> kl_div_logits(xp.asarray([[0.0, 0.0]]), xp.asarray([[0.0, 0.0]]))
    Array(0., dtype=array_api_strict.float64)
    >>> kl_div_logits(xp.asarray([[0.0, 0.0]]), xp.asarray([[0.0, -xp.inf]]), temperature=2.0)
    Array(0.69314718, dtype=array_api_strict.float64)
    """
    check_positive_number("temperature", temperature)
    context, (student, teacher) = prepare(input_logits=input_logits, target_logits=target_logits)
    _check_values(context, True, validate_args, input_logits=student, target_logits=teacher)
    student, teacher = _broadcast(context, input_logits=student, target_logits=teacher)
    axis = normalize_axis(axis, student.ndim)
    result = kl_div_logits_values(context.xp, student, teacher, temperature, reduction, axis)
    return context.finish(result)
