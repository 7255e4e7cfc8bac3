"""Best-of-N wall-clock timing with ``time.perf_counter``, one warm-up call first."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass

# A sample repeats a fast call until it lasts this long, so the clock's resolution never counts.
SAMPLE_SECONDS = 2e-3


@dataclass(frozen=True)
class Timing:
    """The fastest sample's time per call, and how it was obtained."""

    seconds_per_call: float
    samples: int
    calls_per_sample: int


def best_time(call: Callable[[], object], *, min_samples: int, budget_seconds: float) -> Timing:
    """Time ``call``: warm up, then sample until ``min_samples`` and the budget are both spent.

    Each sample runs ``call`` enough times to last about ``SAMPLE_SECONDS``; the result is the
    fastest sample divided by its number of calls (the minimum is the least disturbed by the
    other processes on a shared machine). The garbage collector is off while timing.
    """
    started = time.perf_counter()
    call()
    one_call = time.perf_counter() - started
    if one_call < 10 * SAMPLE_SECONDS:  # one-time costs may dominate a short warm-up: time again
        started = time.perf_counter()
        call()
        one_call = time.perf_counter() - started
    calls_per_sample = max(1, int(SAMPLE_SECONDS / max(one_call, 1e-9)))
    best, samples = float("inf"), 0
    gc.collect()
    gc.disable()
    try:
        deadline = time.perf_counter() + budget_seconds
        while samples < min_samples or time.perf_counter() < deadline:
            started = time.perf_counter()
            for _ in range(calls_per_sample):
                call()
            best = min(best, (time.perf_counter() - started) / calls_per_sample)
            samples += 1
    finally:
        gc.enable()
    return Timing(best, samples, calls_per_sample)
