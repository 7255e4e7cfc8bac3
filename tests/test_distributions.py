"""kldiv.distributions' families: constructor forms, containers, validation, errors, devices.

The values of the pairs are tested in ``test_distribution_pairs.py``; here each reference is a
NumPy closed form, so this module runs without torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from conformance.specs import CATEGORIES, FAMILIES, sample

import kldiv
import kldiv.distributions as kd
from kldiv.testing import assert_close, assert_same_kind

from .distribution_helpers import on_backend, rng_for

LAZY = ("jax.numpy", "array_api_compat.dask.array")

#: (family, positional parameters, keyword parameters, the parameter the error names)
INVALID = [
    ("Normal", ([0.0, 0.0], [1.0, -1.0]), {}, "scale"),
    ("Normal", ([0.0, 0.0], [1.0, 0.0]), {}, "scale"),
    ("Laplace", ([0.0, np.nan], 1.0), {}, "loc"),
    ("HalfNormal", ([-1.0],), {}, "scale"),
    ("Gumbel", ([0.0, 0.0], [1.0, -2.0]), {}, "scale"),
    ("Cauchy", ([0.0, 0.0], [0.0, 1.0]), {}, "scale"),
    ("MultivariateNormal", ([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]]), {}, "covariance_matrix"),
    ("MultivariateNormal", ([0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]]), {}, "covariance_matrix"),
    (
        "MultivariateNormal",
        ([0.0, 0.0],),
        {"precision_matrix": [[-1.0, 0.0], [0.0, 1.0]]},
        "precision_matrix",
    ),
    ("MultivariateNormal", ([0.0, 0.0],), {"scale_tril": [[1.0, 0.0], [0.0, -1.0]]}, "scale_tril"),
    ("LowRankMultivariateNormal", ([0.0, 0.0], [[1.0], [1.0]], [1.0, 0.0]), {}, "cov_diag"),
    ("Gamma", (1.0, -1.0), {}, "rate"),
    ("Gamma", (0.0, 1.0), {}, "concentration"),
    ("Beta", (1.0, 0.0), {}, "concentration0"),
    ("Bernoulli", (1.5,), {}, "probs"),
    ("Poisson", (-1.0,), {}, "rate"),
    ("Pareto", (0.0, 1.0), {}, "scale"),
    ("Exponential", (0.0,), {}, "rate"),
    ("Dirichlet", ([1.0, -1.0],), {}, "concentration"),
    ("Uniform", (1.0, 0.5), {}, "high"),
    ("Weibull", (1.0, -2.0), {}, "concentration"),
    ("VonMises", (0.0, 0.0), {}, "concentration"),
]


@pytest.fixture
def validate_args_off() -> Iterator[None]:
    """Value checks off for every family (``kldiv.set_validate_args(False)``), then the default."""
    kldiv.set_validate_args(False)
    yield
    kldiv.set_validate_args(None)


def _checks_values(xp: Any) -> bool:
    """Whether kldiv checks values on ``xp``'s arrays (not on lazy ones: Dask, JAX)."""
    return xp.__name__ not in LAZY


def _make(xp: Any, family: str, args: tuple, kwargs: dict, **options: Any) -> Any:
    def array(value: Any) -> Any:
        return xp.asarray(value, dtype=xp.float64)

    converted = {name: array(value) for name, value in kwargs.items()}
    return getattr(kd, family)(*map(array, args), **converted, **options)


@pytest.mark.parametrize(
    ("family", "args", "kwargs", "parameter"),
    INVALID,
    ids=[f"{row[0]}-{row[3]}-{index}" for index, row in enumerate(INVALID)],
)
def test_invalid_parameters_name_the_parameter(
    xp: Any, family: str, args: tuple, kwargs: dict, parameter: str
) -> None:
    if not _checks_values(xp):
        pytest.skip("value checks are skipped on lazy arrays (Dask, JAX)")
    with pytest.raises(ValueError, match=parameter):
        _make(xp, family, args, kwargs)


@pytest.mark.usefixtures("validate_args_off")
def test_validate_args_off_skips_value_checks(xp: Any) -> None:
    scale = xp.asarray([1.0, -1.0], dtype=xp.float64)
    assert_close(kd.Normal(xp.zeros(2, dtype=xp.float64), scale).scale, scale)
    if _checks_values(xp):
        with pytest.raises(ValueError, match="scale"):
            kd.Normal(xp.zeros(2, dtype=xp.float64), scale, validate_args=True)


def test_validate_args_false_per_instance(xp: Any) -> None:
    scale = xp.asarray([1.0, -1.0], dtype=xp.float64)
    normal = kd.Normal(xp.zeros(2, dtype=xp.float64), scale, validate_args=False)
    assert_close(normal.scale, scale)


def test_event_shape_mismatch_is_always_an_error(xp: Any) -> None:
    with pytest.raises(ValueError, match="covariance_matrix"):
        kd.MultivariateNormal(xp.zeros(3), xp.eye(2), validate_args=False)
    with pytest.raises(ValueError, match="cov_factor"):
        kd.LowRankMultivariateNormal(xp.zeros(3), xp.ones((2, 1)), xp.ones(2))


# -- shapes and constructor forms --------------------------------------------------------------


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_batch_and_event_shapes(xp: Any, family: str) -> None:
    arrays = sample(family, rng_for(family, "shapes"), (2, 3))
    dist = on_backend(xp, family, arrays)
    assert tuple(dist.batch_shape) == (2, 3)
    # the categories of a Categorical are outcomes, not an event axis (as in torch)
    event = () if family == "Categorical" else np.shape(arrays[0])[2:]
    assert tuple(dist.event_shape) == event


MVN_FORMS = ["covariance_matrix", "precision_matrix", "scale_tril"]


def _mvn_kl(loc_p: Any, cov_p: Any, loc_q: Any, cov_q: Any) -> np.ndarray:
    """The closed form in NumPy: ½(tr(Σq⁻¹Σp) + δᵀΣq⁻¹δ − k + log|Σq| − log|Σp|)."""
    solved = np.linalg.solve(cov_q, cov_p)
    delta = (loc_q - loc_p)[..., None]
    mahalanobis = (np.swapaxes(delta, -1, -2) @ np.linalg.solve(cov_q, delta))[..., 0, 0]
    logdets = np.linalg.slogdet(cov_q)[1] - np.linalg.slogdet(cov_p)[1]
    trace = np.trace(solved, axis1=-2, axis2=-1)
    return 0.5 * (trace + mahalanobis - loc_p.shape[-1] + logdets)


def _mvn_in_form(xp: Any, loc: np.ndarray, covariance: np.ndarray, form: str) -> Any:
    matrix = {
        "covariance_matrix": covariance,
        "precision_matrix": np.linalg.inv(covariance),
        "scale_tril": np.linalg.cholesky(covariance),
    }[form]
    return kd.MultivariateNormal(
        xp.asarray(loc, dtype=xp.float64), **{form: xp.asarray(matrix, dtype=xp.float64)}
    )


@pytest.mark.parametrize("form_p", MVN_FORMS)
@pytest.mark.parametrize("form_q", MVN_FORMS)
def test_mvn_forms_give_one_law(xp: Any, form_p: str, form_q: str) -> None:
    rng = rng_for("MultivariateNormal", form_p, form_q)
    p, q = sample("MultivariateNormal", rng, (3,)), sample("MultivariateNormal", rng, (2, 1))
    result = kd.kl_divergence(_mvn_in_form(xp, *p, form_p), _mvn_in_form(xp, *q, form_q))
    loc_p, loc_q = np.broadcast_arrays(p[0], q[0])
    cov_p, cov_q = np.broadcast_arrays(p[1], q[1])
    desired = _mvn_kl(loc_p, cov_p, loc_q, cov_q)
    assert_close(result, xp.asarray(desired, dtype=xp.float64), rtol=1e-10)


def test_categorical_logits_and_probs(xp: Any) -> None:
    rng = rng_for("Categorical", "logits")
    logits = rng.normal(size=(2, 1, CATEGORIES))
    (probs,) = sample("Categorical", rng, (3,))
    result = kd.kl_divergence(
        kd.Categorical(logits=xp.asarray(logits)), kd.Categorical(xp.asarray(probs))
    )
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    desired = (np.exp(log_p) * (log_p - np.log(probs))).sum(axis=-1)
    assert_close(result, xp.asarray(desired, dtype=xp.float64), rtol=1e-12)


def test_binomial_total_counts(xp: Any) -> None:
    def array(value: Any) -> Any:
        return xp.asarray(value, dtype=xp.float64)

    p = kd.Binomial(array([10.0, 12.0]), array(0.3))
    q = kd.Binomial(array(10.0), array(0.4))
    bernoulli = 0.3 * np.log(0.3 / 0.4) + 0.7 * np.log(0.7 / 0.6)
    assert_close(kd.kl_divergence(p, q), xp.asarray([10 * bernoulli, np.inf], dtype=xp.float64))
    if _checks_values(xp):
        with pytest.raises(NotImplementedError, match="total_count"):
            kd.kl_divergence(q, p)


# -- containers --------------------------------------------------------------------------------


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


# -- libraries and devices ---------------------------------------------------------------------


def test_device_is_kept(device: tuple[Any, Any]) -> None:
    xp, where = device

    def array(value: Any) -> Any:
        return xp.asarray(value, dtype=xp.float64, device=where)

    loc, scale = array(np.zeros((2, 3))), array(np.ones((2, 3)))
    eye = array(np.eye(3))
    pairs = [
        (kd.Normal(loc, scale), kd.Normal(loc, 2 * scale)),
        (kd.Gumbel(loc, scale), kd.Normal(loc, scale)),
        (kd.Normal(loc, scale), kd.Exponential(scale)),
        (kd.MultivariateNormal(loc, scale_tril=eye), kd.MultivariateNormal(loc, 2 * eye)),
        (kd.Gamma(array([2.0, 3.0]), array(1.0)), kd.Exponential(array([1.5]))),
    ]
    for p, q in pairs:
        result = kd.kl_divergence(p, q)
        assert_same_kind(result, xp, dtype=xp.float64, device=where)
        assert tuple(result.shape) == tuple(p.batch_shape)


def test_mixed_libraries_are_a_type_error() -> None:
    torch = pytest.importorskip("torch")
    import array_api_compat.numpy as xp

    with pytest.raises(TypeError, match="different libraries"):
        kd.kl_divergence(kd.Normal(xp.zeros(2), 1.0), kd.Normal(torch.zeros(2), 1.0))


@pytest.mark.parametrize("name", ["probs", "logits"])
@pytest.mark.parametrize("family", [kd.Categorical, kd.OneHotCategorical])
def test_categories_without_any_category_are_refused_by_name(xp, family, name):
    with pytest.raises(ValueError, match=f"{name} needs at least one category"):
        family(**{name: xp.ones((4, 0))})
