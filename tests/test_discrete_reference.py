"""The discrete divergences agree with torch, torchmetrics and SciPy on every backend (float64).

The functions run jitted on JAX and without computing on Dask (:func:`lazy_xp_function`).
"""

from __future__ import annotations

import numpy as np
import pytest

import kldiv
from kldiv.testing import LIKE_ARGUMENTS, assert_close, lazy_xp_function, to_numpy

RTOL = 1e-12
ATOL = 1e-14

lazy_xp_modules = [kldiv]
for _name in LIKE_ARGUMENTS:  # every discrete function
    lazy_xp_function(getattr(kldiv, _name))

REDUCTIONS = ["none", "sum", "mean", "batchmean"]
ROW_REDUCTIONS = ["none", None, "sum", "mean"]
RANK_SHAPES = [(), (5,), (3, 5), (2, 3, 5), (2, 2, 3, 5)]


def _random_rows(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Positive, unnormalised rows with a few exact zeros."""
    values = rng.gamma(0.7, size=shape)
    return np.where(rng.random(shape) < 0.1, 0.0, values)


def _probabilities(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Rows of probabilities along the last axis; a single probability for shape ()."""
    if not shape:
        return np.asarray(rng.uniform(0.05, 1.0))
    return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])


@pytest.mark.parametrize("shape", RANK_SHAPES, ids=lambda s: f"rank{len(s)}")
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_kl_div_equals_torch(xp, shape, log_target, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    log_q, target = np.log(_probabilities(rng, shape)), _probabilities(rng, shape)
    if log_target:
        target = np.log(target)
    expected = torch.nn.functional.kl_div(
        torch.as_tensor(log_q), torch.as_tensor(target), reduction=reduction, log_target=log_target
    ).numpy()
    result = kldiv.kl_div(
        xp.asarray(log_q), xp.asarray(target), reduction=reduction, log_target=log_target
    )
    assert_close(result, expected, rtol=RTOL, atol=ATOL)
    loss = kldiv.KLDivLoss(reduction=reduction, log_target=log_target)
    assert_close(loss(xp.asarray(log_q), xp.asarray(target)), expected, rtol=RTOL, atol=ATOL)


def test_kl_div_batchmean_divides_by_input_batch(xp):
    """torch divides by ``input.shape[0]`` even when the target broadcasts to more rows."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    log_q = np.log(rng.dirichlet(np.ones(4), size=3))
    target = rng.dirichlet(np.ones(4), size=(2, 3))
    expected = torch.nn.functional.kl_div(
        torch.as_tensor(log_q), torch.as_tensor(target), reduction="batchmean"
    ).numpy()
    result = kldiv.kl_div(xp.asarray(log_q), xp.asarray(target), reduction="batchmean")
    assert_close(result, expected, rtol=RTOL)


def _torchmetrics_rows(function, p: np.ndarray, q: np.ndarray, **kwargs) -> np.ndarray:
    """torchmetrics' per-row values for any rank: it takes 2-D input only."""
    torch = pytest.importorskip("torch")
    flat_p = torch.as_tensor(p.reshape(-1, p.shape[-1]))
    flat_q = torch.as_tensor(q.reshape(-1, q.shape[-1]))
    return function(flat_p, flat_q, reduction="none", **kwargs).numpy().reshape(p.shape[:-1])


def _log_normalized(rows: np.ndarray) -> np.ndarray:
    """Log-probabilities without -inf: torchmetrics gives NaN there (see the conventions tests)."""
    rows = np.where(rows == 0, 0.01, rows)
    return np.log(rows / rows.sum(-1, keepdims=True))


def _reduce_rows(rows: np.ndarray, reduction: str | None) -> np.ndarray:
    if reduction in (None, "none"):
        return rows
    return np.sum(rows) if reduction == "sum" else np.mean(rows)


@pytest.mark.parametrize("shape", [(1, 3), (4, 6), (2, 3, 7), (2, 2, 2, 4)], ids=str)
@pytest.mark.parametrize("log_prob", [False, True])
@pytest.mark.parametrize("reduction", ROW_REDUCTIONS)
def test_kl_divergence_equals_torchmetrics(xp, shape, log_prob, reduction):
    functional = pytest.importorskip("torchmetrics.functional")
    rng = np.random.default_rng(2)
    p, q = _random_rows(rng, shape), rng.gamma(1.0, size=shape) + 0.01
    if log_prob:
        p, q = _log_normalized(p), _log_normalized(q)
    rows = _torchmetrics_rows(functional.kl_divergence, p, q, log_prob=log_prob)
    result = kldiv.kl_divergence(
        xp.asarray(p), xp.asarray(q), log_prob=log_prob, reduction=reduction
    )
    assert_close(result, _reduce_rows(rows, reduction), rtol=RTOL, atol=ATOL)


def test_kl_divergence_seed_example(xp):
    p = xp.asarray([[0.36, 0.48, 0.16]], dtype=xp.float64)
    q = xp.asarray([[1 / 3, 1 / 3, 1 / 3]], dtype=xp.float64)
    # the value torchmetrics documents, 0.0853, to the digits mpmath gives
    assert_close(kldiv.kl_divergence(p, q), 0.0852996013183706, rtol=1e-13)


@pytest.mark.parametrize("axis", [0, 1, -2, 2])
def test_kl_divergence_axis_is_the_distribution_axis(xp, axis):
    rng = np.random.default_rng(3)
    p, q = rng.random((3, 4, 5)) + 0.1, rng.random((3, 4, 5)) + 0.1
    moved_p, moved_q = np.moveaxis(p, axis, -1), np.moveaxis(q, axis, -1)
    expected = kldiv.kl_divergence(moved_p, moved_q, reduction="none")
    result = kldiv.kl_divergence(xp.asarray(p), xp.asarray(q), reduction="none", axis=axis)
    assert_close(result, expected, rtol=RTOL)


def test_kl_divergence_broadcasts_batch_axes(xp):
    rng = np.random.default_rng(4)
    p, q = rng.random((4, 1, 6)) + 0.1, rng.random((3, 6)) + 0.1
    expected = kldiv.kl_divergence(*np.broadcast_arrays(p, q), reduction="none")
    result = kldiv.kl_divergence(xp.asarray(p), xp.asarray(q), reduction="none")
    assert tuple(result.shape) == (4, 3)
    assert_close(result, expected, rtol=RTOL)


@pytest.mark.parametrize("base", [None, 2, 10])
@pytest.mark.parametrize("with_q", [False, True])
def test_entropy_equals_scipy(xp, base, with_q):
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(5)
    p, q = _random_rows(rng, (3, 4, 6)), rng.random((3, 4, 6)) + 0.05
    expected = stats.entropy(p, q if with_q else None, base=base, axis=-1)
    q_arg = xp.asarray(q) if with_q else None
    result = kldiv.entropy(xp.asarray(p), q_arg, base=base)
    assert_close(result, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("base", [None, 2])
def test_cross_entropy_is_entropy_plus_kl(xp, base):
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(6)
    p, q = _random_rows(rng, (5, 7)), rng.random((5, 7)) + 0.05
    expected = stats.entropy(p, base=base, axis=-1) + stats.entropy(p, q, base=base, axis=-1)
    result = kldiv.cross_entropy(xp.asarray(p), xp.asarray(q), base=base)
    assert_close(result, expected, rtol=RTOL)


@pytest.mark.parametrize("log_prob", [False, True])
@pytest.mark.parametrize("reduction", ROW_REDUCTIONS)
def test_js_divergence_equals_torchmetrics(xp, log_prob, reduction):
    regression = pytest.importorskip("torchmetrics.functional.regression")
    rng = np.random.default_rng(7)
    p, q = _random_rows(rng, (2, 4, 6)), rng.random((2, 4, 6)) + 0.05
    if log_prob:
        p, q = _log_normalized(p), _log_normalized(q)
    rows = _torchmetrics_rows(regression.jensen_shannon_divergence, p, q, log_prob=log_prob)
    result = kldiv.js_divergence(
        xp.asarray(p), xp.asarray(q), log_prob=log_prob, reduction=reduction
    )
    # torchmetrics' log-space path subtracts a float32 log 2 (error ~1.9e-9 a row): a deviation
    atol = 2e-9 * rows.size if log_prob else ATOL
    assert_close(result, _reduce_rows(rows, reduction), rtol=RTOL, atol=atol)


def test_js_distance_equals_scipy_and_is_bounded(xp):
    distance = pytest.importorskip("scipy.spatial.distance")
    rng = np.random.default_rng(8)
    p, q = _random_rows(rng, (6, 5)), _random_rows(rng, (6, 5)) + 1e-3
    expected = distance.jensenshannon(p, q, base=2, axis=-1)
    result = kldiv.js_distance(xp.asarray(p), xp.asarray(q))
    assert_close(result, expected, rtol=1e-10, atol=1e-12)
    assert np.all((to_numpy(result) >= 0) & (to_numpy(result) <= 1))


def test_js_distance_is_one_for_disjoint_supports(xp):
    p = xp.asarray([[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 5.0]], dtype=xp.float64)
    q = xp.asarray([[0.0, 0.0, 3.0, 1.0], [1.0, 1.0, 1.0, 0.0]], dtype=xp.float64)
    assert_close(kldiv.js_distance(p, q), np.ones(2), rtol=1e-15)


@pytest.mark.parametrize("log_prob", [False, True])
def test_jeffreys_is_the_symmetrised_kl(xp, log_prob):
    functional = pytest.importorskip("torchmetrics.functional")
    rng = np.random.default_rng(9)
    p, q = rng.random((4, 6)) + 0.05, rng.random((4, 6)) + 0.05
    if log_prob:
        p, q = _log_normalized(p), _log_normalized(q)
    forward = _torchmetrics_rows(functional.kl_divergence, p, q, log_prob=log_prob)
    backward = _torchmetrics_rows(functional.kl_divergence, q, p, log_prob=log_prob)
    result = kldiv.jeffreys(xp.asarray(p), xp.asarray(q), log_prob=log_prob, reduction="none")
    assert_close(result, forward + backward, rtol=RTOL)


def test_rel_entr_equals_scipy(xp):
    special = pytest.importorskip("scipy.special")
    values = np.array([0.0, 0.5, 1.0, -1.0, np.inf, np.nan])
    p, q = np.meshgrid(values, values, indexing="ij")
    result = kldiv.rel_entr(xp.asarray(p), xp.asarray(q))
    assert_close(result, special.rel_entr(p, q), rtol=0, atol=0)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 4.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_kl_div_logits_equals_torch_on_log_softmax(xp, temperature, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    student, teacher = rng.normal(size=(3, 4, 11)) * 5, rng.normal(size=(3, 4, 11)) * 5
    log_q = torch.log_softmax(torch.as_tensor(student) / temperature, -1)
    log_p = torch.log_softmax(torch.as_tensor(teacher) / temperature, -1)
    expected = torch.nn.functional.kl_div(log_q, log_p, reduction=reduction, log_target=True)
    result = kldiv.kl_div_logits(
        xp.asarray(student), xp.asarray(teacher), temperature=temperature, reduction=reduction
    )
    assert_close(result, expected.numpy(), rtol=1e-11, atol=ATOL)


def test_kl_div_logits_is_stable_at_extreme_logits(xp):
    student = xp.asarray([[80.0, -80.0, 0.0], [1000.0, 0.0, -1000.0]], dtype=xp.float64)
    teacher = xp.asarray([[-80.0, 80.0, 0.0], [1000.0, 0.0, -1000.0]], dtype=xp.float64)
    result = kldiv.kl_div_logits(student, teacher, reduction="none")
    assert np.all(np.isfinite(to_numpy(result)))
    assert_close(xp.sum(result, axis=-1), np.array([160.0, 0.0]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_kl_div_of_empty_input_is_torchs(xp, reduction):
    """torch: NaN for 'mean' and 'batchmean' (0/0), 0 for 'sum', an empty array for 'none'."""
    torch = pytest.importorskip("torch")
    empty = np.zeros((0, 3))
    expected = torch.nn.functional.kl_div(
        torch.as_tensor(empty), torch.as_tensor(empty), reduction=reduction
    ).numpy()
    result = kldiv.kl_div(xp.asarray(empty), xp.asarray(empty), reduction=reduction)
    assert_close(result, expected, rtol=0, atol=0)


def test_rel_entr_is_exact_near_equal_arguments(xp):
    """p * log1p((p - q) / q) near p = q, as SciPy: log(p / q) alone loses ~1e-8 relative here."""
    special = pytest.importorskip("scipy.special")
    p = np.array([100.0, 1.0, 1e-3])
    q = p * (1 + np.array([3e-9, -1e-7, 2e-5]))
    result = kldiv.rel_entr(xp.asarray(p), xp.asarray(q))
    assert_close(result, special.rel_entr(p, q), rtol=1e-14)
