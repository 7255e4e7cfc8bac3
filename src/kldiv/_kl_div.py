"""KL in torch's pointwise form: :func:`kl_div` and :class:`KLDivLoss`, and from raw logits
:func:`kl_div_logits`.

The terms are elementwise, ``target * (log(target) - input)``, reduced as torch reduces them
('mean' over every element, 'batchmean', 'sum', 'none'); reduced results are summed a block of
rows at a time.
"""

from __future__ import annotations

import functools

from ._array import (
    Array,
    Namespace,
    broadcast_shapes,
    ignore_fp_warnings,
    prepare,
)
from ._blocked import blocked_rows
from ._custom_grad import kl_div_total
from ._docs import KL_DIV, filled
from ._elementwise import xlog_ratio_log, xlog_ratio_mixed
from ._fast import fast_kernel, small_kl_div
from ._logits import kl_div_logits_values
from ._reduce import POINTWISE, reduce_pointwise, scale_total
from ._rows import check_values, prepare_logit_rows
from ._validate import check_bool, check_positive_number, check_reduction, resolve_validate_args

__all__ = ["KLDivLoss", "kl_div", "kl_div_logits"]

#: Fills ``{reduction}``, ``{log_target}`` and ``{validate_args}`` in a docstring.
documented = filled(**KL_DIV)


@documented
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
    {reduction}
    {log_target}
    {validate_args}

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


@documented
class KLDivLoss:
    """``torch.nn.KLDivLoss`` for any array library: ``KLDivLoss(...)(input, target)``.

    Same arguments and numbers as :func:`kl_div`.

    Parameters
    ----------
    {reduction}
    {log_target}
    {validate_args}

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
    return logits_kl(input_logits, target_logits, temperature, reduction, axis, validate_args)


def logits_kl(
    input_logits: Array,
    target_logits: Array,
    temperature: float,
    reduction: str,
    axis: int,
    validate_args: bool | None,
    reverse: bool = False,
) -> Array:
    """:func:`kl_div_logits`, or with ``reverse`` KL(softmax(input / T) ‖ softmax(target / T))
    (the arguments keep their names in every message)."""
    check_positive_number("temperature", temperature)
    context, (student, teacher), axis = prepare_logit_rows(
        axis, validate_args, input_logits=input_logits, target_logits=target_logits
    )
    pair = (teacher, student) if reverse else (student, teacher)
    return context.finish(kl_div_logits_values(context.xp, *pair, temperature, reduction, axis))
