"""Running the tasks in worker processes: the suite is CPU-bound and its backends independent.

Each worker rebuilds the same plan from the same options (cases are seeded, so the plan is
identical) and runs the tasks it is given by index; results come back in plan order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from .backends import load_backends
from .runner import Checker, Group, Task, load_cases, plan, run_task

__all__ = ["PlanOptions", "run_in_processes"]


@dataclass(frozen=True)
class PlanOptions:
    """What selects the tasks: enough for a worker to rebuild the plan."""

    cases: Sequence[str] | None
    backends: Sequence[str] | None
    dtypes: Sequence[str] | None
    functions: Sequence[str] | None
    seed: int

    def tasks(self) -> list[Task]:
        registry, _ = load_cases(self.cases)
        backends, _ = load_backends(self.backends)
        return plan(registry, backends, self.dtypes, self.functions, self.seed)


_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_worker_tasks: list[Task] = []
_worker_checker = Checker()


def _start_worker(options: PlanOptions) -> None:
    """One thread per worker (the workers are the parallelism), then the plan."""
    global _worker_tasks
    for variable in _THREAD_VARIABLES:
        os.environ[variable] = "1"
    _worker_tasks = options.tasks()


def _run_index(index: int) -> tuple[int, Group]:
    return index, run_task(_worker_tasks[index], _worker_checker)


def run_in_processes(
    options: PlanOptions,
    tasks: Sequence[Task],
    jobs: int,
    on_task: Callable[[Task], None] = lambda task: None,
) -> list[Group]:
    """Run ``tasks`` (the plan of ``options``) on ``jobs`` processes; ``on_task`` after each.

    The costliest tasks (most cases on the slowest backends) are submitted first, so the
    processes finish together.
    """
    order = sorted(range(len(tasks)), key=lambda index: -_cost(tasks[index]))
    groups: list[Group | None] = [None] * len(tasks)
    context = multiprocessing.get_context("spawn")  # fork is unsafe once torch/JAX threads run
    with ProcessPoolExecutor(jobs, context, _start_worker, (options,)) as pool:
        futures = [pool.submit(_run_index, index) for index in order]
        for future in as_completed(futures):
            index, group = future.result()
            groups[index] = group
            on_task(tasks[index])
    return [group for group in groups if group is not None]


_BACKEND_COST = {"dask": 8.0, "jax": 5.0}


def _cost(task: Task) -> float:
    return len(task.cases) * _BACKEND_COST.get(task.backend.name, 1.0)
