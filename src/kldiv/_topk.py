"""The row pass of :func:`kldiv.kl_topk`: the student's full logits against the teacher's k
stored log-probabilities, in bounded memory.

Per row, only three things are read from the student's vocabulary-sized logits: its
log-normaliser (a log-sum-exp streamed over blocks of rows by :func:`kldiv._blocked.blocked_rows`,
skipped for 'renormalize'), and its k logits at the teacher's indices (a gather). The KL and its
partial derivatives then come from arrays of k values (:func:`kldiv._elementwise.topk_kl_rows`),
so the gradient with respect to the logits is ``d_lse · softmax(student / T) / T`` plus the
k derivatives scattered at the indices: :mod:`kldiv._custom_grad` builds it block by block.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from . import _logits
from ._array import Array, Namespace, take_along_axis, widest_float
from ._blocked import RowBlocks, blocked_rows, laid_out_shape
from ._elementwise import TOPK_TAILS, logsumexp, topk_kl_rows
from ._validate import any_value, check_finite_or_neg_inf

__all__ = ["TopkKL", "check_topk_arguments", "check_topk_values"]


@dataclass(frozen=True)
class TopkKL:
    """How one call of :func:`kldiv.kl_topk` computes its rows: the vocabulary ``axis``, the
    ``tail`` rule and the ``temperature`` dividing the student's logits (hashable when the
    temperature is a number, as JAX needs for a static argument)."""

    axis: int
    tail: str
    temperature: float | Array

    def row_terms(
        self, xp: Namespace, student: Array, teacher: Array, indices: Array
    ) -> tuple[Array, Array | None, Array, Array, Array]:
        """``(rows, lse, d_lse, d_student, d_teacher)``: the row KL (``axis`` kept), the
        student's scaled log-normaliser (None for 'renormalize') and the row's derivatives
        (see :func:`kldiv._elementwise.topk_kl_rows`), in ``student``'s dtype.

        The k-sized kernel runs in the widest float of the library (float64 where it exists),
        and so does the log-normaliser for 'bucket': the student's rest mass is the difference
        of two log-sum-exps, which would cancel in float32 once the rest is below ~1e-6 of the
        row's mass.
        """
        wide = widest_float(xp, student)
        student_topk = _logits.scaled(
            xp.astype(take_along_axis(xp, student, indices, self.axis), wide), self.temperature
        )
        lse = None
        if self.tail != "renormalize":
            dtype = wide if self.tail == "bucket" else student.dtype
            kernel = functools.partial(self._log_normalizer, xp, dtype)
            lse = xp.expand_dims(blocked_rows(xp, kernel, [student], self.axis), axis=self.axis)
            lse = xp.astype(lse, wide)
        terms = topk_kl_rows(
            xp, student_topk, lse, xp.astype(teacher, wide), self.tail, self.axis, student.dtype
        )
        rows, d_lse, d_student, d_teacher = (xp.astype(term, student.dtype) for term in terms)
        narrow_lse = None if lse is None else xp.astype(lse, student.dtype)
        return rows, narrow_lse, d_lse, d_student, d_teacher

    def _log_normalizer(self, xp: Namespace, dtype: Any, logits: Array, axis: int) -> Array:
        return logsumexp(xp, _logits.scaled(xp.astype(logits, dtype), self.temperature), axis)

    def softmax_block(
        self, xp: Namespace, student: Array, lse: Array, index: tuple[slice, ...]
    ) -> Array:
        """softmax(student / T) on block ``index`` (``lse`` keeps the vocabulary axis)."""
        return xp.exp(_logits.scaled(student[index], self.temperature) - lse[index])

    def laid_out_blocks(self, shape: tuple[int, ...]) -> tuple[tuple[int, ...], RowBlocks]:
        """The laid-out ``shape`` (vocabulary on axis 1) and its blocks of rows, for a pass
        that writes a gradient the size of the logits a block at a time."""
        laid_shape = laid_out_shape(shape, self.axis)
        return laid_shape, RowBlocks.laid_out(laid_shape, _logits.BLOCK_ELEMENTS)


def check_topk_arguments(
    student: Array, teacher: Array, indices: Array, tail: str, axis: int
) -> None:
    """Shapes (k at most the vocabulary) and the tail name: a ``ValueError`` naming the
    argument."""
    if tail not in TOPK_TAILS:
        names = ", ".join(repr(name) for name in TOPK_TAILS)
        raise ValueError(f"tail={tail!r} is not supported; use one of {names}")
    if tuple(teacher.shape) != tuple(indices.shape):
        raise ValueError(
            f"teacher_topk_logprobs {tuple(teacher.shape)} and teacher_topk_indices "
            f"{tuple(indices.shape)} must have the same shape"
        )
    batch = list(student.shape)
    topk_batch = list(teacher.shape)
    if len(topk_batch) != len(batch) or batch[:axis] + batch[axis + 1 :] != (
        topk_batch[:axis] + topk_batch[axis + 1 :]
    ):
        raise ValueError(
            f"teacher_topk_logprobs {tuple(teacher.shape)} must have the shape of student_logits "
            f"{tuple(student.shape)} except along axis {axis} (k values per row)"
        )
    if topk_batch[axis] > batch[axis]:
        raise ValueError(
            f"teacher_topk_indices holds {topk_batch[axis]} distinct indices per row, more than "
            f"the {batch[axis]} tokens of student_logits along axis {axis}"
        )


def check_topk_values(
    xp: Namespace, student: Array, teacher: Array, indices: Array, axis: int
) -> None:
    """The value checks of ``validate_args``: finite logits, log-probabilities <= 0, indices in
    range and distinct within a row."""
    check_finite_or_neg_inf(xp, student_logits=student, teacher_topk_logprobs=teacher)
    if any_value(xp, teacher > 0):
        raise ValueError("teacher_topk_logprobs holds values > 0, which are not log-probabilities")
    size = student.shape[axis]
    if any_value(xp, (indices < 0) | (indices >= size)):
        raise ValueError(f"teacher_topk_indices must lie in [0, {size}) (the vocabulary)")
    ordered = xp.sort(indices, axis=axis)
    count = ordered.shape[axis]
    first = [slice(None)] * ordered.ndim
    second = [slice(None)] * ordered.ndim
    first[axis], second[axis] = slice(0, count - 1), slice(1, count)
    if any_value(xp, ordered[tuple(first)] == ordered[tuple(second)]):
        raise ValueError("teacher_topk_indices repeats an index within a row")
