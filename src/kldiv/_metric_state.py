"""The state of a streaming metric and its algebra: one batch's rows and state, two states combined.

A :class:`MetricState` is immutable: an update or a merge builds a new one, so a failed check
leaves the old state exactly as it was. It pickles and deep-copies: only its arrays and dtype
travel, and the namespace and device are resolved again from the arrays on the way back.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ._array import Array, Context, Namespace, ignore_fp_warnings, prepare
from ._reduce import reduce_rows
from ._rows import prepare_rows
from ._validate import resolve_validate_args

__all__ = [
    "MetricState",
    "batch_rows",
    "batch_state",
    "check_same_place",
    "combine",
    "library",
    "restore_state",
    "state_entries",
]

#: The keys of a metric's ``state_dict()`` that hold its state (the others: its configuration).
STATE_KEYS = ("library", "dtype", "sum", "count", "rows")

#: A row step of :mod:`kldiv._rows`: ``(context, p, q, axis, log_prob) -> per-row values``.
RowStep = Callable[[Context, Array, Array, int, bool], Array]


@dataclass(frozen=True)
class MetricState:
    """What a metric has accumulated; immutable (an update builds a new one).

    Parameters
    ----------
    sum : array or None
        0-d, Σ of every per-row divergence seen, in the compute dtype (float32 at least).
    count : array or None
        0-d of the default integer dtype: the number of rows seen.
    rows : tuple of arrays
        The per-row values of each batch, in order (kept for ``reduction='none'`` only).
    dtype : dtype or None
        The dtype ``compute()`` returns.
    xp : namespace or None
        The array namespace of every array above.
    device : device or None
        Their device.

    Every field is None (``rows`` empty) before the first update. Pickling and
    :func:`copy.deepcopy` keep ``sum``, ``count``, ``rows`` and ``dtype`` and resolve ``xp`` and
    ``device`` again from the arrays (see :meth:`from_arrays`).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> state = MetricState.from_arrays(xp.asarray(1.5), xp.asarray(3), (), xp.float64)
    >>> state.xp is xp, state.empty
    (True, False)
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

    @classmethod
    def from_arrays(
        cls, sum: Array, count: Array, rows: tuple[Array, ...] | list[Array], dtype: Any
    ) -> MetricState:
        """A state of these arrays, its namespace and device resolved from them.

        Parameters
        ----------
        sum, count : array or None
            The 0-d running sum and row count (both None: the empty state).
        rows : sequence of arrays
            The per-row values of each batch (empty unless ``reduction='none'``).
        dtype : dtype or None
            The dtype ``compute()`` returns.

        Returns
        -------
        MetricState
            A ``TypeError``/``ValueError`` names the arguments that are not arrays, or mix
            libraries or devices.

        Examples
        --------
        >>> import array_api_strict as xp
        >>> MetricState.from_arrays(None, None, (), None).empty
        True
        """
        if sum is None and count is None and not rows:
            return cls()
        named = {"sum": sum, "count": count} | {f"rows[{i}]": row for i, row in enumerate(rows)}
        numbers = [name for name, value in named.items() if type(value) in (bool, int, float)]
        if numbers:
            raise TypeError(f"a metric's state holds arrays only: {', '.join(numbers)} not one")
        context, _ = prepare(**named)
        return cls(sum, count, tuple(rows), dtype, context.xp, context.device)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (and deep-copy) the arrays and dtype; the namespace is found again."""
        return type(self).from_arrays, (self.sum, self.count, self.rows, self.dtype)

    def finish(self, result: Array) -> Array:
        """``result`` cast to the dtype ``compute()`` returns."""
        return Context(self.xp, self.device, self.dtype, result.dtype).finish(result)


def library(xp: Namespace) -> str:
    """The library name of namespace ``xp``: 'numpy', 'torch', 'jax.numpy', 'array_api_strict'."""
    return getattr(xp, "__name__", type(xp).__name__).removeprefix("array_api_compat.")


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


@ignore_fp_warnings
def batch_rows(
    row_step: RowStep, p: Array, q: Array, *, log_prob: bool, axis: int, validate_args: bool | None
) -> tuple[Context, Array]:
    """A batch's context and per-row values, by the row step the functional API uses.

    The namespace is resolved once; value checks follow ``validate_args`` (default: the
    metrics' default). The rows are in the compute dtype.
    """
    validate = resolve_validate_args(validate_args, "metrics")
    context, (p, q), axis = prepare_rows(axis, log_prob, validate, p=p, q=q)
    return context, row_step(context, p, q, axis, log_prob)


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
    """The state of one batch of per-row values (in ``context``'s compute dtype).

    The sum stays in the compute dtype; kept rows are stored in the result dtype.
    """
    xp = context.xp
    if rows.ndim == 0:
        rows = xp.reshape(rows, (1,))
    integer = xp.__array_namespace_info__().default_dtypes(device=context.device)["integral"]
    return MetricState(
        sum=reduce_rows(xp, rows, "sum"),
        count=_row_count(xp, rows, integer, context.device),
        rows=(context.finish(rows),) if keep_rows else (),
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


def state_entries(state: MetricState) -> dict[str, Any]:
    """The state part of a metric's ``state_dict()``: library and dtype names, then arrays."""
    return {
        "library": None if state.empty else library(state.xp),
        "dtype": None if state.empty else str(state.dtype).rsplit(".", 1)[-1],
        "sum": state.sum,
        "count": state.count,
        "rows": list(state.rows),
    }


def restore_state(own: dict[str, Any], saved: dict[str, Any]) -> MetricState:
    """The state a ``state_dict()`` ``saved`` holds, once its keys and configuration (every key
    :func:`state_entries` does not make) match the metric's own ``state_dict()``, ``own``."""
    if not isinstance(saved, dict):
        raise TypeError(f"state_dict must be a dict, got {type(saved).__name__}")
    missing = [key for key in own if key not in saved]
    unexpected = [key for key in saved if key not in own]
    if missing or unexpected:
        raise ValueError(f"state_dict keys differ: missing {missing}, unexpected {unexpected}")
    differ = [
        f"{key} is {saved[key]!r} there, {own[key]!r} here"
        for key in own
        if key not in STATE_KEYS and saved[key] != own[key]
    ]
    if differ:
        raise ValueError(f"state_dict does not match this metric: {'; '.join(differ)}")
    if saved["library"] is None:
        return MetricState()
    state = MetricState.from_arrays(saved["sum"], saved["count"], tuple(saved["rows"]), None)
    if library(state.xp) != saved["library"]:
        raise TypeError(
            f"state_dict records {saved['library']} arrays but holds {library(state.xp)} arrays"
        )
    dtype = getattr(state.xp, str(saved["dtype"]), None)
    if not _is_real_floating(state.xp, dtype):
        raise ValueError(
            f"state_dict records dtype {saved['dtype']!r}, not a real floating dtype of "
            f"{saved['library']}"
        )
    return replace(state, dtype=dtype)


def _is_real_floating(xp: Any, dtype: Any) -> bool:
    if dtype is None:  # some libraries read None as their default dtype
        return False
    try:
        return bool(xp.isdtype(dtype, "real floating"))
    except (TypeError, ValueError, AttributeError):  # not a dtype at all
        return False
