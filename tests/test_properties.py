"""Hypothesis properties of the divergences: non-negativity, identity, symmetry, invariances."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import kldiv
from kldiv.testing import Backend, assert_close

from .conftest import load_backend

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def row_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Two arrays of unnormalised probabilities of one shape, zeros allowed, no all-zero row."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6))
    weights = hnp.arrays(np.float64, shape, elements=st.one_of(st.just(0.0), st.floats(1e-6, 1e3)))
    p, q = draw(weights), draw(weights)
    return p + 1e-3 * (p.sum(-1, keepdims=True) == 0), q + 1e-3


@SETTINGS
@given(row_pairs())
def test_kl_is_nonnegative_and_zero_for_equal_rows(pair):
    p, q = pair
    kl = kldiv.kl_divergence(p, q, reduction="none")
    assert np.all(kl >= -1e-12)
    zeros = np.zeros(p.shape[:-1])
    assert_close(kldiv.kl_divergence(p, p, reduction="none"), zeros, atol=1e-12)
    assert_close(kldiv.kl_divergence(p, 3 * p, reduction="none"), zeros, atol=1e-12)


@SETTINGS
@given(row_pairs())
def test_kl_is_positive_when_the_distributions_differ(pair):
    p, q = pair
    normalised_p, normalised_q = p / p.sum(-1, keepdims=True), q / q.sum(-1, keepdims=True)
    differ = np.abs(normalised_p - normalised_q).max(-1) > 1e-3
    assert np.all(kldiv.kl_divergence(p, q, reduction="none")[differ] > 0)


@SETTINGS
@given(row_pairs())
def test_js_is_symmetric_and_bounded_and_jeffreys_is_symmetric(pair):
    p, q = pair
    js = kldiv.js_divergence(p, q, reduction="none", base=2)
    assert_close(js, kldiv.js_divergence(q, p, reduction="none", base=2), atol=1e-13)
    assert np.all((js >= -1e-13) & (js <= 1 + 1e-13))
    distance = kldiv.js_distance(p, q)
    assert np.all((distance >= 0) & (distance <= 1))
    assert_close(
        kldiv.jeffreys(p, q, reduction="none"), kldiv.jeffreys(q, p, reduction="none"), rtol=1e-12
    )


@SETTINGS
@given(row_pairs())
def test_cross_entropy_is_entropy_plus_kl(pair):
    p, q = pair
    assert_close(
        kldiv.cross_entropy(p, q),
        kldiv.entropy(p) + kldiv.kl_divergence(p, q, reduction="none"),
        rtol=1e-10,
        atol=1e-12,
    )


@SETTINGS
@given(row_pairs(), st.randoms(use_true_random=False))
def test_invariant_to_the_order_of_axes_and_of_the_support(pair, random):
    p, q = pair
    if p.ndim < 2:
        p, q = p[None], q[None]
    axis = random.randrange(p.ndim)
    moved = kldiv.kl_divergence(
        np.moveaxis(p, -1, axis), np.moveaxis(q, -1, axis), reduction="none", axis=axis
    )
    assert_close(moved, kldiv.kl_divergence(p, q, reduction="none"), rtol=1e-12)
    order = np.random.default_rng(random.randrange(2**32)).permutation(p.shape[-1])
    assert_close(
        kldiv.kl_divergence(p[..., order], q[..., order], reduction="none"),
        kldiv.kl_divergence(p, q, reduction="none"),
        rtol=1e-12,
        atol=1e-15,
    )


@pytest.mark.parametrize(
    "name",
    [pytest.param(b, id=b.value) for b in Backend if b is not Backend.NUMPY and not b.needs_gpu],
)
@settings(max_examples=25, deadline=None)
@given(pair=row_pairs())
def test_every_backend_agrees_with_numpy(name, pair):
    xp = load_backend(name).xp
    p, q = pair
    for function in (kldiv.kl_divergence, kldiv.js_divergence, kldiv.jeffreys):
        expected = function(p, q, reduction="none")
        result = function(xp.asarray(p), xp.asarray(q), reduction="none")
        assert_close(result, expected, rtol=1e-12, atol=1e-15)
