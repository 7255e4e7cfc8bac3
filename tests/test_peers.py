"""The numbers the README quotes from dit, pyitlib and POT, reproduced with the peers themselves.

Each test skips when its peer is not installed (``pip install kldiv[peers]``); the conformance
suite compares with the same peers on every backend (``conformance/cases/peers.py``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import kldiv
from kldiv.testing import assert_close

P, Q = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.2, 0.6])


def test_pyitlib_bits_are_base_2() -> None:
    drv = pytest.importorskip("pyitlib.discrete_random_variable")
    bits = drv.divergence_kullbackleibler_pmf(P, Q)
    assert math.isclose(bits, 0.5194602975157965, rel_tol=1e-14)  # the README's number
    assert_close(kldiv.entropy(P, Q, base=2), bits, rtol=1e-14)
    assert_close(
        kldiv.js_divergence(P, Q, base=2), drv.divergence_jensenshannon_pmf(P, Q), rtol=1e-14
    )
    symmetrised = drv.divergence_kullbackleibler_symmetrised_pmf(P, Q)
    assert_close(kldiv.jeffreys(P, Q), symmetrised * math.log(2), rtol=1e-14)


def test_dit_units_and_conventions() -> None:
    dit = pytest.importorskip("dit")
    first, second = (dit.Distribution(["a", "b", "c"], x) for x in (P, Q))
    divergences = dit.divergences
    bits = divergences.jensen_shannon_divergence([first, second])
    assert math.isclose(bits, 0.13065890260435853, rel_tol=1e-14)  # the README's number
    assert_close(kldiv.js_divergence(P, Q, base=2), bits, rtol=1e-14)
    assert_close(kldiv.hellinger(P, Q), divergences.hellinger_distance(first, second), rtol=1e-14)
    assert_close(
        kldiv.total_variation(P, Q), divergences.variational_distance(first, second), rtol=1e-14
    )
    renyi = divergences.renyi_divergence(first, second, 2.0)
    assert_close(kldiv.renyi_divergence(P, Q, alpha=2.0, base=2), renyi, rtol=1e-14)


def test_pot_wasserstein_is_the_pth_power_and_bures_is_w2() -> None:
    ot = pytest.importorskip("ot")
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=(3, 8)), rng.normal(1.0, 2.0, size=(3, 5))
    ours = kldiv.wasserstein_1d(u, v, p=2)
    for row in range(3):
        assert_close(
            np.asarray(ours[row] ** 2), float(ot.wasserstein_1d(u[row], v[row], p=2)), rtol=1e-12
        )
    tril_q = np.array([[2.0, 0.0], [1.0, 1.0]])
    expected = ot.gaussian.bures_wasserstein_distance(
        np.array([1.0, 0.0]), np.zeros(2), np.eye(2), tril_q @ tril_q.T
    )
    result = kldiv.gaussian.wasserstein2_mvn(np.array([1.0, 0.0]), np.eye(2), np.zeros(2), tril_q)
    assert_close(result, float(expected), rtol=1e-12)
