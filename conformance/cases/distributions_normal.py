"""kldiv.distributions, Normal family, multivariate normals and Independent: against torch.

One registration per (p, q) pair torch registers with p in the Normal family, on seeded random
valid parameters whose batch shapes broadcast. torch's +inf pairs return p's batch shape only
(``torch.full_like(p.loc, inf)``); the reference is broadcast to the joint batch shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import kldiv.distributions as kd
from conformance.registry import DASK_FLOAT64_ONLY, Case, register

BATCHES = (((), ()), ((4,), (4,)), ((3,), (2, 1)), ((2, 3), (3,)), ((), (5,)))
CASES_PER_BATCH = 3

Sampler = Callable[[np.random.Generator, tuple[int, ...]], tuple[np.ndarray, ...]]


def _loc_scale(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return rng.normal(size=batch), np.exp(rng.normal(scale=0.7, size=batch))


def _positive(count: int) -> Sampler:
    return lambda rng, batch: tuple(np.exp(rng.normal(scale=0.5, size=batch)) for _ in range(count))


def _interval(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    low = rng.normal(size=batch)
    return low, low + 0.5 + np.exp(rng.normal(size=batch))


def _unit(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return (rng.uniform(0.05, 0.95, size=batch),)


def _tril(rng: np.random.Generator, batch: tuple[int, ...], size: int = 3) -> np.ndarray:
    tril = np.tril(rng.normal(scale=0.3, size=(*batch, size, size)), -1)
    return tril + np.eye(size) * np.exp(rng.normal(scale=0.3, size=(*batch, size)))[..., None]


def _mvn(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    tril = _tril(rng, batch)
    return rng.normal(size=(*batch, 3)), tril @ np.swapaxes(tril, -1, -2)


def _lowrank(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return (
        rng.normal(size=(*batch, 3)),
        rng.normal(size=(*batch, 3, 2)),
        np.exp(rng.normal(scale=0.5, size=(*batch, 3))),
    )


def _diagonal(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return rng.normal(size=(*batch, 3)), np.exp(rng.normal(scale=0.5, size=(*batch, 3)))


#: family -> (sampler, number of event axes of its first parameter)
SAMPLERS: dict[str, Sampler] = {
    "Normal": _loc_scale,
    "Gumbel": _loc_scale,
    "Laplace": _loc_scale,
    "Cauchy": _loc_scale,
    "HalfNormal": _positive(1),
    "Exponential": _positive(1),
    "Gamma": _positive(2),
    "Beta": _positive(2),
    "Pareto": _positive(2),
    "Uniform": _interval,
    "ContinuousBernoulli": _unit,
    "MultivariateNormal": _mvn,
    "LowRankMultivariateNormal": _lowrank,
    "IndependentNormal": _diagonal,
}
EVENT_NDIM = {"MultivariateNormal": 1, "LowRankMultivariateNormal": 1, "IndependentNormal": 1}

PAIRS = [
    ("Normal", "Normal"),
    ("Normal", "Gumbel"),
    ("Normal", "Laplace"),
    ("Gumbel", "Gumbel"),
    ("Gumbel", "Normal"),
    ("Laplace", "Laplace"),
    ("Laplace", "Normal"),
    ("Cauchy", "Cauchy"),
    ("HalfNormal", "HalfNormal"),
    *(
        (p, q)
        for p in ("Normal", "Gumbel", "Laplace")
        for q in ("Beta", "ContinuousBernoulli", "Exponential", "Gamma", "Pareto", "Uniform")
    ),
    ("MultivariateNormal", "MultivariateNormal"),
    ("LowRankMultivariateNormal", "LowRankMultivariateNormal"),
    ("LowRankMultivariateNormal", "MultivariateNormal"),
    ("MultivariateNormal", "LowRankMultivariateNormal"),
    ("IndependentNormal", "IndependentNormal"),
]


def _build(module: Any, family: str, arrays: tuple[Any, ...]) -> Any:
    if family == "IndependentNormal":
        return module.Independent(module.Normal(*arrays), 1)
    return getattr(module, family)(*arrays)


def _batch_shape(family: str, arrays: tuple[np.ndarray, ...]) -> tuple[int, ...]:
    shape = np.shape(arrays[0])
    return tuple(shape[: len(shape) - EVENT_NDIM.get(family, 0)])


def _kldiv(p_family: str, q_family: str, count: int) -> Callable[..., Any]:
    def call(*arrays: Any) -> Any:
        p = _build(kd, p_family, arrays[:count])
        q = _build(kd, q_family, arrays[count:])
        return kd.kl_divergence(p, q)

    return call


def _reference(p_family: str, q_family: str, count: int) -> Callable[..., np.ndarray]:
    def call(*arrays: np.ndarray) -> np.ndarray:
        import torch

        tensors = tuple(torch.as_tensor(a) for a in arrays)
        p = _build(torch.distributions, p_family, tensors[:count])
        q = _build(torch.distributions, q_family, tensors[count:])
        result = torch.distributions.kl_divergence(p, q).numpy()
        joint = np.broadcast_shapes(
            _batch_shape(p_family, arrays[:count]), _batch_shape(q_family, arrays[count:])
        )
        return np.broadcast_to(result, joint).copy()

    return call


def _cases(p_family: str, q_family: str) -> Callable[[np.random.Generator], list[Case]]:
    def cases(rng: np.random.Generator) -> list[Case]:
        made = []
        for index, (p_batch, q_batch) in enumerate(BATCHES):
            for repeat in range(CASES_PER_BATCH):
                arrays = SAMPLERS[p_family](rng, p_batch) + SAMPLERS[q_family](rng, q_batch)
                made.append(Case(f"batch-{index}-{repeat}", arrays))
        return made

    return cases


for _p, _q in PAIRS:
    _count = len(SAMPLERS[_p](np.random.default_rng(0), ()))
    register(
        name=f"distributions.{_p}-{_q}",
        kldiv=_kldiv(_p, _q, _count),
        reference=_reference(_p, _q, _count),
        cases=_cases(_p, _q),
        dtypes=("float64", "float32"),
        tags=("distributions",),
        dtypes_on=DASK_FLOAT64_ONLY,
    )
