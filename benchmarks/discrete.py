"""Side-by-side timings of the discrete KL against its references, in one run, one thread.

    python benchmarks/discrete.py [n]      # n x n float64 rows (default 2048)

Prints nanoseconds per element (best of 3) for each implementation: compare the ratios printed
together, never absolute numbers across runs (the machines are shared).
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable

import numpy as np
import scipy.special
import torch
import torchmetrics.functional

import kldiv


def best_ns_per_element(function: Callable[[], object], elements: int, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best / elements * 1e9


def main(n: int) -> None:
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    p, q = rng.random((n, n)), rng.random((n, n))
    log_q = np.log(q / q.sum(-1, keepdims=True))
    p_t, q_t, log_q_t = (torch.from_numpy(array) for array in (p, q, log_q))
    contenders = {
        "numpy p*log(p/q) (no zero handling)": lambda: (p * np.log(p / q)).sum(-1),
        "scipy rel_entr().sum": lambda: scipy.special.rel_entr(p, q).sum(-1),
        "kldiv.kl_divergence numpy": lambda: kldiv.kl_divergence(p, q),
        "torchmetrics kl_divergence": lambda: torchmetrics.functional.kl_divergence(p_t, q_t),
        "kldiv.kl_divergence torch": lambda: kldiv.kl_divergence(p_t, q_t),
        "torch F.kl_div batchmean": lambda: torch.nn.functional.kl_div(
            log_q_t, p_t, reduction="batchmean"
        ),
        "kldiv.kl_div torch": lambda: kldiv.kl_div(log_q_t, p_t, reduction="batchmean"),
        "kldiv.kl_div numpy": lambda: kldiv.kl_div(log_q, p, reduction="batchmean"),
    }
    for name, function in contenders.items():
        print(f"{name:40s} {best_ns_per_element(function, n * n):7.1f} ns/element")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2048)
