"""``numpyro.distributions`` objects wherever a kldiv family goes (converted by from_numpyro)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conformance.specs import FAMILIES, build, sample

import kldiv.distributions as kd
from kldiv.distributions._base import Param
from kldiv.testing import assert_close

from .distribution_helpers import rng_for

numpyro_distributions = pytest.importorskip("numpyro.distributions")
jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

#: The families NumPyro has under kldiv's name and positional parameters.
SHARED = tuple(
    family
    for family in FAMILIES
    if hasattr(numpyro_distributions, family)
    and family not in ("MultivariateNormal", "LowRankMultivariateNormal")
)


def _objects(family: str, seed_name: str) -> tuple[object, object]:
    """The same parameters as a NumPyro object and as kldiv's family (JAX arrays)."""
    params = [jnp.asarray(value) for value in sample(family, rng_for(seed_name), (3,))]
    return getattr(numpyro_distributions, family)(*params), build(kd, family, params)


@pytest.mark.parametrize("family", SHARED)
def test_every_shared_family_converts_with_equal_parameters(family):
    theirs, ours = _objects(family, family)
    converted = kd.from_numpyro(theirs)
    assert type(converted) is type(ours)
    for argument in type(ours)._arguments:
        if isinstance(argument, Param) and not argument.alternative:
            assert_close(getattr(converted, argument.name), getattr(ours, argument.name))
    assert converted.batch_shape == ours.batch_shape


@pytest.mark.parametrize("family", SHARED)
def test_kl_of_numpyro_objects_is_ours_and_numpyros(family):
    p_theirs, p_ours = _objects(family, f"{family}-p")
    q_theirs, q_ours = _objects(family, f"{family}-q")
    try:
        expected = kd.kl_divergence(p_ours, q_ours)
    except NotImplementedError:
        pytest.skip(f"kldiv has no {family}-{family} pair")
    assert_close(kd.kl_divergence(p_theirs, q_theirs), expected)
    try:
        numpyros = numpyro_distributions.kl_divergence(p_theirs, q_theirs)
    except NotImplementedError:
        return  # NumPyro lacks the pair: kldiv's own value stands
    assert_close(expected, jnp.asarray(numpyros, dtype=expected.dtype), rtol=1e-10, atol=1e-12)


def test_probs_and_logits_classes_and_the_multivariate_forms():
    logits = jnp.asarray([-1.0, 0.5])
    bernoulli = kd.from_numpyro(numpyro_distributions.Bernoulli(logits=logits))
    assert_close(bernoulli.logits, logits)
    loc, tril = jnp.zeros(2), jnp.asarray([[1.0, 0.0], [0.5, 2.0]])
    mvn = kd.from_numpyro(numpyro_distributions.MultivariateNormal(loc, scale_tril=tril))
    assert_close(mvn.scale_tril, tril)
    low_rank = numpyro_distributions.LowRankMultivariateNormal(loc, jnp.ones((2, 1)), jnp.ones(2))
    assert_close(kd.from_numpyro(low_rank).cov_factor, jnp.ones((2, 1)))
    independent = numpyro_distributions.Independent(
        numpyro_distributions.Normal(jnp.zeros(2), 1.0), 1
    )
    q = numpyro_distributions.MultivariateNormal(loc + 1, scale_tril=tril)
    value = kd.kl_divergence(independent, q)  # Independent(Normal) against a full covariance
    ours = kd.kl_divergence(
        kd.Independent(kd.Normal(jnp.zeros(2), jnp.ones(2)), 1),
        kd.MultivariateNormal(loc + 1, scale_tril=tril),
    )
    assert_close(value, ours)
    assert np.isfinite(float(value))


def test_unsupported_families_and_other_objects_are_named():
    with pytest.raises(NotImplementedError, match="StudentT"):
        kd.from_numpyro(numpyro_distributions.StudentT(3.0))
    with pytest.raises(TypeError, match="numpyro.distributions object"):
        kd.from_numpyro(kd.Normal(0.0, 1.0))


def test_import_kldiv_imports_no_numpyro():
    code = "import kldiv, sys; assert 'numpyro' not in sys.modules and 'jax' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
