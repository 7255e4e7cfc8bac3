"""kldiv.distributions, Normal family, multivariate normals and Independent: against torch.

One registration per (p, q) pair torch registers with p in the Normal family
(:data:`conformance.specs.NORMAL_FAMILIES`), on seeded random valid parameters whose batch shapes
broadcast; plus the pairs of these families torch lacks (LogNormal, Independent ↔
MultivariateNormal: :data:`conformance.specs.EXTRA_PAIRS`), against the same law in torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import kldiv.distributions as kd
from conformance.registry import DASK_FLOAT64_ONLY, Case, register
from conformance.specs import (
    NORMAL_FAMILIES,
    build,
    parameter_count,
    sample,
    torch_kl,
    torch_reference_pairs,
)

BATCHES = (((), ()), ((4,), (4,)), ((3,), (2, 1)), ((2, 3), (3,)), ((), (5,)))
CASES_PER_BATCH = 3


def _kldiv(p_family: str, q_family: str) -> Callable[..., Any]:
    count = parameter_count(p_family)

    def call(*arrays: Any) -> Any:
        return kd.kl_divergence(
            build(kd, p_family, arrays[:count]), build(kd, q_family, arrays[count:])
        )

    return call


def _reference(p_family: str, q_family: str) -> Callable[..., np.ndarray]:
    count = parameter_count(p_family)

    def call(*arrays: np.ndarray) -> np.ndarray:
        return torch_kl(p_family, arrays[:count], q_family, arrays[count:])

    return call


def _cases(p_family: str, q_family: str) -> Callable[[np.random.Generator], list[Case]]:
    def cases(rng: np.random.Generator) -> list[Case]:
        made = []
        for index, (p_batch, q_batch) in enumerate(BATCHES):
            for repeat in range(CASES_PER_BATCH):
                arrays = sample(p_family, rng, p_batch) + sample(q_family, rng, q_batch)
                made.append(Case(f"batch-{index}-{repeat}", arrays))
        return made

    return cases


for _p, _q in torch_reference_pairs(NORMAL_FAMILIES):
    register(
        name=f"distributions.{_p}-{_q}",
        kldiv=_kldiv(_p, _q),
        reference=_reference(_p, _q),
        cases=_cases(_p, _q),
        dtypes=("float64", "float32"),
        tags=("distributions",),
        dtypes_on=DASK_FLOAT64_ONLY,
    )
