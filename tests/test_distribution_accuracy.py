"""Where torch.distributions is wrong, kldiv against 50-digit mpmath, on every backend.

torch's pairs that write ``result[mask]`` raise on batch shapes that broadcast; ContinuousBernoulli
↔ Uniform(0, 1) is finite where torch says +inf; near p ≈ q torch's float32 closed forms cancel.
"""

from __future__ import annotations

from typing import Any

import mpmath as mp
import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the reference whose errors these tests document

from conformance.specs import (  # noqa: E402
    NEAR_EQUAL,
    ORACLES,
    TORCH_INFINITE,
    dirichlet_oracle,
    oracle,
    torch_kl,
)

from kldiv.testing import assert_close, to_numpy  # noqa: E402

from .distribution_helpers import kl_on, pair_ids  # noqa: E402

#: (family, p's parameters then q's, relative accuracy against mpmath in float32)
NEAR_EQUAL_FLOAT32 = [
    *((p, values, 1e-3) for (p, _), values in NEAR_EQUAL.items()),
    ("Normal", (0.3, 1.001, 0.3001, 1.0), 1e-4),
    ("Gumbel", (0.1, 1.01, 0.1, 1.0), 3e-3),  # JAX float32: 2.3e-3
    ("Laplace", (0.1, 1.01, 0.1, 1.0), 1e-3),
]


def _halves(values: tuple[float, ...]) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """p's and q's parameters (same family: as many each), as float32-exact arrays."""
    arrays = tuple(np.asarray(np.float32(value), dtype=np.float64) for value in values)
    half = len(arrays) // 2
    return arrays[:half], arrays[half:]


def _truth(family: str, values: tuple[float, ...]) -> float:
    """mpmath's KL at the float32 roundings of ``values``."""
    p_arrays, q_arrays = _halves(values)
    with mp.workdps(50):
        return float(ORACLES[family, family](*(float(a) for a in p_arrays + q_arrays)))


def test_masked_pairs_broadcast_where_torch_raises(xp: Any) -> None:
    probs_p, probs_q = np.array([0.2, 0.5, 0.0]), np.array([[0.4], [0.0]])
    with pytest.raises(IndexError):
        torch_kl("Bernoulli", (probs_p,), "Bernoulli", (probs_q,))
    result = kl_on(xp, "Bernoulli", (probs_p,), "Bernoulli", (probs_q,))
    desired = oracle("Bernoulli", "Bernoulli")(probs_p, probs_q)
    assert desired[1, 0] == np.inf  # both masked branches are met
    assert desired[1, 2] == 0
    assert_close(result, xp.asarray(desired, dtype=xp.float64), rtol=1e-14)


@pytest.mark.parametrize("pair", list(TORCH_INFINITE), ids=pair_ids(TORCH_INFINITE))
def test_continuous_bernoulli_uniform_boundary_is_finite(xp: Any, pair: tuple[str, str]) -> None:
    p_family, q_family = pair
    arrays = tuple(np.asarray(value, dtype=np.float64) for value in TORCH_INFINITE[pair])
    count = 1 if p_family == "ContinuousBernoulli" else 2
    assert np.all(np.isinf(torch_kl(p_family, arrays[:count], q_family, arrays[count:])))
    result = kl_on(xp, p_family, arrays[:count], q_family, arrays[count:])
    desired = oracle(p_family, q_family)(*arrays)
    assert_close(result, xp.asarray(desired, dtype=xp.float64), rtol=1e-10)


@pytest.mark.parametrize(
    ("family", "values", "rtol"), NEAR_EQUAL_FLOAT32, ids=[row[0] for row in NEAR_EQUAL_FLOAT32]
)
def test_float32_near_equal_against_mpmath(
    xp: Any, family: str, values: tuple[float, ...], rtol: float
) -> None:
    p_arrays, q_arrays = _halves(values)
    result = kl_on(xp, family, p_arrays, family, q_arrays, dtype=xp.float32)
    assert_close(result, _truth(family, values), rtol=rtol, atol=0.0)


@pytest.mark.parametrize("pair", list(NEAR_EQUAL), ids=pair_ids(NEAR_EQUAL))
def test_torch_float32_is_further_from_mpmath(pair: tuple[str, str]) -> None:
    family, values = pair[0], NEAR_EQUAL[pair]
    p_arrays, q_arrays = _halves(values)
    truth = _truth(family, values)
    strict = pytest.importorskip("array_api_strict")
    ours = to_numpy(kl_on(strict, family, p_arrays, family, q_arrays, dtype=strict.float32))
    theirs = torch_kl(family, p_arrays, family, q_arrays, dtype="float32")
    assert abs(theirs - truth) > abs(ours - truth)


def test_torch_beta_500_is_negative() -> None:
    values = NEAR_EQUAL["Beta", "Beta"]
    p_arrays, q_arrays = _halves(values)
    assert torch_kl("Beta", p_arrays, "Beta", q_arrays, dtype="float32") < 0
    assert _truth("Beta", values) > 0


def test_dirichlet_float32_near_equal(xp: Any) -> None:
    alpha = np.array([300.0, 200.0, 400.0, 100.0])
    beta = alpha + np.array([1.0, 0.0, -1.0, 0.0])
    result = kl_on(xp, "Dirichlet", (alpha,), "Dirichlet", (beta,), dtype=xp.float32)
    assert_close(result, dirichlet_oracle(alpha, beta), rtol=1e-2, atol=0.0)
