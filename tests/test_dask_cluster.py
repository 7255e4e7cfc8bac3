"""Out of core on a ``dask.distributed`` cluster: 2 workers, loopback only, 256 MiB each.

p and q are generated lazily, block by block, from seeds. The slow profile's data (2 x 1088 MiB
of float64, 2176 MiB in all) is 4.25 times the workers' total memory limit (512 MiB); the fast
profile runs the same code on 64 MiB. ``kl_divergence`` over every row and the streaming
``KLDivergence`` fed every block in lazy batches are compared with NumPy streaming the same
blocks one at a time; no worker may be restarted or lost (same worker processes before and
after, no worker removal in the scheduler's log).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.distributed

ROWS_PER_BLOCK = 512
WIDTH = 1024  # one block: 512 x 1024 float64 = 4 MiB
WORKERS = 2
WORKER_MEMORY = 256 * 2**20
SEEDS = {"p": 11, "q": 12}
BLOCKS_PER_BATCH = 16
#: blocks per array: 272 x 4 MiB = 1088 MiB (slow); 8 x 4 MiB = 32 MiB (fast)
PROFILES = [
    pytest.param(272, id="4x-memory", marks=pytest.mark.slow),
    pytest.param(8, id="small"),
]


def block(seed: int, index: int) -> np.ndarray:
    """Block ``index`` of the array drawn from ``seed``: the same numbers wherever it is made."""
    rng = np.random.default_rng([seed, index])
    return rng.uniform(0.01, 1.0, (ROWS_PER_BLOCK, WIDTH))


def _make_block(seed: int, block_id: tuple[int, int] | None = None) -> np.ndarray:
    assert block_id is not None
    return block(seed, block_id[0])


def lazy_array(seed: int, blocks: int) -> Any:
    import dask.array as da

    chunks = ((ROWS_PER_BLOCK,) * blocks, (WIDTH,))
    return da.map_blocks(_make_block, seed, chunks=chunks, dtype=np.float64, meta=np.empty((0, 0)))


def numpy_block_total(index: int) -> float:
    """Σ over the rows of block ``index`` of KL(P ‖ Q), in plain NumPy (one block at a time)."""
    p, q = block(SEEDS["p"], index), block(SEEDS["q"], index)
    p /= p.sum(axis=1, keepdims=True)
    q /= q.sum(axis=1, keepdims=True)
    return float(np.sum(p * np.log(p / q)))


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=WORKERS,
            threads_per_worker=1,
            processes=True,
            memory_limit=WORKER_MEMORY,
            host="127.0.0.1",
            dashboard_address=None,
            worker_dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as connected,
    ):
        yield connected


def worker_processes(client: Any) -> dict[str, int]:
    """Each worker's address and process id: a restarted worker changes one or the other."""
    return client.run(os.getpid)


def removals(client: Any) -> list[str]:
    """The scheduler's log lines that record a worker removed, lost or restarted."""
    words = ("remove worker", "lost", "restart")
    lines = [message for _, message in client.get_scheduler_logs(n=1000)]
    return [line for line in lines if any(word in line.lower() for word in words)]


@pytest.mark.parametrize("blocks", PROFILES)
def test_kl_divergence_out_of_core_on_two_workers(client: Any, blocks: int) -> None:
    import dask

    import kldiv
    from kldiv.metrics import KLDivergence
    from kldiv.testing import assert_close

    before, logged = worker_processes(client), removals(client)
    limits = client.run(lambda dask_worker: dask_worker.memory_manager.memory_limit)
    assert list(limits.values()) == [WORKER_MEMORY] * WORKERS
    p, q = lazy_array(SEEDS["p"], blocks), lazy_array(SEEDS["q"], blocks)
    if blocks > 8:
        assert p.nbytes + q.nbytes >= 4 * WORKERS * WORKER_MEMORY

    functional = kldiv.kl_divergence(p, q)  # lazy: nothing computed yet
    metric = KLDivergence(reduction="sum")
    batch = BLOCKS_PER_BATCH * ROWS_PER_BLOCK
    for start in range(0, blocks * ROWS_PER_BLOCK, batch):  # every block, in lazy batches
        metric.update(p[start : start + batch], q[start : start + batch])
    mean, total = dask.compute(functional, metric.compute())  # shared blocks are made once

    # the reference: NumPy block by block (run on the workers: both cores, no dask.array)
    per_block = client.gather(client.map(numpy_block_total, range(blocks)))
    assert_close(mean, sum(per_block) / (blocks * ROWS_PER_BLOCK), rtol=1e-10)
    assert_close(total, sum(per_block), rtol=1e-10)
    assert worker_processes(client) == before  # no worker restarted or lost
    assert removals(client) == logged
    data, memory = p.nbytes + q.nbytes, WORKERS * WORKER_MEMORY
    print(
        f"\nout of core: {data / 2**20:.0f} MiB of data, workers' memory {memory / 2**20:.0f} MiB"
    )
