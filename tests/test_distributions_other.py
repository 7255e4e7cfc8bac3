"""kldiv.distributions, pairs with p outside the Normal family: torch parity on every backend,
torch's known errors against mpmath, gradients, validation, and the pairs torch lacks."""

from __future__ import annotations

import importlib
from typing import Any

import mpmath as mp
import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the reference; also imported by the conformance cases

from conformance.cases.distributions_other import (  # noqa: E402
    ORACLES,
    dirichlet_oracle,
    oracle,
)

import kldiv.distributions as kd  # noqa: E402
from kldiv.distributions._registry import _dispatch, infinite_pair  # noqa: E402

from .backends import assert_same_kind, to_numpy  # noqa: E402
from .distribution_specs import CATEGORIES, EVENT_NDIM, build, sample, torch_kl, torch_pairs  # noqa: E402

PAIRS = torch_pairs()
BATCHES = (((3,), (2, 1)), ((), (4,)), ((2, 3), ()))
CONTINUOUS = {"Beta", "ContinuousBernoulli", "Exponential", "Gamma", "Pareto", "Uniform"}
CONTINUOUS_Q = CONTINUOUS | {"Normal", "Gumbel"}


def _kl(
    xp: Any, p_family: str, p_params: tuple, q_family: str, q_params: tuple, dtype: Any = None
) -> Any:
    def arrays(params: tuple) -> tuple:
        return tuple(xp.asarray(param, dtype=dtype or xp.float64) for param in params)

    return kd.kl_divergence(
        build(kd, p_family, arrays(p_params)), build(kd, q_family, arrays(q_params))
    )


def _assert_kl_close(got: np.ndarray, want: np.ndarray, rtol: float) -> None:
    assert got.shape == want.shape
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite], want[~finite])
    np.testing.assert_allclose(got[finite], want[finite], rtol=rtol, atol=rtol * 1e-3)


def test_every_torch_pair_is_registered() -> None:
    assert len(PAIRS) == 53
    for p_family, q_family in PAIRS:
        assert _dispatch(getattr(kd, p_family), getattr(kd, q_family)) is not None


@pytest.mark.parametrize(("p_family", "q_family"), PAIRS, ids=[f"{p}-{q}" for p, q in PAIRS])
def test_matches_torch_float64(xp: Any, p_family: str, q_family: str) -> None:
    rng = np.random.default_rng(abs(hash((p_family, q_family))) % 2**32)
    for p_batch, q_batch in BATCHES:
        p_params, q_params = sample(p_family, rng, p_batch), sample(q_family, rng, q_batch)
        result = _kl(xp, p_family, p_params, q_family, q_params)
        assert_same_kind(result, xp, dtype=xp.float64)
        want = torch_kl(p_family, p_params, q_family, q_params)
        _assert_kl_close(to_numpy(result), want, rtol=1e-10)


@pytest.mark.parametrize(("p_family", "q_family"), PAIRS, ids=[f"{p}-{q}" for p, q in PAIRS])
def test_matches_torch_float32(xp: Any, p_family: str, q_family: str) -> None:
    rng = np.random.default_rng(7)
    p_params = tuple(np.float32(a).astype(np.float64) for a in sample(p_family, rng, (3,)))
    q_params = tuple(np.float32(a).astype(np.float64) for a in sample(q_family, rng, (2, 1)))
    result = _kl(xp, p_family, p_params, q_family, q_params, dtype=xp.float32)
    assert_same_kind(result, xp, dtype=xp.float32)
    _assert_kl_close(to_numpy(result), torch_kl(p_family, p_params, q_family, q_params), 1e-5)


# -- where torch is wrong ------------------------------------------------------------------------


def test_masked_pairs_broadcast_where_torch_raises(xp: Any) -> None:
    probs_p, probs_q = np.array([0.2, 0.5, 0.0]), np.array([[0.4], [0.0]])
    with pytest.raises(IndexError):
        torch.distributions.kl_divergence(
            torch.distributions.Bernoulli(torch.as_tensor(probs_p)),
            torch.distributions.Bernoulli(torch.as_tensor(probs_q)),
        )
    result = to_numpy(_kl(xp, "Bernoulli", (probs_p,), "Bernoulli", (probs_q,)))
    want = oracle("Bernoulli", "Bernoulli")(probs_p, probs_q)
    assert result.shape == (2, 3)
    _assert_kl_close(result, want, rtol=1e-14)
    assert result[1, 0] == np.inf
    assert result[1, 2] == 0


@pytest.mark.parametrize(
    ("p_family", "p_params", "q_family", "q_params"),
    [
        (
            "ContinuousBernoulli",
            (np.array([0.2, 0.7, 0.9]),),
            "Uniform",
            (np.array(0.0), np.array(1.0)),
        ),
        (
            "Uniform",
            (np.array(0.0), np.array(1.0)),
            "ContinuousBernoulli",
            (np.array([0.2, 0.7, 0.9]),),
        ),
    ],
)
def test_cb_uniform_boundary_is_finite(
    xp: Any, p_family: str, p_params: tuple, q_family: str, q_params: tuple
) -> None:
    torch_value = torch_kl(p_family, p_params, q_family, q_params)
    assert np.all(np.isinf(torch_value))
    result = to_numpy(_kl(xp, p_family, p_params, q_family, q_params))
    want = oracle(p_family, q_family)(*p_params, *q_params)
    np.testing.assert_allclose(result, want, rtol=1e-10)


NEAR_EQUAL = [
    ("Beta", (500.0, 500.0), (501.0, 500.0)),
    ("Gamma", (300.0, 2.0), (301.0, 2.0)),
    ("Poisson", (1000.0,), (1001.0,)),
    ("Exponential", (1.0,), (1.001,)),
]


@pytest.mark.parametrize(
    ("family", "p_params", "q_params"), NEAR_EQUAL, ids=[c[0] for c in NEAR_EQUAL]
)
def test_float32_near_equal_within_one_percent_of_mpmath(
    xp: Any, family: str, p_params: tuple, q_params: tuple
) -> None:
    with mp.workdps(50):
        truth = float(ORACLES[family, family](*p_params, *q_params))
    result = float(to_numpy(_kl(xp, family, p_params, family, q_params, dtype=xp.float32)))
    assert abs(result - truth) <= 0.01 * truth
    p = getattr(torch.distributions, family)(
        *(torch.tensor(v, dtype=torch.float32) for v in p_params)
    )
    q = getattr(torch.distributions, family)(
        *(torch.tensor(v, dtype=torch.float32) for v in q_params)
    )
    torch_error = abs(float(torch.distributions.kl_divergence(p, q)) - truth)
    assert torch_error > abs(result - truth)


def test_beta_500_torch_negative_kldiv_right() -> None:
    p = torch.distributions.Beta(torch.tensor(500.0), torch.tensor(500.0))
    q = torch.distributions.Beta(torch.tensor(501.0), torch.tensor(500.0))
    assert float(torch.distributions.kl_divergence(p, q)) < 0
    strict = pytest.importorskip("array_api_strict")
    result = _kl(strict, "Beta", (500.0, 500.0), "Beta", (501.0, 500.0), dtype=strict.float32)
    with mp.workdps(50):
        truth = float(ORACLES["Beta", "Beta"](500, 500, 501, 500))
    assert abs(float(to_numpy(result)) - truth) < 1e-3 * truth


def test_dirichlet_float32_near_equal(xp: Any) -> None:
    alpha = np.array([300.0, 200.0, 400.0, 100.0])
    beta = alpha + np.array([1.0, 0.0, -1.0, 0.0])
    truth = dirichlet_oracle(alpha, beta)
    result = float(to_numpy(_kl(xp, "Dirichlet", (alpha,), "Dirichlet", (beta,), dtype=xp.float32)))
    assert abs(result - truth) <= 0.01 * truth


# -- gradients -----------------------------------------------------------------------------------

CONTINUOUS_PAIRS = [
    (p, q)
    for p, q in PAIRS
    if p in CONTINUOUS
    and q in CONTINUOUS_Q
    and _dispatch(getattr(kd, p), getattr(kd, q)) is not infinite_pair  # constant +inf
] + [
    ("Chi2", "Chi2"), ("Weibull", "Weibull"), ("VonMises", "VonMises"), ("Kumaraswamy", "Beta")
]  # fmt: skip
EXTRA_SAMPLES = {
    "Chi2": lambda rng, batch: (rng.uniform(0.5, 8.0, size=batch),),
    "Weibull": lambda rng, batch: (
        rng.uniform(0.5, 3, size=batch),
        rng.uniform(0.5, 4, size=batch),
    ),
    "VonMises": lambda rng, batch: (
        rng.uniform(-3, 3, size=batch),
        rng.uniform(0.2, 5, size=batch),
    ),
    "Kumaraswamy": lambda rng, batch: (
        rng.uniform(0.5, 4, size=batch),
        rng.uniform(0.5, 4, size=batch),
    ),
}


def _sample_any(family: str, rng: np.random.Generator, batch: tuple) -> tuple:
    return (
        EXTRA_SAMPLES[family](rng, batch) if family in EXTRA_SAMPLES else sample(family, rng, batch)
    )


@pytest.mark.parametrize(
    ("p_family", "q_family"), CONTINUOUS_PAIRS, ids=[f"{p}-{q}" for p, q in CONTINUOUS_PAIRS]
)
def test_gradients_finite_torch(p_family: str, q_family: str) -> None:
    rng = np.random.default_rng(3)
    params = [
        torch.tensor(a, dtype=torch.float64, requires_grad=True)
        for a in _sample_any(p_family, rng, (6,)) + _sample_any(q_family, rng, (6,))
    ]
    count = len(_sample_any(p_family, rng, ()))
    kl = kd.kl_divergence(build(kd, p_family, params[:count]), build(kd, q_family, params[count:]))
    finite = torch.isfinite(kl)
    torch.where(finite, kl, torch.zeros_like(kl)).sum().backward()
    for param in params:
        assert torch.all(torch.isfinite(param.grad)), (p_family, q_family)


@pytest.mark.parametrize(
    ("p_family", "q_family"), CONTINUOUS_PAIRS, ids=[f"{p}-{q}" for p, q in CONTINUOUS_PAIRS]
)
def test_gradients_finite_jax(p_family: str, q_family: str) -> None:
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = importlib.import_module("jax.numpy")
    rng = np.random.default_rng(4)
    values = _sample_any(p_family, rng, (6,)) + _sample_any(q_family, rng, (6,))
    count = len(_sample_any(p_family, rng, ()))

    def total(*params: Any) -> Any:
        kl = kd.kl_divergence(
            build(kd, p_family, params[:count]), build(kd, q_family, params[count:])
        )
        return jnp.sum(jnp.where(jnp.isfinite(kl), kl, 0.0))

    grads = jax.grad(total, argnums=tuple(range(len(values))))(*(jnp.asarray(v) for v in values))
    for grad in grads:
        assert bool(jnp.all(jnp.isfinite(grad))), (p_family, q_family)


def test_jit(xp: Any) -> None:
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = importlib.import_module("jax.numpy")

    @jax.jit
    def kl(a: Any, b: Any) -> Any:
        return kd.kl_divergence(kd.Uniform(a, b), kd.Beta(jnp.asarray(2.0), jnp.asarray(3.0)))

    result = kl(jnp.asarray([0.1, -0.1]), jnp.asarray([0.5, 0.5]))
    assert np.isfinite(float(result[0]))
    assert float(result[1]) == np.inf


# -- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "params", "name"),
    [
        ("Gamma", (1.0, -1.0), "rate"),
        ("Gamma", (0.0, 1.0), "concentration"),
        ("Beta", (1.0, 0.0), "concentration0"),
        ("Bernoulli", (1.5,), "probs"),
        ("Poisson", (-1.0,), "rate"),
        ("Pareto", (0.0, 1.0), "scale"),
        ("Exponential", (0.0,), "rate"),
        ("Dirichlet", ([1.0, -1.0],), "concentration"),
        ("Uniform", (1.0, 0.5), "high"),
        ("Weibull", (1.0, -2.0), "concentration"),
        ("VonMises", (0.0, 0.0), "concentration"),
    ],
)
def test_invalid_parameters_raise(xp: Any, family: str, params: tuple, name: str) -> None:
    if importlib.util.find_spec("dask") and "dask" in getattr(xp, "__name__", ""):
        pytest.skip("value checks are skipped on lazy arrays")
    if getattr(xp, "__name__", "") == "jax.numpy":
        pytest.skip("value checks are skipped on JAX arrays (possibly traced)")
    arrays = tuple(xp.asarray(value, dtype=xp.float64) for value in params)
    with pytest.raises(ValueError, match=name):
        getattr(kd, family)(*arrays)


def test_binomial_counts(xp: Any) -> None:
    p = kd.Binomial(xp.asarray([10.0, 12.0]), xp.asarray(0.3))
    q = kd.Binomial(xp.asarray(10.0), xp.asarray(0.4))
    result = to_numpy(kd.kl_divergence(p, q))
    assert np.isfinite(result[0])
    assert result[1] == np.inf
    if "dask" not in getattr(xp, "__name__", "") and getattr(xp, "__name__", "") != "jax.numpy":
        with pytest.raises(NotImplementedError, match="total_count"):
            kd.kl_divergence(q, p)


# -- pairs torch lacks ---------------------------------------------------------------------------


def test_chi2_matches_torch(xp: Any) -> None:
    df_p, df_q = np.array([1.0, 3.5, 10.0]), np.array([[2.0], [7.0]])
    result = to_numpy(kd.kl_divergence(kd.Chi2(xp.asarray(df_p)), kd.Chi2(xp.asarray(df_q))))
    want = torch.distributions.kl_divergence(
        torch.distributions.Chi2(torch.as_tensor(df_p).expand(2, 3)),
        torch.distributions.Chi2(torch.as_tensor(df_q).expand(2, 3)),
    ).numpy()
    np.testing.assert_allclose(result, want, rtol=1e-10)


@pytest.mark.parametrize(
    ("p_family", "q_family", "values"),
    [
        (
            "Weibull",
            "Weibull",
            (np.array([1.0, 2.5]), np.array([1.5, 0.7]), np.array(1.3), np.array(2.0)),
        ),
        (
            "VonMises",
            "VonMises",
            (np.array([0.0, 2.0]), np.array([0.5, 30.0]), np.array(-1.0), np.array(4.0)),
        ),
        (
            "Kumaraswamy",
            "Beta",
            (np.array([0.5, 2.0, 10.0]), np.array([0.5, 3.0, 0.3]), np.array(1.5), np.array(2.5)),
        ),
        (
            "Kumaraswamy",
            "Beta",
            (np.array([1.0, 5.0, 0.2]), np.array([1.0, 100.0, 0.2]), np.array(1.0), np.array(1.0)),
        ),
    ],
)
def test_pairs_torch_lacks_match_mpmath(
    xp: Any, p_family: str, q_family: str, values: tuple
) -> None:
    count = 2
    result = kd.kl_divergence(
        build(kd, p_family, tuple(xp.asarray(v) for v in values[:count])),
        build(kd, q_family, tuple(xp.asarray(v) for v in values[count:])),
    )
    want = oracle(p_family, q_family)(*values)
    np.testing.assert_allclose(to_numpy(result), want, rtol=1e-10, atol=1e-14)


def test_result_stays_on_device(device: tuple[Any, Any]) -> None:
    xp, where = device

    def array(value: Any) -> Any:
        return xp.asarray(value, dtype=xp.float64, device=where)

    p = kd.Gamma(array([2.0, 3.0]), array(1.0))
    q = kd.Exponential(array([1.5]))
    result = kd.kl_divergence(p, q)
    assert_same_kind(result, xp, dtype=xp.float64, device=where)
    assert tuple(result.shape) == (2,)


def test_categorical_event_axis(xp: Any) -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 1, CATEGORIES))
    probs = rng.dirichlet(np.ones(CATEGORIES), size=3)
    result = kd.kl_divergence(
        kd.Categorical(logits=xp.asarray(logits)), kd.Categorical(xp.asarray(probs))
    )
    assert tuple(result.shape) == (2, 3)
    want = torch.distributions.kl_divergence(
        torch.distributions.Categorical(logits=torch.as_tensor(logits)),
        torch.distributions.Categorical(torch.as_tensor(probs)),
    ).numpy()
    np.testing.assert_allclose(to_numpy(result), want, rtol=1e-10)
    assert EVENT_NDIM["Categorical"] == 1
