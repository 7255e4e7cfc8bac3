"""The stable kernels at the edges of the floating range, through the public functions.

Quotients that overflow, underflow or are subnormal; rows of very different scale; shared
``-inf`` log-probabilities and distances at ``p = q`` under autograd. The expected values are
SciPy's (exact to rounding here) in float64 on the inputs as rounded to the dtype under test.
"""

from __future__ import annotations

import math

import array_api_compat as compat
import numpy as np
import pytest

import kldiv
from kldiv.testing import assert_close, to_numpy

special = pytest.importorskip("scipy.special")  # the reference: exact to rounding here
stats = pytest.importorskip("scipy.stats")

#: (p, q) per dtype whose quotients p / q overflow, underflow and are subnormal in that dtype.
EXTREME_QUOTIENTS = {
    "float64": ([4.0, 1e-200, 2.22e-308, 0.5], [2.22e-308, 1e200, 1e15, 0.5]),
    "float32": ([4.0, 1e-30, 1e-38, 0.5], [1e-38, 1e30, 1e15, 0.5]),
    "bfloat16": ([4.0, 1e-30, 1e-38, 0.5], [1e-38, 1e30, 1e15, 0.5]),
    "float16": ([4.0, 1e-4, 6e-8, 0.5], [6e-8, 1e4, 1e3, 0.5]),
}


def _dtypes(xp):
    return [name for name in EXTREME_QUOTIENTS if hasattr(xp, name)]


def _as(xp, values, dtype_name):
    return xp.asarray(np.asarray(values, dtype=np.float64), dtype=getattr(xp, dtype_name))


def _rounded(array):
    """The float64 values an array holds, as its library computes with them.

    XLA (JAX) flushes subnormal numbers to zero in arithmetic, so on JAX they count as zeros
    (subnormal in the compute dtype: float32 for 16-bit inputs).
    """
    values = to_numpy(array).astype(np.float64)
    if compat.is_jax_array(array):
        jnp = compat.array_namespace(array)
        compute = array.dtype if jnp.finfo(array.dtype).bits >= 32 else jnp.float32
        smallest_normal = float(jnp.finfo(compute).smallest_normal)
        values = np.where(np.abs(values) < smallest_normal, 0.0, values)
    return values


def test_rel_entr_matches_scipy_where_the_quotient_leaves_the_normal_range(xp):
    for dtype in _dtypes(xp):
        p, q = (_as(xp, values, dtype) for values in EXTREME_QUOTIENTS[dtype])
        expected = special.rel_entr(_rounded(p), _rounded(q))
        assert_close(kldiv.rel_entr(p, q), _as(xp, expected, dtype), err_msg=dtype)


def test_rel_entr_scipy_regression_values():
    """SciPy's own regression values (its tests for overflowing and subnormal quotients)."""
    p = np.array([4, 1e-200, 2.22e-308])
    q = np.array([2.22e-308, 1e200, 1e15])
    assert_close(
        kldiv.rel_entr(p, q), np.array([2839.13998, -9.21034037e-198, -1.6493212e-305]), rtol=1e-8
    )


@pytest.mark.parametrize("function", ["kl_divergence", "jeffreys"])
def test_rows_of_very_different_scale_in_float32(xp, function):
    """float32 counts against a float32 softmax: p / q overflows before the normalisation."""
    for dtype in ("float32", "bfloat16", "float64"):
        if not hasattr(xp, dtype):
            continue
        p = _as(xp, [[1e6, 1e6]], dtype)
        q = _as(xp, [[1.0, 1e-33]], dtype)
        p64, q64 = _rounded(p)[0], _rounded(q)[0]
        expected = stats.entropy(p64, q64)
        if function == "jeffreys":
            expected += stats.entropy(q64, p64)
        assert_close(getattr(kldiv, function)(p, q), _as(xp, expected, dtype), err_msg=dtype)
    assert math.isclose(stats.entropy([0.5, 0.5], [1.0, 1e-33]), 37.2995, rel_tol=1e-5)


def test_rows_of_very_different_scale_in_float64(xp):
    p = xp.asarray(np.array([[1e200, 1e200], [1.0, 0.0]]))
    q = xp.asarray(np.array([[1e-200, 1e-200], [1e-320, 1.0]]))
    expected = xp.asarray(np.array([0.0, 736.8272408909739]))
    if compat.is_jax_array(q):  # XLA flushes the subnormal 1e-320 to 0: p > 0 = q there
        expected = xp.asarray(np.array([0.0, np.inf]))
    assert_close(kldiv.entropy(p, q), expected)
    assert_close(kldiv.kl_divergence(p, q, reduction="none"), expected)
    metric = kldiv.KLDivergence(reduction="none")
    metric.update(p, q)
    assert_close(metric.compute(), expected)


def test_metric_over_rows_of_very_different_scale(xp):
    metric = kldiv.KLDivergence()
    metric.update(xp.asarray(np.float32([[1e6, 1e6]])), xp.asarray(np.float32([[1.0, 1e-33]])))
    assert_close(metric.compute(), xp.asarray(37.299507, dtype=xp.float32))


def test_js_divergence_gradients_are_finite_at_shared_neg_inf_log_probabilities():
    torch = pytest.importorskip("torch")
    log_p = torch.tensor([[0.0, -math.inf]], dtype=torch.float64, requires_grad=True)
    log_q = log_p.detach().clone().requires_grad_()
    value = kldiv.js_divergence(log_p, log_q, log_prob=True)
    value.backward()
    assert_close(value.detach(), torch.tensor(0.0, dtype=torch.float64))
    assert_close(log_p.grad, torch.zeros_like(log_p))
    assert_close(log_q.grad, torch.zeros_like(log_q))


def test_js_divergence_jax_gradients_are_finite_at_shared_neg_inf_log_probabilities():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    log_p = jax.numpy.asarray([[0.0, -math.inf], [math.log(0.25), math.log(0.75)]])
    log_q = jax.numpy.asarray([[0.0, -math.inf], [math.log(0.5), math.log(0.5)]])
    gradient = jax.grad(lambda lp: kldiv.js_divergence(lp, log_q, log_prob=True))(log_p)
    assert np.all(np.isfinite(np.asarray(gradient)))
    assert_close(gradient[0], jax.numpy.zeros(2))


def test_js_distance_has_a_zero_subgradient_at_p_equal_q():
    torch = pytest.importorskip("torch")
    p = torch.tensor([[0.3, 0.7], [0.5, 0.5]], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([[0.3, 0.7], [0.9, 0.1]], dtype=torch.float64)
    distance = kldiv.js_distance(p, q)
    distance.sum().backward()
    assert torch.all(torch.isfinite(p.grad))
    assert_close(p.grad[0], torch.zeros(2, dtype=torch.float64))
    assert torch.any(p.grad[1] != 0)


def test_js_distance_jax_gradient_at_p_equal_q():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    q = jax.numpy.asarray([0.3, 0.7])
    gradient = jax.grad(lambda p: kldiv.js_distance(p, q))(jax.numpy.asarray([0.3, 0.7]))
    assert_close(gradient, jax.numpy.zeros(2))


def test_logsumexp_of_an_empty_axis_is_minus_infinity(xp):
    from kldiv._elementwise import logsumexp

    empty = xp.ones((3, 0))
    assert_close(logsumexp(xp, empty, axis=1), np.full(3, -np.inf))
    assert_close(logsumexp(xp, empty, axis=1, keepdims=True), np.full((3, 1), -np.inf))
