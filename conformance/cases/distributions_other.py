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

import numpy as np

from conformance.pair_cases import batch_cases, register_pair, torch_reference
from conformance.registry import Case
from conformance.specs import (
    MPMATH_PAIRS,
    NEAR_EQUAL,
    ORACLES,
    OTHER_FAMILIES,
    SUBCLASS_PAIRS,
    TORCH_INFINITE,
    oracle,
    sample,
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


# -- registration -------------------------------------------------------------------------------


def _cases(p_family: str, q_family: str) -> Callable[[np.random.Generator], list[Case]]:
    masked = (p_family, q_family) in MASKED  # see MASKED_BATCH
    batched = batch_cases(p_family, q_family, BATCHES, CASES_PER_BATCH, joint=masked)

    def cases(rng: np.random.Generator) -> list[Case]:
        made = batched(rng)
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
    _oracle = oracle(_p, _q) if (_p, _q) in ORACLES else None
    register_pair(_p, _q, torch_reference(_p, _q), _cases(_p, _q), oracle=_oracle)

for _p, _q in MPMATH_PAIRS:
    register_pair(
        _p, _q, oracle(_p, _q), _random_cases(_p, _q), oracle=oracle(_p, _q), tags=("mpmath",)
    )
