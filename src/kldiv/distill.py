"""Distillation losses over large vocabularies, in bounded memory.

* :func:`kl_topk`: KL(teacher ‖ student) when only the teacher's top-k log-probabilities are
  stored (offline distillation), with a stated rule for the missing mass.
* :func:`reverse_kl_logits`: KL(student ‖ teacher) from two logit arrays.
* :func:`js_div_logits`: the generalised Jensen–Shannon divergence of on-policy distillation.

Reduced results stream over blocks of rows (extra memory a small fraction of the logits); on
torch and JAX the gradient is defined directly, so a backward pass needs no more than the
gradient itself. Conventions at zeros as everywhere: a term without mass contributes 0.
"""

from __future__ import annotations

from typing import Any

import array_api_compat as compat

from ._array import (
    Array,
    Namespace,
    broadcast_shapes,
    ignore_fp_warnings,
    index_array,
    normalize_axis,
    prepare,
)
from ._custom_grad import topk_rows
from ._docs_distill import with_logits_pieces
from ._elementwise import js_logits_terms, log_softmax
from ._kl_div import logits_kl
from ._logits import JSLogitBlocks, scaled, summed_logit_rows
from ._reduce import POINTWISE, scale_total
from ._rows import prepare_logit_rows
from ._topk import TopkKL, check_topk_arguments, check_topk_values
from ._validate import check_positive_number, check_reduction, resolve_validate_args
from .discrete import kl_div_logits

__all__ = ["js_div_logits", "kl_topk", "reverse_kl_logits"]


@ignore_fp_warnings
def kl_topk(
    student_logits: Array,
    teacher_topk_logprobs: Array,
    teacher_topk_indices: Array,
    *,
    tail: str = "bucket",
    temperature: float = 1.0,
    mask: Array | None = None,
    reduction: str = "batchmean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """KL(teacher ‖ student) from the student's full logits and the teacher's top-k log-probs.

    With s = softmax(student_logits / T) along ``axis`` and the teacher's stored
    log-probabilities log t_i at indices i (k per row), each row's value follows ``tail``:

    * ``'bucket'`` (default): the exact KL of the two distributions coarsened to k + 1 outcomes,
      the k indices and one bucket for the rest: Σ t_i log(t_i / s_i) + t_r log(t_r / s_r), with
      t_r = 1 - Σ t_i and s_r = 1 - Σ s_i (from log-sum-exps, ``log1mexp``). A true KL: ≥ 0, and
      never above the full KL. s_r is accumulated in float64 where the library has it, so it
      stays exact for float32 and 16-bit logits down to ~1e-13 of the row's mass (below, or
      without float64 below ~ε of the compute dtype, it is 0 and the row +inf where t_r > 0).
      A teacher missing mass within the rounding of its log-probabilities
      (``2ε(1 + Σ t_i |log t_i|)``, ε of the compute dtype) counts as 0.
    * ``'renormalize'``: both renormalised on the k indices, then their exact KL (the
      student's log-normaliser over the vocabulary is not even computed).
    * ``'ignore'``: Σ t_i log(t_i / s_i) over the k terms only (may be negative).

    The k indices must be distinct within a row (checked with ``validate_args``); without the
    check, a row holding an index outside [0, V) is NaN. With k = V and every index, all three
    equal :func:`kldiv.kl_div_logits` of the full logits.

    Parameters
    ----------
    student_logits : array
        The student's logits, shape ``(..., V, ...)`` with the vocabulary along ``axis``.
    teacher_topk_logprobs : array
        The teacher's log-probabilities at its top-k tokens: the student's shape with k in
        place of V. ``-inf`` entries carry no mass. They are used as given: ``temperature``
        divides the student only. A teacher stored at temperature 1 but wanted at T is
        ``teacher_topk_logprobs / T`` with ``tail='renormalize'`` (exactly the tempered teacher
        restricted to its top k); for the other tails, store log-probabilities computed at T.
    teacher_topk_indices : array of int
        The vocabulary indices of those tokens, same shape, in [0, V) (integers of the
        logits' library; masked rows may hold anything, e.g. padding -100).
    tail : {'bucket', 'renormalize', 'ignore'}, optional
        The rule for the teacher's mass outside its top k (above).
    temperature : float, optional
        T > 0 dividing the student's logits. No T² factor.
    mask : array of bool or 0/1, optional
        Per-row weights, broadcastable to the batch shape (``student_logits``' shape without
        ``axis``): rows where it is 0 contribute 0 (NaN included) and are not counted.
    reduction : {'batchmean', 'sum', 'mean', 'none'}, optional
        Of the row values: 'none' returns them (batch shape, 0 where masked), 'sum' adds them,
        'batchmean' divides the sum by ``student_logits.shape[0]`` as
        :func:`kldiv.kl_div_logits` does, 'mean' by the number of rows. With ``mask``,
        'batchmean' and 'mean' both divide by the number of unmasked rows (the mean per kept
        token).
    axis : int, optional
        The vocabulary axis of all three arrays.
    validate_args : bool, optional
        Check the values: no NaN or +inf logits, log-probabilities ≤ 0, indices in range and
        distinct within each row; off by default (see :func:`kldiv.set_validate_args`).

    Returns
    -------
    array
        A 0-d array, or the row values for 'none', in the logits' dtype (16-bit inputs compute
        in float32).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import kldiv
    >>> student = xp.asarray([[2.0, 1.0, 0.0, -1.0]])
    >>> teacher_logprobs = xp.asarray([[-0.2, -2.0]])
    >>> indices = xp.asarray([[0, 1]])
    >>> kldiv.kl_topk(student, teacher_logprobs, indices)
    Array(0.07708495, dtype=array_api_strict.float64)
    >>> kldiv.kl_topk(student, teacher_logprobs, indices, tail="renormalize")
    Array(0.04680323, dtype=array_api_strict.float64)
    """
    check_positive_number("temperature", temperature)
    check_reduction(reduction, POINTWISE)
    context, (student, teacher) = prepare(
        student_logits=student_logits, teacher_topk_logprobs=teacher_topk_logprobs
    )
    xp = context.xp
    indices = index_array(
        context,
        "teacher_topk_indices",
        teacher_topk_indices,
        ("student_logits", "teacher_topk_logprobs"),
    )
    axis = normalize_axis(axis, student.ndim)
    check_topk_arguments(student, teacher, indices, tail, axis)
    batch_shape = tuple(student.shape[:axis] + student.shape[axis + 1 :])
    kept = None
    if mask is not None:
        kept = _kept_rows(mask, student, batch_shape)
        indices = xp.where(
            xp.expand_dims(kept, axis=axis), indices, _first_tokens(xp, indices, axis)
        )
    if resolve_validate_args(validate_args, "distill"):
        check_topk_values(xp, student, teacher, indices, axis)
    if isinstance(temperature, int | float):
        temperature = float(temperature)
    indices, outside = _indices_in_vocabulary(xp, indices, student.shape[axis], axis)
    rows = topk_rows(xp, student, teacher, indices, TopkKL(axis, tail, temperature))
    rows = xp.squeeze(rows, axis=axis)
    rows = xp.where(outside, xp.full_like(rows, xp.nan), rows)
    if kept is not None:
        rows = xp.where(kept, rows, xp.zeros_like(rows))
    if reduction == "none":
        return context.finish(rows)
    total = xp.sum(rows) if rows.ndim else rows
    if kept is not None and reduction != "sum":
        result = total / xp.sum(xp.astype(kept, rows.dtype))
    elif reduction == "mean":
        result = scale_total(total, batch_shape, "mean")
    else:
        result = scale_total(total, tuple(student.shape), reduction)
    return context.finish(result)


def _indices_in_vocabulary(
    xp: Namespace, indices: Array, size: int, axis: int
) -> tuple[Array, Array]:
    """``indices`` with those outside [0, ``size``) read as 0, and the rows that held one: their
    value is NaN (a gather out of range would raise, wrap or read another row)."""
    inside = (indices >= 0) & (indices < size)
    return xp.where(inside, indices, xp.zeros_like(indices)), ~xp.all(inside, axis=axis)


def _first_tokens(xp: Namespace, indices: Array, axis: int) -> Array:
    """0, 1, ..., k - 1 along ``axis``: valid distinct indices standing in a masked row's."""
    k = indices.shape[axis]
    tokens = xp.arange(k, dtype=indices.dtype, device=compat.device(indices))
    return xp.reshape(tokens, tuple(k if d == axis else 1 for d in range(indices.ndim)))


def _kept_rows(mask: Any, student: Array, batch_shape: tuple[int, ...]) -> Array:
    """The mask as booleans of the batch shape (a ``ValueError`` naming it otherwise)."""
    context, (mask_values, _) = prepare(mask=mask, student_logits=student)
    shape = tuple(mask_values.shape)
    if broadcast_shapes(**{"mask": shape, "student_logits' batch": batch_shape}) != batch_shape:
        raise ValueError(
            f"mask {shape} must broadcast to the batch shape {batch_shape} (student_logits' "
            "shape without axis)"
        )
    return context.xp.broadcast_to(mask_values != 0, batch_shape)


@with_logits_pieces
@ignore_fp_warnings
def reverse_kl_logits(
    input_logits: Array,
    target_logits: Array,
    *,
    temperature: float = 1.0,
    reduction: str = "batchmean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """KL(softmax(input / T) ‖ softmax(target / T)): the reverse (mode-seeking) KL from logits.

    :func:`kldiv.kl_div_logits` with the roles of the distributions swapped: the pointwise terms
    are q (log q - log p) with q = softmax(input / T) (the model) and p = softmax(target / T),
    reduced as there, streamed over blocks of rows, with the same direct gradient on torch and
    JAX. TRL's ``GKDTrainer.generalized_jsd_loss`` with ``beta=1`` computes this.

    Parameters
    ----------
    input_logits : array
        Logits of the model being trained (q).
    target_logits : array
        Logits of the target (p); broadcast with ``input_logits``.
    temperature : float, optional
        T > 0, dividing both logit arrays. No T² factor.
    reduction : {'batchmean', 'sum', 'mean', 'none'}, optional
        As :func:`kldiv.kl_div_logits`: 'batchmean' divides the sum of the terms by the size of
        the first axis, 'mean' by the number of elements, 'none' keeps the terms.
    {axis_validate}

    {returns}

    Examples
    --------
    >>> import array_api_strict as xp
    >>> reverse_kl_logits(xp.asarray([[0.0, -xp.inf]]), xp.asarray([[0.0, 0.0]]))
    Array(0.69314718, dtype=array_api_strict.float64)
    """
    return logits_kl(
        input_logits, target_logits, temperature, reduction, axis, validate_args, reverse=True
    )


@with_logits_pieces
@ignore_fp_warnings
def js_div_logits(
    input_logits: Array,
    target_logits: Array,
    *,
    beta: float = 0.5,
    temperature: float = 1.0,
    reduction: str = "batchmean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """The generalised Jensen–Shannon divergence of on-policy distillation, from logits.

    With q = softmax(input / T) (the student), p = softmax(target / T) (the teacher) and the
    mixture m = β·p + (1 - β)·q (formed in log space), the pointwise terms are
    β·p log(p / m) + (1 - β)·q log(q / m), i.e. JSD_β = β KL(p ‖ m) + (1 - β) KL(q ‖ m), as
    TRL's ``GKDTrainer.generalized_jsd_loss`` (Agarwal et al. 2024, eq. 1). At the ends, as
    there: ``beta=0`` gives the forward KL(p ‖ q) (:func:`kldiv.kl_div_logits`) and ``beta=1``
    the reverse KL(q ‖ p) (:func:`reverse_kl_logits`), not the formula's limit 0. ``beta=0.5``
    is the Jensen–Shannon divergence.

    Parameters
    ----------
    input_logits : array
        The student's logits (q).
    target_logits : array
        The teacher's logits (p); broadcast with ``input_logits``.
    beta : float, optional
        The teacher's weight in the mixture, in [0, 1].
    temperature : float, optional
        T > 0, dividing both logit arrays.
    reduction : {'batchmean', 'sum', 'mean', 'none'}, optional
        As :func:`kldiv.kl_div_logits`: 'batchmean' divides the sum of the terms by the size of
        the first axis, 'mean' by the number of elements (TRL's 'mean'), 'none' keeps the terms.
        (TRL's 'batchmean' on ``(B, S, V)`` logits divides by B·S: here that is 'batchmean' of
        the logits reshaped to ``(B·S, V)``.)
    {axis_validate}

    {returns}

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import kldiv
    >>> student, teacher = xp.asarray([[0.0, -xp.inf]]), xp.asarray([[-xp.inf, 0.0]])
    >>> kldiv.js_div_logits(student, teacher)
    Array(0.69314718, dtype=array_api_strict.float64)
    >>> kldiv.js_div_logits(student, teacher, beta=0.9)
    Array(0.32508297, dtype=array_api_strict.float64)
    """
    if isinstance(beta, bool) or not isinstance(beta, int | float) or not 0 <= beta <= 1:
        raise ValueError(f"beta must be a number in [0, 1], got {beta!r}")
    if beta in (0, 1):  # the forward and the reverse KL, as TRL
        kl_form = kl_div_logits if beta == 0 else reverse_kl_logits
        return kl_form(
            input_logits,
            target_logits,
            temperature=temperature,
            reduction=reduction,
            axis=axis,
            validate_args=validate_args,
        )
    check_positive_number("temperature", temperature)
    check_reduction(reduction, POINTWISE)
    context, (student, teacher), axis = prepare_logit_rows(
        axis, validate_args, input_logits=input_logits, target_logits=target_logits
    )
    xp = context.xp
    if reduction == "none":
        log_q = log_softmax(xp, scaled(student, temperature), axis)
        log_p = log_softmax(xp, scaled(teacher, temperature), axis)
        return context.finish(js_logits_terms(xp, log_q, log_p, float(beta)))
    blocks = JSLogitBlocks(axis, beta=float(beta))
    total = summed_logit_rows(xp, student, teacher, temperature, blocks)
    return context.finish(scale_total(total, tuple(student.shape), reduction))
