"""Every pair of kldiv.distributions against its reference, on every backend.

The pairs torch computes (:func:`conformance.specs.torch_reference_pairs`: its registry, Chi2
through Gamma, LogNormal, Independent ↔ MultivariateNormal as a diagonal MultivariateNormal)
against torch in float64 and float32, on batch shapes that broadcast; the pairs only mpmath
judges (:data:`conformance.specs.MPMATH_PAIRS`) against 50-digit quadrature.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")  # the reference of every pair here but the mpmath ones

from conformance.specs import (
    MPMATH_PAIRS,
    oracle,
    sample,
    torch_kl,
    torch_reference_pairs,
)

import kldiv.distributions as kd
from kldiv.testing import assert_close

from .distribution_helpers import kl_on, on_backend, pair_ids, rng_for

TORCH_PAIRS = torch_reference_pairs()
SELF_PAIRS = [(p, q) for p, q in [*TORCH_PAIRS, *MPMATH_PAIRS] if p == q]
BATCHES = (((3,), (2, 1)), ((), (4,)), ((2, 3), ()))


def _float32_exact(arrays: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """The parameters rounded to float32 (kept in float64: the reference sees the same values)."""
    return tuple(np.float32(array).astype(np.float64) for array in arrays)


@pytest.mark.parametrize(("p_family", "q_family"), TORCH_PAIRS, ids=pair_ids(TORCH_PAIRS))
def test_matches_torch_float64(xp: Any, p_family: str, q_family: str) -> None:
    rng = rng_for(p_family, q_family)
    for p_batch, q_batch in BATCHES:
        p_arrays, q_arrays = sample(p_family, rng, p_batch), sample(q_family, rng, q_batch)
        result = kl_on(xp, p_family, p_arrays, q_family, q_arrays)
        desired = torch_kl(p_family, p_arrays, q_family, q_arrays, expand=True)
        assert_close(
            result,
            xp.asarray(desired, dtype=xp.float64),
            rtol=1e-10,
            atol=1e-13,
            err_msg=f"{p_batch} vs {q_batch}",
        )


@pytest.mark.parametrize(("p_family", "q_family"), TORCH_PAIRS, ids=pair_ids(TORCH_PAIRS))
def test_matches_torch_float32(xp: Any, p_family: str, q_family: str) -> None:
    rng = rng_for(p_family, q_family, "float32")
    p_arrays = _float32_exact(sample(p_family, rng, (3,)))
    q_arrays = _float32_exact(sample(q_family, rng, (2, 1)))
    result = kl_on(xp, p_family, p_arrays, q_family, q_arrays, dtype=xp.float32)
    desired = torch_kl(p_family, p_arrays, q_family, q_arrays, expand=True)
    assert_close(result, xp.asarray(desired, dtype=xp.float32))


@pytest.mark.parametrize(("p_family", "q_family"), SELF_PAIRS, ids=pair_ids(SELF_PAIRS))
def test_zero_between_equal_distributions(xp: Any, p_family: str, q_family: str) -> None:
    arrays = sample(p_family, rng_for(p_family, "self"), (4,))
    for dtype in (xp.float64, xp.float32):
        dist = on_backend(xp, p_family, arrays, dtype)
        zeros = xp.zeros(4, dtype=dtype)
        assert_close(kd.kl_divergence(dist, dist), zeros, atol=1e-6, err_msg=str(dtype))


def test_lognormal_is_normal_on_the_log(xp: Any) -> None:
    rng = rng_for("LogNormal", "Normal")
    p_arrays, q_arrays = sample("Normal", rng, (3,)), sample("Normal", rng, (2, 1))
    lognormal = kl_on(xp, "LogNormal", p_arrays, "LogNormal", q_arrays)
    assert_close(lognormal, kl_on(xp, "Normal", p_arrays, "Normal", q_arrays), rtol=1e-15)


MPMATH_VALUES = [
    ("Weibull", "Weibull", ([1.0, 2.5], [1.5, 0.7], 1.3, 2.0)),
    ("VonMises", "VonMises", ([0.0, 2.0], [0.5, 30.0], -1.0, 4.0)),
    ("Kumaraswamy", "Beta", ([0.5, 2.0, 10.0], [0.5, 3.0, 0.3], 1.5, 2.5)),
    ("Kumaraswamy", "Beta", ([1.0, 5.0, 0.2], [1.0, 100.0, 0.2], 1.0, 1.0)),
]


@pytest.mark.parametrize(
    ("p_family", "q_family", "values"),
    MPMATH_VALUES,
    ids=[f"{p}-{q}-{index}" for index, (p, q, _) in enumerate(MPMATH_VALUES)],
)
def test_pairs_torch_lacks_match_mpmath(
    xp: Any, p_family: str, q_family: str, values: tuple
) -> None:
    arrays = tuple(np.asarray(value, dtype=np.float64) for value in values)
    result = kl_on(xp, p_family, arrays[:2], q_family, arrays[2:])
    desired = xp.asarray(oracle(p_family, q_family)(*arrays), dtype=xp.float64)
    assert_close(result, desired, rtol=1e-10, atol=1e-14)


def test_every_mpmath_pair_has_values() -> None:
    assert {(p, q) for p, q, _ in MPMATH_VALUES} == set(MPMATH_PAIRS)
