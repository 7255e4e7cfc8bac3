"""The f-divergence family and its neighbours: values, conventions, errors, dtypes, gradients.

Values are checked against SciPy where it has the function (``power_divergence``,
``wasserstein_distance``, ``chisquare``), against mpmath for the power families, and against
direct NumPy float64 transcriptions of the formulas otherwise. Every test runs on every backend
(jitted on JAX, without computing on Dask).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kldiv
import kldiv.fdiv
from kldiv.testing import assert_close, assert_same_kind, lazy_xp_function, to_numpy

from .test_properties import SETTINGS, row_pairs

stats = pytest.importorskip("scipy.stats")  # a reference of several functions here

INF = math.inf
NAN = math.nan

#: The family's row functions: every name :mod:`kldiv.fdiv` exports but the 1-D Wasserstein.
ROW_FUNCTIONS = tuple(name for name in kldiv.fdiv.__all__ if name != "wasserstein_1d")
lazy_xp_modules = [kldiv]
for _name in kldiv.fdiv.__all__:
    lazy_xp_function(getattr(kldiv, _name))

#: Keyword arguments that each parametrised function needs (and a usual choice).
NEEDS = {
    "renyi_divergence": {"alpha": 2.0},
    "alpha_divergence": {"alpha": 0.5},
    "tsallis_divergence": {"q_index": 0.5},
    "f_divergence": {"f": lambda t: (t - 1) ** 2},
}


def _call(name, p, q, **kwargs):
    return getattr(kldiv, name)(p, q, **{**NEEDS.get(name, {}), **kwargs})


# --- NumPy float64 transcriptions of the formulas ---------------------------------------------


def _normalized(x):
    return x / x.sum(-1, keepdims=True)


def _power_sum(p, q, a, b):
    with np.errstate(all="ignore"):
        terms = np.where((p == 0) & (a >= 0) | (q == 0) & (b > 0), 0.0, p**a * q**b)
    return terms.sum(-1)


def _kl(p, q):
    with np.errstate(all="ignore"):
        return np.where(p == 0, 0.0, p * np.log(p / q)).sum(-1)


def reference(name, p, q, **kwargs):
    """The row values of ``name``, straight from its formula, on normalised rows."""
    p, q = _normalized(p), _normalized(q)
    kwargs = {**NEEDS.get(name, {}), **kwargs}
    bc = np.sqrt(p * q).sum(-1)
    if name == "hellinger":
        return np.sqrt(np.maximum(1 - bc, 0))
    if name == "hellinger_squared":
        return 1 - bc
    if name == "bhattacharyya_coefficient":
        return bc
    if name == "bhattacharyya_distance":
        return -np.log(bc)
    if name == "total_variation":
        return np.abs(p - q).sum(-1) / 2
    if name in ("chi2", "f_divergence"):
        return ((p - q) ** 2 / q).sum(-1)
    if name == "psi":
        p, q = (_normalized(np.where(x == 0, 1e-4, x)) for x in (p, q))
        return ((p - q) * np.log(p / q)).sum(-1)
    if name == "renyi_divergence":
        alpha = kwargs["alpha"]
        return np.log(_power_sum(p, q, alpha, 1 - alpha)) / (alpha - 1)
    if name == "tsallis_divergence":
        index = kwargs["q_index"]
        return (_power_sum(p, q, index, 1 - index) - 1) / (index - 1)
    if name == "alpha_divergence":
        alpha = kwargs["alpha"]
        return 4 / (1 - alpha**2) * (1 - _power_sum(p, q, (1 - alpha) / 2, (1 + alpha) / 2))
    if name == "power_divergence":
        lam = kwargs.get("lambda_", 2 / 3)
        return 2 / (lam * (lam + 1)) * (_power_sum(p, q, 1 + lam, -lam) - 1)
    raise KeyError(name)


def _pairs(rng, shape=(2, 3, 6)):
    return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]), rng.uniform(0.1, 4.0, shape)


# --- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ROW_FUNCTIONS)
def test_values_match_the_formula(xp, name):
    p, q = _pairs(np.random.default_rng(1))
    result = _call(name, xp.asarray(p), xp.asarray(q), reduction="none")
    assert_close(result, reference(name, p, q), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ROW_FUNCTIONS)
def test_reductions_log_prob_and_axis(xp, name):
    p, q = _pairs(np.random.default_rng(2))
    rows = reference(name, p, q)
    on_axis_0 = _call(
        name,
        xp.asarray(np.moveaxis(p, -1, 0)),
        xp.asarray(np.moveaxis(q, -1, 0)),
        axis=0,
        reduction="sum",
    )
    assert_close(on_axis_0, rows.sum(), rtol=1e-12)
    logs = (xp.asarray(np.log(_normalized(p))), xp.asarray(np.log(_normalized(q))))
    assert_close(_call(name, *logs, log_prob=True), rows.mean(), rtol=1e-12)


@pytest.mark.parametrize(
    "lambda_", [1.0, 0.0, -1.0, -2.0, -0.5, 2 / 3, 1.7, "cressie-read", "neyman"]
)
def test_power_divergence_is_scipys_statistic_over_n(xp, lambda_):
    rng = np.random.default_rng(3)
    f_obs = rng.integers(1, 30, size=(4, 7)).astype(np.float64)
    f_exp = _normalized(rng.uniform(0.5, 2.0, size=(4, 7))) * f_obs.sum(-1, keepdims=True)
    statistic = stats.power_divergence(f_obs, f_exp, lambda_=lambda_, axis=-1).statistic
    result = kldiv.power_divergence(
        xp.asarray(f_obs), xp.asarray(f_exp), lambda_=lambda_, reduction="none"
    )
    assert_close(result, statistic / f_obs.sum(-1), rtol=1e-11)


def test_chi2_pearson_is_scipys_chisquare_over_n_and_neyman_swaps(xp):
    f_obs, f_exp = np.array([16.0, 18, 16, 14, 12, 12]), np.array([16.0, 16, 16, 16, 16, 8])
    chisquare = stats.chisquare(f_obs, f_exp).statistic
    assert_close(kldiv.chi2(xp.asarray(f_obs), xp.asarray(f_exp)), chisquare / 88, rtol=1e-13)
    neyman = kldiv.chi2(xp.asarray(f_obs), xp.asarray(f_exp), kind="neyman")
    assert_close(neyman, kldiv.chi2(xp.asarray(f_exp), xp.asarray(f_obs)), rtol=1e-13)


def _mp_renyi(p, q, alpha):
    with mpmath.workdps(40):
        p = [mpmath.mpf(x) / mpmath.fsum(map(mpmath.mpf, p)) for x in p]
        q = [mpmath.mpf(x) / mpmath.fsum(map(mpmath.mpf, q)) for x in q]
        total = mpmath.fsum(a**alpha * b ** (1 - alpha) for a, b in zip(p, q, strict=True) if a > 0)
        return float(mpmath.log(total) / (alpha - 1))


@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.5, 0.999, 1.001, 2.0, 7.5])
def test_renyi_matches_mpmath(xp, alpha):
    p, q = np.array([0.1, 0.0, 0.6, 0.3]), np.array([0.2, 0.3, 0.25, 0.25])
    result = kldiv.renyi_divergence(xp.asarray(p), xp.asarray(q), alpha=alpha)
    assert_close(result, _mp_renyi(p, q, alpha), rtol=1e-12)


def test_renyi_orders_one_infinity_and_zero(xp):
    p, q = np.array([[0.1, 0.0, 0.6, 0.3]]), np.array([[0.2, 0.3, 0.25, 0.25]])
    xp_p, xp_q = xp.asarray(p), xp.asarray(q)
    assert_close(
        kldiv.renyi_divergence(xp_p, xp_q, alpha=1), kldiv.kl_divergence(xp_p, xp_q), rtol=1e-14
    )
    assert_close(kldiv.renyi_divergence(xp_p, xp_q, alpha=INF), math.log(0.6 / 0.25), rtol=1e-14)
    assert_close(kldiv.renyi_divergence(xp_p, xp_q, alpha=0), -math.log(0.7), rtol=1e-13)
    assert_close(
        kldiv.renyi_divergence(xp_p, xp_q, alpha=2, base=2),
        _mp_renyi(p[0], q[0], 2) / math.log(2),
        rtol=1e-13,
    )


def test_alpha_tsallis_and_power_singular_orders_are_kl(xp):
    p, q = (xp.asarray(x) for x in _pairs(np.random.default_rng(4)))
    kl, reverse = kldiv.kl_divergence(p, q), kldiv.kl_divergence(q, p)
    assert_close(kldiv.alpha_divergence(p, q, alpha=-1), kl, rtol=1e-14)
    assert_close(kldiv.alpha_divergence(p, q, alpha=1), reverse, rtol=1e-14)
    assert_close(kldiv.tsallis_divergence(p, q, q_index=1), kl, rtol=1e-14)
    assert_close(kldiv.power_divergence(p, q, lambda_=0), 2 * kl, rtol=1e-14)
    assert_close(kldiv.power_divergence(p, q, lambda_=-1), 2 * reverse, rtol=1e-14)
    assert_close(
        kldiv.alpha_divergence(p, q, alpha=0), 4 * kldiv.hellinger_squared(p, q), rtol=1e-13
    )


def test_power_families_keep_their_digits_near_equal_rows(xp):
    """At P ≈ Q (relative 1e-9) the power sums lose nothing to cancellation: the identities
    with the squared forms of Hellinger and Pearson hold to 1e-6 at divergences near 1e-19."""
    rng = np.random.default_rng(10)
    p = rng.dirichlet(np.ones(40), size=3)
    q = _normalized(p * (1 + 1e-9 * rng.standard_normal(p.shape)))
    p, q = xp.asarray(p), xp.asarray(q)
    hellinger_squared = to_numpy(kldiv.hellinger_squared(p, q, reduction="none"))
    pearson = to_numpy(kldiv.chi2(p, q, reduction="none"))
    close = {"rtol": 1e-6, "atol": 0}
    assert_close(
        kldiv.renyi_divergence(p, q, alpha=0.5, reduction="none"),
        -2 * np.log1p(-hellinger_squared),
        **close,
    )
    assert_close(
        kldiv.alpha_divergence(p, q, alpha=0.0, reduction="none"), 4 * hellinger_squared, **close
    )
    assert_close(kldiv.power_divergence(p, q, lambda_=1, reduction="none"), pearson, **close)
    assert_close(kldiv.tsallis_divergence(p, q, q_index=2, reduction="none"), pearson, **close)


def test_f_divergence_conventions_at_zeros(xp):
    p, q = xp.asarray([[0.5, 0.5, 0.0]]), xp.asarray([[0.25, 0.25, 0.5]])
    kl = kldiv.f_divergence(p, q, lambda t: t * xp.log(t), f_at_zero=0.0)
    assert_close(kl, kldiv.kl_divergence(p, q), rtol=1e-14)
    tv = kldiv.f_divergence(q, p, lambda t: xp.abs(t - 1) / 2, slope_at_infinity=0.5)
    assert_close(tv, kldiv.total_variation(q, p), rtol=1e-14)
    assert_close(kldiv.f_divergence(q, p, lambda t: (t - 1) ** 2), INF, rtol=0)


# --- wasserstein_1d -----------------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
def test_wasserstein_1_is_scipys(xp, weighted):
    rng = np.random.default_rng(5)
    u, v = rng.normal(size=9), rng.normal(1.0, 2.0, size=6)
    weights = (rng.uniform(size=9), rng.uniform(size=6)) if weighted else (None, None)
    expected = stats.wasserstein_distance(u, v, *weights)
    arrays = [None if w is None else xp.asarray(w) for w in weights]
    assert_close(kldiv.wasserstein_1d(xp.asarray(u), xp.asarray(v), *arrays), expected, rtol=1e-12)


def test_wasserstein_2_of_equal_size_samples_pairs_the_sorted_samples(xp):
    rng = np.random.default_rng(6)
    u, v = rng.normal(size=8), rng.exponential(size=8)
    expected = math.sqrt(np.mean((np.sort(u) - np.sort(v)) ** 2))
    assert_close(kldiv.wasserstein_1d(xp.asarray(u), xp.asarray(v), p=2), expected, rtol=1e-12)
    histogram = kldiv.wasserstein_1d(
        xp.asarray([0.0, 1.0, 2.0]),
        xp.asarray([0.0, 1.0, 2.0]),
        xp.asarray([1.0, 0.0, 1.0]),
        xp.asarray([0.0, 2.0, 0.0]),
        p=3,
    )
    assert_close(histogram, 1.0, rtol=1e-14)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_wasserstein_batches_are_rows_and_broadcast(xp, order):
    """Leading axes are batch axes: each row is the 1-D call (SciPy's value at p = 1)."""
    rng = np.random.default_rng(7)
    u = rng.normal(size=(2, 3, 9))
    v = rng.normal(1.0, 2.0, size=(3, 6))  # broadcasts against u's batch (2, 3)
    u_weights, v_weights = rng.uniform(size=(3, 9)), rng.uniform(size=(2, 1, 6))
    arrays = [xp.asarray(a) for a in (u, v, u_weights, v_weights)]
    result = kldiv.wasserstein_1d(*arrays, p=order)
    rows = np.empty((2, 3))
    for i, j in np.ndindex(2, 3):
        one = (u[i, j], v[j], u_weights[j], v_weights[i, 0])
        rows[i, j] = to_numpy(kldiv.wasserstein_1d(*one, p=order))
        if order == 1:
            assert_close(np.asarray(rows[i, j]), stats.wasserstein_distance(*one), rtol=1e-12)
    assert_close(result, rows, rtol=1e-12)


def test_wasserstein_errors_name_the_argument(xp):
    values = xp.asarray([0.0, 1.0])
    with pytest.raises(ValueError, match="u_values must have at least one axis"):
        kldiv.wasserstein_1d(xp.asarray(0.0), values)
    with pytest.raises(ValueError, match="v_values must not be empty"):
        kldiv.wasserstein_1d(values, xp.asarray([]))
    with pytest.raises(ValueError, match="v_weights must have the support length"):
        kldiv.wasserstein_1d(values, values, None, xp.asarray([1.0]))
    with pytest.raises(ValueError, match="p must be >= 1"):
        kldiv.wasserstein_1d(values, values, p=0.5)


# --- conventions at zeros, NaN, errors ----------------------------------------------------------


def test_zeros_and_disjoint_supports(xp):
    p, q = xp.asarray([[0.5, 0.5, 0.0]]), xp.asarray([[0.5, 0.0, 0.5]])
    disjoint = (xp.asarray([[1.0, 0.0]]), xp.asarray([[0.0, 1.0]]))
    assert_close(kldiv.hellinger(*disjoint), 1.0, rtol=0)
    assert_close(kldiv.total_variation(*disjoint), 1.0, rtol=0)
    assert_close(kldiv.bhattacharyya_distance(*disjoint), INF, rtol=0)
    assert_close(kldiv.chi2(p, q), INF, rtol=0)
    assert_close(kldiv.chi2(p, p), 0.0, atol=0)
    assert_close(kldiv.renyi_divergence(p, q, alpha=0.5), 2 * math.log(2), rtol=1e-14)
    assert_close(kldiv.renyi_divergence(p, q, alpha=2), INF, rtol=0)
    assert_close(kldiv.renyi_divergence(*disjoint, alpha=0.5), INF, rtol=0)
    assert_close(kldiv.alpha_divergence(*disjoint, alpha=0.0), 4.0, rtol=1e-14)
    assert_close(kldiv.alpha_divergence(p, q, alpha=3.0), INF, rtol=0)
    assert_close(kldiv.power_divergence(p, q, lambda_=-0.5), 8 * 0.5, rtol=1e-14)
    finite_psi = kldiv.psi(p, q)
    assert bool(to_numpy(xp.isfinite(finite_psi)))
    assert_close(kldiv.psi(p, q, epsilon=0), INF, rtol=0)


@pytest.mark.parametrize("name", ROW_FUNCTIONS)
def test_negative_probability_gives_nan_and_log_zero_counts_zero(xp, name):
    result = _call(
        name, xp.asarray([[-0.5, 1.5], [0.5, 0.5]]), xp.asarray([[0.5, 0.5]] * 2), reduction="none"
    )
    assert_close(result[0], NAN, rtol=0)
    log_p, log_q = xp.asarray([[-INF, 0.0]]), xp.asarray([[-INF, 0.0]])
    equal = _call(name, log_p, log_q, log_prob=True)
    expected = 1.0 if name == "bhattacharyya_coefficient" else 0.0
    assert_close(equal, expected, atol=1e-15)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda p: kldiv.renyi_divergence(p, p, alpha=-1.0), "alpha must be >= 0"),
        (lambda p: kldiv.renyi_divergence(p, p, alpha=NAN), "alpha must be a finite"),
        (lambda p: kldiv.alpha_divergence(p, p, alpha=INF), "alpha must be a finite"),
        (lambda p: kldiv.tsallis_divergence(p, p, q_index=-0.5), "q_index must be >= 0"),
        (lambda p: kldiv.power_divergence(p, p, lambda_="chi"), "lambda_='chi'"),
        (lambda p: kldiv.chi2(p, p, kind="pearsons"), "kind must be"),
        (lambda p: kldiv.psi(p, p, epsilon=-1e-3), "epsilon must be"),
        (lambda p: kldiv.hellinger(p, p, reduction="batchmean"), "reduction='batchmean'"),
    ],
)
def test_errors_name_the_argument(xp, call, match):
    with pytest.raises(ValueError, match=match):
        call(xp.asarray([[0.5, 0.5], [0.2, 0.8]]))


@pytest.mark.parametrize("name", ROW_FUNCTIONS)
def test_validate_args_names_the_argument(name):
    p = np.array([[0.5, 0.5]])
    with pytest.raises(ValueError, match="q contains negative"):
        _call(name, p, -p, validate_args=True)
    with pytest.raises(ValueError, match="p contains NaN"):
        _call(name, np.array([[NAN, 1.0]]), p, validate_args=True)
    with pytest.raises(ValueError, match="p contains \\+inf"):
        _call(name, np.array([[INF, 0.0]]), p, log_prob=True, validate_args=True)


def test_shapes_that_do_not_broadcast_are_named(xp):
    with pytest.raises(ValueError, match=r"p \(2, 2\), q \(3, 2\)"):
        kldiv.hellinger(xp.ones((2, 2)), xp.ones((3, 2)))


def test_f_must_be_callable(xp):
    with pytest.raises(TypeError, match="f must be callable"):
        kldiv.f_divergence(xp.asarray([1.0]), xp.asarray([1.0]), 2.0)


# --- dtypes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ROW_FUNCTIONS)
def test_16_bit_computes_in_float32_and_integers_promote(backend, name):
    xp = backend.xp
    p, q = _pairs(np.random.default_rng(7), (3, 5))
    sixteen = "bfloat16" if backend.name.startswith("torch") else "float16"
    if not hasattr(xp, sixteen):
        pytest.skip(f"{backend.name} has no {sixteen}")
    dtype = getattr(xp, sixteen)
    result = _call(name, xp.asarray(p, dtype=dtype), xp.asarray(q, dtype=dtype))
    rounded = [
        to_numpy(xp.astype(xp.asarray(x, dtype=dtype), xp.float32)).astype(np.float64)
        for x in (p, q)
    ]
    assert_close(
        result,
        np.asarray(reference(name, *rounded).mean(), dtype=to_numpy(result).dtype),
        rtol=1e-2,
    )
    counts = _call(name, xp.asarray([[1, 2, 3]]), xp.asarray([[3, 2, 1]]))
    assert xp.isdtype(counts.dtype, "real floating")


@pytest.mark.parametrize("name", ROW_FUNCTIONS)
def test_result_stays_on_the_callers_device(device, name):
    xp, where = device
    p, q = (xp.asarray(x, device=where) for x in _pairs(np.random.default_rng(8), (2, 4)))
    assert_same_kind(_call(name, p, q, reduction="none"), xp, device=where)
    u, v = xp.asarray([0.0, 2.0], device=where), xp.asarray([1.0], device=where)
    assert_same_kind(kldiv.wasserstein_1d(u, v, p=2), xp, device=where)


def test_unnormalised_log_probabilities_are_used_as_given(xp):
    """With ``log_prob`` nothing is renormalised: H² is 1 - BC of the given masses."""
    p, q = np.array([[0.3, 0.3]]), np.array([[0.5, 0.4]])
    coefficient = np.sqrt(p * q).sum()
    log_p, log_q = xp.asarray(np.log(p)), xp.asarray(np.log(q))
    assert_close(kldiv.hellinger_squared(log_p, log_q, log_prob=True), 1 - coefficient, rtol=1e-14)
    expected = -math.log(coefficient)
    assert_close(kldiv.bhattacharyya_distance(log_p, log_q, log_prob=True), expected, rtol=1e-14)
    assert_close(kldiv.total_variation(log_p, log_q, log_prob=True), 0.15, rtol=1e-14)


# --- gradients ----------------------------------------------------------------------------------

GRADIENT_CASES = [(name, {}) for name in ROW_FUNCTIONS] + [
    ("renyi_divergence", {"alpha": 0.5}),
    ("renyi_divergence", {"alpha": INF}),
    ("alpha_divergence", {"alpha": -3.0}),
    ("power_divergence", {"lambda_": 1.0}),
    ("chi2", {"kind": "neyman"}),
]


@pytest.mark.parametrize(("name", "kwargs"), GRADIENT_CASES)
@pytest.mark.parametrize("log_prob", [False, True])
def test_gradients_are_finite_where_p_is_zero(name, kwargs, log_prob):
    torch = pytest.importorskip("torch")
    p = torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]], dtype=torch.float64)
    q = torch.tensor([[0.25, 0.25, 0.5], [0.2, 0.3, 0.5]], dtype=torch.float64)
    if log_prob:
        p, q = torch.log(p), torch.log(q)
    if name == "chi2" and kwargs.get("kind") == "neyman":
        p, q = q, p  # Neyman is finite where Q = 0 < P
    p.requires_grad_(True)
    q.requires_grad_(True)
    _call(name, p, q, log_prob=log_prob, **kwargs).backward()
    assert torch.isfinite(p.grad).all(), p.grad
    assert torch.isfinite(q.grad).all(), q.grad


def test_gradients_in_jax_and_of_wasserstein():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    p, q = jnp.asarray([0.5, 0.5, 0.0]), jnp.asarray([0.25, 0.25, 0.5])
    for name in ROW_FUNCTIONS:
        gradient = jax.grad(lambda x, name=name: _call(name, x, q))(p)
        assert bool(jnp.isfinite(gradient).all()), name
    u, v = jnp.asarray([0.0, 1.0, 3.0]), jnp.asarray([0.5, 2.0])
    for order in (1, 2):
        gradient = jax.grad(lambda x, order=order: kldiv.wasserstein_1d(x, v, p=order))(u)
        assert bool(jnp.isfinite(gradient).all())
    same = jax.grad(lambda x: kldiv.wasserstein_1d(x, u, p=2))(u)
    assert bool(jnp.isfinite(same).all())


# --- identities (hypothesis, NumPy) -------------------------------------------------------------

NEAR_ONE = 1e-7


def _rows_of(function, p, q, **kwargs):
    return function(p, q, reduction="none", **kwargs)


@SETTINGS
@given(row_pairs())
def test_renyi_tsallis_and_alpha_tend_to_kl_at_their_singular_orders(pair):
    """On common supports: where one is wider, the limit in one direction is +inf."""
    p, q = pair[0] + 1e-3, pair[1]
    kl, reverse = _rows_of(kldiv.kl_divergence, p, q), _rows_of(kldiv.kl_divergence, q, p)
    close = {"rtol": 1e-4, "atol": 1e-5}
    for side in (-1, 1):
        order = 1 + side * NEAR_ONE
        assert_close(_rows_of(kldiv.renyi_divergence, p, q, alpha=order), kl, **close)
        assert_close(_rows_of(kldiv.tsallis_divergence, p, q, q_index=order), kl, **close)
        alpha = side * (1 - NEAR_ONE)
        limit = reverse if side == 1 else kl
        assert_close(_rows_of(kldiv.alpha_divergence, p, q, alpha=alpha), limit, **close)
        lambda_ = side * NEAR_ONE - (side == 1)
        limit = 2 * (reverse if side == 1 else kl)
        assert_close(_rows_of(kldiv.power_divergence, p, q, lambda_=lambda_), limit, **close)


@SETTINGS
@given(row_pairs())
def test_hellinger_bhattacharyya_and_renyi_of_order_one_half(pair):
    p, q = pair
    coefficient = _rows_of(kldiv.bhattacharyya_coefficient, p, q)
    assert_close(_rows_of(kldiv.hellinger_squared, p, q), 1 - coefficient, atol=1e-12)
    assert_close(_rows_of(kldiv.hellinger, p, q) ** 2, 1 - coefficient, atol=1e-12)
    distance = _rows_of(kldiv.bhattacharyya_distance, p, q)
    renyi = _rows_of(kldiv.renyi_divergence, p, q, alpha=0.5)
    assert_close(distance, renyi / 2, rtol=1e-9, atol=1e-12)
    assert np.all((coefficient >= 0) & (coefficient <= 1 + 1e-12))


@SETTINGS
@given(row_pairs())
def test_pinsker_and_the_chi2_bounds(pair):
    p, q = pair
    kl = _rows_of(kldiv.kl_divergence, p, q)
    total_variation = _rows_of(kldiv.total_variation, p, q)
    assert np.all(total_variation <= np.sqrt(np.maximum(kl, 0) / 2) + 1e-12)
    pearson = _rows_of(kldiv.chi2, p, q)
    assert np.all(pearson >= 0)
    assert np.all(_rows_of(kldiv.chi2, p, q, kind="neyman") >= 0)
    assert np.all(kl <= np.log1p(pearson) + 1e-12)
    assert np.all(_rows_of(kldiv.hellinger_squared, p, q) <= total_variation + 1e-12)


@SETTINGS
@given(row_pairs(), st.floats(0.0, 8.0))
def test_renyi_grows_with_its_order(pair, alpha):
    p, q = pair
    lower = _rows_of(kldiv.renyi_divergence, p, q, alpha=alpha)
    higher = _rows_of(kldiv.renyi_divergence, p, q, alpha=alpha + 0.5)
    assert np.all(lower <= higher + 1e-9 * (1 + np.abs(higher)))
    assert np.all(higher <= _rows_of(kldiv.renyi_divergence, p, q, alpha=INF) + 1e-9)


# --- streaming metrics --------------------------------------------------------------------------

METRICS = {"HellingerDistance": "hellinger", "TotalVariationDistance": "total_variation"}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(METRICS))
def test_streaming_metric_equals_the_function_on_the_concatenation(xp, name, reduction):
    rng = np.random.default_rng(9)
    batches = [_pairs(rng, (rows, 5)) for rows in (3, 1, 4)]
    first, second = getattr(kldiv, name)(reduction=reduction), getattr(kldiv, name)()
    for p, q in batches[:2]:
        first.update(xp.asarray(p), xp.asarray(q))
    second.update(*(xp.asarray(x) for x in batches[2]))
    p_all, q_all = (np.concatenate([batch[i] for batch in batches]) for i in (0, 1))
    expected = getattr(kldiv, METRICS[name])(
        xp.asarray(p_all), xp.asarray(q_all), reduction=reduction
    )
    if reduction == "mean":
        assert_close(first.merge(second).compute(), to_numpy(expected), rtol=1e-13)
    else:
        for p, q in batches[2:]:
            first.update(xp.asarray(p), xp.asarray(q))
        assert_close(first.compute(), to_numpy(expected), rtol=1e-13)
