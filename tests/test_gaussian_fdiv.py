"""The Rényi, Bhattacharyya, Hellinger and 2-Wasserstein closed forms of ``kldiv.gaussian``.

References: mpmath quadrature of the defining integrals (univariate), the textbook log-determinant
formulas in NumPy float64 (full covariance), POT's Bures–Wasserstein distance, a seeded Monte
Carlo estimate of the Bhattacharyya coefficient (identities: test_gaussian_identities.py).
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np
import pytest
from conformance.specs import scale_tril

from kldiv import gaussian
from kldiv.gaussian import (
    bhattacharyya_mvn,
    bhattacharyya_normal,
    hellinger_mvn,
    hellinger_normal,
    kl_mvn,
    kl_normal,
    renyi_mvn,
    renyi_normal,
    wasserstein2_mvn,
    wasserstein2_normal,
)
from kldiv.testing import assert_close, assert_same_kind, lazy_xp_function, to_numpy

NORMAL_FUNCTIONS = (renyi_normal, bhattacharyya_normal, hellinger_normal, wasserstein2_normal)
MVN_FUNCTIONS = (renyi_mvn, bhattacharyya_mvn, hellinger_mvn, wasserstein2_mvn)
lazy_xp_modules = [gaussian]
for _function in NORMAL_FUNCTIONS + MVN_FUNCTIONS:
    lazy_xp_function(_function)

ALPHAS = (0.05, 0.5, 0.9, 1.0, 1.1, 2.0, 5.0)


def _normal_pairs(rng: np.random.Generator, shape: tuple[int, ...] = (4, 3)) -> tuple:
    return (
        rng.normal(size=shape),
        rng.normal(scale=0.7, size=shape),
        rng.normal(size=shape),
        rng.normal(scale=0.7, size=shape),
    )


def _mvn_pairs(rng: np.random.Generator, size: int = 3, batch: tuple[int, ...] = (2,)) -> tuple:
    return (
        rng.normal(size=(*batch, size)),
        scale_tril(rng, batch, size),
        rng.normal(size=(*batch, size)),
        scale_tril(rng, batch, size),
    )


def _on(xp: Any, arrays: tuple, dtype: Any = None) -> list[Any]:
    return [xp.asarray(a, dtype=xp.float64 if dtype is None else dtype) for a in arrays]


# --- references ---------------------------------------------------------------------------------


def _renyi_by_quadrature(mu_p: float, lv_p: float, mu_q: float, lv_q: float, alpha: float) -> float:
    """1/(α − 1)·log ∫ p^α q^(1−α) (KL at α = 1) by mpmath quadrature, 30 digits."""
    with mpmath.workdps(30):
        p_scale, q_scale = mpmath.exp(mpmath.mpf(lv_p) / 2), mpmath.exp(mpmath.mpf(lv_q) / 2)

        def log_p(x: Any) -> Any:
            return mpmath.log(mpmath.npdf(x, mu_p, p_scale))

        def log_q(x: Any) -> Any:
            return mpmath.log(mpmath.npdf(x, mu_q, q_scale))

        points = [-mpmath.inf, min(mu_p, mu_q) - 1, max(mu_p, mu_q) + 1, mpmath.inf]
        if alpha == 1:
            integral = mpmath.quad(lambda x: mpmath.exp(log_p(x)) * (log_p(x) - log_q(x)), points)
            return float(integral)
        integral = mpmath.quad(
            lambda x: mpmath.exp(alpha * log_p(x) + (1 - alpha) * log_q(x)), points
        )
        return float(mpmath.log(integral) / (alpha - 1))


def _renyi_mvn_textbook(loc_p, tril_p, loc_q, tril_q, alpha):
    """α/2·ΔᵀΣ_α⁻¹Δ − log(|Σ_α| / (|Σ_p|^(1−α)|Σ_q|^α)) / (2(α − 1)), NumPy float64."""
    cov_p, cov_q = (t @ np.swapaxes(t, -1, -2) for t in (tril_p, tril_q))
    mixed = alpha * cov_q + (1 - alpha) * cov_p
    distance = loc_p - loc_q
    quadratic = np.einsum(
        "...i,...i->...", distance, np.linalg.solve(mixed, distance[..., None])[..., 0]
    )
    log_dets = [np.linalg.slogdet(m)[1] for m in (mixed, cov_p, cov_q)]
    log_ratio = log_dets[0] - (1 - alpha) * log_dets[1] - alpha * log_dets[2]
    finite = np.all(np.linalg.eigvalsh(mixed) > 0, axis=-1)
    return np.where(finite, alpha / 2 * quadratic - log_ratio / (2 * (alpha - 1)), np.inf)


# --- univariate and diagonal ---------------------------------------------------------------------


@pytest.mark.parametrize("alpha", ALPHAS)
def test_renyi_normal_is_the_integral(alpha: float) -> None:
    rng = np.random.default_rng(int(alpha * 100))
    for mu_p, lv_p, mu_q, lv_q in zip(*_normal_pairs(rng, (3,)), strict=True):
        if alpha > 1 and math.exp(lv_p - lv_q) >= alpha / (alpha - 1):
            continue  # the integral diverges: the +inf branch has a test of its own
        expected = _renyi_by_quadrature(mu_p, lv_p, mu_q, lv_q, alpha)
        actual = renyi_normal(*(np.asarray(v) for v in (mu_p, lv_p, mu_q, lv_q)), alpha=alpha)
        assert_close(actual, expected, rtol=1e-12, atol=1e-15)


def test_renyi_normal_every_backend_and_dtype(xp: Any) -> None:
    rng = np.random.default_rng(1)
    arrays = _normal_pairs(rng)
    for alpha in (0.3, 2.0):
        expected = renyi_normal(*arrays, alpha=alpha, event_ndims=1)
        assert_close(renyi_normal(*_on(xp, arrays), alpha=alpha, event_ndims=1), expected)
        low = renyi_normal(*_on(xp, arrays, xp.float32), alpha=alpha, event_ndims=1)
        assert_close(low, expected.astype(np.float32), rtol=1e-5, atol=1e-6)


def test_alpha_one_is_kl_and_the_limit_is_continuous() -> None:
    arrays = _normal_pairs(np.random.default_rng(2))
    kl = kl_normal(*arrays)
    assert_close(renyi_normal(*arrays, alpha=1.0), kl, rtol=0, atol=0)
    for alpha in (1 - 1e-9, 1 + 1e-9):
        assert_close(renyi_normal(*arrays, alpha=alpha), kl, rtol=1e-8)


def test_renyi_normal_is_accurate_near_p_equal_q_and_at_alpha_zero() -> None:
    log_var_p = np.asarray([1e-8, -1e-8, 3e-5])
    zero = np.zeros(3)
    for alpha in (0.5, 2.0):
        # series of [log1p(β·u) − β·d]/(2β) in d: α·d²/4 + O(d³)
        expected = [_renyi_by_quadrature(0.0, float(d), 0.0, 0.0, alpha) for d in log_var_p]
        assert_close(
            renyi_normal(zero, log_var_p, zero, zero, alpha=alpha), np.asarray(expected), rtol=1e-6
        )
    assert_close(
        renyi_normal(*_normal_pairs(np.random.default_rng(3)), alpha=0.0),
        np.zeros((4, 3)),
        atol=1e-15,
    )


def test_renyi_above_one_is_inf_where_the_mixed_variance_is_not_positive() -> None:
    alpha = 3.0  # finite iff σ_p²/σ_q² < α/(α − 1) = 1.5
    log_var_p = np.log(np.asarray([1.0, 1.49, 1.5, 4.0]))
    zero = np.zeros(4)
    result = to_numpy(renyi_normal(zero, log_var_p, zero, zero, alpha=alpha))
    assert np.isfinite(result[:2]).all()
    assert np.isposinf(result[2:]).all()
    tril_p = np.diag(np.exp(log_var_p / 2))
    assert np.isposinf(to_numpy(renyi_mvn(zero, tril_p, zero, np.eye(4), alpha=alpha)))


def test_diagonal_event_axes_match_the_full_covariance_forms() -> None:
    rng = np.random.default_rng(4)
    mu_p, lv_p, mu_q, lv_q = _normal_pairs(rng, (2, 4))
    trils = [np.eye(4) * np.exp(lv / 2)[..., None, :] for lv in (lv_p, lv_q)]
    mvn_args = (mu_p, trils[0], mu_q, trils[1])
    for alpha in (0.25, 1.0, 1.5):
        expected = renyi_mvn(*mvn_args, alpha=alpha)
        assert_close(
            renyi_normal(mu_p, lv_p, mu_q, lv_q, alpha=alpha, event_ndims=1), expected, rtol=1e-12
        )
    pairs = [
        (bhattacharyya_normal, bhattacharyya_mvn, {}),
        (bhattacharyya_normal, bhattacharyya_mvn, {"coefficient": True}),
        (hellinger_normal, hellinger_mvn, {}),
        (hellinger_normal, hellinger_mvn, {"squared": True}),
        (wasserstein2_normal, wasserstein2_mvn, {}),
        (wasserstein2_normal, wasserstein2_mvn, {"squared": True}),
    ]
    for diagonal, full, kwargs in pairs:
        expected = full(*mvn_args, **kwargs)
        assert_close(
            diagonal(mu_p, lv_p, mu_q, lv_q, event_ndims=1, **kwargs), expected, rtol=1e-12
        )


def test_bhattacharyya_hellinger_and_their_identities(xp: Any) -> None:
    arrays = _on(xp, _normal_pairs(np.random.default_rng(5)))
    distance = bhattacharyya_normal(*arrays)
    assert_close(distance, to_numpy(renyi_normal(*arrays, alpha=0.5)) / 2, rtol=1e-14)
    coefficient = bhattacharyya_normal(*arrays, coefficient=True)
    assert_close(coefficient, np.exp(-to_numpy(distance)), rtol=1e-14)
    squared = hellinger_normal(*arrays, squared=True)
    assert_close(squared, 1 - to_numpy(coefficient), rtol=1e-12)
    assert_close(hellinger_normal(*arrays), np.sqrt(to_numpy(squared)), rtol=1e-14)
    # the textbook form of D_B: Δμ²/(4(σp² + σq²)) + ½ log((σp² + σq²)/(2σpσq))
    mu_p, lv_p, mu_q, lv_q = (to_numpy(a) for a in arrays)
    total = np.exp(lv_p) + np.exp(lv_q)
    textbook = (mu_p - mu_q) ** 2 / (4 * total) + 0.5 * np.log(
        total / (2 * np.exp((lv_p + lv_q) / 2))
    )
    assert_close(distance, textbook, rtol=1e-12)


def test_wasserstein2_normal_is_the_quantile_coupling(xp: Any) -> None:
    mu_p, lv_p, mu_q, lv_q = _normal_pairs(np.random.default_rng(6))
    expected = np.sqrt((mu_p - mu_q) ** 2 + (np.exp(lv_p / 2) - np.exp(lv_q / 2)) ** 2)
    result = wasserstein2_normal(*_on(xp, (mu_p, lv_p, mu_q, lv_q)))
    assert_close(result, expected, rtol=1e-13)
    assert_close(
        wasserstein2_normal(
            *_on(xp, (mu_p, lv_p, mu_q, lv_q)), squared=True, reduction="batchmean"
        ),
        np.sum(expected**2) / 4,
        rtol=1e-13,
    )


def test_reductions_and_event_ndims_errors(xp: Any) -> None:
    arrays = _on(xp, _normal_pairs(np.random.default_rng(7)))
    rows = to_numpy(renyi_normal(*arrays, alpha=0.5, event_ndims=1))
    assert rows.shape == (4,)
    assert_close(
        renyi_normal(*arrays, alpha=0.5, event_ndims=1, reduction="mean"), rows.mean(), rtol=1e-14
    )
    assert_close(renyi_normal(*arrays, alpha=0.5, reduction="sum"), rows.sum(), rtol=1e-14)
    assert to_numpy(hellinger_normal(*arrays, event_ndims=2)).shape == ()
    with pytest.raises(ValueError, match="event_ndims must be in"):
        hellinger_normal(*arrays, event_ndims=3)
    with pytest.raises(TypeError, match="event_ndims must be an int"):
        wasserstein2_normal(*arrays, event_ndims=1.0)


# --- full covariance ----------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.3, 0.5, 0.999, 1.0, 1.2, 4.0])
def test_renyi_mvn_is_the_textbook_formula(xp: Any, alpha: float) -> None:
    arrays = _mvn_pairs(np.random.default_rng(8), size=4, batch=(3,))
    expected = kl_mvn(*arrays) if alpha == 1 else _renyi_mvn_textbook(*arrays, alpha)
    assert_close(renyi_mvn(*_on(xp, arrays), alpha=alpha), expected, rtol=1e-9, atol=1e-12)


def test_mvn_forms_broadcast_batches_and_keep_float32(xp: Any) -> None:
    rng = np.random.default_rng(9)
    loc_p, tril_p = rng.normal(size=(2, 1, 3)), scale_tril(rng, (3,), 3)
    loc_q, tril_q = rng.normal(size=(3,)), scale_tril(rng, (), 3)
    for function in MVN_FUNCTIONS:
        kwargs = {"alpha": 0.7} if function.__name__ == "renyi_mvn" else {}
        expected = function(loc_p, tril_p, loc_q, tril_q, **kwargs)
        assert expected.shape == (2, 3)
        result = function(*_on(xp, (loc_p, tril_p, loc_q, tril_q), xp.float32), **kwargs)
        assert_close(result, expected.astype(np.float32), rtol=1e-4, atol=1e-5)


def test_wasserstein2_mvn_is_pots_bures_wasserstein() -> None:
    ot = pytest.importorskip("ot")
    loc_p, tril_p, loc_q, tril_q = _mvn_pairs(np.random.default_rng(10), size=5, batch=())
    covariances = [t @ t.T for t in (tril_p, tril_q)]
    expected = ot.gaussian.bures_wasserstein_distance(loc_p, loc_q, *covariances)
    assert_close(wasserstein2_mvn(loc_p, tril_p, loc_q, tril_q), float(expected), rtol=1e-10)
    scipy_linalg = pytest.importorskip("scipy.linalg")
    root_q = scipy_linalg.sqrtm(covariances[1]).real
    cross = scipy_linalg.sqrtm(root_q @ covariances[0] @ root_q).real
    frechet = np.sum((loc_p - loc_q) ** 2) + np.trace(sum(covariances) - 2 * cross)
    assert_close(wasserstein2_mvn(loc_p, tril_p, loc_q, tril_q, squared=True), frechet, rtol=1e-10)


def test_bhattacharyya_mvn_agrees_with_monte_carlo() -> None:
    """BC = E_p[√(q/p)]: 200 000 seeded draws, within 5 standard errors (about 1 %)."""
    rng = np.random.default_rng(11)
    loc_p, tril_p, loc_q, tril_q = _mvn_pairs(rng, size=3, batch=())
    samples = loc_p + rng.standard_normal((200_000, 3)) @ tril_p.T

    def log_density(loc: np.ndarray, tril: np.ndarray) -> np.ndarray:
        whitened = np.linalg.solve(tril, (samples - loc).T)
        return (
            -0.5 * np.sum(whitened**2, axis=0)
            - np.sum(np.log(np.diag(tril)))
            - 1.5 * np.log(2 * np.pi)
        )

    ratios = np.exp(0.5 * (log_density(loc_q, tril_q) - log_density(loc_p, tril_p)))
    error = 5 * ratios.std() / np.sqrt(ratios.size)
    coefficient = float(bhattacharyya_mvn(loc_p, tril_p, loc_q, tril_q, coefficient=True))
    assert abs(coefficient - ratios.mean()) < error
    assert_close(
        hellinger_mvn(loc_p, tril_p, loc_q, tril_q, squared=True), 1 - coefficient, rtol=1e-12
    )


def test_equal_gaussians_give_zero(xp: Any) -> None:
    loc, tril, _, _ = _on(xp, _mvn_pairs(np.random.default_rng(12)))
    for function in MVN_FUNCTIONS:
        kwargs = {"alpha": 2.0} if function.__name__ == "renyi_mvn" else {}
        expected = np.ones(2) if function.__name__ == "bhattacharyya_mvn" else np.zeros(2)
        kwargs = {"coefficient": True} if function.__name__ == "bhattacharyya_mvn" else kwargs
        assert_close(function(loc, tril, loc, tril, **kwargs), expected, atol=1e-7)


# --- gradients, devices, errors -----------------------------------------------------------------


def test_torch_gradients_are_finite_at_p_equal_q_and_past_the_alpha_bound() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    loc, tril, _, _ = _mvn_pairs(rng)
    for function, kwargs in [
        (renyi_mvn, {"alpha": 0.5}),
        (renyi_mvn, {"alpha": 3.0}),
        (bhattacharyya_mvn, {}),
        (hellinger_mvn, {}),
        (wasserstein2_mvn, {}),
    ]:
        inputs = [torch.tensor(a, requires_grad=True) for a in (loc, tril, loc, tril)]
        function(*inputs, **kwargs).sum().backward()
        assert all(torch.isfinite(a.grad).all() for a in inputs), function.__name__
    zero = torch.zeros(2, dtype=torch.float64)
    log_var_p = torch.tensor([0.0, 2.0], dtype=torch.float64, requires_grad=True)  # finite, +inf
    for function, kwargs in [
        (renyi_normal, {"alpha": 3.0}),
        (hellinger_normal, {}),
        (wasserstein2_normal, {}),
    ]:
        log_var_p.grad = None
        function(zero, log_var_p, zero, zero, **kwargs).sum().backward()
        assert torch.isfinite(log_var_p.grad).all(), function.__name__
    tril_p = torch.tensor(np.diag([1.0, 2.0]), requires_grad=True)
    renyi_mvn(zero, tril_p, zero, torch.eye(2, dtype=torch.float64), alpha=3.0).backward()
    assert torch.isfinite(tril_p.grad).all()


def test_jax_gradients_match_finite_differences_and_jit() -> None:
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    loc_p, tril_p, loc_q, tril_q = (
        jnp.asarray(a) for a in _mvn_pairs(np.random.default_rng(14), batch=())
    )
    for function, kwargs in [
        (renyi_mvn, {"alpha": 0.7}),
        (hellinger_mvn, {}),
        (wasserstein2_mvn, {}),
    ]:

        def loss(tril: Any, function: Any = function, kwargs: Any = kwargs) -> Any:
            return function(loc_p, tril, loc_q, tril_q, **kwargs)

        gradient = jax.grad(loss)(tril_p)
        direction = jnp.tril(jnp.ones_like(tril_p))
        step = 1e-6
        numeric = (loss(tril_p + step * direction) - loss(tril_p - step * direction)) / (2 * step)
        assert_close(jnp.sum(gradient * direction), float(numeric), rtol=1e-6)
        assert_close(jax.jit(loss)(tril_p), loss(tril_p), rtol=1e-13)
        same = jax.grad(lambda t, f=function, k=kwargs: f(loc_q, t, loc_q, t, **k))(tril_q)
        assert bool(jnp.isfinite(same).all()), function.__name__


def test_device_is_kept(device: tuple[Any, Any]) -> None:
    xp, where = device
    mu = xp.zeros((2, 3), dtype=xp.float64, device=where)
    for function in NORMAL_FUNCTIONS:
        kwargs = {"alpha": 0.5} if function.__name__ == "renyi_normal" else {}
        assert_same_kind(function(mu, mu, mu, mu, **kwargs), xp, dtype=xp.float64, device=where)
    eye = xp.eye(3, dtype=xp.float64, device=where)
    for function in MVN_FUNCTIONS:
        kwargs = {"alpha": 2.0} if function.__name__ == "renyi_mvn" else {}
        assert_same_kind(
            function(mu, eye, mu, 2 * eye, **kwargs), xp, dtype=xp.float64, device=where
        )


def test_errors_name_the_argument() -> None:
    zero = np.zeros(2)
    for bad, error in (
        (-0.5, ValueError),
        (math.inf, ValueError),
        (math.nan, ValueError),
        ("2", TypeError),
    ):
        with pytest.raises(error, match="alpha"):
            renyi_normal(zero, zero, zero, zero, alpha=bad)
        with pytest.raises(error, match="alpha"):
            renyi_mvn(zero, np.eye(2), zero, np.eye(2), alpha=bad)
    with pytest.raises(ValueError, match="hellinger_mvn needs locs"):
        hellinger_mvn(zero, np.eye(3), zero, np.eye(3))
    with pytest.raises(ValueError, match="scale_tril_q must have a positive diagonal"):
        wasserstein2_mvn(zero, np.eye(2), zero, -np.eye(2), validate_args=True)
    with pytest.raises(ValueError, match="log_var_q contains NaN"):
        bhattacharyya_normal(zero, zero, zero, np.asarray([0.0, np.nan]), validate_args=True)
    with pytest.raises(ValueError, match="clamp_min"):
        wasserstein2_normal(zero, zero, zero, zero, clamp_min=1.0, clamp_max=0.0)


@pytest.mark.parametrize(
    ("function", "options"),
    [
        (gaussian.bhattacharyya_mvn, {}),
        (gaussian.hellinger_mvn, {}),
        (gaussian.renyi_mvn, {"alpha": 0.5}),
        (gaussian.renyi_mvn, {"alpha": 2.0}),
    ],
)
def test_a_singular_factor_names_both_factors(function, options):
    """NumPy's solve fails on a zero diagonal even without validate_args: a ValueError then."""
    singular = np.zeros((2, 2))
    with pytest.raises(ValueError, match="scale_tril_p and scale_tril_q"):
        function(np.zeros(2), np.eye(2), np.zeros(2), singular, validate_args=False, **options)
