"""kldiv.gaussian: ml-starter's formulas and torch.distributions, on seeded broadcast cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from conformance.registry import Case, register
from conformance.specs import scale_tril, torch_kl
from kldiv import gaussian

SHAPES = (((5,), (5,)), ((3, 4), (3, 4)), ((3,), (2, 1)), ((2, 3, 4), (4,)))
REDUCTIONS = ("none", "sum", "mean", "batchmean")


def _ml_starter_single(mu: np.ndarray, log_var: np.ndarray, **kwargs: Any) -> np.ndarray:
    """ml-starter ``kl_div_single_loss`` then kldiv's reduction (ml-starter reduces nothing)."""
    log_var = np.clip(log_var, kwargs.get("clamp_min", -30.0), kwargs.get("clamp_max", 20.0))
    terms = -0.5 * (1 + log_var - mu**2 - np.exp(log_var))
    return _reduce(np.broadcast_to(terms, np.broadcast_shapes(mu.shape, log_var.shape)), kwargs)


def _reduce(terms: np.ndarray, kwargs: dict[str, Any]) -> np.ndarray:
    reduction = kwargs.get("reduction", "none")
    if reduction == "none":
        return terms
    if reduction == "sum":
        return np.asarray(terms.sum())
    if reduction == "mean":
        return np.asarray(terms.mean())
    return np.asarray(terms.sum() / (terms.shape[0] if terms.ndim else 1))


def _torch_normal(
    mu_p: np.ndarray, lv_p: np.ndarray, mu_q: np.ndarray, lv_q: np.ndarray, **kwargs: Any
) -> np.ndarray:
    lo, hi = kwargs.get("clamp_min", -30.0), kwargs.get("clamp_max", 20.0)
    p = (mu_p, np.exp(np.clip(lv_p, lo, hi) / 2))
    q = (mu_q, np.exp(np.clip(lv_q, lo, hi) / 2))
    return _reduce(torch_kl("Normal", p, "Normal", q), kwargs)


def _torch_mvn(
    loc_p: np.ndarray, tril_p: np.ndarray, loc_q: np.ndarray, tril_q: np.ndarray
) -> np.ndarray:
    return torch_kl(
        "MultivariateNormal",
        (loc_p, _covariance(tril_p)),
        "MultivariateNormal",
        (loc_q, _covariance(tril_q)),
    )


def _covariance(tril: np.ndarray) -> np.ndarray:
    return tril @ np.swapaxes(tril, -1, -2)


def _single_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for index, (shape, _) in enumerate(SHAPES):
        for reduction in REDUCTIONS:
            mu, log_var = rng.normal(size=shape), rng.normal(scale=2.0, size=shape)
            cases.append(
                Case(f"random-{index}-{reduction}", (mu, log_var), {"reduction": reduction})
            )
    clamped = np.asarray([-45.0, -30.0, 0.0, 20.0, 31.0])
    cases.append(Case("clamped", (np.zeros(5), clamped)))
    cases.append(Case("custom-clamp", (np.ones(5), clamped), {"clamp_min": -2.0, "clamp_max": 3.0}))
    return cases


def _pair_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for index, (p_shape, q_shape) in enumerate(SHAPES):
        for reduction in REDUCTIONS:
            arrays = (rng.normal(size=p_shape), rng.normal(size=p_shape))
            arrays += (rng.normal(size=q_shape), rng.normal(size=q_shape))
            cases.append(Case(f"random-{index}-{reduction}", arrays, {"reduction": reduction}))
    return cases


def _mvn_cases(rng: np.random.Generator) -> list[Case]:
    batches = (((), ()), ((3,), (3,)), ((3,), (2, 1)), ((4,), ()))
    cases = []
    for size in (1, 3, 8):
        for index, (p_batch, q_batch) in enumerate(batches):
            arrays = (rng.normal(size=(*p_batch, size)), scale_tril(rng, p_batch, size))
            arrays += (rng.normal(size=(*q_batch, size)), scale_tril(rng, q_batch, size))
            cases.append(Case(f"d{size}-batch-{index}", arrays))
    return cases


def call_gaussian(name: str) -> Callable[..., Any]:
    """``kldiv.gaussian.<name>``, looked up at call time."""
    return lambda *arrays, **kwargs: getattr(gaussian, name)(*arrays, **kwargs)


for _name, _reference, _cases, _dtypes in (
    (
        "kl_standard_normal",
        _ml_starter_single,
        _single_cases,
        ("float64", "float32", "float16", "bfloat16"),
    ),
    ("kl_normal", _torch_normal, _pair_cases, ("float64", "float32")),
    ("kl_mvn", _torch_mvn, _mvn_cases, ("float64", "float32")),
):
    register(
        name=f"gaussian.{_name}",
        kldiv=call_gaussian(_name),
        reference=_reference,
        cases=_cases,
        dtypes=_dtypes,
        tags=("gaussian",),
    )
