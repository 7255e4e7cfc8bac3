"""Zeros and infinities on every backend, and finite gradients at p = 0.

The functions run jitted on JAX and without computing on Dask (:func:`lazy_xp_function`).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import kldiv
from kldiv.testing import assert_close, lazy_xp_function

INF = math.inf
NAN = math.nan

lazy_xp_modules = [kldiv]
for _name in ("kl_div", "kl_divergence", "entropy", "cross_entropy", "js_divergence", "jeffreys"):
    lazy_xp_function(getattr(kldiv, _name))


def assert_exactly(actual, desired):
    """Exact values, non-finite ones included."""
    assert_close(actual, desired, rtol=0, atol=0)


def _rows(xp, values):
    return xp.asarray(values, dtype=xp.float64)


def test_zero_p_contributes_zero_even_where_q_is_zero(xp):
    p = _rows(xp, [[0.0, 0.5, 0.5]])
    q = _rows(xp, [[0.0, 0.5, 0.5]])
    assert_exactly(kldiv.kl_divergence(p, q), 0.0)
    assert_exactly(kldiv.jeffreys(p, q), 0.0)
    assert_exactly(kldiv.js_divergence(p, q), 0.0)
    assert_exactly(kldiv.entropy(p, q), np.zeros(1))


def test_kl_div_zero_target_with_log_q_minus_inf_is_zero(xp):
    """torch gives NaN here; the limit p·log p → 0 says 0 (a declared deviation)."""
    log_q = _rows(xp, [[-INF, 0.0]])
    target = _rows(xp, [[0.0, 1.0]])
    assert_exactly(kldiv.kl_div(log_q, target, reduction="none"), np.zeros((1, 2)))
    log_target = _rows(xp, [[-INF, 0.0]])
    result = kldiv.kl_div(log_q, log_target, reduction="none", log_target=True)
    assert_exactly(result, np.zeros((1, 2)))


def test_log_prob_minus_inf_contributes_zero(xp):
    log_p = _rows(xp, [[-INF, 0.0]])
    log_q = _rows(xp, [[-INF, 0.0]])
    assert_exactly(kldiv.kl_divergence(log_p, log_q, log_prob=True), 0.0)
    assert_exactly(kldiv.js_divergence(log_p, log_q, log_prob=True), 0.0)


def test_positive_p_where_q_is_zero_is_inf_never_nan(xp):
    p = _rows(xp, [[0.5, 0.5]])
    q = _rows(xp, [[1.0, 0.0]])
    assert_exactly(kldiv.kl_divergence(p, q), INF)
    assert_exactly(kldiv.jeffreys(p, q), INF)
    assert_exactly(kldiv.cross_entropy(p, q), np.array([INF]))
    assert_exactly(kldiv.entropy(p, q), np.array([INF]))
    assert_exactly(kldiv.rel_entr(p, q)[0, 1], INF)
    log_q = _rows(xp, [[0.0, -INF]])
    assert_exactly(kldiv.kl_div(log_q, p, reduction="sum"), INF)
    assert_exactly(kldiv.kl_divergence(xp.log(p), log_q, log_prob=True), INF)


def test_negative_probabilities_give_nan(xp):
    p = _rows(xp, [[-0.5, 1.5]])
    q = _rows(xp, [[0.5, 0.5]])
    assert_exactly(kldiv.kl_div(xp.log(q), p, reduction="sum"), NAN)
    assert_exactly(kldiv.kl_divergence(p, q), NAN)
    assert_exactly(kldiv.kl_divergence(p, p), NAN)  # p log(p/p) would be 0: still NaN
    assert_exactly(kldiv.cross_entropy(p, q)[0], NAN)


def test_nan_propagates_through_zero_mass(xp):
    p = _rows(xp, [[0.0, 1.0]])
    log_q = _rows(xp, [[math.nan, 0.0]])
    assert_exactly(kldiv.kl_div(log_q, p, reduction="sum"), NAN)


def _torch_gradients(function, p_values, q_values):
    torch = pytest.importorskip("torch")
    p = torch.tensor(p_values, dtype=torch.float64, requires_grad=True)
    q = torch.tensor(q_values, dtype=torch.float64, requires_grad=True)
    function(p, q).backward()
    return [np.zeros(1) if x.grad is None else x.grad.numpy() for x in (p, q)]


GRADIENT_CASES = {
    "kl_divergence": lambda p, q: kldiv.kl_divergence(p, q),
    "js_divergence": lambda p, q: kldiv.js_divergence(p, q),
    "jeffreys_p_only": lambda p, q: kldiv.kl_divergence(p, q + 0.1),
    "cross_entropy": lambda p, q: kldiv.cross_entropy(p, q)[0],
    "entropy": lambda p, q: kldiv.entropy(p)[0],
    "kl_div": lambda p, q: kldiv.kl_div(q, p, reduction="batchmean"),
    "kl_div_log_q_minus_inf": lambda p, q: kldiv.kl_div(q, p, reduction="sum"),
    "kl_div_log_target": lambda p, q: kldiv.kl_div(q, p, reduction="sum", log_target=True),
    "rel_entr": lambda p, q: kldiv.rel_entr(p, q).sum(),
}
P_WITH_ZERO = [[0.0, 0.25, 0.75]]
Q_WITH_ZERO = [[0.0, 0.5, 0.5]]


@pytest.mark.parametrize("name", list(GRADIENT_CASES))
def test_torch_gradients_are_finite_at_zero_p(name):
    function = GRADIENT_CASES[name]
    log_space = name in ("kl_div_log_target", "kl_div_log_q_minus_inf")
    q_values = [[-math.inf, -0.5, -0.5]] if log_space else Q_WITH_ZERO
    p_values = [[-math.inf, -1.0, -0.2]] if name == "kl_div_log_target" else P_WITH_ZERO
    p_grad, q_grad = _torch_gradients(function, p_values, q_values)
    assert np.all(np.isfinite(p_grad)), p_grad
    assert np.all(np.isfinite(q_grad)), q_grad


@pytest.mark.parametrize("name", ["kl_divergence", "js_divergence", "kl_div", "rel_entr"])
def test_jax_gradients_are_finite_at_zero_p(name):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    function = GRADIENT_CASES[name]
    gradient = jax.grad(lambda p, q: function(p, q), argnums=(0, 1))
    p_grad, q_grad = gradient(jnp.asarray(P_WITH_ZERO), jnp.asarray(Q_WITH_ZERO))
    assert np.all(np.isfinite(np.asarray(p_grad))), p_grad
    assert np.all(np.isfinite(np.asarray(q_grad))), q_grad


def test_torch_gradient_matches_the_analytic_one():
    """d/dp Σ p log(p/q) = log(p/q) + 1 for p > 0 (normalisation off: probabilities sum to 1)."""
    torch = pytest.importorskip("torch")
    p = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64, requires_grad=True)
    log_q = torch.log(torch.tensor([0.3, 0.3, 0.4], dtype=torch.float64))
    kldiv.kl_div(log_q, p, reduction="sum").backward()
    expected = torch.log(p.detach()) - log_q + 1
    assert_close(p.grad, expected, rtol=1e-14)
