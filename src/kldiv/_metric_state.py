"""The state of a streaming metric and its algebra: one batch's state, and two states combined.

A :class:`MetricState` is immutable: an update or a merge builds a new one, so a failed check
leaves the old state exactly as it was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from ._array import Array, Context, Namespace

__all__ = ["MetricState", "batch_state", "check_same_place", "combine", "library"]


@dataclass(frozen=True)
class MetricState:
    """What a metric has accumulated; immutable (an update builds a new one).

    ``sum``: 0-d array, Σ of every per-row divergence seen (float32 at least); ``count``: 0-d
    array of the default integer dtype, the number of rows; ``rows``: the per-row values of each
    batch (kept for ``reduction='none'`` only); ``dtype``: the dtype ``compute()`` returns. All
    arrays live in namespace ``xp`` on ``device``; every field is None (``rows`` empty) before
    the first update.
    """

    sum: Array = None
    count: Array = None
    rows: tuple[Array, ...] = ()
    dtype: Any = None
    xp: Namespace = None
    device: Any = None

    @property
    def empty(self) -> bool:
        """True before the first update."""
        return self.count is None


def library(xp: Namespace) -> str:
    return getattr(xp, "__name__", type(xp).__name__)


def check_same_place(state: MetricState, xp: Namespace, device: Any, what: str) -> None:
    """``TypeError``/``ValueError`` when ``what`` is not in ``state``'s library/on its device."""
    if state.empty:
        return
    if xp is not state.xp:
        raise TypeError(
            f"{what} are {library(xp)} arrays but the metric holds {library(state.xp)} "
            "arrays; call reset() before switching libraries"
        )
    if device != state.device:
        raise ValueError(
            f"{what} are on device {device!r} but the metric's state is on {state.device!r}; "
            "call reset() before switching devices"
        )


def _check_row_shapes(state: MetricState, rows: tuple[Array, ...], what: str) -> None:
    """For 'none': every batch of rows must share its shape beyond the first axis."""
    known = state.rows[:1] + rows
    shapes = {tuple(batch.shape[1:]) for batch in known}
    if len(shapes) > 1:
        raise ValueError(
            f"{what} have batch shape {tuple(rows[0].shape)}, whose trailing axes do not match "
            f"the batches already held ({tuple(known[0].shape)}); with reduction='none' only the "
            "first batch axis may change between updates"
        )


def _row_count(xp: Namespace, rows: Array, dtype: Any, device: Any) -> Array:
    sizes = tuple(rows.shape)
    if any(size is None or (isinstance(size, float) and math.isnan(size)) for size in sizes):
        return xp.sum(xp.ones_like(rows, dtype=dtype))  # unknown (lazy) shape: count lazily
    return xp.asarray(math.prod(sizes), dtype=dtype, device=device)


def batch_state(context: Context, rows: Array, keep_rows: bool) -> MetricState:
    """The state of one batch of per-row values."""
    xp = context.xp
    if rows.ndim == 0:
        rows = xp.reshape(rows, (1,))
    integer = xp.__array_namespace_info__().default_dtypes(device=context.device)["integral"]
    acc = rows if rows.dtype == context.compute_dtype else xp.astype(rows, context.compute_dtype)
    return MetricState(
        sum=xp.sum(acc),
        count=_row_count(xp, rows, integer, context.device),
        rows=(rows,) if keep_rows else (),
        dtype=context.dtype,
        xp=xp,
        device=context.device,
    )


def combine(first: MetricState, second: MetricState, what: str) -> MetricState:
    """The state of both streams: sums and counts added, rows concatenated in order."""
    if second.empty:
        return first
    check_same_place(first, second.xp, second.device, what)
    if first.empty:
        return second
    _check_row_shapes(first, second.rows, what)
    xp = first.xp
    return replace(
        first,
        sum=first.sum + second.sum,
        count=first.count + second.count,
        rows=first.rows + second.rows,
        dtype=xp.result_type(first.dtype, second.dtype),
    )
