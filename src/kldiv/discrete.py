"""Divergences between discrete distributions: probability vectors along ``axis``.

Conventions at zeros, everywhere: a term with ``p = 0`` contributes 0 (even where ``q = 0`` or
``log q = -inf``); ``p > 0`` with ``q = 0`` gives +inf; a negative probability gives NaN (a
``ValueError`` with ``validate_args=True``). Gradients are finite at ``p = 0``.
"""

from __future__ import annotations

import functools

from ._array import (
    Array,
    Namespace,
    broadcast_shapes,
    ignore_fp_warnings,
    normalize_axis,
    prepare,
)
from ._blocked import blocked_rows
from ._custom_grad import kl_div_total
from ._divergence_rows import documented
from ._elementwise import (
    log_ratio,
    sqrt_at_least_zero,
    xlog_ratio_log,
    xlog_ratio_mixed,
)
from ._fast import fast_kernel, small_kl_div, small_kl_divergence
from ._logits import kl_div_logits_values
from ._reduce import POINTWISE, reduce_pointwise, reduce_rows, scale_total
from ._rows import (
    broadcast_named,
    check_values,
    cross_entropy_rows,
    entropy_rows,
    in_base,
    js_rows,
    kl_rows,
    prepare_rows,
)
from ._validate import (
    check_bool,
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
    validate_args : bool, optional
        Check the values (no negative probabilities); default off (see
        :func:`kldiv.set_validate_args`). Skipped on lazy arrays.

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

    Parameters
    ----------
    input : array
        log q, the model's log-probabilities.
    target : array
        p (or log p with ``log_target``); broadcasts with ``input``.
    reduction : {'mean', 'batchmean', 'sum', 'none'}, optional
        Of the pointwise terms: 'mean' over every element, 'batchmean' the sum divided by the
        size of the first axis, 'sum', or 'none' to keep them.
    log_target : bool, optional
        Whether ``target`` is log p.
    validate_args : bool, optional
        Check the values (no negative probabilities); default off (see
        :func:`kldiv.set_validate_args`). Skipped on lazy arrays.

    Returns
    -------
    array
        A 0-d array, or the pointwise terms for 'none'.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> log_q = xp.log(xp.asarray([[0.5, 0.5]]))
    >>> kl_div(log_q, xp.asarray([[0.25, 0.75]]), reduction="batchmean")
    Array(0.13081204, dtype=array_api_strict.float64)
    """
    check_bool("log_target", log_target)
    if not resolve_validate_args(validate_args, "discrete"):
        small = small_kl_div(input, target, reduction, log_target)
        if small is not None:
            return small
    return _kl_div(input, target, reduction, log_target, validate_args)


@ignore_fp_warnings
def _kl_div(
    input: Array, target: Array, reduction: str, log_target: bool, validate_args: bool | None
) -> Array:
    context, (log_q, p) = prepare(input=input, target=target)
    if log_q.shape != p.shape:
        broadcast_shapes(input=tuple(log_q.shape), target=tuple(p.shape))
    check_values(context, log_target, validate_args, target=p)
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
    kernel = generic if log_target else fast_kernel("kl_div_rows", xp, generic, (log_q, p))
    return xp.sum(blocked_rows(xp, kernel, (log_q, p), log_q.ndim - 1))


class KLDivLoss:
    """``torch.nn.KLDivLoss`` for any array library: ``KLDivLoss(...)(input, target)``.

    Same arguments and numbers as :func:`kl_div`.

    Parameters
    ----------
    reduction : {'mean', 'batchmean', 'sum', 'none'}, optional
        As in :func:`kl_div`.
    log_target : bool, optional
        Whether the target is log p.
    validate_args : bool, optional
        Check the values; default off (see :func:`kldiv.set_validate_args`).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> loss = KLDivLoss(reduction="batchmean")
    >>> loss(xp.log(xp.asarray([[0.5, 0.5]])), xp.asarray([[0.25, 0.75]]))
    Array(0.13081204, dtype=array_api_strict.float64)
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
    them, 'none'/None returns one value per row. Any batch rank; batch axes broadcast.

    {parameters}

    Returns
    -------
    array
        A 0-d array, or one value per row for 'none'/None; +inf where q = 0 < p.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> kl_divergence(xp.asarray([[0.36, 0.48, 0.16]]), xp.asarray([[1/3, 1/3, 1/3]]))
    Array(0.0852996, dtype=array_api_strict.float64)
    """
    if not (log_prob or resolve_validate_args(validate_args, "discrete")):
        small = small_kl_divergence(p, q, reduction, axis)
        if small is not None:
            return small
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

    Parameters
    ----------
    p : array
        Probabilities (renormalised) along ``axis``.
    q : array, optional
        Probabilities of the second distribution: the result is then KL(P ‖ Q).
    base : float, optional
        The logarithm's base (None: natural logarithm, nats).
    axis : int, optional
        The distribution axis.
    validate_args : bool, optional
        Check the values (no negative probabilities); default off (see
        :func:`kldiv.set_validate_args`). Skipped on lazy arrays.

    Returns
    -------
    array
        One value per row (the batch shape).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> entropy(xp.asarray([1.0, 1.0]), base=2)
    Array(1., dtype=array_api_strict.float64)
    """
    if q is not None:
        context, (p, q), axis = prepare_rows(axis, False, validate_args, p=p, q=q)
        rows = kl_rows(context, p, q, axis, log_prob=False)
    else:
        context, (p,), axis = prepare_rows(axis, False, validate_args, p=p)
        rows = blocked_rows(context.xp, functools.partial(entropy_rows, context.xp), (p,), axis)
    return context.finish(in_base(context, rows, base))


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
    p, q : array
        Probabilities (any non-negative weights: each row is renormalised) along ``axis``;
        batch axes broadcast. Lists and numbers are accepted.
    base : float, optional
        The logarithm's base (None: natural logarithm, nats).
    axis : int, optional
        The distribution axis.
    validate_args : bool, optional
        Check the values (no negative probabilities); default off (see
        :func:`kldiv.set_validate_args`). Skipped on lazy arrays.

    Returns
    -------
    array
        One value per row (the broadcast batch shape).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> cross_entropy(xp.asarray([0.5, 0.5]), xp.asarray([0.25, 0.75]), base=2)
    Array(1.20751875, dtype=array_api_strict.float64)
    """
    context, (p, q), axis = prepare_rows(axis, False, validate_args, p=p, q=q)
    kernel = functools.partial(cross_entropy_rows, context.xp)
    rows = blocked_rows(context.xp, kernel, (p, q), axis)
    return context.finish(in_base(context, rows, base))


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
    base : float, optional
        The logarithm's base (None: natural logarithm, nats).

    Returns
    -------
    array
        A 0-d array, or one value per row for 'none'/None.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> js_divergence(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.0, 1.0]]), base=2)
    Array(1., dtype=array_api_strict.float64)
    """
    context, (p, q), axis = prepare_rows(axis, log_prob, validate_args, p=p, q=q)
    rows = in_base(context, js_rows(context, p, q, axis, log_prob), base)
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

    Parameters
    ----------
    p, q : array
        Probabilities (any non-negative weights: each row is renormalised) along ``axis``;
        batch axes broadcast. Lists and numbers are accepted.
    base : float, optional
        The logarithm's base of the divergence under the square root.
    axis : int, optional
        The distribution axis.
    validate_args : bool, optional
        Check the values (no negative probabilities); default off (see
        :func:`kldiv.set_validate_args`). Skipped on lazy arrays.

    Returns
    -------
    array
        One value per row (the broadcast batch shape).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> js_distance(xp.asarray([1.0, 0.0]), xp.asarray([0.0, 1.0]))
    Array(1., dtype=array_api_strict.float64)
    """
    context, (p, q), axis = prepare_rows(axis, False, validate_args, p=p, q=q)
    xp = context.xp
    divergence = in_base(context, js_rows(context, p, q, axis, log_prob=False), base)
    return context.finish(sqrt_at_least_zero(xp, divergence))


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

    Returns
    -------
    array
        A 0-d array, or one value per row for 'none'/None.

    Examples
    --------
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
    check_values(context, True, validate_args, input_logits=student, target_logits=teacher)
    student, teacher = broadcast_named(context, input_logits=student, target_logits=teacher)
    axis = normalize_axis(axis, student.ndim)
    if student.shape[axis] == 0:
        raise ValueError(
            f"input_logits and target_logits have no classes: axis={axis} of their broadcast "
            f"shape {tuple(student.shape)} has size 0"
        )
    result = kl_div_logits_values(context.xp, student, teacher, temperature, reduction, axis)
    return context.finish(result)
