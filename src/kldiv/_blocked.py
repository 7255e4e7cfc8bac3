"""Row-blocked evaluation: a reduction along the distribution axis, a block of rows at a time.

Every axis but the distribution axis indexes a row. The arrays are laid out as ``(before, size)``
or ``(before, size, after)`` (a view for contiguous arrays, see :func:`laid_out_shape`) and cut
along the longer row axis into blocks (:class:`RowBlocks`), so each temporary of a kernel stays
the size of a block (it stays in cache, and the extra memory does not grow with the input).
Only the per-row values of each block outlive it.

:func:`blocked_rows` blocks only for libraries that run each operation at once (see
:func:`kldiv._array.runs_eagerly`); Dask keeps its own chunks and XLA fuses whole graphs, so
they get the whole array as one block, as do arrays that would need broadcasting first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import array_api_compat as compat

from ._array import Array, Namespace, runs_eagerly

__all__ = ["BLOCK_ELEMENTS", "RowBlocks", "blocked_rows", "known_size", "laid_out_shape"]

#: Elements per block of :func:`blocked_rows` (1 MiB of float32, 2 MiB of float64): small enough
#: for a kernel's temporaries to stay near the core, large enough that the per-block dispatches
#: cost little (measured best among 2**15 to 2**20 on 4096x4096 inputs). Tests shrink it.
BLOCK_ELEMENTS = 1 << 18


@dataclass(frozen=True)
class RowBlocks:
    """How the rows of a laid-out array are cut into blocks.

    ``axis`` is the distribution axis; the blocks are consecutive slices of ``blocked_axis``,
    ``chunk`` of its ``rows`` each. A single block (``chunk >= rows``) takes the whole array, of
    any shape; several blocks need arrays laid out by :func:`laid_out_shape` (``axis`` 1).
    """

    axis: int
    blocked_axis: int = 0
    rows: int = 1
    chunk: int = 1

    @classmethod
    def laid_out(cls, shape: tuple[int, ...], block_elements: int) -> RowBlocks:
        """Blocks of about ``block_elements`` for a laid-out ``shape`` (the longer of its row
        axes is cut)."""
        blocked_axis = 2 if len(shape) == 3 and shape[2] > shape[0] else 0
        rows = shape[blocked_axis]
        elements_per_row = math.prod(shape) // max(rows, 1)
        return cls(1, blocked_axis, rows, max(1, block_elements // max(elements_per_row, 1)))

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


def laid_out_shape(shape: tuple[int, ...], axis: int) -> tuple[int, ...]:
    """``(rows_before, size)``, or ``(rows_before, size, rows_after)`` when the distribution
    axis is not last: adjacent axes merged (a view of contiguous arrays)."""
    before, after = math.prod(shape[:axis]), math.prod(shape[axis + 1 :])
    return (before, shape[axis]) if after == 1 else (before, shape[axis], after)


def known_size(shape: tuple[int | None, ...]) -> int | None:
    """The number of elements, or None when a size is unknown (lazy Dask)."""
    if any(not isinstance(size, int) for size in shape):
        return None
    return math.prod(shape)  # type: ignore[arg-type]


def blocked_rows(
    xp: Namespace, kernel: Callable[..., Array], arrays: Sequence[Array], axis: int
) -> Array:
    """``kernel(*arrays, axis=axis)``, evaluated a block of rows at a time where that pays.

    ``kernel`` maps arrays of one shape to their per-row values (``axis`` removed); it is called
    on blocks laid out as ``(rows, size)`` or ``(rows, size, rows_after)`` with ``axis=1``. The
    result is the same as one call on the whole arrays.
    """
    shape = tuple(arrays[0].shape)
    size = known_size(shape)
    if (
        size is None
        or size <= BLOCK_ELEMENTS
        or any(array.shape != arrays[0].shape for array in arrays)
        or not runs_eagerly(*arrays)
    ):
        return kernel(*arrays, axis=axis)
    laid_shape = laid_out_shape(shape, axis)
    blocks = RowBlocks.laid_out(laid_shape, BLOCK_ELEMENTS)
    laid = [xp.reshape(array, laid_shape) for array in arrays]
    rows = None
    for index in blocks.indices(len(laid_shape)):
        part = kernel(*(array[index] for array in laid), axis=1)
        if rows is None:  # each block's values are written in place: no pieces kept, which
            rows_shape = laid_shape[:1] + laid_shape[2:]  # would fragment the heap
            rows = xp.empty(rows_shape, dtype=part.dtype, device=compat.device(part))
        rows[index[:1] + index[2:]] = part
    return xp.reshape(rows, shape[:axis] + shape[axis + 1 :])
