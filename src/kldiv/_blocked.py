"""Row-blocked evaluation: a reduction along the distribution axis, a block of rows at a time.

Every axis but the distribution axis indexes a row. The arrays are laid out as ``(before, size,
after)`` (a view for contiguous arrays) and cut along the longer row axis into blocks of about
:data:`BLOCK_ELEMENTS` elements, so each temporary of a kernel stays the size of a block (it
stays in cache, and the extra memory does not grow with the input). Only the per-row values of
each block outlive it.

Blocking is for libraries that run each operation at once (see
:func:`kldiv._array.runs_eagerly`); Dask keeps its own chunks and XLA fuses whole graphs, so
they get the whole array as one block, as do arrays that would need broadcasting first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from ._array import Array, Namespace, runs_eagerly

__all__ = ["BLOCK_ELEMENTS", "blocked_rows", "row_blocks"]

#: Elements per block (512 KiB of float64): small enough for the temporaries of a kernel to stay
#: in a core's cache. Tests shrink it to exercise the blocking on small inputs.
BLOCK_ELEMENTS = 1 << 16

RowKernel = Callable[..., Array]


def row_blocks(shape: Sequence[int], axis: int) -> tuple[tuple[int, ...], int, int]:
    """The laid-out shape of ``shape``, ``(before, size)`` or ``(before, size, after)``, the axis
    to cut (0 or 2) and the number of its entries per block."""
    before, size, after = math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :])
    cut = 2 if after > before else 0
    per_entry = size * (before if cut == 2 else after)
    laid_shape = (before, size) if after == 1 else (before, size, after)
    return laid_shape, cut, max(1, BLOCK_ELEMENTS // max(per_entry, 1))


def blocked_rows(xp: Namespace, kernel: RowKernel, arrays: Sequence[Array], axis: int) -> Array:
    """``kernel(*arrays, axis=axis)``, evaluated a block of rows at a time where that pays.

    ``kernel`` maps arrays of one shape to their per-row values (``axis`` removed); it is called
    on blocks laid out as ``(rows, size)`` or ``(rows, size, rows_after)`` with ``axis=1``. The
    result is the same as one call on the whole arrays.
    """
    shape = tuple(arrays[0].shape)
    same_shape = all(tuple(array.shape) == shape for array in arrays)
    sizes_known = all(isinstance(size, int) for size in shape)
    if not (same_shape and sizes_known and runs_eagerly(*arrays)):
        return kernel(*arrays, axis=axis)
    if math.prod(shape) <= BLOCK_ELEMENTS or 0 in shape:
        return kernel(*arrays, axis=axis)
    laid_shape, cut, step = row_blocks(shape, axis)
    laid = [xp.reshape(array, laid_shape) for array in arrays]
    entries = laid_shape[cut]
    parts = []
    for start in range(0, entries, step):
        block = slice(start, start + step)
        index = (block, slice(None)) if cut == 0 else (slice(None), slice(None), block)
        parts.append(kernel(*(array[index] for array in laid), axis=1))
    rows = parts[0] if len(parts) == 1 else xp.concat(parts, axis=0 if cut == 0 else 1)
    return xp.reshape(rows, shape[:axis] + shape[axis + 1 :])
