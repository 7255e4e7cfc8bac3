"""``sync()`` of the streaming metrics over ``torch.distributed``.

torch is never imported here: if the caller has not imported it, no process group can exist.
"""

from __future__ import annotations

import datetime
import sys
from typing import Any

from ._array import Array
from ._metric_state import MetricState, combine, library

__all__ = ["process_group", "sync_state"]


def process_group() -> Any:
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
    kind = library(state.xp)
    rows = tuple(state.rows[0].shape[1:]) if state.rows else None
    return kind, state.dtype, rows


def sync_state(
    dist: Any, state: MetricState, config: tuple[str, bool, str], timeout: float | None = None
) -> MetricState:
    """The state of every rank combined, in rank order (collective: all ranks call it).

    ``timeout`` (seconds; None: the process group's own timeout) bounds the wait for the other
    ranks to reach the call: on gloo a monitored barrier names the ranks that did not arrive.
    A rank that dies or never arrives gives a ``RuntimeError`` naming this rank and the cause;
    ranks whose metrics differ in configuration, library, row shape or dtype give a
    ``ValueError`` or ``TypeError`` naming each rank's value (on every rank, so none is left
    waiting).
    """
    rank, world = dist.get_rank(), dist.get_world_size()
    try:
        _wait_for_every_rank(dist, timeout)
        described: list[Any] = [None] * world
        dist.all_gather_object(described, (config, _describe(state)))
        _check_compatible(described)
        return _exchange(dist, state, config, described)
    except RuntimeError as error:
        raise RuntimeError(
            f"sync() failed on rank {rank} of {world}: another rank died or did not call sync() "
            f"in time ({_timeout_text(dist, timeout)}): {error}"
        ) from error


def _timeout_text(dist: Any, timeout: float | None) -> str:
    if timeout is not None:
        return f"timeout={timeout} s"
    default = getattr(dist, "default_pg_timeout", None)
    return "the process group's timeout" + (f", {default} by default" if default else "")


def _wait_for_every_rank(dist: Any, timeout: float | None) -> None:
    """Return once every rank has reached ``sync()``; a ``RuntimeError`` naming the missing ranks
    after ``timeout`` seconds (gloo; other backends wait under the process group's timeout)."""
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0 or None, got {timeout!r}")
    if dist.get_backend() == "gloo":
        dist.monitored_barrier(timeout=datetime.timedelta(seconds=timeout), wait_all_ranks=True)
    else:
        dist.barrier()


def _check_compatible(described: list[Any]) -> None:
    """The ranks' metrics must agree on configuration, library, row shape and dtype: an error
    naming each rank's value otherwise (raised alike on every rank)."""
    configs = [config for config, _ in described]
    if any(config != configs[0] for config in configs):
        raise ValueError(
            "cannot sync metrics configured differently across ranks (class, log_prob, "
            f"reduction): {_by_rank(configs)}"
        )
    kinds = [kind for _, (kind, _, _) in described]
    if len(set(kinds) - {"empty"}) > 1:
        raise TypeError(
            f"cannot sync: ranks hold states of different array libraries: {_by_rank(kinds)}"
        )
    shapes = [shape for _, (_, _, shape) in described]
    if len({shape for shape in shapes if shape is not None}) > 1:
        raise ValueError(
            "cannot sync: the ranks' rows differ in shape beyond the first axis: "
            f"{_by_rank(shapes)}"
        )
    dtypes = [dtype for _, (_, dtype, _) in described]
    if len({str(dtype) for dtype in dtypes if dtype is not None}) > 1:
        raise TypeError(
            "cannot sync: the ranks' states differ in dtype (cast the inputs to one dtype "
            f"before update(), or merge() the states explicitly to promote): {_by_rank(dtypes)}"
        )


def _by_rank(values: list[Any]) -> str:
    return ", ".join(f"rank {rank}: {value!r}" for rank, value in enumerate(values))


def _exchange(
    dist: Any, state: MetricState, config: tuple[str, bool, str], described: list[Any]
) -> MetricState:
    kinds = {kind for _, (kind, _, _) in described} - {"empty"}
    if kinds == {"torch"}:
        return _sync_torch(dist, state, config[2] == "none", [info for _, info in described])
    if not kinds:
        return state
    states: list[Any] = [
        None
    ] * dist.get_world_size()  # a state pickles: its namespace is resolved again
    dist.all_gather_object(states, state)
    merged = MetricState()
    for rank_state in states:
        merged = combine(merged, rank_state, "another rank's state")
    return merged


def _sync_torch(
    dist: Any, state: MetricState, keep_rows: bool, described: list[Any]
) -> MetricState:
    """All-reduce sum and count (all-gather the rows for 'none') of torch states."""
    torch = sys.modules["torch"]
    dtype = next(dtype for _, dtype, _ in described if dtype is not None)
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
    return MetricState.from_arrays(total, count, rows, dtype)


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
