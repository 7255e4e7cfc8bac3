"""``sync()`` over ``torch.distributed``: 2 processes on gloo over 127.0.0.1.

Each rank updates on its own shards and syncs; both ranks must then hold what one process fed
every shard (rank 0's, then rank 1's) computes. The processes are killed in a ``finally``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kldiv.testing import assert_close, to_numpy

pytestmark = pytest.mark.distributed

WORLD_SIZE = 2
TIMEOUT_S = 90
SHARD_SIZES = [3, 5, 2, 4, 1, 6]  # shard i goes to rank i % 2
CONFIGS = [
    (name, reduction, log_prob, library)
    for library in ("torch", "numpy")
    for name in ("KLDivergence", "JensenShannonDivergence")
    for reduction in ("mean", "sum", "none")
    for log_prob in (False, True)
]


def shards(log_prob: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(2024)
    result = []
    for size in SHARD_SIZES:
        p, q = rng.uniform(0.05, 1.0, (2, size, 4))
        p, q = p / p.sum(-1, keepdims=True), q / q.sum(-1, keepdims=True)
        result.append((np.log(p), np.log(q)) if log_prob else (p, q))
    return result


def rank_shards(rank: int, log_prob: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    return shards(log_prob)[rank::WORLD_SIZE]


def namespace(library: str) -> Any:
    import importlib

    return importlib.import_module(f"array_api_compat.{library}")


def key(config: tuple[Any, ...]) -> str:
    return "-".join(str(part) for part in config)


def init_gloo(rank: int, port: int, timeout_s: float) -> Any:
    """Join the :data:`WORLD_SIZE` ranks' gloo group at 127.0.0.1:``port``, the group's
    operations timing out after ``timeout_s``; returns ``torch.distributed``."""
    import torch.distributed as dist

    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=WORLD_SIZE,
        timeout=timedelta(seconds=timeout_s),
    )
    return dist


def _worker(rank: int, port: int, out: str) -> None:
    """One rank: every configuration, then an empty rank, a mismatch, and torchmetrics' DDP."""
    import kldiv.metrics
    from kldiv.integrations import torchmetrics as integration

    dist = init_gloo(rank, port, TIMEOUT_S)
    results: dict[str, np.ndarray] = {}
    try:
        for config in CONFIGS:
            name, reduction, log_prob, library = config
            xp = namespace(library)
            metric = getattr(kldiv.metrics, name)(log_prob=log_prob, reduction=reduction)
            for p, q in rank_shards(rank, log_prob):
                metric.update(xp.asarray(p), xp.asarray(q))
            local = to_numpy(metric.compute())
            results[key(config)] = to_numpy(metric.sync().compute())
            results["local-" + key(config)] = to_numpy(metric.unsync().compute())
            assert_close(results["local-" + key(config)], local, rtol=0, atol=0)
        for reduction in ("mean", "none"):  # rank 1 has seen nothing
            metric = kldiv.metrics.KLDivergence(reduction=reduction)
            if rank == 0:
                for p, q in shards(False):
                    metric.update(namespace("torch").asarray(p), namespace("torch").asarray(q))
            results[f"empty-{reduction}"] = to_numpy(metric.sync().compute())
        mismatched = kldiv.metrics.KLDivergence(reduction="sum" if rank else "mean")
        try:
            mismatched.sync()
        except ValueError as error:
            results["mismatch"] = np.asarray(str(error))
        ddp = integration.JensenShannonDivergence(reduction="none")
        for p, q in rank_shards(rank, False):
            ddp.update(namespace("torch").asarray(p), namespace("torch").asarray(q))
        results["torchmetrics"] = to_numpy(ddp.compute())  # torchmetrics syncs in compute()
        np.savez(Path(out) / f"rank{rank}.npz", **results)
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def launch(tmp_path: Path) -> list[dict[str, np.ndarray]]:
    """Run the 2 ranks to completion (or kill them) and load what each saved."""
    port = free_port()
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "GLOO_SOCKET_IFNAME": "lo",
        "OMP_NUM_THREADS": "1",
    }
    processes: list[subprocess.Popen[bytes]] = []
    logs = [tmp_path / f"rank{rank}.log" for rank in range(WORLD_SIZE)]
    try:
        for rank in range(WORLD_SIZE):
            code = (
                "from tests.test_metrics_distributed import _worker; "
                f"_worker({rank}, {port}, {str(tmp_path)!r})"
            )
            with open(logs[rank], "wb") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-c", code], cwd=root, env=env, stdout=log, stderr=log
                    )
                )
        for rank, process in enumerate(processes):
            returncode = process.wait(timeout=TIMEOUT_S)
            assert returncode == 0, f"rank {rank} failed:\n{logs[rank].read_text()[-4000:]}"
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    return [dict(np.load(tmp_path / f"rank{rank}.npz")) for rank in range(WORLD_SIZE)]


def one_process(name: str, reduction: str, log_prob: bool, library: str) -> np.ndarray:
    import kldiv.metrics

    xp = namespace(library)
    metric = getattr(kldiv.metrics, name)(log_prob=log_prob, reduction=reduction)
    for rank in range(WORLD_SIZE):
        for p, q in rank_shards(rank, log_prob):
            metric.update(xp.asarray(p), xp.asarray(q))
    return to_numpy(metric.compute())


def test_sync_over_gloo_equals_one_process(tmp_path: Path) -> None:
    pytest.importorskip("torch.distributed")
    pytest.importorskip("torchmetrics")
    ranks = launch(tmp_path)
    for config in CONFIGS:
        expected = one_process(*config)
        for rank, saved in enumerate(ranks):
            assert_close(saved[key(config)], expected, rtol=1e-12, err_msg=f"rank {rank}: {config}")
        assert not np.array_equal(
            ranks[0]["local-" + key(config)], ranks[1]["local-" + key(config)]
        )
    import kldiv

    p_all, q_all = (np.concatenate(arrays) for arrays in zip(*shards(False), strict=True))
    everything = kldiv.kl_divergence(p_all, q_all, reduction="none")  # rank 0 fed every shard
    for saved in ranks:
        assert_close(saved["empty-none"], everything, rtol=1e-12)
        assert_close(saved["empty-mean"], everything.mean(), rtol=1e-12)
        assert "configured differently" in str(saved["mismatch"])
        expected = one_process("JensenShannonDivergence", "none", False, "torch")
        assert_close(saved["torchmetrics"], expected, rtol=1e-12)
