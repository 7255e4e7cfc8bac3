"""Gradients of kldiv.distributions' pairs in torch and JAX: finite wherever the KL is finite.

Every pair of two continuous families (:func:`conformance.specs.torch_reference_pairs` and
:data:`conformance.specs.MPMATH_PAIRS`) but those that are +inf whatever the parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the inventory of pairs is torch's

from conformance.specs import (  # noqa: E402
    CONTINUOUS,
    MPMATH_PAIRS,
    build,
    class_name,
    parameter_count,
    sample,
    torch_reference_pairs,
)

import kldiv.distributions as kd  # noqa: E402
from kldiv.distributions._registry import _dispatch, infinite_pair  # noqa: E402
from kldiv.testing import assert_close  # noqa: E402

from .distribution_helpers import pair_ids, rng_for  # noqa: E402


def _always_infinite(p_family: str, q_family: str) -> bool:
    types = (getattr(kd, class_name(p_family)), getattr(kd, class_name(q_family)))
    return _dispatch(*types) is infinite_pair


GRADIENT_PAIRS = [
    (p, q)
    for p, q in [*torch_reference_pairs(), *MPMATH_PAIRS]
    if p in CONTINUOUS and q in CONTINUOUS and not _always_infinite(p, q)
]


def _values(p_family: str, q_family: str) -> tuple[list[np.ndarray], int]:
    """p's then q's parameters with batch shape (6,), and how many are p's."""
    rng = rng_for(p_family, q_family, "gradient")
    return [*sample(p_family, rng, (6,)), *sample(q_family, rng, (6,))], parameter_count(p_family)


@pytest.mark.parametrize(("p_family", "q_family"), GRADIENT_PAIRS, ids=pair_ids(GRADIENT_PAIRS))
def test_torch_gradients_are_finite(p_family: str, q_family: str) -> None:
    values, count = _values(p_family, q_family)
    params = [torch.tensor(value, requires_grad=True) for value in values]
    kl = kd.kl_divergence(build(kd, p_family, params[:count]), build(kd, q_family, params[count:]))
    torch.where(torch.isfinite(kl), kl, torch.zeros_like(kl)).sum().backward()
    for param in params:
        assert param.grad is not None
        assert_close(torch.isfinite(param.grad).to(torch.float64), torch.ones_like(param.grad))


@pytest.mark.parametrize(("p_family", "q_family"), GRADIENT_PAIRS, ids=pair_ids(GRADIENT_PAIRS))
def test_jax_gradients_are_finite_and_jit(p_family: str, q_family: str) -> None:
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    values, count = _values(p_family, q_family)

    def total(*params: Any) -> Any:
        kl = kd.kl_divergence(
            build(kd, p_family, params[:count]), build(kd, q_family, params[count:])
        )
        return jnp.sum(jnp.where(jnp.isfinite(kl), kl, 0.0))

    arrays = [jnp.asarray(value) for value in values]
    gradients = jax.grad(total, argnums=tuple(range(len(arrays))))(*arrays)
    for gradient in gradients:
        assert_close(jnp.isfinite(gradient).astype(jnp.float64), jnp.ones_like(gradient))
    assert_close(jax.jit(total)(*arrays), total(*arrays))


def test_jit_keeps_infinite_branches() -> None:
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    @jax.jit
    def kl(low: Any, high: Any) -> Any:
        return kd.kl_divergence(kd.Uniform(low, high), kd.Beta(jnp.asarray(2.0), jnp.asarray(3.0)))

    result = kl(jnp.asarray([0.1, -0.1]), jnp.asarray([0.5, 0.5]))
    desired = kd.kl_divergence(
        kd.Uniform(jnp.asarray(0.1), jnp.asarray(0.5)), kd.Beta(jnp.asarray(2.0), jnp.asarray(3.0))
    )
    assert_close(result, jnp.stack([desired, jnp.asarray(jnp.inf)]))
