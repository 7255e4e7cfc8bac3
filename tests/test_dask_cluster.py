"""Out of core on a ``dask.distributed`` cluster: 2 workers, loopback only, 512 MiB each.

p and q (1 GiB of float64 each, 2 GiB in all: four times one worker's memory limit) are generated
lazily, block by block, from seeds; the result is compared with NumPy streaming the same blocks
one at a time in this process.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.distributed]

ROWS_PER_BLOCK = 2048
WIDTH = 1024  # one block: 2048 x 1024 float64 = 16 MiB
BLOCKS = 64  # one array: 64 blocks = 1 GiB
WORKER_MEMORY = "512MiB"
SEEDS = {"p": 11, "q": 12}


def block(seed: int, index: int) -> np.ndarray:
    """Block ``index`` of the array drawn from ``seed``: the same numbers wherever it is made."""
    rng = np.random.default_rng([seed, index])
    return rng.uniform(0.01, 1.0, (ROWS_PER_BLOCK, WIDTH))


def _make_block(seed: int, block_id: tuple[int, int] | None = None) -> np.ndarray:
    assert block_id is not None
    return block(seed, block_id[0])


def lazy_array(seed: int) -> Any:
    import dask.array as da

    chunks = ((ROWS_PER_BLOCK,) * BLOCKS, (WIDTH,))
    return da.map_blocks(_make_block, seed, chunks=chunks, dtype=np.float64, meta=np.empty((0, 0)))


def numpy_block_total(index: int) -> float:
    """Σ over the rows of block ``index`` of KL(P ‖ Q), in plain NumPy (16 MiB at a time)."""
    p, q = block(SEEDS["p"], index), block(SEEDS["q"], index)
    p /= p.sum(axis=1, keepdims=True)
    q /= q.sum(axis=1, keepdims=True)
    return float(np.sum(p * np.log(p / q)))


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
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


def test_kl_divergence_out_of_core_on_two_workers(client: Any) -> None:
    import dask

    import kldiv
    from kldiv.metrics import KLDivergence
    from kldiv.testing import assert_close

    workers_before = set(client.scheduler_info()["workers"])
    limits = client.run(lambda dask_worker: dask_worker.memory_manager.memory_limit)
    assert set(limits.values()) == {512 * 2**20}
    p, q = lazy_array(SEEDS["p"]), lazy_array(SEEDS["q"])
    assert p.nbytes + q.nbytes == 2 * 2**30 >= 4 * 512 * 2**20

    functional = kldiv.kl_divergence(p, q)  # lazy: nothing computed yet
    metric = KLDivergence(reduction="sum")
    batch = 4 * ROWS_PER_BLOCK
    for start in range(0, 4 * batch, batch):  # four lazy batches: the first 16 blocks
        metric.update(p[start : start + batch], q[start : start + batch])
    mean, total = dask.compute(functional, metric.compute())  # shared blocks are made once

    # the reference: NumPy block by block (run on the workers: both cores, no dask.array)
    per_block = client.gather(client.map(numpy_block_total, range(BLOCKS)))
    assert_close(mean, sum(per_block) / (BLOCKS * ROWS_PER_BLOCK), rtol=1e-10)
    assert_close(total, sum(per_block[:16]), rtol=1e-10)
    assert set(client.scheduler_info()["workers"]) == workers_before  # no worker was lost
