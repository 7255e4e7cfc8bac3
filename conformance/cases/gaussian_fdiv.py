"""kldiv.gaussian's Rényi, Bhattacharyya, Hellinger and W₂ closed forms against mpmath.

The reference is :mod:`conformance.oracle_gaussian` (the textbook formulas at 50 digits, on the
inputs rounded to the dtype under test); POT's Bures–Wasserstein distance is a second reference
in :mod:`conformance.cases.peers`. Cases: seeded broadcast shapes with every reduction and
``event_ndims``, near-equal pairs (where the stable forms matter), clamped log-variances, orders
near and at 1, and orders above 1 past the finiteness bound (+inf).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from conformance import oracle_gaussian
from conformance.cases.gaussian import call_gaussian
from conformance.registry import ALL_DTYPES, DASK_FLOAT64_ONLY, Case, register
from conformance.specs import scale_tril

Arrays = tuple[np.ndarray, ...]

SHAPES = (((5,), (5,)), ((3, 4), (3, 4)), ((3,), (2, 1)), ((2, 3, 4), (4,)))
REDUCTIONS = ("none", "sum", "mean", "batchmean")
ALPHAS = (0.05, 0.5, 0.999, 1.0, 1.5, 3.0)

#: The options each function cycles through besides the reduction and ``event_ndims``.
NORMAL_OPTIONS: dict[str, list[dict[str, Any]]] = {
    "renyi_normal": [{"alpha": alpha} for alpha in ALPHAS],
    "bhattacharyya_normal": [{}, {"coefficient": True}],
    "hellinger_normal": [{}, {"squared": True}],
    "wasserstein2_normal": [{}, {"squared": True}],
}
MVN_OPTIONS: dict[str, list[dict[str, Any]]] = {
    "renyi_mvn": [{"alpha": alpha} for alpha in ALPHAS],
    "bhattacharyya_mvn": [{}, {"coefficient": True}],
    "hellinger_mvn": [{}, {"squared": True}],
    "wasserstein2_mvn": [{}, {"squared": True}],
}


def _normal_cases(options: list[dict[str, Any]]) -> Callable[[np.random.Generator], list[Case]]:
    def cases(rng: np.random.Generator) -> list[Case]:
        made = []
        count = 0
        for index, (p_shape, q_shape) in enumerate(SHAPES):
            for reduction in REDUCTIONS:
                for event_ndims in (0, 1):
                    kwargs = {**options[count % len(options)], "reduction": reduction}
                    kwargs["event_ndims"] = event_ndims
                    count += 1
                    arrays = (rng.normal(size=p_shape), rng.normal(scale=0.8, size=p_shape))
                    arrays += (rng.normal(size=q_shape), rng.normal(scale=0.8, size=q_shape))
                    name = f"random-{index}-{reduction}-event{event_ndims}"
                    made.append(Case(name, arrays, kwargs))
        for option_index, option in enumerate(options):
            mu, log_var = rng.normal(size=6), rng.normal(size=6)
            nearby = (mu + 1e-6 * rng.normal(size=6), log_var + 1e-6 * rng.normal(size=6))
            made.append(Case(f"near-equal-{option_index}", (mu, log_var, *nearby), option))
            wide = np.asarray([-45.0, -30.0, -3.0, 0.0, 3.0, 20.0, 31.0])
            arrays = (np.zeros(7), wide, np.ones(7), wide[::-1].copy())
            made.append(Case(f"clamped-and-far-{option_index}", arrays, option))
        return made

    return cases


def _mvn_cases(options: list[dict[str, Any]]) -> Callable[[np.random.Generator], list[Case]]:
    batches = (((), ()), ((3,), (3,)), ((3,), (2, 1)), ((4,), ()))

    def cases(rng: np.random.Generator) -> list[Case]:
        made = []
        count = 0
        for size in (1, 3, 8):
            for index, (p_batch, q_batch) in enumerate(batches):
                arrays = (rng.normal(size=(*p_batch, size)), scale_tril(rng, p_batch, size))
                arrays += (rng.normal(size=(*q_batch, size)), scale_tril(rng, q_batch, size))
                kwargs = options[count % len(options)]
                count += 1
                made.append(Case(f"d{size}-batch-{index}", arrays, kwargs))
        return made

    return cases


#: Each function with its cases and dtypes (the factorisations in float64 and float32, as kl_mvn).
_ENTRIES = [
    *((name, _normal_cases(options), ALL_DTYPES) for name, options in NORMAL_OPTIONS.items()),
    *((name, _mvn_cases(options), ("float64", "float32")) for name, options in MVN_OPTIONS.items()),
]
for _name, _cases, _dtypes in _ENTRIES:
    register(
        name=f"gaussian.{_name}",
        kldiv=call_gaussian(_name),
        reference=getattr(oracle_gaussian, _name),
        oracle=getattr(oracle_gaussian, _name),
        cases=_cases,
        dtypes=_dtypes,
        dtypes_on=DASK_FLOAT64_ONLY,
        tags=("gaussian", "fdiv"),
    )
