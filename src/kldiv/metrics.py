"""Streaming divergences: :class:`KLDivergence` and :class:`JensenShannonDivergence`.

torchmetrics' semantics (``update`` / ``compute`` / ``reset``), for any array library, plus
``merge`` (combine two metrics: map-reduce, Dask, several data loaders), ``sync`` (all-reduce
over ``torch.distributed``) and checkpoints (``state_dict`` / ``load_state_dict``, pickle,
:func:`copy.deepcopy`). The state is a :class:`MetricState` of arrays in the inputs' namespace
and on their device: the running sum of the per-row divergences and the row count, and for
``reduction='none'`` the per-row values themselves. An update computes its rows with the row step
of the functional API (:func:`kldiv._rows.kl_rows`, :func:`kldiv._rows.js_rows`), is checked
in full before the state changes, and the new state replaces the old one in a single assignment:
a bad update raises and leaves everything accumulated as it was.
"""

from __future__ import annotations

from typing import Any

from ._array import Array, Context, ignore_fp_warnings
from ._distributed import process_group, sync_state
from ._docs import METRIC_PARAMETERS, filled, with_parameter_docs
from ._metric_state import (
    MetricState,
    RowStep,
    batch_rows,
    batch_state,
    check_same_place,
    combine,
    restore_state,
    state_entries,
)
from ._reduce import ROWWISE, reduce_rows
from ._rows import js_rows, kl_rows
from ._validate import check_reduction

__all__ = ["JensenShannonDivergence", "KLDivergence", "MetricState"]

#: Fills ``{returns_self}``: the Returns section of the methods that return the metric itself.
_returns_self = filled(returns_self="Returns\n-------\nself")


class _StreamingDivergence:
    """The machinery shared by the metric classes; subclasses set ``_row_step``."""

    _row_step: RowStep

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

    @ignore_fp_warnings
    def _add(self, p: Array, q: Array) -> tuple[Context, Array]:
        """Add a batch; returns its context and per-row values (the state is replaced at once)."""
        if self._local is not None:
            raise RuntimeError("the metric is synced: call unsync() or reset() before update()")
        check_reduction(self._reduction, ROWWISE)
        context, rows = batch_rows(
            type(self)._row_step,
            p,
            q,
            log_prob=self._log_prob,
            axis=self._axis,
            validate_args=self.validate_args,
        )
        check_same_place(self._state, context.xp, context.device, "p and q")
        batch = batch_state(context, rows, self._keeps_rows)
        self._state = combine(self._state, batch, "p and q")
        return context, rows

    def update(self, p: Array, q: Array) -> None:
        """Add a batch of distributions to the state.

        Parameters
        ----------
        p, q : array
            Probabilities (or log-probabilities with ``log_prob=True``), one distribution per
            row along ``axis``; the batch axes broadcast. Every update must use the library and
            device of the first one.

        Returns
        -------
        None
            The state is replaced only when the whole batch passes its checks.

        Examples
        --------
        >>> import array_api_strict as xp
        >>> metric = KLDivergence(reduction="sum")
        >>> metric.update(xp.asarray([[0.5, 0.5]]), xp.asarray([[0.25, 0.75]]))
        >>> metric.state.count
        Array(1, dtype=array_api_strict.int64)
        """
        self._add(p, q)

    def __call__(self, p: Array, q: Array) -> Array:
        """Add a batch, as :meth:`update`, and return this batch's value (``forward``).

        Parameters
        ----------
        p, q : array
            As in :meth:`update`: one distribution per row along ``axis``, the batch axes
            broadcast.

        Returns
        -------
        array
            The divergence of this batch alone, reduced as ``reduction`` says.

        Examples
        --------
        >>> import array_api_strict as xp
        >>> metric = JensenShannonDivergence(reduction="sum")
        >>> metric(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.0, 1.0]]))
        Array(0.69314718, dtype=array_api_strict.float64)
        """
        context, rows = self._add(p, q)
        return context.finish(reduce_rows(context.xp, rows, self._reduction))

    forward = __call__

    @ignore_fp_warnings
    def compute(self) -> Array:
        """The divergence over every row seen.

        Returns
        -------
        array
            Their mean ('mean'; NaN when every batch was empty), their sum ('sum'), or every
            row, batches concatenated along the first axis ('none'/None), in the inputs'
            promoted dtype, library and device.

        Examples
        --------
        >>> import array_api_strict as xp
        >>> metric = KLDivergence(reduction="none")
        >>> metric.update(xp.asarray([[0.5, 0.5]]), xp.asarray([[0.5, 0.5]]))
        >>> metric.update(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.5, 0.5]]))
        >>> metric.compute()
        Array([0.        , 0.69314718], dtype=array_api_strict.float64)
        """
        state = self._state
        if state.empty:
            raise RuntimeError(f"{type(self).__name__}.compute() called before any update()")
        xp = state.xp
        if self._keeps_rows:
            rows = [state.finish(batch) for batch in state.rows]
            every = rows[0] if len(rows) == 1 else xp.concat(rows, axis=0)
            return reduce_rows(xp, every, self._reduction)
        if self._reduction == "sum":
            return state.finish(state.sum)
        # reduce_rows' mean, with the row count an array: no rows gives NaN (0 / NaN), no warning
        count = xp.astype(state.count, state.sum.dtype)
        return state.finish(state.sum / xp.where(count == 0, xp.nan, count))

    def reset(self) -> None:
        """Forget everything accumulated (and any sync).

        Examples
        --------
        >>> import array_api_strict as xp
        >>> metric = KLDivergence()
        >>> metric.update(xp.asarray([[0.5, 0.5]]), xp.asarray([[0.25, 0.75]]))
        >>> metric.reset()
        >>> metric.state.empty
        True
        """
        self._state = MetricState()
        self._local = None

    @_returns_self
    def merge(self, other: _StreamingDivergence) -> _StreamingDivergence:
        """Add ``other``'s state to this one; ``other`` is unchanged.

        The result equals one metric fed both streams, this one's batches first.

        Parameters
        ----------
        other : same class as this metric
            Configured alike (``log_prob``, ``reduction``), holding arrays of the same library
            and device (or nothing).

        {returns_self}

        Examples
        --------
        >>> import array_api_strict as xp
        >>> left, right = KLDivergence(reduction="sum"), KLDivergence(reduction="sum")
        >>> left.update(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.5, 0.5]]))
        >>> right.update(xp.asarray([[0.0, 1.0]]), xp.asarray([[0.5, 0.5]]))
        >>> left.merge(right).compute()
        Array(1.38629436, dtype=array_api_strict.float64)
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

    @_returns_self
    def sync(self, *, timeout: float | None = None) -> _StreamingDivergence:
        """All-reduce the state over ``torch.distributed`` (no-op without a process group).

        Every rank must call it; afterwards every rank holds the state of one metric fed every
        rank's batches, in rank order. :meth:`unsync` restores the rank's own state. Torch
        states use ``all_reduce`` (``all_gather`` for 'none'); other libraries exchange their
        pickled states with ``all_gather_object``. Ranks must hold states of one dtype (a
        silent cast on the wire would change one rank's precision); :meth:`merge` promotes.

        Parameters
        ----------
        timeout : float or None, optional
            Seconds to wait for every rank to reach ``sync()`` (on gloo; other backends wait
            under the process group's timeout). None: the process group's timeout (the
            ``timeout`` of ``init_process_group``). A rank that died or did not arrive gives a
            ``RuntimeError`` naming this rank and the cause, and the state is left as it was;
            metrics that differ across ranks (configuration, library, row shape, dtype) give a
            ``ValueError``/``TypeError`` naming each rank's value, on every rank.

        {returns_self}

        Examples
        --------
        >>> import array_api_strict as xp
        >>> metric = KLDivergence()
        >>> metric.sync() is metric  # no process group here
        True
        """
        dist = process_group()
        if dist is None:
            return self
        if self._local is not None:
            raise RuntimeError("the metric is already synced: call unsync() first")
        synced = sync_state(dist, self._state, self._config(), timeout)
        self._local, self._state = self._state, synced
        return self

    @_returns_self
    def unsync(self) -> _StreamingDivergence:
        """Restore the state this rank had before :meth:`sync`.

        {returns_self}

        Examples
        --------
        >>> metric = KLDivergence()
        >>> metric.sync().unsync() is metric
        True
        """
        if self._local is not None:
            self._state, self._local = self._local, None
        return self

    def state_dict(self) -> dict[str, Any]:
        """The configuration and state as a plain dict, for checkpoints.

        Returns
        -------
        dict
            ``metric`` (the class name), ``log_prob``, ``reduction`` ('none' for None) and
            ``axis``: the configuration; ``library`` (e.g. 'numpy', 'torch'; None before any
            update) and ``dtype`` (the name of the dtype ``compute()`` returns, or None); ``sum``
            and ``count`` (0-d arrays, or None) and ``rows`` (a list of arrays, empty unless
            ``reduction='none'``). The arrays are the state's own, in its library and on its
            device; with torch the dict holds only tensors and Python values, so ``torch.save``
            and ``torch.load`` (``weights_only=True``) store it.

        Examples
        --------
        >>> import array_api_strict as xp
        >>> metric = KLDivergence(reduction="sum")
        >>> metric.update(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.5, 0.5]]))
        >>> saved = metric.state_dict()
        >>> saved["library"], saved["dtype"], saved["count"]
        ('array_api_strict', 'float64', Array(1, dtype=array_api_strict.int64))
        """
        name, log_prob, reduction = self._config()
        config = {"metric": name, "log_prob": log_prob, "reduction": reduction, "axis": self._axis}
        return config | state_entries(self._state)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Replace the state (and any sync) by one saved with :meth:`state_dict`.

        Parameters
        ----------
        state_dict : dict
            As :meth:`state_dict` returns it. Its configuration must equal this metric's, its
            arrays must all be of the library it records and on one device; the state is
            restored there (a ``ValueError`` or ``TypeError`` names what differs, and the
            metric is left as it was).

        Returns
        -------
        None

        Examples
        --------
        >>> import array_api_strict as xp
        >>> metric = KLDivergence(reduction="sum")
        >>> metric.update(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.5, 0.5]]))
        >>> restored = KLDivergence(reduction="sum")
        >>> restored.load_state_dict(metric.state_dict())
        >>> restored.compute()
        Array(0.69314718, dtype=array_api_strict.float64)
        >>> KLDivergence().load_state_dict(metric.state_dict())
        Traceback (most recent call last):
        ...
        ValueError: state_dict does not match this metric: reduction is 'sum' there, 'mean' here
        """
        self._state = restore_state(self.state_dict(), state_dict)
        self._local = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(log_prob={self._log_prob}, reduction={self._reduction!r}, "
            f"axis={self._axis})"
        )


@with_parameter_docs(*METRIC_PARAMETERS)
class KLDivergence(_StreamingDivergence):
    """KL(P ‖ Q) = Σ P log(P / Q) per row, accumulated over batches (torchmetrics' class).

    {parameters}

    Examples
    --------
    >>> import array_api_strict as xp
    >>> metric = KLDivergence()
    >>> metric.update(xp.asarray([[0.36, 0.48, 0.16]]), xp.asarray([[1/3, 1/3, 1/3]]))
    >>> metric.update(xp.asarray([[0.5, 0.5, 0.0]]), xp.asarray([[0.5, 0.5, 0.0]]))
    >>> metric.compute()
    Array(0.0426498, dtype=array_api_strict.float64)
    """

    _row_step = staticmethod(kl_rows)


@with_parameter_docs(*METRIC_PARAMETERS)
class JensenShannonDivergence(_StreamingDivergence):
    """JS(P, Q) = ½ KL(P ‖ M) + ½ KL(Q ‖ M), M = (P + Q) / 2, per row, over batches.

    torchmetrics' class, in nats.

    {parameters}

    Examples
    --------
    >>> import array_api_strict as xp
    >>> metric = JensenShannonDivergence(reduction="sum")
    >>> metric(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.0, 1.0]]))  # this batch's value
    Array(0.69314718, dtype=array_api_strict.float64)
    >>> metric.update(xp.asarray([[1.0, 0.0]]), xp.asarray([[1.0, 0.0]]))
    >>> metric.compute()
    Array(0.69314718, dtype=array_api_strict.float64)
    """

    _row_step = staticmethod(js_rows)
