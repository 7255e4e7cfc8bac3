"""How to sample, build (kldiv and torch) each family of the non-Normal pairs: shared by the tests.

Test-only code. Parameters are float64 NumPy arrays; ``sample(family, rng, batch)`` returns them in
constructor order, chosen so that masked pairs hit both branches (inside and outside the support).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Sampler = Callable[[np.random.Generator, tuple[int, ...]], tuple[np.ndarray, ...]]

# p families of part B; torch's pairs with p among them are the ones tested here.
P_FAMILIES = (
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "ContinuousBernoulli",
    "Dirichlet",
    "Exponential",
    "Gamma",
    "Geometric",
    "OneHotCategorical",
    "Pareto",
    "Poisson",
    "Uniform",
)
CATEGORIES = 4


def _unit(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return (rng.uniform(0.05, 0.95, size=batch),)


def _positive(count: int, low: float = 0.5, high: float = 4.0) -> Sampler:
    return lambda rng, batch: tuple(rng.uniform(low, high, size=batch) for _ in range(count))


def _simplex(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return (rng.dirichlet(np.ones(CATEGORIES), size=batch),)


def _binomial(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return np.full(batch, 10.0), rng.uniform(0.05, 0.95, size=batch)


def _interval(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """Intervals that sometimes lie in [0, 1] (Beta, CB), sometimes start below 0 or above 1."""
    low = rng.uniform(-0.3, 0.6, size=batch)
    return low, low + rng.uniform(0.1, 0.9, size=batch)


def _pareto(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return rng.uniform(0.5, 2.0, size=batch), rng.uniform(0.5, 4.0, size=batch)


def _loc_scale(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return rng.normal(size=batch), rng.uniform(0.5, 2.0, size=batch)


SAMPLERS: dict[str, Sampler] = {
    "Bernoulli": _unit,
    "Geometric": _unit,
    "ContinuousBernoulli": _unit,
    "Binomial": _binomial,
    "Categorical": _simplex,
    "OneHotCategorical": _simplex,
    "Poisson": _positive(1, 0.2, 5.0),
    "Exponential": _positive(1),
    "Gamma": _positive(2),
    "Beta": _positive(2),
    "Dirichlet": _positive(1),
    "Pareto": _pareto,
    "Uniform": _interval,
    "Normal": _loc_scale,
    "Gumbel": _loc_scale,
}
EVENT_NDIM = {"Categorical": 1, "OneHotCategorical": 1, "Dirichlet": 1}


def sample(family: str, rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """Parameters of ``family`` with batch shape ``batch``."""
    if family == "Dirichlet":
        return (rng.uniform(0.5, 4.0, size=(*batch, CATEGORIES)),)
    return SAMPLERS[family](rng, batch)


def build(module: Any, family: str, params: tuple[Any, ...]) -> Any:
    """``module.family(*params)``: kldiv.distributions or torch.distributions."""
    return getattr(module, family)(*params)


def batch_shape(family: str, params: tuple[np.ndarray, ...]) -> tuple[int, ...]:
    shape = np.shape(params[0])
    return tuple(shape[: len(shape) - EVENT_NDIM.get(family, 0)])


def torch_kl(p_family: str, p_params: tuple, q_family: str, q_params: tuple) -> np.ndarray:
    """torch's float64 KL on parameters expanded to the joint batch shape (masked pairs work)."""
    import torch

    joint = np.broadcast_shapes(batch_shape(p_family, p_params), batch_shape(q_family, q_params))

    def expanded(family: str, params: tuple) -> Any:
        event = (CATEGORIES,) if family in EVENT_NDIM else ()
        tensors = [
            torch.as_tensor(np.broadcast_to(param, joint + event).copy(), dtype=torch.float64)
            for param in params
        ]
        return build(torch.distributions, family, tuple(tensors))

    return torch.distributions.kl_divergence(
        expanded(p_family, p_params), expanded(q_family, q_params)
    ).numpy()


def torch_pairs() -> list[tuple[str, str]]:
    """torch's registered pairs whose p is one of :data:`P_FAMILIES`."""
    import torch.distributions.kl as torch_kl_module

    return sorted(
        (p.__name__, q.__name__)
        for p, q in torch_kl_module._KL_REGISTRY
        if p.__name__ in P_FAMILIES
    )
