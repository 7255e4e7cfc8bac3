"""Faults in ``sync()`` over ``torch.distributed``: 2 processes on gloo over 127.0.0.1.

- A rank that never reaches ``sync()``: the other raises a ``RuntimeError`` after
  ``sync(timeout=SYNC_TIMEOUT_S)``, naming the missing rank (gloo's monitored barrier).
- A rank killed before ``sync()``: the other raises a ``RuntimeError`` (the peer's connection
  closes, at the latest after the process group's ``GROUP_TIMEOUT_S``).
- Ranks whose metrics differ (reduction, library, row shape, dtype) raise on every rank,
  naming each rank's value.

Each rank writes what it saw to a JSON file; the processes are killed in a ``finally`` and
every wait is bounded (:data:`WAIT_S`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from .test_metrics_distributed import WORLD_SIZE, free_port, init_gloo

pytestmark = pytest.mark.distributed

SYNC_TIMEOUT_S = 3.0
GROUP_TIMEOUT_S = 30
WAIT_S = 150  # starting torch twice on a loaded machine, then the group timeout at most


def _fed_metric(library: str = "torch", reduction: str = "mean", **kwargs: Any) -> Any:
    import importlib

    import kldiv

    xp = importlib.import_module(f"array_api_compat.{library}")
    metric = kldiv.KLDivergence(reduction=reduction)
    rows = np.full((3, 4), 0.25) if not kwargs else np.full((3, 2, 4), 0.25)
    metric.update(xp.asarray(rows, **kwargs), xp.asarray(rows[::-1] * 2, **kwargs))
    return metric


def _attempt(action: Any) -> dict[str, Any]:
    """Run ``action``; what it raised (type and message) and how long it took."""
    start = time.monotonic()
    try:
        action()
    except Exception as error:
        outcome = {"error": type(error).__name__, "message": str(error)}
    else:
        outcome = {"error": None, "message": ""}
    return outcome | {"seconds": round(time.monotonic() - start, 2)}


def _save(out: str, rank: int, results: dict[str, Any]) -> None:
    Path(out, f"rank{rank}.json").write_text(json.dumps(results))


def _absent(rank: int, port: int, out: str) -> None:
    """Rank 1 never calls sync(); rank 0 calls it with a timeout."""
    init_gloo(rank, port, GROUP_TIMEOUT_S)
    if rank == 1:
        time.sleep(WAIT_S)  # killed by the test before it wakes
        return
    metric = _fed_metric()
    before = metric.state
    outcome = _attempt(lambda: metric.sync(timeout=SYNC_TIMEOUT_S))
    _save(out, rank, {"sync": outcome, "state_kept": metric.state is before})
    os._exit(0)  # the group is broken: leave without a collective teardown


def _killed(rank: int, port: int, out: str) -> None:
    """Rank 1 is killed (SIGKILL) before sync(); rank 0 calls sync() with the group's timeout."""
    init_gloo(rank, port, GROUP_TIMEOUT_S)
    if rank == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    metric = _fed_metric()
    _save(out, rank, {"sync": _attempt(metric.sync)})
    os._exit(0)


def _incompatible(rank: int, port: int, out: str) -> None:
    """Mismatched metrics, each refused on both ranks."""
    dist = init_gloo(rank, port, GROUP_TIMEOUT_S)
    import torch

    results = {
        "reduction": _attempt(_fed_metric(reduction=("mean", "sum")[rank]).sync),
        "library": _attempt(_fed_metric(library=("torch", "numpy")[rank]).sync),
        "row_shape": _attempt(
            _fed_metric(reduction="none", **({"dtype": torch.float64} if rank else {})).sync
        ),
    }
    results["dtype"] = _attempt(_fed_metric(dtype=(torch.float64, torch.float32)[rank]).sync)
    _save(out, rank, results)
    dist.destroy_process_group()


def run_ranks(scenario: str, tmp_path: Path) -> list[dict[str, Any] | None]:
    """Start both ranks of ``scenario``; wait (bounded) for rank 0, kill what remains."""
    port = free_port()
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "MASTER_ADDR": "127.0.0.1",
        "GLOO_SOCKET_IFNAME": "lo",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for rank in range(WORLD_SIZE):
            code = (
                f"from tests.test_distributed_faults import {scenario}; "
                f"{scenario}({rank}, {port}, {str(tmp_path)!r})"
            )
            with open(tmp_path / f"rank{rank}.log", "wb") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-c", code], cwd=root, env=env, stdout=log, stderr=log
                    )
                )
        processes[0].wait(timeout=WAIT_S)
        if scenario == "_incompatible":
            processes[1].wait(timeout=WAIT_S)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)
    saved = [tmp_path / f"rank{rank}.json" for rank in range(WORLD_SIZE)]
    log = (tmp_path / "rank0.log").read_text()[-3000:]
    assert saved[0].exists(), f"rank 0 saved nothing:\n{log}"
    return [json.loads(path.read_text()) if path.exists() else None for path in saved]


@pytest.fixture(autouse=True)
def _needs_gloo() -> None:
    distributed = pytest.importorskip("torch.distributed")
    if not distributed.is_available() or not distributed.is_gloo_available():
        pytest.skip("torch.distributed has no gloo backend here")


def test_a_rank_that_never_syncs_times_out_with_a_clear_error(tmp_path: Path) -> None:
    rank0, _ = run_ranks("_absent", tmp_path)
    assert rank0 is not None
    outcome = rank0["sync"]
    assert outcome["error"] == "RuntimeError", outcome
    assert "sync() failed on rank 0 of 2" in outcome["message"]
    assert f"timeout={SYNC_TIMEOUT_S} s" in outcome["message"]
    assert "Ranks 1 failed to pass" in outcome["message"]  # names the rank that did not arrive
    assert rank0["state_kept"]
    print(f"\nrank 1 never syncs: rank 0 raised after {outcome['seconds']} s")


def test_a_killed_rank_gives_a_clear_error(tmp_path: Path) -> None:
    rank0, rank1 = run_ranks("_killed", tmp_path)
    assert rank0 is not None
    assert rank1 is None  # killed before it saved anything
    outcome = rank0["sync"]
    assert outcome["error"] == "RuntimeError", outcome
    assert "sync() failed on rank 0 of 2" in outcome["message"]
    assert "died or did not call sync()" in outcome["message"]
    print(f"\nrank 1 killed: rank 0 raised after {outcome['seconds']} s")


def test_incompatible_states_are_refused_on_every_rank(tmp_path: Path) -> None:
    ranks = run_ranks("_incompatible", tmp_path)
    for saved in ranks:
        assert saved is not None
        assert saved["reduction"]["error"] == "ValueError"
        assert "rank 0: ('KLDivergence', False, 'mean')" in saved["reduction"]["message"]
        assert "rank 1: ('KLDivergence', False, 'sum')" in saved["reduction"]["message"]
        assert saved["library"]["error"] == "TypeError"
        assert "rank 0: 'torch', rank 1: 'numpy'" in saved["library"]["message"]
        assert saved["row_shape"]["error"] == "ValueError"
        assert "rank 0: (), rank 1: (2,)" in saved["row_shape"]["message"]
        assert saved["dtype"]["error"] == "TypeError"
        assert "rank 0: torch.float64, rank 1: torch.float32" in saved["dtype"]["message"]
