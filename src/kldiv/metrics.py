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

from collections.abc import Callable

from ._array import Array, Context, prepare
from ._distributed import process_group, sync_state
from ._metric_state import MetricState, batch_state, check_same_place, combine
from ._reduce import ROWWISE, reduce_rows
from ._validate import check_reduction, resolve_validate_args
from .discrete import js_divergence, kl_divergence

__all__ = ["JensenShannonDivergence", "KLDivergence", "MetricState"]


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
        check_same_place(self._state, context.xp, context.device, "p and q")
        validate = resolve_validate_args(self.validate_args, "metrics")
        rows = type(self)._divergence(
            p, q, log_prob=self._log_prob, reduction="none", axis=self._axis, validate_args=validate
        )
        return context, rows

    def _add(self, p: Array, q: Array) -> tuple[Context, Array]:
        context, rows = self._batch(p, q)
        batch = batch_state(context, rows, self._keeps_rows)
        self._state = combine(self._state, batch, "p and q")
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
        self._state = combine(self._state, other._state, "the other metric's arrays")
        return self

    def sync(self) -> _StreamingDivergence:
        """All-reduce the state over ``torch.distributed`` (no-op without a process group).

        Every rank must call it; afterwards every rank holds the state of one metric fed every
        rank's batches, in rank order. ``unsync()`` restores the rank's own state. Torch states
        use ``all_reduce`` (``all_gather`` for 'none'); other libraries exchange their states
        with ``all_gather_object``. Returns ``self``.
        """
        dist = process_group()
        if dist is None:
            return self
        if self._local is not None:
            raise RuntimeError("the metric is already synced: call unsync() first")
        synced = sync_state(dist, self._state, self._config())
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
