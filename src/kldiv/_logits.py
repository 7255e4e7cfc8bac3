"""KL divergence (and, through :class:`JSLogitBlocks`, the generalised Jensen–Shannon
divergence) between the softmaxes of two logit arrays, in bounded memory.

The logits are seen as rows: every axis but the distribution axis indexes a row. For a reduced
result the rows are processed in blocks of about :data:`BLOCK_ELEMENTS` elements: a block's
temporaries stay small and only per-row scalars (the row's KL and both log-sum-exps) outlive it,
so the extra memory does not grow with the vocabulary times the batch. ``'none'`` returns every
term, necessarily as large as the inputs.

Lazy and traced arrays (Dask, JAX under ``jit``, torch ``meta``) take the whole array as one
block: Dask keeps its own chunks, and XLA fuses the elementwise work itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ._array import Array, Namespace, is_lazy
from ._blocked import RowBlocks, known_size, laid_out_shape
from ._custom_grad import summed_row_kl
from ._elementwise import (
    js_logits_gradients,
    js_logits_rows,
    kl_logits_gradients,
    kl_logits_rows,
    log_softmax,
    xlog_ratio_log,
)
from ._reduce import POINTWISE, scale_total
from ._validate import check_reduction

__all__ = [
    "BLOCK_ELEMENTS",
    "JSLogitBlocks",
    "LogitBlocks",
    "kl_div_logits_values",
    "scaled",
    "summed_logit_rows",
]

#: What a row kernel keeps per row: the divergence and both log-sum-exps.
RowValues = tuple[Array, Array, Array]

#: Elements (rows x vocabulary) per block of the reduced pass: 4 MiB of float32. Tests shrink it
#: to exercise the blocking on small inputs.
BLOCK_ELEMENTS = 1 << 20


def scaled(logits: Array, temperature: float | Array) -> Array:
    """``logits / temperature``, without a pass over the data when the temperature is 1."""
    if isinstance(temperature, int | float) and temperature == 1:
        return logits
    return logits / temperature


def _scaled_block(
    student: Array, teacher: Array, temperature: float | Array, index: tuple[slice, ...]
) -> tuple[Array, Array]:
    """Block ``index`` of both logit arrays, divided by the temperature."""
    return scaled(student[index], temperature), scaled(teacher[index], temperature)


class LogitBlocks(RowBlocks):
    """:class:`~kldiv._blocked.RowBlocks` of two logit arrays, and what each block yields."""

    def for_shape(self, shape: tuple[int, ...]) -> LogitBlocks:
        """These blocks, cut to about :data:`BLOCK_ELEMENTS` for a laid-out ``shape``."""
        blocks = RowBlocks.laid_out(shape, BLOCK_ELEMENTS)
        return dataclasses.replace(
            self,
            axis=blocks.axis,
            blocked_axis=blocks.blocked_axis,
            rows=blocks.rows,
            chunk=blocks.chunk,
        )

    def block_values(
        self,
        xp: Namespace,
        student: Array,
        teacher: Array,
        temperature: float | Array,
        index: tuple[slice, ...],
    ) -> RowValues:
        """Per-row KL and both log-sum-exps (``axis`` kept) of the scaled block ``index``."""
        return self.rows_kernel(xp, *_scaled_block(student, teacher, temperature, index))

    def rows_kernel(self, xp: Namespace, student: Array, teacher: Array) -> RowValues:
        """The per-row values of one block of scaled logits (the divergence first)."""
        return kl_logits_rows(xp, student, teacher, self.axis)

    def gradient_kernel(
        self, xp: Namespace, logits: tuple[Array, Array], row_values: RowValues, target: bool
    ) -> tuple[Array, Array | None]:
        """The gradients of one block of scaled (student, teacher) ``logits`` from its
        :meth:`rows_kernel` values (the teacher's only when ``target``)."""
        return kl_logits_gradients(xp, *logits, row_values, target)

    def row_values(
        self, xp: Namespace, student: Array, teacher: Array, temperature: float | Array
    ) -> RowValues:
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
        logits = _scaled_block(student, teacher, temperature, index)
        block_rows = tuple(values[index] for values in row_values)
        return self.gradient_kernel(xp, logits, block_rows, target_gradient)


@dataclasses.dataclass(frozen=True)
class JSLogitBlocks(LogitBlocks):
    """:class:`LogitBlocks` whose rows hold the generalised Jensen–Shannon divergence with
    mixture weight ``beta`` on the target (see :func:`kldiv.js_div_logits`)."""

    beta: float = 0.5

    def rows_kernel(self, xp: Namespace, student: Array, teacher: Array) -> RowValues:
        """Per-row JSD and both log-sum-exps of one block of scaled logits."""
        return js_logits_rows(xp, student, teacher, self.beta, self.axis)

    def gradient_kernel(
        self, xp: Namespace, logits: tuple[Array, Array], row_values: RowValues, target: bool
    ) -> tuple[Array, Array | None]:
        """The JSD's gradients of one block of scaled logits."""
        return js_logits_gradients(xp, *logits, self.beta, row_values, self.axis, target)


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
    total = summed_logit_rows(xp, student, teacher, temperature, LogitBlocks(axis))
    return scale_total(total, tuple(student.shape), reduction)


def summed_logit_rows(
    xp: Namespace, student: Array, teacher: Array, temperature: float | Array, blocks: LogitBlocks
) -> Array:
    """The sum over rows of what ``blocks`` yields per row (``blocks.axis``: the vocabulary):
    small, lazy or traced arrays as one block, others laid out and cut into blocks of rows."""
    shape = tuple(student.shape)
    size = known_size(shape)
    if size is None or size <= BLOCK_ELEMENTS or is_lazy(student, teacher):
        return summed_row_kl(xp, student, teacher, temperature, blocks)
    laid_shape = laid_out_shape(shape, blocks.axis)
    laid_student, laid_teacher = xp.reshape(student, laid_shape), xp.reshape(teacher, laid_shape)
    return summed_row_kl(xp, laid_student, laid_teacher, temperature, blocks.for_shape(laid_shape))
