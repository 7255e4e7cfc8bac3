"""KL divergence between the softmaxes of two logit arrays, in bounded memory.

The logits are seen as rows: every axis but the distribution axis indexes a row. For a reduced
result the rows are processed in blocks of about :data:`BLOCK_ELEMENTS` elements: a block's
temporaries stay small and only per-row scalars (the row's KL and both log-sum-exps) outlive it,
so the extra memory does not grow with the vocabulary times the batch. ``'none'`` returns every
term, necessarily as large as the inputs.

Lazy and traced arrays (Dask, JAX under ``jit``, torch ``meta``) take the whole array as one
block: Dask keeps its own chunks, and XLA fuses the elementwise work itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ._array import Array, Namespace, is_lazy
from ._custom_grad import summed_row_kl
from ._elementwise import kl_logits_gradients, kl_logits_rows, log_softmax, xlog_ratio_log
from ._reduce import POINTWISE
from ._validate import check_reduction

__all__ = ["BLOCK_ELEMENTS", "RowBlocks", "kl_div_logits_values", "scaled"]

#: Elements (rows x vocabulary) per block of the reduced pass: 4 MiB of float32. Tests shrink it
#: to exercise the blocking on small inputs.
BLOCK_ELEMENTS = 1 << 20


def scaled(logits: Array, temperature: float | Array) -> Array:
    """``logits / temperature``, without a pass over the data when the temperature is 1."""
    if isinstance(temperature, int | float) and temperature == 1:
        return logits
    return logits / temperature


@dataclass(frozen=True)
class RowBlocks:
    """How the rows of a logits array are cut into blocks.

    ``axis`` is the distribution axis; the blocks are consecutive slices of ``blocked_axis``,
    ``chunk`` of its ``rows`` each. A single block (``chunk >= rows``) takes the whole array, of
    any shape; several blocks need logits laid out as ``(rows_before, vocabulary[, rows_after])``.
    """

    axis: int
    blocked_axis: int = 0
    rows: int = 1
    chunk: int = 1

    @classmethod
    def laid_out(cls, shape: tuple[int, ...]) -> RowBlocks:
        """Blocks of about :data:`BLOCK_ELEMENTS` for a laid-out ``shape`` (the longer of its
        row axes is cut)."""
        blocked_axis = 2 if len(shape) == 3 and shape[2] > shape[0] else 0
        rows = shape[blocked_axis]
        elements_per_row = math.prod(shape) // max(rows, 1)
        return cls(1, blocked_axis, rows, max(1, BLOCK_ELEMENTS // max(elements_per_row, 1)))

    def indices(self, ndim: int) -> list[tuple[slice, ...]]:
        """The index of every block into an array of ``ndim`` dimensions."""
        whole = [slice(None)] * ndim
        if self.chunk >= self.rows:
            return [tuple(whole)]
        blocks = []
        for start in range(0, self.rows, self.chunk):
            whole[self.blocked_axis] = slice(start, start + self.chunk)
            blocks.append(tuple(whole))
        return blocks

    def block_values(
        self,
        xp: Namespace,
        student: Array,
        teacher: Array,
        temperature: float | Array,
        index: tuple[slice, ...],
    ) -> tuple[Array, Array, Array]:
        """Per-row KL and both log-sum-exps (``axis`` kept) of the scaled block ``index``."""
        return kl_logits_rows(
            xp, scaled(student[index], temperature), scaled(teacher[index], temperature), self.axis
        )

    def row_values(
        self, xp: Namespace, student: Array, teacher: Array, temperature: float | Array
    ) -> tuple[Array, Array, Array]:
        """:meth:`block_values` of every block, joined along ``blocked_axis``."""
        parts = [
            self.block_values(xp, student, teacher, temperature, index)
            for index in self.indices(student.ndim)
        ]
        if len(parts) == 1:
            return parts[0]
        rows, lse_input, lse_target = (
            xp.concat([part[position] for part in parts], axis=self.blocked_axis)
            for position in range(3)
        )
        return rows, lse_input, lse_target

    def total(
        self, xp: Namespace, student: Array, teacher: Array, temperature: float | Array
    ) -> Array:
        """The sum of every row's KL, accumulated block by block (no per-row array is kept)."""
        total = None
        for index in self.indices(student.ndim):
            block_total = xp.sum(self.block_values(xp, student, teacher, temperature, index)[0])
            total = block_total if total is None else total + block_total
        return total

    def gradients(
        self,
        xp: Namespace,
        student: Array,
        teacher: Array,
        temperature: float | Array,
        row_values: Sequence[Array],
        index: tuple[slice, ...],
        target_gradient: bool,
    ) -> tuple[Array, Array | None]:
        """Gradients of the summed row KL with respect to the scaled logits of block ``index``
        (the target's only when ``target_gradient``), from the saved ``row_values``."""
        return kl_logits_gradients(
            xp,
            scaled(student[index], temperature),
            scaled(teacher[index], temperature),
            tuple(values[index] for values in row_values),
            target_gradient,
        )


def _laid_out_shape(shape: tuple[int, ...], axis: int) -> tuple[int, ...]:
    """``(rows_before, vocabulary)``, or ``(rows_before, vocabulary, rows_after)`` when the
    distribution axis is not last: adjacent axes merged (a view of contiguous arrays)."""
    before, after = math.prod(shape[:axis]), math.prod(shape[axis + 1 :])
    return (before, shape[axis]) if after == 1 else (before, shape[axis], after)


def _known_size(shape: tuple[int | None, ...]) -> int | None:
    """The number of elements, or None when a size is unknown (lazy Dask)."""
    if any(not isinstance(size, int) for size in shape):
        return None
    return math.prod(shape)  # type: ignore[arg-type]


def _divisor(shape: tuple[int | None, ...], reduction: str) -> float:
    """The number of elements ('mean') or the size of axis 0 ('batchmean'); NaN if 0."""
    count = math.prod(shape) if reduction == "mean" else shape[0]  # type: ignore[arg-type]
    return float("nan") if count == 0 else float(count)  # type: ignore[arg-type]


def kl_div_logits_values(
    xp: Namespace,
    student: Array,
    teacher: Array,
    temperature: float | Array,
    reduction: str,
    axis: int,
) -> Array:
    """KL(softmax(teacher / T) ‖ softmax(student / T)), pointwise terms reduced by ``reduction``.

    ``student`` and ``teacher`` are prepared and broadcast to one shape, ``axis`` normalised.
    'sum', 'mean' (over all elements) and 'batchmean' (over ``shape[0]``) stream over blocks of
    rows; 'none' returns the terms.
    """
    check_reduction(reduction, POINTWISE)
    if reduction == "none":
        log_q = log_softmax(xp, scaled(student, temperature), axis)
        log_p = log_softmax(xp, scaled(teacher, temperature), axis)
        return xlog_ratio_log(xp, log_p, log_q)
    shape = tuple(student.shape)
    size = _known_size(shape)
    if size is None or size <= BLOCK_ELEMENTS or is_lazy(student, teacher):
        total = summed_row_kl(xp, student, teacher, temperature, RowBlocks(axis))
    else:
        laid_shape = _laid_out_shape(shape, axis)
        laid_student, laid_teacher = (
            xp.reshape(student, laid_shape),
            xp.reshape(teacher, laid_shape),
        )
        total = summed_row_kl(
            xp, laid_student, laid_teacher, temperature, RowBlocks.laid_out(laid_shape)
        )
    return total if reduction == "sum" else total / _divisor(shape, reduction)
