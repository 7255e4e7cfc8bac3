"""kldiv.gaussian against ml-starter's formulas and torch.distributions, on every backend."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conformance.specs import scale_tril, torch_kl

from kldiv.gaussian import kl_mvn, kl_normal, kl_standard_normal
from kldiv.testing import assert_close, assert_same_kind


def ml_starter_single(mu: np.ndarray, log_var: np.ndarray, lo: float = -30, hi: float = 20):
    """ml-starter ``kl_div_single_loss`` (not on PyPI): its formula, reimplemented."""
    log_var = np.clip(log_var, lo, hi)
    return -0.5 * (1 + log_var - mu**2 - np.exp(log_var))


def ml_starter_pair(mu_p, log_var_p, mu_q, log_var_q, lo: float = -30, hi: float = 20):
    """ml-starter ``kl_div_pair_loss``: returns 2·KL + ½, not the KL."""
    log_var_p, log_var_q = np.clip(log_var_p, lo, hi), np.clip(log_var_q, lo, hi)
    return (
        (log_var_q - log_var_p) + (np.exp(log_var_p) + (mu_p - mu_q) ** 2) / np.exp(log_var_q) - 0.5
    )


def _arrays(xp: Any, *arrays: np.ndarray, dtype: Any = None) -> list[Any]:
    return [xp.asarray(a, dtype=xp.float64 if dtype is None else dtype) for a in arrays]


def _float64(xp: Any, values: Any) -> Any:
    """A reference computed on the host, as an ``xp`` float64 array."""
    return xp.asarray(values, dtype=xp.float64)


def test_standard_normal_reproduces_ml_starter(xp: Any) -> None:
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(4, 5))
    log_var = rng.normal(scale=3, size=(4, 5))
    log_var[0, :2] = [-40.0, 25.0]  # outside the clamp
    result = kl_standard_normal(*_arrays(xp, mu, log_var))
    assert_close(result, _float64(xp, ml_starter_single(mu, log_var)), rtol=1e-12)
    custom = kl_standard_normal(*_arrays(xp, mu, log_var), clamp_min=-1.0, clamp_max=1.0)
    assert_close(custom, _float64(xp, ml_starter_single(mu, log_var, -1.0, 1.0)), rtol=1e-12)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "batchmean"])
def test_reductions(xp: Any, reduction: str) -> None:
    rng = np.random.default_rng(1)
    mu, log_var = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    terms = ml_starter_single(mu, log_var)
    expected = {
        "none": terms,
        "sum": terms.sum(),
        "mean": terms.mean(),
        "batchmean": terms.sum() / 4,
    }[reduction]
    result = kl_standard_normal(*_arrays(xp, mu, log_var), reduction=reduction)
    assert_close(result, _float64(xp, expected), rtol=1e-12)
    reversed_mu, reversed_lv = np.ascontiguousarray(mu[::-1]), np.ascontiguousarray(log_var[::-1])
    pair = kl_normal(*_arrays(xp, mu, log_var, reversed_mu, reversed_lv), reduction=reduction)
    assert tuple(pair.shape) == tuple(np.shape(expected))


def test_kl_normal_matches_torch_and_ml_starter(xp: Any) -> None:
    pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    mu_p, lv_p = rng.normal(size=(3,)), rng.normal(size=(3,))
    mu_q, lv_q = rng.normal(size=(2, 1)), rng.normal(size=(2, 1))
    result = kl_normal(*_arrays(xp, mu_p, lv_p, mu_q, lv_q))
    expected = torch_kl("Normal", (mu_p, np.exp(lv_p / 2)), "Normal", (mu_q, np.exp(lv_q / 2)))
    assert_close(result, _float64(xp, expected), rtol=1e-10)
    pair_loss = _float64(xp, ml_starter_pair(mu_p, lv_p, mu_q, lv_q))
    assert_close(2 * result + 0.5, pair_loss, rtol=1e-10)


def test_float32_and_half_keep_dtype(xp: Any) -> None:
    values = np.asarray([0.1, -0.2, 0.3])
    result = kl_normal(*_arrays(xp, values, values, -values, values, dtype=xp.float32))
    assert_same_kind(result, xp, dtype=xp.float32)
    if hasattr(xp, "float16"):
        half = kl_standard_normal(*_arrays(xp, values, values, dtype=xp.float16))
        assert_same_kind(half, xp, dtype=xp.float16)


def test_near_equal_float32_is_accurate(xp: Any) -> None:
    """d = lv_p − lv_q = 1e-4: ½(e^d − 1 − d) ≈ 5e-9, lost entirely by the naive float32 form."""
    mpmath = pytest.importorskip("mpmath")
    lv_p, lv_q = np.float32(0.0001), np.float32(0.0)
    result = kl_normal(*_arrays(xp, np.float32(0), lv_p, np.float32(0), lv_q, dtype=xp.float32))
    d = mpmath.mpf(float(lv_p)) - mpmath.mpf(float(lv_q))
    truth = float((mpmath.expm1(d) - d) / 2)
    assert_close(result, xp.asarray(truth, dtype=xp.float32), rtol=1e-6, atol=0.0)


def test_gradients_finite_and_zero_outside_clamp() -> None:
    torch = pytest.importorskip("torch")
    mu = torch.tensor([0.5, 0.5], dtype=torch.float64, requires_grad=True)
    log_var = torch.tensor([0.3, 25.0], dtype=torch.float64, requires_grad=True)
    kl_standard_normal(mu, log_var, reduction="sum").backward()
    assert_close(mu.grad, torch.tensor([0.5, 0.5], dtype=torch.float64))  # d/dmu: mu
    # d/dlog_var: (e^log_var - 1) / 2 inside the clamp, 0 beyond it
    assert_close(log_var.grad, torch.tensor([np.expm1(0.3) / 2, 0.0], dtype=torch.float64))


def test_jax_grad_and_jit() -> None:
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def loss(mu: Any, log_var: Any) -> Any:  # traced p against a concrete q = N(0, e)
        return kl_normal(mu, log_var, jnp.zeros(3), jnp.ones(3), reduction="sum")

    mu, log_var = jnp.asarray([0.1, 0.0, 0.2]), jnp.zeros(3)
    grad_mu, grad_log_var = jax.grad(loss, argnums=(0, 1))(mu, log_var)
    # d/dmu = mu / e, d/dlog_var = (e^(log_var - 1) - 1) / 2
    assert_close(grad_mu, mu / np.e)
    assert_close(grad_log_var, jnp.full(3, (np.exp(-1.0) - 1) / 2))
    assert_close(jax.jit(loss)(mu, log_var), loss(mu, log_var))


def test_bad_arguments() -> None:
    import array_api_compat.numpy as xp

    ones = xp.ones(3)
    with pytest.raises(ValueError, match="reduction"):
        kl_standard_normal(ones, ones, reduction="avg")
    with pytest.raises(ValueError, match="clamp_min"):
        kl_standard_normal(ones, ones, clamp_min=2.0, clamp_max=1.0)
    with pytest.raises(ValueError, match="log_var"):
        kl_standard_normal(ones, xp.asarray([0.0, np.nan, 0.0]), validate_args=True)
    with pytest.raises(ValueError, match="shapes cannot be broadcast"):
        kl_normal(ones, ones, xp.ones(2), xp.ones(2))
    with pytest.raises(ValueError, match="scale_tril_q"):
        kl_mvn(ones, xp.eye(3), ones, -xp.eye(3), validate_args=True)
    with pytest.raises(ValueError, match="kl_mvn needs"):
        kl_mvn(ones, xp.eye(2), ones, xp.eye(3))


def _torch_mvn_kl(loc_p, tril_p, loc_q, tril_q) -> np.ndarray:
    pytest.importorskip("torch")

    def covariance(tril: np.ndarray) -> np.ndarray:
        return tril @ np.swapaxes(tril, -1, -2)

    return torch_kl(
        "MultivariateNormal",
        (loc_p, covariance(tril_p)),
        "MultivariateNormal",
        (loc_q, covariance(tril_q)),
    )


def test_kl_mvn_matches_torch_with_broadcast_batches(xp: Any) -> None:
    rng = np.random.default_rng(3)
    arrays = (rng.normal(size=(3, 4)), scale_tril(rng, (3,), 4), rng.normal(size=(2, 1, 4)))
    arrays += (scale_tril(rng, (1,), 4),)
    result = kl_mvn(*_arrays(xp, *arrays))
    assert_close(result, _float64(xp, _torch_mvn_kl(*arrays)), rtol=1e-10)


@pytest.mark.slow
def test_kl_mvn_d512_batch64(xp: Any) -> None:
    rng = np.random.default_rng(4)
    size, batch = 512, 64
    arrays = (rng.normal(size=(batch, size)), scale_tril(rng, (batch,), size))
    arrays += (rng.normal(size=(batch, size)), scale_tril(rng, (batch,), size))
    result = kl_mvn(*_arrays(xp, *arrays))
    assert_close(result, _float64(xp, _torch_mvn_kl(*arrays)), rtol=1e-9)


def test_device_is_kept(device: tuple[Any, Any]) -> None:
    xp, where = device
    mu = xp.zeros((2, 3), dtype=xp.float64, device=where)
    assert_same_kind(kl_standard_normal(mu, mu), xp, dtype=xp.float64, device=where)
    assert_same_kind(kl_normal(mu, mu, mu, mu, reduction="sum"), xp, device=where)
    eye = xp.eye(3, dtype=xp.float64, device=where)
    assert_same_kind(kl_mvn(mu, eye, mu, 2 * eye), xp, dtype=xp.float64, device=where)


def test_infinite_clamps_give_nan_without_a_warning():
    zeros = np.zeros(3)
    with np.errstate(all="raise"):
        values = kl_normal(zeros, zeros, zeros, zeros, clamp_min=np.inf, clamp_max=np.inf)
        standard = kl_standard_normal(zeros, zeros, clamp_min=np.inf, clamp_max=np.inf)
    assert np.isnan(values).all()
    assert np.isnan(standard).all()


def test_kl_mvn_with_a_singular_factor_names_both_factors():
    singular = np.zeros((2, 2))
    with pytest.raises(ValueError, match="scale_tril_p and scale_tril_q"):
        kl_mvn(np.zeros(2), np.eye(2), np.zeros(2), singular)
