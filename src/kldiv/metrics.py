"""Streaming divergences: :class:`KLDivergence` and :class:`JensenShannonDivergence`.

torchmetrics' semantics (``update`` / ``compute`` / ``reset``), for any array library, plus
``merge`` (combine two metrics: map-reduce, Dask, several data loaders) and ``sync`` (all-reduce
over ``torch.distributed``). The state is a :class:`MetricState` of arrays in the inputs'
namespace and on their device: the running sum of the per-row divergences and the row count, and
for ``reduction='none'`` the per-row values themselves. An update is checked in full before the
state changes, and the new state replaces the old one in a single assignment: a bad update raises
and leaves everything accumulated as it was.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ._array import Array, Context, Namespace, prepare
from ._reduce import ROWWISE, reduce_rows
from ._validate import check_reduction, resolve_validate_args
from .discrete import js_divergence, kl_divergence

__all__ = ["JensenShannonDivergence", "KLDivergence", "MetricState"]

_DEFAULT_VALIDATE = True


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


def _library(xp: Namespace) -> str:
    return getattr(xp, "__name__", type(xp).__name__)


def _check_same_place(state: MetricState, xp: Namespace, device: Any, what: str) -> None:
    """``TypeError``/``ValueError`` when ``what`` is not in ``state``'s library/on its device."""
    if state.empty:
        return
    if xp is not state.xp:
        raise TypeError(
            f"{what} are {_library(xp)} arrays but the metric holds {_library(state.xp)} "
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


def _batch_state(context: Context, rows: Array, keep_rows: bool) -> MetricState:
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


def _combine(first: MetricState, second: MetricState, what: str) -> MetricState:
    """The state of both streams: sums and counts added, rows concatenated in order."""
    if second.empty:
        return first
    _check_same_place(first, second.xp, second.device, what)
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


class _StreamingDivergence:
    """The machinery shared by the metric classes; subclasses set ``_divergence``."""

    _divergence: Callable[..., Array]

    def __init__(
        self,
        *,
        log_prob: bool = False,
        reduction: str | None = "mean",
        axis: int = -1,
        validate_args: bool | None = None,
    ) -> None:
        if not isinstance(log_prob, bool):
            raise TypeError(f"log_prob must be a bool, got {log_prob!r}")
        check_reduction(reduction, ROWWISE)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"axis must be an int, got {type(axis).__name__}")
        self._log_prob = log_prob
        self._reduction = reduction
        self._axis = axis
        self.validate_args = validate_args
        self._state = MetricState()
        self._local: MetricState | None = None  # the rank's own state while synced

    log_prob = property(lambda self: self._log_prob, doc="Inputs are log-probabilities.")
    reduction = property(lambda self: self._reduction, doc="'mean', 'sum', 'none' or None.")
    axis = property(lambda self: self._axis, doc="The distribution axis of the inputs.")

    @property
    def state(self) -> MetricState:
        """The accumulated :class:`MetricState` (immutable; replaced by each update)."""
        return self._state

    @property
    def _keeps_rows(self) -> bool:
        return self._reduction is None or self._reduction == "none"

    def _config(self) -> tuple[str, bool, str]:
        return type(self).__name__, self._log_prob, str(self._reduction or "none")

    def _batch(self, p: Array, q: Array) -> tuple[Context, Array]:
        """Check a batch against the state and compute its per-row values; changes nothing."""
        if self._local is not None:
            raise RuntimeError("the metric is synced: call unsync() or reset() before update()")
        check_reduction(self._reduction, ROWWISE)
        context, _ = prepare(p=p, q=q)
        _check_same_place(self._state, context.xp, context.device, "p and q")
        validate = resolve_validate_args(self.validate_args, _DEFAULT_VALIDATE)
        rows = type(self)._divergence(
            p, q, log_prob=self._log_prob, reduction="none", axis=self._axis, validate_args=validate
        )
        return context, rows

    def _add(self, p: Array, q: Array) -> tuple[Context, Array]:
        context, rows = self._batch(p, q)
        batch = _batch_state(context, rows, self._keeps_rows)
        self._state = _combine(self._state, batch, "p and q")
        return context, rows

    def update(self, p: Array, q: Array) -> None:
        """Add a batch: ``p`` and ``q`` hold one distribution per row along ``axis``."""
        self._add(p, q)

    def __call__(self, p: Array, q: Array) -> Array:
        """``update(p, q)`` and return this batch's value (torchmetrics' ``forward``)."""
        context, rows = self._add(p, q)
        return context.finish(reduce_rows(context.xp, rows, self._reduction))

    forward = __call__

    def compute(self) -> Array:
        """The divergence over every row seen: their mean, sum, or all of them ('none')."""
        state = self._state
        if state.empty:
            raise RuntimeError(f"{type(self).__name__}.compute() called before any update()")
        xp = state.xp
        if self._keeps_rows:
            rows = [
                row if row.dtype == state.dtype else xp.astype(row, state.dtype)
                for row in state.rows
            ]
            return rows[0] if len(rows) == 1 else xp.concat(rows, axis=0)
        result = state.sum
        if self._reduction == "mean":  # no rows: NaN, without a 0/0 warning
            count = xp.astype(state.count, result.dtype)
            none = count == 0
            result = xp.where(none, xp.nan, result / xp.where(none, xp.ones_like(count), count))
        return result if result.dtype == state.dtype else xp.astype(result, state.dtype)

    def reset(self) -> None:
        """Forget everything accumulated (and any sync)."""
        self._state = MetricState()
        self._local = None

    def merge(self, other: _StreamingDivergence) -> _StreamingDivergence:
        """Add ``other``'s state to this one (``other`` is unchanged); returns ``self``.

        The result equals one metric fed both streams, this one's batches first.
        """
        if type(other) is not type(self):
            raise TypeError(f"cannot merge a {type(other).__name__} into a {type(self).__name__}")
        if other._config() != self._config():
            raise ValueError(
                f"cannot merge metrics configured differently: (log_prob, reduction) "
                f"{self._config()[1:]} and {other._config()[1:]}"
            )
        if self._local is not None:
            raise RuntimeError("the metric is synced: call unsync() or reset() before merge()")
        self._state = _combine(self._state, other._state, "the other metric's arrays")
        return self

    def sync(self) -> _StreamingDivergence:
        """All-reduce the state over ``torch.distributed`` (no-op without a process group).

        Every rank must call it; afterwards every rank holds the state of one metric fed every
        rank's batches, in rank order. ``unsync()`` restores the rank's own state. Torch states
        use ``all_reduce`` (``all_gather`` for 'none'); other libraries exchange their states
        with ``all_gather_object``. Returns ``self``.
        """
        dist = _process_group()
        if dist is None:
            return self
        if self._local is not None:
            raise RuntimeError("the metric is already synced: call unsync() first")
        synced = _sync_state(dist, self._state, self._config())
        self._local, self._state = self._state, synced
        return self

    def unsync(self) -> _StreamingDivergence:
        """Restore the state this rank had before ``sync()``; returns ``self``."""
        if self._local is not None:
            self._state, self._local = self._local, None
        return self

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(log_prob={self._log_prob}, reduction={self._reduction!r}, "
            f"axis={self._axis})"
        )


class KLDivergence(_StreamingDivergence):
    """KL(P ‖ Q) = Σ P log(P / Q) per row, accumulated over batches (torchmetrics' class).

    ``compute()`` gives the mean over all rows seen ('mean'), their sum ('sum'), or the rows
    ('none'/None). Arguments as in :func:`kldiv.kl_divergence`; ``validate_args`` defaults to
    True here (value checks are skipped on lazy arrays).

    >>> import array_api_strict as xp
    >>> metric = KLDivergence()
    >>> metric.update(xp.asarray([[0.36, 0.48, 0.16]]), xp.asarray([[1/3, 1/3, 1/3]]))
    >>> metric.update(xp.asarray([[0.5, 0.5, 0.0]]), xp.asarray([[0.5, 0.5, 0.0]]))
    >>> metric.compute()
    Array(0.0426498, dtype=array_api_strict.float64)
    """

    _divergence = staticmethod(kl_divergence)


class JensenShannonDivergence(_StreamingDivergence):
    """JS(P, Q) = ½ KL(P ‖ M) + ½ KL(Q ‖ M), M = (P + Q) / 2, per row, over batches.

    torchmetrics' class; arguments as in :class:`KLDivergence` and :func:`kldiv.js_divergence`.

    >>> import array_api_strict as xp
    >>> metric = JensenShannonDivergence(reduction="sum")
    >>> metric.update(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.0, 1.0]]))
    >>> metric.update(xp.asarray([[1.0, 0.0]]), xp.asarray([[1.0, 0.0]]))
    >>> metric.compute()
    Array(0.69314718, dtype=array_api_strict.float64)
    """

    _divergence = staticmethod(js_divergence)


# --- torch.distributed ---------------------------------------------------------------------------


def _process_group() -> Any:
    """``torch.distributed`` when a process group is initialised; None otherwise.

    torch is never imported here: if the caller has not imported it, no group can exist.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    dist = torch.distributed
    if not dist.is_available() or not dist.is_initialized():
        return None
    return dist


def _describe(state: MetricState) -> tuple[str, Any, tuple[int, ...] | None]:
    """(kind, dtype, row shape) of a state: what the ranks agree on before exchanging arrays."""
    if state.empty:
        return "empty", None, None
    kind = "torch" if state.xp is not None and "torch" in _library(state.xp) else "other"
    rows = tuple(state.rows[0].shape[1:]) if state.rows else None
    return kind, state.dtype, rows


def _sync_state(dist: Any, state: MetricState, config: tuple[str, bool, str]) -> MetricState:
    """The state of every rank combined, in rank order (collective: all ranks call it)."""
    world = dist.get_world_size()
    described: list[Any] = [None] * world
    dist.all_gather_object(described, (config, _describe(state)))
    if any(config != other for other, _ in described):
        configs = sorted({str(other) for other, _ in described})
        raise ValueError(f"cannot sync metrics configured differently across ranks: {configs}")
    kinds = {kind for _, (kind, _, _) in described} - {"empty"}
    if kinds == {"torch"}:
        return _sync_torch(dist, state, config[2] == "none", [info for _, info in described])
    if len(kinds) > 1:
        raise TypeError("cannot sync: ranks hold states of different array libraries")
    if not kinds:
        return state
    arrays: list[Any] = [None] * world  # modules do not pickle: send the arrays, not the state
    dist.all_gather_object(arrays, None if state.empty else (state.sum, state.count, state.rows))
    merged = MetricState()
    for (_, (_, dtype, _)), received in zip(described, arrays, strict=True):
        if received is not None:
            total, count, rows = received
            context, _ = prepare(sum=total)
            rank_state = MetricState(total, count, rows, dtype, context.xp, context.device)
            merged = _combine(merged, rank_state, "another rank's state")
    return merged


def _sync_torch(
    dist: Any, state: MetricState, keep_rows: bool, described: list[Any]
) -> MetricState:
    """All-reduce sum and count (all-gather the rows for 'none') of torch states."""
    torch = sys.modules["torch"]
    dtypes = [dtype for _, dtype, _ in described if dtype is not None]
    dtype = dtypes[0]
    for other in dtypes[1:]:
        dtype = torch.promote_types(dtype, other)
    acc_dtype = torch.promote_types(dtype, torch.float32)
    if state.empty:
        cuda = dist.get_backend() == "nccl"
        device = torch.device("cuda", torch.cuda.current_device()) if cuda else torch.device("cpu")
        total = torch.zeros((), dtype=acc_dtype, device=device)
        count = torch.zeros((), dtype=torch.int64, device=device)
    else:
        device = state.device
        total = state.sum.to(dtype=acc_dtype, copy=True)
        count = state.count.to(dtype=torch.int64, copy=True)
    dist.all_reduce(total)  # the buffers are this function's own copies
    dist.all_reduce(count)
    rows: tuple[Array, ...] = ()
    if keep_rows:
        trailing = next(shape for _, _, shape in described if shape is not None)
        rows = (_gather_rows(dist, torch, state, trailing, dtype, device),)
    context, _ = prepare(total=total)
    return MetricState(total, count, rows, dtype, context.xp, context.device)


def _gather_rows(
    dist: Any, torch: Any, state: MetricState, trailing: tuple[int, ...], dtype: Any, device: Any
) -> Array:
    """Every rank's rows, concatenated in rank order (padded to one length to all-gather)."""
    if state.rows:
        local = torch.cat([row.to(dtype=dtype) for row in state.rows], dim=0)
    else:
        local = torch.zeros((0, *trailing), dtype=dtype, device=device)
    length = torch.tensor([local.shape[0]], dtype=torch.int64, device=device)
    lengths = [torch.zeros_like(length) for _ in range(dist.get_world_size())]
    dist.all_gather(lengths, length)
    sizes = [int(size) for size in torch.cat(lengths).tolist()]
    padded = torch.zeros((max(sizes), *trailing), dtype=dtype, device=device)
    padded[: local.shape[0]] = local  # a fresh buffer, written before it is shared
    gathered = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(gathered, padded)
    return torch.cat([rows[:size] for rows, size in zip(gathered, sizes, strict=True)], dim=0)
