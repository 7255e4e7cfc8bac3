"""The registration of a distribution pair, shared by the case files of :mod:`kldiv.distributions`.

A pair ``(p, q)`` of families registers as ``distributions.<p>-<q>``: kldiv's
``kl_divergence`` of the two families built from a case's arrays (p's parameters, then q's),
against a reference called with the same arrays, in float64 and float32 (Dask: float64).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

import kldiv.distributions as kd
from conformance.registry import DASK_FLOAT64_ONLY, Case, register
from conformance.specs import build, parameter_count, sample, torch_kl

__all__ = ["batch_cases", "register_pair", "torch_reference"]

Batches = Iterable[tuple[tuple[int, ...], tuple[int, ...]]]
CaseMaker = Callable[[np.random.Generator], list[Case]]


def _kldiv(p_family: str, q_family: str) -> Callable[..., Any]:
    count = parameter_count(p_family)

    def call(*arrays: Any, reference_dtype: str = "float64") -> Any:
        """``reference_dtype`` is the reference's (float32 cases), not kldiv's."""
        p, q = build(kd, p_family, arrays[:count]), build(kd, q_family, arrays[count:])
        return kd.kl_divergence(p, q)

    return call


def torch_reference(p_family: str, q_family: str) -> Callable[..., np.ndarray]:
    """torch as users call it; a case's ``reference_dtype`` runs it in that dtype."""
    count = parameter_count(p_family)

    def call(*arrays: np.ndarray, reference_dtype: str = "float64") -> np.ndarray:
        return torch_kl(p_family, arrays[:count], q_family, arrays[count:], dtype=reference_dtype)

    return call


def batch_cases(
    p_family: str, q_family: str, batches: Batches, per_batch: int, *, joint: bool = False
) -> CaseMaker:
    """``per_batch`` cases of random valid parameters for each pair of batch shapes (``joint``:
    both sides take the broadcast of the two)."""

    def cases(rng: np.random.Generator) -> list[Case]:
        made = []
        for index, (p_batch, q_batch) in enumerate(batches):
            if joint and p_batch != q_batch:
                p_batch = q_batch = np.broadcast_shapes(p_batch, q_batch)
            for repeat in range(per_batch):
                arrays = sample(p_family, rng, p_batch) + sample(q_family, rng, q_batch)
                made.append(Case(f"batch-{index}-{repeat}", arrays))
        return made

    return cases


def register_pair(
    p_family: str,
    q_family: str,
    reference: Callable[..., np.ndarray],
    cases: CaseMaker,
    *,
    oracle: Callable[..., np.ndarray] | None = None,
    tags: tuple[str, ...] = (),
) -> None:
    """Register ``distributions.<p>-<q>`` (tagged 'distributions' and ``tags``)."""
    register(
        name=f"distributions.{p_family}-{q_family}",
        kldiv=_kldiv(p_family, q_family),
        reference=reference,
        cases=cases,
        dtypes=("float64", "float32"),
        tags=("distributions", *tags),
        dtypes_on=DASK_FLOAT64_ONLY,
        oracle=oracle,
    )
