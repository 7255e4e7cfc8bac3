"""kldiv.distributions, the pairs whose p is not in the Normal family: against torch and mpmath.

One registration per (p, q) pair torch registers with p among
:data:`conformance.specs.OTHER_FAMILIES`, on seeded random valid parameters whose batch shapes
broadcast; plus :data:`conformance.specs.MPMATH_PAIRS` (Chi2, and pairs torch lacks: Weibull,
VonMises, Kumaraswamy–Beta) against mpmath.

The reference is torch as users call it. Where torch is wrong the case names a deviation and is
judged by the mpmath oracle (:data:`conformance.specs.ORACLES`, 50 digits):

* ``torch-kl-masked-broadcast``: pairs that write ``result[mask] = inf`` raise IndexError when
  the batch shapes differ (e.g. Bernoulli (3,) against (2, 1));
* ``torch-kl-cb-uniform-boundary``: ContinuousBernoulli ↔ Uniform(0, 1) is finite, torch: inf;
* ``torch-kl-float32-cancellation``: near p ≈ q torch's float32 closed forms lose every digit
  (Beta(500, 500) ‖ Beta(501, 500): torch -6.9e-4, true 5.0e-4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import kldiv.distributions as kd
from conformance.registry import DASK_FLOAT64_ONLY, Case, register
from conformance.specs import (
    MPMATH_PAIRS,
    NEAR_EQUAL,
    ORACLES,
    OTHER_FAMILIES,
    SUBCLASS_PAIRS,
    TORCH_INFINITE,
    build,
    oracle,
    parameter_count,
    sample,
    torch_kl,
    torch_reference_pairs,
)

BATCHES = (((), ()), ((4,), (4,)), ((2, 3), (3,)))
MASKED_BATCH = ((3,), (2, 1))
CASES_PER_BATCH = 2
SUBCLASS_FAMILIES = tuple(p for p, _ in SUBCLASS_PAIRS)
#: pairs that write ``result[mask] = inf`` in torch (IndexError on different batch shapes)
MASKED = {
    ("Bernoulli", "Bernoulli"), ("Binomial", "Binomial"), ("Categorical", "Categorical"),
    ("OneHotCategorical", "OneHotCategorical"), ("Uniform", "Uniform"), ("Uniform", "Beta"),
    ("Uniform", "Exponential"), ("Uniform", "Gamma"), ("Uniform", "Pareto"),
    ("Pareto", "Pareto"), ("Pareto", "Exponential"), ("Pareto", "Gamma"), ("Pareto", "Normal"),
    ("Beta", "Uniform"),
}  # fmt: skip


def _kldiv(p_family: str, q_family: str) -> Callable[..., Any]:
    count = parameter_count(p_family)

    def call(*arrays: Any, reference_dtype: str = "float64") -> Any:
        return kd.kl_divergence(
            build(kd, p_family, arrays[:count]), build(kd, q_family, arrays[count:])
        )

    return call


def _reference(p_family: str, q_family: str) -> Callable[..., np.ndarray]:
    count = parameter_count(p_family)

    def call(*arrays: np.ndarray, reference_dtype: str = "float64") -> np.ndarray:
        """torch as users call it; ``reference_dtype`` runs it in that dtype (float32 cases)."""
        return torch_kl(p_family, arrays[:count], q_family, arrays[count:], dtype=reference_dtype)

    return call


# -- registration -------------------------------------------------------------------------------


def _cases(p_family: str, q_family: str) -> Callable[[np.random.Generator], list[Case]]:
    def cases(rng: np.random.Generator) -> list[Case]:
        made = []
        masked = (p_family, q_family) in MASKED
        for index, (p_batch, q_batch) in enumerate(BATCHES):
            if masked and p_batch != q_batch:
                p_batch = q_batch = np.broadcast_shapes(p_batch, q_batch)  # see MASKED_BATCH
            for repeat in range(CASES_PER_BATCH):
                arrays = sample(p_family, rng, p_batch) + sample(q_family, rng, q_batch)
                made.append(Case(f"batch-{index}-{repeat}", arrays))
        if masked and (p_family, q_family) in ORACLES:
            p_batch, q_batch = MASKED_BATCH
            arrays = sample(p_family, rng, p_batch) + sample(q_family, rng, q_batch)
            made.append(Case("masked-broadcast", arrays, deviation="torch-kl-masked-broadcast"))
        made.extend(_special_cases(p_family, q_family))
        return made

    return cases


def _special_cases(p_family: str, q_family: str) -> list[Case]:
    pair = (p_family, q_family)
    if pair in TORCH_INFINITE:
        arrays = tuple(np.array(value) for value in TORCH_INFINITE[pair])
        return [Case("uniform-0-1", arrays, deviation="torch-kl-cb-uniform-boundary")]
    if pair in NEAR_EQUAL:
        return [
            Case(
                "near-equal",
                tuple(np.array(value) for value in NEAR_EQUAL[pair]),
                kwargs={"reference_dtype": "float32"},
                deviation="torch-kl-float32-cancellation",
                dtypes=("float32",),
            )
        ]
    return []


def _random_cases(p_family: str, q_family: str) -> Callable[[np.random.Generator], list[Case]]:
    def cases(rng: np.random.Generator) -> list[Case]:
        return [
            Case(f"random-{index}", sample(p_family, rng, (3,)) + sample(q_family, rng, (3,)))
            for index in range(CASES_PER_BATCH)
        ]

    return cases


for _p, _q in torch_reference_pairs((*OTHER_FAMILIES, *SUBCLASS_FAMILIES)):
    register(
        name=f"distributions.{_p}-{_q}",
        kldiv=_kldiv(_p, _q),
        reference=_reference(_p, _q),
        cases=_cases(_p, _q),
        dtypes=("float64", "float32"),
        tags=("distributions",),
        dtypes_on=DASK_FLOAT64_ONLY,
        oracle=oracle(_p, _q) if (_p, _q) in ORACLES else None,
    )

for _p, _q in MPMATH_PAIRS:
    register(
        name=f"distributions.{_p}-{_q}",
        kldiv=_kldiv(_p, _q),
        reference=oracle(_p, _q),
        cases=_random_cases(_p, _q),
        dtypes=("float64", "float32"),
        tags=("distributions", "mpmath"),
        dtypes_on=DASK_FLOAT64_ONLY,
        oracle=oracle(_p, _q),
    )
