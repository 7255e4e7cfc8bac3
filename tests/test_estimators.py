"""kldiv.kl_estimate: each preset against its framework's formula, exactness, bias and variance
by Monte Carlo, gradients, aggregates and errors, on every backend.

The framework formulas are NumPy float64 transcriptions of the upstream files each preset names
(``kldiv.ESTIMATOR_PRESETS[name].source``), from :mod:`conformance.estimator_specs`, shared with
the conformance suite.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest
from conformance.estimator_specs import (
    PRESET_FORMULAS,
    log_probability_cases,
    slime_approx_kl,
    verl_agg_loss,
    verl_kl_penalty_forward,
)

import kldiv
from kldiv.testing import (
    Backend,
    assert_close,
    assert_same_kind,
    float_dtypes,
    lazy_xp_function,
    to_numpy,
)

from .conftest import load_backend

lazy_xp_modules = [kldiv]
lazy_xp_function(kldiv.kl_estimate)


def _inputs(seed: int = 0, shape: tuple[int, int] = (4, 9)) -> tuple[np.ndarray, ...]:
    """Log-probabilities with log-ratios from 1e-8 to ±50, and a boolean padding mask."""
    logp, logp_ref, mask = log_probability_cases(np.random.default_rng(seed), shape)
    return logp, logp_ref, mask != 0


def _on(xp: Any, *arrays: np.ndarray) -> list[Any]:
    return [xp.asarray(array) for array in arrays]


# --- presets ----------------------------------------------------------------------------------


def test_every_preset_has_a_formula() -> None:
    assert set(PRESET_FORMULAS) == set(kldiv.ESTIMATOR_PRESETS)


@pytest.mark.parametrize("preset", sorted(PRESET_FORMULAS))
def test_preset_reproduces_its_framework(xp: Any, preset: str) -> None:
    logp, logp_ref, mask = _inputs()
    expected = PRESET_FORMULAS[preset](logp, logp_ref)
    result = kldiv.kl_estimate(*_on(xp, logp, logp_ref), preset=preset, aggregate="none")
    # the naive k3 forms cancel near delta = 0: an ulp of exp there is ~1e-16 absolute
    assert_close(result, expected, rtol=1e-12, atol=4e-16)
    logp_x, logp_ref_x, mask_x = _on(xp, logp, logp_ref, mask)
    masked = kldiv.kl_estimate(logp_x, logp_ref_x, mask=mask_x, preset=preset, aggregate="none")
    assert_close(masked, np.where(mask, expected, 0.0), rtol=1e-12, atol=4e-16)


@pytest.mark.parametrize("kl_loss_type", ["k3", "low_var_kl"])
def test_slime_importance_weight_then_clamp(xp: Any, kl_loss_type: str) -> None:
    logp, logp_ref, _ = _inputs(1)
    logp_old = logp + np.random.default_rng(2).normal(scale=1.5, size=logp.shape)
    expected = slime_approx_kl(logp, logp_ref, kl_loss_type, np.exp(logp - logp_old))
    result = kldiv.kl_estimate(
        *_on(xp, logp, logp_ref),
        preset=f"slime:{kl_loss_type}",
        is_ratio=xp.asarray(logp_old),
        aggregate="none",
    )
    assert_close(result, expected, rtol=1e-12, atol=4e-16)


def test_openrlhf_clamps_k1_too(xp: Any) -> None:
    logp, logp_ref = np.asarray([-30.0, -1.0]), np.asarray([-1.0, -30.0])  # delta -29, +29
    ours = kldiv.kl_estimate(*_on(xp, logp, logp_ref), estimator="k1", aggregate="none")
    theirs = kldiv.kl_estimate(*_on(xp, logp, logp_ref), preset="openrlhf:k1", aggregate="none")
    assert_close(ours, np.asarray([-29.0, 29.0]), rtol=0, atol=0)
    assert_close(theirs, np.asarray([-10.0, 10.0]), rtol=0, atol=0)


def test_naive_k3_forms_lose_tiny_log_ratios(xp: Any) -> None:
    """TRL PPO / OpenRLHF / slime write (e^r - 1) - r: a wrong sign at delta = -1e-8; verl and TRL
    GRPO write (e^r - r) - 1: 0 at delta = 1e-8. kldiv's k3 is exact (see the mpmath test)."""
    logp_ref = np.zeros(2)
    logp = np.asarray([1e-8, -1e-8])
    exact = np.asarray([_k3_mpmath(d) for d in logp])
    ours = kldiv.kl_estimate(*_on(xp, logp, logp_ref), aggregate="none")
    assert_close(ours, exact, rtol=4e-16, atol=0)
    one_first = to_numpy(
        kldiv.kl_estimate(*_on(xp, logp, logp_ref), preset="trl:ppo", aggregate="none")
    )
    ratio_first = to_numpy(
        kldiv.kl_estimate(*_on(xp, logp, logp_ref), preset="trl:grpo", aggregate="none")
    )
    assert one_first[1] < 0 < exact[1]  # wrong sign
    assert ratio_first[0] == 0.0 < exact[0]  # every digit lost


def _k3_mpmath(delta: float) -> float:
    """exp(-delta) - 1 + delta at 50 significant digits, rounded once to float64."""
    with mpmath.workdps(50):
        exact = mpmath.expm1(-mpmath.mpf(delta)) + mpmath.mpf(delta)
        return float(exact)


@pytest.mark.parametrize("delta", [1e-8, -1e-8, 3e-12, -2.5e-5, 0.3, -4.0, 45.0])
def test_k3_is_exact_to_one_ulp(delta: float) -> None:
    exact = _k3_mpmath(delta)
    result = to_numpy(kldiv.kl_estimate(np.asarray([delta]), np.zeros(1), aggregate="none"))[0]
    assert abs(result - exact) <= np.spacing(exact)
    naive = np.exp(-delta) - 1 + delta
    if abs(delta) <= 1e-8:  # the naive form: no correct digit left
        assert abs(naive - exact) > 0.1 * abs(exact)


def test_explicit_options_override_a_preset(xp: Any) -> None:
    logp, logp_ref, _ = _inputs(3)
    result = kldiv.kl_estimate(
        *_on(xp, logp, logp_ref), preset="verl:low_var_kl", clamp=(-1.0, 1.0), aggregate="none"
    )
    kl = np.clip(logp_ref - logp, -20, 20)
    assert_close(result, np.clip(np.exp(kl) - kl - 1, -1, 1), rtol=1e-12, atol=4e-16)
    low_var = kldiv.kl_estimate(*_on(xp, logp, logp_ref), estimator="low_var_kl", aggregate="none")
    assert_close(low_var, verl_kl_penalty_forward(logp, logp_ref, "k3"), rtol=1e-12, atol=4e-16)


# --- Monte Carlo: bias and variance from samples of a known pair ------------------------------


def _categorical_pair(scale: float) -> tuple[np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(7)
    log_pi = np.log(rng.dirichlet(np.ones(6)))
    log_ref = log_pi + scale * rng.normal(size=6)
    log_ref -= np.log(np.exp(log_ref).sum())
    return log_pi, log_ref, float(np.sum(np.exp(log_pi) * (log_pi - log_ref)))


def _moments(log_pi: np.ndarray, log_ref: np.ndarray, estimator: Callable) -> tuple[float, float]:
    """Exact mean and variance of ``estimator(delta)`` over x ~ pi."""
    values = estimator(log_pi - log_ref)
    probs = np.exp(log_pi)
    mean = float(np.sum(probs * values))
    return mean, float(np.sum(probs * (values - mean) ** 2))


ESTIMATOR_FORMULAS = {
    "k1": lambda d: d,
    "k2": lambda d: d**2 / 2,
    "k3": lambda d: np.expm1(-d) + d,
}


@pytest.mark.parametrize("estimator", ["k1", "k2", "k3"])
def test_monte_carlo_bias_categorical(xp: Any, estimator: str) -> None:
    log_pi, log_ref, kl = _categorical_pair(scale=2.0)
    samples = 20_000
    tokens = np.random.default_rng(11).choice(6, p=np.exp(log_pi), size=(40, samples // 40))
    mean, variance = _moments(log_pi, log_ref, ESTIMATOR_FORMULAS[estimator])
    bound = 5 * np.sqrt(variance / samples)  # 5 standard errors of the sample mean
    estimate = kldiv.kl_estimate(*_on(xp, log_pi[tokens], log_ref[tokens]), estimator=estimator)
    assert_close(estimate, mean, rtol=0, atol=bound)
    if estimator == "k2":  # biased: the estimate, close to its own mean, excludes KL
        assert abs(mean - kl) > 2 * bound
        assert abs(float(to_numpy(estimate)) - kl) > bound
    else:
        assert mean == pytest.approx(kl, rel=1e-12)  # unbiased


def test_monte_carlo_gaussians(xp: Any) -> None:
    """pi = N(0, 1), ref = N(mu, 1): KL = mu²/2, and delta = mu²/2 - mu·x ~ N(KL, mu²).

    Var(k1) = mu²; with Var(e^-delta) = e^(mu²) - 1 and Cov(e^-delta, delta) = -mu² (Stein's
    lemma), Var(k3) = e^(mu²) - 1 - mu².
    """
    mu, samples = 0.5, 40_000
    x = np.random.default_rng(5).normal(size=(8, samples // 8))
    logp, logp_ref = -(x**2) / 2, -((x - mu) ** 2) / 2
    kl = mu**2 / 2
    variances = {"k1": mu**2, "k3": np.expm1(mu**2) - mu**2}
    for estimator, variance in variances.items():
        estimate = kldiv.kl_estimate(*_on(xp, logp, logp_ref), estimator=estimator)
        assert_close(estimate, kl, rtol=0, atol=5 * np.sqrt(variance / samples))
    assert variances["k3"] < variances["k1"]


def test_k3_has_less_variance_near_equal_policies() -> None:
    log_pi, log_ref, _ = _categorical_pair(scale=0.1)
    var_k1 = _moments(log_pi, log_ref, ESTIMATOR_FORMULAS["k1"])[1]
    var_k3 = _moments(log_pi, log_ref, ESTIMATOR_FORMULAS["k3"])[1]
    assert var_k3 < 0.2 * var_k1
    tokens = np.random.default_rng(3).choice(6, p=np.exp(log_pi), size=(20, 500))
    per_token = {
        name: to_numpy(
            kldiv.kl_estimate(log_pi[tokens], log_ref[tokens], estimator=name, aggregate="none")
        )
        for name in ("k1", "k3")
    }
    assert np.var(per_token["k3"]) < np.var(per_token["k1"])


# --- gradients: torch autograd and jax.grad against the analytic derivatives ------------------

#: d value / d delta of each estimator (d/d logp; d/d logp_ref is its negative).
SLOPES = {
    "k1": lambda d: np.ones_like(d),
    "k2": lambda d: d,
    "k3": lambda d: -np.expm1(-d),
    "abs": np.sign,
}


def _gradient_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(21)
    logp_ref = -rng.gamma(2.0, size=(3, 4))
    logp = logp_ref + rng.normal(scale=1.5, size=(3, 4))
    return logp, logp_ref, logp + rng.normal(scale=0.5, size=(3, 4))


def _torch_gradients(function: Callable[..., Any], *arrays: np.ndarray) -> list[np.ndarray]:
    torch = pytest.importorskip("torch")
    tensors = [torch.tensor(array, requires_grad=True) for array in arrays]
    torch.sum(function(*tensors)).backward()
    return [tensor.grad.numpy() for tensor in tensors]


def _jax_gradients(function: Callable[..., Any], *arrays: np.ndarray) -> list[np.ndarray]:
    load_backend(Backend.JAX)  # skips unless installed; turns float64 on
    jax = pytest.importorskip("jax")
    total = lambda *args: jax.numpy.sum(function(*args))  # noqa: E731
    gradients = jax.grad(total, argnums=tuple(range(len(arrays))))(*map(jax.numpy.asarray, arrays))
    return [np.asarray(gradient) for gradient in gradients]


GRADIENT_ENGINES = {"torch": _torch_gradients, "jax": _jax_gradients}


@pytest.mark.parametrize("engine", list(GRADIENT_ENGINES))
@pytest.mark.parametrize("estimator", list(SLOPES))
@pytest.mark.parametrize("straight_through", [None, "k2"])
def test_gradients_are_analytic(engine: str, estimator: str, straight_through: str | None) -> None:
    logp, logp_ref, _ = _gradient_inputs()

    def per_token(a: Any, b: Any) -> Any:
        return kldiv.kl_estimate(
            a, b, estimator=estimator, straight_through=straight_through, aggregate="none"
        )

    slope = SLOPES[straight_through or estimator](logp - logp_ref)
    grad_logp, grad_ref = GRADIENT_ENGINES[engine](per_token, logp, logp_ref)
    np.testing.assert_allclose(grad_logp, slope, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad_ref, -slope, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("engine", list(GRADIENT_ENGINES))
@pytest.mark.parametrize("preset", ["verl:low_var_kl+", "verl:k1+", "verl:abs+"])
def test_verl_plus_carries_k2_gradient_whatever_the_clamps(engine: str, preset: str) -> None:
    logp, logp_ref, _ = _gradient_inputs()
    logp[0, :2] = logp_ref[0, :2] + [-30.0, 40.0]  # beyond both clamps of low_var_kl

    def per_token(a: Any, b: Any) -> Any:
        return kldiv.kl_estimate(a, b, preset=preset, aggregate="none")

    grad_logp, grad_ref = GRADIENT_ENGINES[engine](per_token, logp, logp_ref)
    np.testing.assert_allclose(grad_logp, logp - logp_ref, rtol=1e-12)
    np.testing.assert_allclose(grad_ref, logp_ref - logp, rtol=1e-12)
    value = to_numpy(per_token(logp, logp_ref))
    base = preset.split(":")[1].rstrip("+")
    np.testing.assert_allclose(value, verl_kl_penalty_forward(logp, logp_ref, base), rtol=1e-12)


@pytest.mark.parametrize("engine", list(GRADIENT_ENGINES))
def test_importance_weight_carries_gradient(engine: str) -> None:
    """TRL GRPO's ``per_token_kl * coef_1``, coef_1 = exp(logp - logp_old) not detached."""
    logp, logp_ref, logp_old = _gradient_inputs()

    def per_token(a: Any, b: Any, old: Any) -> Any:
        return kldiv.kl_estimate(a, b, is_ratio=old, aggregate="none")

    delta, weight = logp - logp_ref, np.exp(logp - logp_old)
    k3 = np.expm1(-delta) + delta
    grad_logp, grad_ref, grad_old = GRADIENT_ENGINES[engine](per_token, logp, logp_ref, logp_old)
    np.testing.assert_allclose(grad_logp, weight * (-np.expm1(-delta) + k3), rtol=1e-12)
    np.testing.assert_allclose(grad_ref, weight * np.expm1(-delta), rtol=1e-12)
    np.testing.assert_allclose(grad_old, -weight * k3, rtol=1e-12)


@pytest.mark.parametrize("engine", list(GRADIENT_ENGINES))
def test_clamped_tokens_have_no_gradient(engine: str) -> None:
    logp_ref = np.zeros(3)
    logp = np.asarray([-30.0, -1.5, 0.5])  # k3 beyond 10, inside, inside

    def per_token(a: Any, b: Any) -> Any:
        return kldiv.kl_estimate(a, b, preset="verl:low_var_kl", aggregate="none")

    grad_logp, _ = GRADIENT_ENGINES[engine](per_token, logp, logp_ref)
    np.testing.assert_allclose(grad_logp, [0.0, *(-np.expm1(-logp[1:]))], rtol=1e-12)


# --- aggregates -------------------------------------------------------------------------------

AGGREGATES = ["token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm"]


@pytest.mark.parametrize("aggregate", AGGREGATES)
@pytest.mark.parametrize("mask_kind", ["bool", "float"])
def test_aggregates_follow_verl_agg_loss(xp: Any, aggregate: str, mask_kind: str) -> None:
    logp, logp_ref, mask = _inputs(4, shape=(5, 7))
    values = np.expm1(-(logp - logp_ref)) + (logp - logp_ref)
    numbers = mask if mask_kind == "bool" else mask.astype(np.float64)
    logp_x, logp_ref_x, mask_x = _on(xp, logp, logp_ref, numbers)
    result = kldiv.kl_estimate(logp_x, logp_ref_x, mask=mask_x, aggregate=aggregate)
    # verl divides by (count + 1e-8) in seq-mean-token-mean: relative 1e-8/count
    assert_close(result, verl_agg_loss(values, mask, aggregate), rtol=1e-8, atol=0)
    unmasked = kldiv.kl_estimate(logp_x, logp_ref_x, aggregate=aggregate)
    assert_close(unmasked, verl_agg_loss(values, np.ones_like(mask), aggregate), rtol=1e-8)


def test_padding_never_leaks(xp: Any) -> None:
    """NaN or inf in masked positions stays out, as verl's ``masked_sum`` keeps it out."""
    logp = np.asarray([[-1.0, -2.0, np.nan], [-0.5, -np.inf, -np.inf]])
    logp_ref = np.asarray([[-1.5, -1.0, -1.0], [-0.7, 0.0, -np.inf]])
    mask = np.asarray([[True, True, False], [True, False, False]])
    delta = np.asarray([0.5, -1.0, 0.2])
    k3 = np.expm1(-delta) + delta
    logp_x, logp_ref_x, mask_x = _on(xp, logp, logp_ref, mask)
    for aggregate, expected in {
        "token-mean": k3.sum() / 3,
        "seq-mean-token-sum": (k3[0] + k3[1] + k3[2]) / 2,
        "seq-mean-token-mean": ((k3[0] + k3[1]) / 2 + k3[2]) / 2,
        "seq-mean-token-sum-norm": k3.sum() / 3,
    }.items():
        result = kldiv.kl_estimate(logp_x, logp_ref_x, mask=mask_x, aggregate=aggregate)
        assert_close(result, expected, rtol=1e-12, err_msg=aggregate)
    tokens = kldiv.kl_estimate(logp_x, logp_ref_x, mask=mask_x, aggregate="none")
    assert_close(tokens, np.asarray([[k3[0], k3[1], 0.0], [k3[2], 0.0, 0.0]]), rtol=1e-12)


def test_float32_stays_float32_with_a_bool_mask(xp: Any) -> None:
    logp, logp_ref, mask = _inputs(5)
    logp_x, logp_ref_x = (xp.asarray(a, dtype=xp.float32) for a in (logp, logp_ref))
    result = kldiv.kl_estimate(logp_x, logp_ref_x, mask=xp.asarray(mask), aggregate="none")
    delta = (logp.astype(np.float32) - logp_ref.astype(np.float32)).astype(np.float64)
    expected = np.where(mask, np.expm1(-delta) + delta, 0.0).astype(np.float32)
    assert_close(result, expected, rtol=1e-5, atol=1e-6)


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"estimator": "k4"}, r"estimator='k4'.*'k1', 'k2', 'k3', 'abs', 'low_var_kl'"),
        ({"preset": "verl:k5"}, r"preset='verl:k5'.*'verl:low_var_kl'"),
        ({"aggregate": "mean"}, r"aggregate='mean'.*'token-mean'"),
        ({"straight_through": "k9"}, r"straight_through='k9'"),
        ({"preset": "trl:grpo", "estimator": "k1"}, r"estimator='k1' conflicts with preset"),
        ({"clamp": (1.0, -1.0)}, r"clamp must have low <= high"),
    ],
)
def test_bad_options_name_the_argument(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        kldiv.kl_estimate(np.zeros(3), np.zeros(3), **options)


def test_bad_arrays_name_the_argument() -> None:
    with pytest.raises(TypeError, match="log_ratio_clamp must be a pair"):
        kldiv.kl_estimate(np.zeros(3), np.zeros(3), log_ratio_clamp=5.0)
    with pytest.raises(ValueError, match=r"mask \(2,\)"):
        kldiv.kl_estimate(np.zeros(3), np.zeros(3), mask=np.ones(2))
    with pytest.raises(ValueError, match="needs a sequence axis"):
        kldiv.kl_estimate(np.zeros(()), np.zeros(()), aggregate="seq-mean-token-sum")
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="mask: torch"):
        kldiv.kl_estimate(np.zeros(3), np.zeros(3), mask=torch.ones(3))


def test_value_checks_name_the_argument() -> None:
    with pytest.raises(ValueError, match="logp_ref contains NaN"):
        kldiv.kl_estimate(np.zeros(2), np.asarray([0.0, np.nan]), validate_args=True)
    with pytest.raises(ValueError, match="is_ratio contains \\+inf"):
        kldiv.kl_estimate(
            np.zeros(2), np.zeros(2), is_ratio=np.asarray([np.inf, 0.0]), validate_args=True
        )
    with pytest.raises(ValueError, match="mask must hold only 0 and 1"):
        kldiv.kl_estimate(np.zeros(2), np.zeros(2), mask=np.asarray([0.5, 1.0]), validate_args=True)
    unchecked = kldiv.kl_estimate(np.zeros(2), np.asarray([0.0, np.nan]))
    assert np.isnan(to_numpy(unchecked))


# --- dtypes and devices -----------------------------------------------------------------------


@pytest.mark.parametrize("aggregate", ["none", "token-mean", "seq-mean-token-mean"])
def test_dtype_is_kept(xp: Any, aggregate: str) -> None:
    logp, logp_ref, mask = _inputs(6, shape=(3, 4))
    reference = kldiv.kl_estimate(logp, logp_ref, mask=mask, aggregate=aggregate)
    for dtype in float_dtypes(xp):
        arrays = (xp.asarray(a, dtype=dtype) for a in (logp, logp_ref))
        result = kldiv.kl_estimate(*arrays, mask=xp.asarray(mask), aggregate=aggregate)
        assert_same_kind(result, xp, dtype=dtype)
        if dtype == xp.float64:
            assert_close(result, to_numpy(reference), rtol=1e-12)


def test_result_stays_on_the_device(device: tuple[Any, Any]) -> None:
    xp, other = device
    logp, logp_ref, mask = (xp.asarray(a, device=other) for a in _inputs(7, shape=(2, 3)))
    result = kldiv.kl_estimate(logp, logp_ref, mask=mask, preset="verl:k3+", is_ratio=logp)
    assert result.device == other
