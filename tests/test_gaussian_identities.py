"""Identities of the Gaussian closed forms (hypothesis), and their agreement with the row
functions of :mod:`kldiv` on a fine grid of the densities."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import kldiv
from kldiv import gaussian
from kldiv.testing import assert_close, to_numpy

from .test_properties import SETTINGS

# --- against the row functions on a fine grid ---------------------------------------------------


def test_closed_forms_are_the_row_functions_of_a_fine_grid() -> None:
    """Densities sampled on a grid of step 1e-3 over ±14 σ: the Riemann sums of these smooth,
    rapidly decaying integrands are exact to ~1e-12, so the rows' divergences equal the closed
    forms to that accuracy (W₂ of the two histograms to O(step))."""
    grid = np.linspace(-14.0, 14.0, 28_001)
    mu_p, log_var_p, mu_q, log_var_q = 0.3, np.log(0.8), -0.4, np.log(1.5)
    p, q = (
        np.exp(-((grid - mu) ** 2) / (2 * np.exp(lv)) - lv / 2)
        for mu, lv in ((mu_p, log_var_p), (mu_q, log_var_q))
    )
    arrays = tuple(np.asarray(v) for v in (mu_p, log_var_p, mu_q, log_var_q))
    for alpha in (0.3, 0.5, 1.0, 1.7):
        rows = kldiv.renyi_divergence(p, q, alpha=alpha)
        assert_close(gaussian.renyi_normal(*arrays, alpha=alpha), float(rows), rtol=1e-10)
    assert_close(
        gaussian.bhattacharyya_normal(*arrays),
        float(kldiv.bhattacharyya_distance(p, q)),
        rtol=1e-10,
    )
    assert_close(gaussian.hellinger_normal(*arrays), float(kldiv.hellinger(p, q)), rtol=1e-10)
    histogram = kldiv.wasserstein_1d(grid, grid, p, q, p=2)
    assert_close(gaussian.wasserstein2_normal(*arrays), float(histogram), rtol=2e-3)


# --- identities (hypothesis) ---------------------------------------------------------------------

_finite = {"allow_nan": False, "allow_infinity": False}
_means = st.floats(-5.0, 5.0, **_finite)
_log_vars = st.floats(-4.0, 4.0, **_finite)


@st.composite
def normal_pairs(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Four arrays (mu_p, log_var_p, mu_q, log_var_q) of one shape of up to 2 × 4."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4))
    return tuple(draw(hnp.arrays(np.float64, shape, elements=e)) for e in (_means, _log_vars) * 2)


@st.composite
def mvn_pairs(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Means and lower Cholesky factors of two d-dimensional Gaussians, d ≤ 4, diagonals in
    [0.3, 3]."""
    size = draw(st.integers(1, 4))
    locs = [draw(hnp.arrays(np.float64, (size,), elements=_means)) for _ in range(2)]
    trils = []
    for _ in range(2):
        below = draw(hnp.arrays(np.float64, (size, size), elements=st.floats(-1.0, 1.0)))
        diagonal = draw(hnp.arrays(np.float64, (size,), elements=st.floats(0.3, 3.0)))
        trils.append(np.tril(below, -1) + np.diag(diagonal))
    return locs[0], trils[0], locs[1], trils[1]


@SETTINGS
@given(normal_pairs(), st.floats(0.01, 0.99), st.floats(0.0, 3.0))
def test_renyi_normal_identities(pair, alpha, step):
    kl = gaussian.kl_normal(*pair)
    # α → 1 is the KL, from both sides (D_α − KL ≈ (α − 1)·Var_p[log p/q]/2, up to ~1e-4 here)
    for order in (1 - 1e-10, 1 + 1e-10):
        assert_close(gaussian.renyi_normal(*pair, alpha=order), kl, rtol=1e-6, atol=1e-9)
    # non-negative, non-decreasing in α, and skew symmetric: (1 − α) D_α(p‖q) = α D_(1−α)(q‖p)
    lower = gaussian.renyi_normal(*pair, alpha=alpha)
    higher = gaussian.renyi_normal(*pair, alpha=alpha + step)
    assert np.all(lower >= 0)
    assert np.all(lower <= higher * (1 + 1e-9) + 1e-12)
    mu_p, log_var_p, mu_q, log_var_q = pair
    swapped = gaussian.renyi_normal(mu_q, log_var_q, mu_p, log_var_p, alpha=1 - alpha)
    assert_close((1 - alpha) * lower, alpha * swapped, rtol=1e-9, atol=1e-12)


@SETTINGS
@given(normal_pairs())
def test_bhattacharyya_hellinger_normal_identities(pair):
    kl = to_numpy(gaussian.kl_normal(*pair, reduction="sum"))
    distance = gaussian.bhattacharyya_normal(*pair, event_ndims=1)
    assert_close(
        distance, gaussian.renyi_normal(*pair, alpha=0.5, event_ndims=1) / 2, rtol=1e-12, atol=1e-15
    )
    coefficient = gaussian.bhattacharyya_normal(*pair, coefficient=True, event_ndims=1)
    squared = gaussian.hellinger_normal(*pair, squared=True, event_ndims=1)
    assert_close(squared, 1 - coefficient, rtol=1e-9, atol=1e-15)
    assert np.all((coefficient > 0) & (coefficient <= 1))
    # H² = 1 − e^(−D_B) ≤ D_B = D_½ / 2 ≤ KL / 2 (Rényi grows with its order)
    assert np.all(squared <= distance + 1e-15)
    assert np.sum(distance) <= kl / 2 * (1 + 1e-9) + 1e-15


@SETTINGS
@given(normal_pairs())
def test_wasserstein2_normal_is_a_distance(pair):
    mu_p, log_var_p, mu_q, log_var_q = pair
    forward = gaussian.wasserstein2_normal(*pair)
    assert_close(
        gaussian.wasserstein2_normal(mu_q, log_var_q, mu_p, log_var_p), forward, rtol=1e-14
    )
    # (below 1e-154, (mu_p − mu_q)² underflows: an absolute floor)
    assert np.all(forward >= np.abs(mu_p - mu_q) * (1 - 1e-12) - 1e-150)
    assert_close(
        gaussian.wasserstein2_normal(mu_p, log_var_p, mu_p, log_var_p),
        np.zeros_like(forward),
        atol=0,
    )


@SETTINGS
@given(mvn_pairs(), st.floats(0.05, 0.95))
def test_renyi_mvn_identities(pair, alpha):
    loc_p, tril_p, loc_q, tril_q = pair
    kl = float(gaussian.kl_mvn(*pair))
    for order in (1 - 1e-9, 1 + 1e-9):
        assert_close(gaussian.renyi_mvn(*pair, alpha=order), kl, rtol=1e-5, atol=1e-8)
    value = float(gaussian.renyi_mvn(*pair, alpha=alpha))
    swapped = float(gaussian.renyi_mvn(loc_q, tril_q, loc_p, tril_p, alpha=1 - alpha))
    assert value >= -1e-12
    assert value <= kl * (1 + 1e-9) + 1e-12
    assert abs((1 - alpha) * value - alpha * swapped) <= 1e-9 * (1 + abs(value))
    squared = float(gaussian.hellinger_mvn(*pair, squared=True))
    assert_close(
        np.asarray(squared),
        1 - float(gaussian.bhattacharyya_mvn(*pair, coefficient=True)),
        rtol=1e-9,
        atol=1e-15,
    )
    assert squared <= float(gaussian.bhattacharyya_mvn(*pair)) + 1e-15


@SETTINGS
@given(mvn_pairs())
def test_wasserstein2_mvn_is_symmetric_and_bounded_by_the_means(pair):
    loc_p, tril_p, loc_q, tril_q = pair
    forward = float(gaussian.wasserstein2_mvn(*pair))
    assert_close(
        np.asarray(float(gaussian.wasserstein2_mvn(loc_q, tril_q, loc_p, tril_p))),
        forward,
        rtol=1e-9,
        atol=1e-7,
    )
    assert forward >= np.linalg.norm(loc_p - loc_q) * (1 - 1e-9) - 1e-7
