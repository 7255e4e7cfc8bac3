"""Normal-family pairs of kldiv.distributions against torch.distributions, on every backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import kldiv.distributions as kd

from .backends import assert_same_kind, to_numpy

torch = pytest.importorskip("torch")
td = torch.distributions

Params = Callable[[np.random.Generator, tuple[int, ...]], tuple[np.ndarray, ...]]


def _loc_scale(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return rng.normal(size=batch), np.exp(rng.normal(scale=0.7, size=batch))


def _scale(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return (np.exp(rng.normal(scale=0.7, size=batch)),)


def _positive(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return (np.exp(rng.normal(scale=0.5, size=batch)),)


def _two_positive(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return _positive(rng, batch) + _positive(rng, batch)


def _interval(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    low = rng.normal(size=batch)
    return low, low + np.exp(rng.normal(size=batch))


def _probs(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return (rng.uniform(0.05, 0.95, size=batch),)


PARAMS: dict[str, Params] = {
    "Normal": _loc_scale,
    "Gumbel": _loc_scale,
    "Laplace": _loc_scale,
    "Cauchy": _loc_scale,
    "HalfNormal": _scale,
    "Exponential": _positive,
    "Gamma": _two_positive,
    "Beta": _two_positive,
    "Pareto": _two_positive,
    "Uniform": _interval,
    "ContinuousBernoulli": _probs,
}

CLOSED_FORM = [
    ("Normal", "Normal"),
    ("Normal", "Gumbel"),
    ("Normal", "Laplace"),
    ("Gumbel", "Gumbel"),
    ("Gumbel", "Normal"),
    ("Laplace", "Laplace"),
    ("Laplace", "Normal"),
    ("Cauchy", "Cauchy"),
    ("HalfNormal", "HalfNormal"),
]
INFINITE = [
    (p, q)
    for p in ("Normal", "Gumbel", "Laplace")
    for q in ("Beta", "ContinuousBernoulli", "Exponential", "Gamma", "Pareto", "Uniform")
]
P_BATCH, Q_BATCH = (3,), (2, 1)


def _make(module: Any, family: str, arrays: tuple[Any, ...]) -> Any:
    return getattr(module, family)(*arrays)


def _torch_kl(p_family: str, p: tuple[np.ndarray, ...], q_family: str, q: tuple[np.ndarray, ...]):
    tp = _make(td, p_family, tuple(torch.as_tensor(a) for a in p))
    tq = _make(td, q_family, tuple(torch.as_tensor(a) for a in q))
    return td.kl_divergence(tp, tq).numpy()


def _ours(xp: Any, p_family: str, p: tuple, q_family: str, q: tuple, dtype: Any = None) -> Any:
    dtype = xp.float64 if dtype is None else dtype
    dist_p = _make(kd, p_family, tuple(xp.asarray(a, dtype=dtype) for a in p))
    dist_q = _make(kd, q_family, tuple(xp.asarray(a, dtype=dtype) for a in q))
    return kd.kl_divergence(dist_p, dist_q)


@pytest.mark.parametrize(("p_family", "q_family"), CLOSED_FORM + INFINITE)
def test_matches_torch_with_broadcast_batches(xp: Any, p_family: str, q_family: str) -> None:
    rng = np.random.default_rng(0)
    p = PARAMS[p_family](rng, P_BATCH)
    q = PARAMS[q_family](rng, Q_BATCH)
    result = _ours(xp, p_family, p, q_family, q)
    assert_same_kind(result, xp, dtype=xp.float64)
    assert tuple(result.shape) == (2, 3)
    # torch's +inf pairs take p's batch shape only (torch.full_like(p.loc, inf)): broadcast it.
    expected = np.broadcast_to(_torch_kl(p_family, p, q_family, q), (2, 3))
    np.testing.assert_allclose(to_numpy(result), expected, rtol=1e-10)


@pytest.mark.parametrize(("p_family", "q_family"), CLOSED_FORM)
def test_float32_and_half(xp: Any, p_family: str, q_family: str) -> None:
    rng = np.random.default_rng(1)
    p = PARAMS[p_family](rng, P_BATCH)
    q = PARAMS[q_family](rng, Q_BATCH)
    expected = _torch_kl(p_family, p, q_family, q)
    result = _ours(xp, p_family, p, q_family, q, dtype=xp.float32)
    assert_same_kind(result, xp, dtype=xp.float32)
    np.testing.assert_allclose(to_numpy(result), expected, rtol=2e-4, atol=1e-5)
    if hasattr(xp, "float16"):
        half = _ours(xp, p_family, p, q_family, q, dtype=xp.float16)
        assert_same_kind(half, xp, dtype=xp.float16)


@pytest.mark.parametrize(
    ("p_family", "q_family"), [pair for pair in CLOSED_FORM if pair[0] == pair[1]]
)
def test_zero_at_equal_parameters(xp: Any, p_family: str, q_family: str) -> None:
    rng = np.random.default_rng(2)
    params = PARAMS.get(p_family, _loc_scale)(rng, (4,))
    dist = _make(kd, p_family, tuple(xp.asarray(a, dtype=xp.float32) for a in params))
    if p_family == q_family:
        same = to_numpy(kd.kl_divergence(dist, dist))
        np.testing.assert_allclose(same, 0.0, atol=1e-6)  # float32 lgamma: a few ulp
        assert (same >= 0).all()


def _mpmath_normal(mu_p: float, s_p: float, mu_q: float, s_q: float) -> float:
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    ratio = mpmath.mpf(s_p) / mpmath.mpf(s_q)
    distance = (mpmath.mpf(mu_p) - mpmath.mpf(mu_q)) / mpmath.mpf(s_q)
    return float((ratio**2 + distance**2 - 1 - mpmath.log(ratio**2)) / 2)


def test_float32_near_equal_normals_beat_cancellation() -> None:
    """torch cancels to 0 or worse in float32 when p ≈ q; the stable form keeps ~1e-6 relative."""
    np32 = np.float32
    mu_p, s_p, mu_q, s_q = np32(0.3), np32(1.001), np32(0.3001), np32(1.0)
    import array_api_compat.numpy as xp

    ours = kd.kl_divergence(kd.Normal(xp.asarray(mu_p), s_p), kd.Normal(xp.asarray(mu_q), s_q))
    truth = _mpmath_normal(float(mu_p), float(s_p), float(mu_q), float(s_q))
    assert abs(float(ours) - truth) <= 1e-4 * truth


def _mpmath_kl(log_p: Callable, log_q: Callable, low: float, high: float) -> float:
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40

    def integrand(x: Any) -> Any:
        lp = log_p(mpmath, x)
        return mpmath.exp(lp) * (lp - log_q(mpmath, x))

    return float(mpmath.quad(integrand, [low, -5, 0, 5, high]))


def test_near_equal_gumbel_and_laplace_float32_against_mpmath() -> None:
    import array_api_compat.numpy as xp

    def gumbel(loc: float, scale: float) -> Callable:
        return lambda m, x: -m.log(scale) - (x - loc) / scale - m.exp(-(x - loc) / scale)

    def laplace(loc: float, scale: float) -> Callable:
        return lambda m, x: -m.log(2 * scale) - abs(x - loc) / scale

    for family, log_density in (("Gumbel", gumbel), ("Laplace", laplace)):
        p32 = (np.float32(0.1), np.float32(1.01))
        q32 = (np.float32(0.1), np.float32(1.0))
        p = _make(kd, family, (xp.asarray(p32[0]), xp.asarray(p32[1])))
        q = _make(kd, family, (xp.asarray(q32[0]), xp.asarray(q32[1])))
        ours = float(kd.kl_divergence(p, q))
        truth = _mpmath_kl(
            log_density(float(p32[0]), float(p32[1])),
            log_density(float(q32[0]), float(q32[1])),
            -60,
            60,
        )
        assert abs(ours - truth) <= 1e-3 * truth, (family, ours, truth)


def test_lognormal_equals_normal_on_the_log(xp: Any) -> None:
    rng = np.random.default_rng(3)
    p, q = _loc_scale(rng, (3,)), _loc_scale(rng, (3,))
    lognormal = _ours(xp, "LogNormal", p, "LogNormal", q)
    expected = _torch_kl("Normal", p, "Normal", q)
    np.testing.assert_allclose(to_numpy(lognormal), expected, rtol=1e-12)


# -- multivariate ------------------------------------------------------------------------------


def _spd(rng: np.random.Generator, batch: tuple[int, ...], size: int) -> np.ndarray:
    factor = rng.normal(size=(*batch, size, size))
    return factor @ np.swapaxes(factor, -1, -2) + size * np.eye(size)


def _mvn_params(rng: np.random.Generator, batch: tuple[int, ...], size: int = 4) -> dict:
    return {"loc": rng.normal(size=(*batch, size)), "covariance_matrix": _spd(rng, batch, size)}


def _lowrank_params(rng: np.random.Generator, batch: tuple[int, ...], size: int = 4) -> dict:
    return {
        "loc": rng.normal(size=(*batch, size)),
        "cov_factor": rng.normal(size=(*batch, size, 2)),
        "cov_diag": np.exp(rng.normal(size=(*batch, size))),
    }


MVN_FORMS = ["covariance_matrix", "precision_matrix", "scale_tril"]


def _mvn_kwargs(params: dict, form: str) -> dict:
    covariance = params["covariance_matrix"]
    if form == "precision_matrix":
        return {"loc": params["loc"], "precision_matrix": np.linalg.inv(covariance)}
    if form == "scale_tril":
        return {"loc": params["loc"], "scale_tril": np.linalg.cholesky(covariance)}
    return params


def _both(xp: Any, family: str, params: dict) -> tuple[Any, Any]:
    ours = getattr(kd, family)(**{k: xp.asarray(v, dtype=xp.float64) for k, v in params.items()})
    theirs = getattr(td, family)(**{k: torch.as_tensor(v) for k, v in params.items()})
    return ours, theirs


@pytest.mark.parametrize("form_p", MVN_FORMS)
@pytest.mark.parametrize("form_q", MVN_FORMS)
def test_mvn_mvn_matches_torch(xp: Any, form_p: str, form_q: str) -> None:
    rng = np.random.default_rng(4)
    ours_p, torch_p = _both(xp, "MultivariateNormal", _mvn_kwargs(_mvn_params(rng, (3,)), form_p))
    ours_q, torch_q = _both(xp, "MultivariateNormal", _mvn_kwargs(_mvn_params(rng, (2, 1)), form_q))
    result = kd.kl_divergence(ours_p, ours_q)
    assert_same_kind(result, xp, dtype=xp.float64)
    expected = td.kl_divergence(torch_p, torch_q).numpy()
    np.testing.assert_allclose(to_numpy(result), expected, rtol=1e-10)


@pytest.mark.parametrize(
    ("family_p", "family_q"),
    [
        ("LowRankMultivariateNormal", "LowRankMultivariateNormal"),
        ("LowRankMultivariateNormal", "MultivariateNormal"),
        ("MultivariateNormal", "LowRankMultivariateNormal"),
    ],
)
def test_lowrank_pairs_match_torch(xp: Any, family_p: str, family_q: str) -> None:
    rng = np.random.default_rng(5)
    make = {"MultivariateNormal": _mvn_params, "LowRankMultivariateNormal": _lowrank_params}
    ours_p, torch_p = _both(xp, family_p, make[family_p](rng, (3,)))
    ours_q, torch_q = _both(xp, family_q, make[family_q](rng, (2, 1)))
    result = kd.kl_divergence(ours_p, ours_q)
    expected = td.kl_divergence(torch_p, torch_q).numpy()
    np.testing.assert_allclose(to_numpy(result), expected, rtol=1e-10)


def test_independent_pairs(xp: Any) -> None:
    rng = np.random.default_rng(6)
    loc_p, scale_p = _loc_scale(rng, (3, 4))
    loc_q, scale_q = _loc_scale(rng, (2, 1, 4))

    def independent(module: Any, loc: Any, scale: Any) -> Any:
        return module.Independent(module.Normal(loc, scale), 1)

    def as_xp(*arrays: np.ndarray) -> list[Any]:
        return [xp.asarray(a, dtype=xp.float64) for a in arrays]

    ours = kd.kl_divergence(
        independent(kd, *as_xp(loc_p, scale_p)), independent(kd, *as_xp(loc_q, scale_q))
    )
    t = torch.as_tensor
    expected = td.kl_divergence(
        independent(td, t(loc_p), t(scale_p)), independent(td, t(loc_q), t(scale_q))
    ).numpy()
    np.testing.assert_allclose(to_numpy(ours), expected, rtol=1e-10)

    # Independent(Normal, 1) <-> MultivariateNormal: torch has no pair; compare with diag MVN.
    mvn = _mvn_params(rng, (2, 1))
    ours_mvn, torch_mvn = _both(xp, "MultivariateNormal", mvn)
    diagonal = td.MultivariateNormal(t(loc_p), scale_tril=torch.diag_embed(t(scale_p)))
    forward = kd.kl_divergence(independent(kd, *as_xp(loc_p, scale_p)), ours_mvn)
    backward = kd.kl_divergence(ours_mvn, independent(kd, *as_xp(loc_p, scale_p)))
    np.testing.assert_allclose(
        to_numpy(forward), td.kl_divergence(diagonal, torch_mvn).numpy(), rtol=1e-10
    )
    np.testing.assert_allclose(
        to_numpy(backward), td.kl_divergence(torch_mvn, diagonal).numpy(), rtol=1e-10
    )


def test_independent_mismatch_is_not_implemented() -> None:
    import array_api_compat.numpy as xp

    base = kd.Normal(xp.zeros((2, 3)), 1.0)
    with pytest.raises(NotImplementedError, match="reinterpreted_batch_ndims"):
        kd.kl_divergence(kd.Independent(base, 1), kd.Independent(base, 2))
    with pytest.raises(NotImplementedError, match="Independent"):
        kd.kl_divergence(
            kd.Independent(kd.Laplace(xp.zeros(3), 1.0), 1),
            kd.MultivariateNormal(xp.zeros(3), scale_tril=xp.eye(3)),
        )


def test_mvn_event_shape_mismatch() -> None:
    import array_api_compat.numpy as xp

    p = kd.MultivariateNormal(xp.zeros(3), scale_tril=xp.eye(3))
    q = kd.MultivariateNormal(xp.zeros(2), scale_tril=xp.eye(2))
    with pytest.raises(ValueError, match="event shapes"):
        kd.kl_divergence(p, q)


# -- gradients ---------------------------------------------------------------------------------

GRADIENT_PAIRS = [
    *CLOSED_FORM,
    ("LogNormal", "LogNormal"),
    ("MultivariateNormal", "MultivariateNormal"),
    ("LowRankMultivariateNormal", "LowRankMultivariateNormal"),
    ("LowRankMultivariateNormal", "MultivariateNormal"),
    ("MultivariateNormal", "LowRankMultivariateNormal"),
]


def _gradient_params(family: str, rng: np.random.Generator) -> dict:
    if family == "MultivariateNormal":
        return _mvn_params(rng, (3,))
    if family == "LowRankMultivariateNormal":
        return _lowrank_params(rng, (3,))
    names = {"HalfNormal": ("scale",)}.get(family, ("loc", "scale"))
    return dict(zip(names, PARAMS.get(family, _loc_scale)(rng, (3,)), strict=True))


@pytest.mark.parametrize(("p_family", "q_family"), GRADIENT_PAIRS)
def test_torch_gradients_are_finite(p_family: str, q_family: str) -> None:
    rng = np.random.default_rng(7)
    p_params = {
        k: torch.tensor(v, requires_grad=True) for k, v in _gradient_params(p_family, rng).items()
    }
    q_params = {
        k: torch.tensor(v, requires_grad=True) for k, v in _gradient_params(q_family, rng).items()
    }
    result = kd.kl_divergence(getattr(kd, p_family)(**p_params), getattr(kd, q_family)(**q_params))
    result.sum().backward()
    for tensor in (*p_params.values(), *q_params.values()):
        assert tensor.grad is not None
        assert torch.isfinite(tensor.grad).all()


@pytest.mark.parametrize(("p_family", "q_family"), GRADIENT_PAIRS)
def test_jax_gradients_are_finite(p_family: str, q_family: str) -> None:
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    rng = np.random.default_rng(7)
    p_params = {k: jnp.asarray(v) for k, v in _gradient_params(p_family, rng).items()}
    q_params = {k: jnp.asarray(v) for k, v in _gradient_params(q_family, rng).items()}

    def total(p_values: dict, q_values: dict) -> Any:
        p = getattr(kd, p_family)(**p_values)
        q = getattr(kd, q_family)(**q_values)
        return jnp.sum(kd.kl_divergence(p, q))

    gradients = jax.grad(total, argnums=(0, 1))(p_params, q_params)
    for gradient in jax.tree_util.tree_leaves(gradients):
        assert bool(jnp.all(jnp.isfinite(gradient)))
    jitted = jax.jit(total)(p_params, q_params)
    assert bool(jnp.isfinite(jitted))


# -- validation, devices -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "parameter"),
    [
        (lambda xp: kd.Normal(xp.zeros(2), xp.asarray([1.0, -1.0])), "scale"),
        (lambda xp: kd.Normal(xp.zeros(2), xp.asarray([1.0, 0.0])), "scale"),
        (lambda xp: kd.Laplace(xp.asarray([0.0, float("nan")]), 1.0), "loc"),
        (lambda xp: kd.HalfNormal(xp.asarray([-1.0])), "scale"),
        (lambda xp: kd.Gumbel(xp.zeros(2), xp.asarray([1.0, -2.0])), "scale"),
        (lambda xp: kd.Cauchy(xp.zeros(2), xp.asarray([0.0, 1.0])), "scale"),
        (
            lambda xp: kd.MultivariateNormal(xp.zeros(2), xp.asarray([[1.0, 2.0], [2.0, 1.0]])),
            "covariance_matrix",
        ),
        (
            lambda xp: kd.MultivariateNormal(xp.zeros(2), xp.asarray([[1.0, 0.5], [0.0, 1.0]])),
            "covariance_matrix",
        ),
        (
            lambda xp: kd.MultivariateNormal(
                xp.zeros(2), precision_matrix=xp.asarray([[-1.0, 0.0], [0.0, 1.0]])
            ),
            "precision_matrix",
        ),
        (
            lambda xp: kd.MultivariateNormal(
                xp.zeros(2), scale_tril=xp.asarray([[1.0, 0.0], [0.0, -1.0]])
            ),
            "scale_tril",
        ),
        (
            lambda xp: kd.LowRankMultivariateNormal(
                xp.zeros(2), xp.ones((2, 1)), xp.asarray([1.0, 0.0])
            ),
            "cov_diag",
        ),
    ],
)
def test_invalid_parameters_name_the_parameter(xp: Any, build: Callable, parameter: str) -> None:
    if xp.__name__ in ("jax.numpy", "array_api_compat.dask.array"):
        pytest.skip("value checks are skipped on lazy arrays (Dask, JAX)")
    with pytest.raises(ValueError, match=parameter):
        build(xp)


def test_validate_args_false_skips_value_checks() -> None:
    import array_api_compat.numpy as xp

    import kldiv

    kd.Normal(xp.zeros(2), xp.asarray([1.0, -1.0]), validate_args=False)
    kldiv.set_validate_args(False)
    try:
        kd.Normal(xp.zeros(2), xp.asarray([1.0, -1.0]))
    finally:
        kldiv.set_validate_args(None)


def test_event_shape_mismatch_is_always_an_error(xp: Any) -> None:
    with pytest.raises(ValueError, match="covariance_matrix"):
        kd.MultivariateNormal(xp.zeros(3), xp.eye(2), validate_args=False)
    with pytest.raises(ValueError, match="cov_factor"):
        kd.LowRankMultivariateNormal(xp.zeros(3), xp.ones((2, 1)), xp.ones(2))


def test_device_is_kept(device: tuple[Any, Any]) -> None:
    xp, where = device
    loc = xp.zeros((2, 3), dtype=xp.float64, device=where)
    scale = xp.ones((2, 3), dtype=xp.float64, device=where)
    pairs = [
        (kd.Normal(loc, scale), kd.Normal(loc, 2 * scale)),
        (kd.Gumbel(loc, scale), kd.Normal(loc, scale)),
        (kd.Normal(loc, scale), kd.Exponential(scale)),
    ]
    eye = xp.eye(3, dtype=xp.float64, device=where)
    mvn = kd.MultivariateNormal(loc, scale_tril=eye)
    pairs.append((mvn, kd.MultivariateNormal(loc, covariance_matrix=2 * eye)))
    for p, q in pairs:
        result = kd.kl_divergence(p, q)
        assert_same_kind(result, xp, dtype=xp.float64, device=where)


def test_mixed_libraries_are_a_type_error() -> None:
    import array_api_compat.numpy as xp

    with pytest.raises(TypeError, match="different libraries"):
        kd.kl_divergence(kd.Normal(xp.zeros(2), 1.0), kd.Normal(torch.zeros(2), 1.0))
