"""Blocked evaluation and the fast kernels: the same numbers as one generic pass.

Blocks are forced tiny (a few elements) so that every function really runs block by block, and
the fast NumPy/torch kernels are compared with the generic kernels on the cases they hand back
(zeros, negatives, NaN, infinities, quotients outside the normal range).
"""

from __future__ import annotations

import numpy as np
import pytest

import kldiv
from kldiv import _blocked, _fast
from kldiv.testing import assert_close

ROW_FUNCTIONS = ("kl_divergence", "jeffreys", "js_divergence", "entropy", "cross_entropy")


def _probabilities(shape, seed=0):
    rng = np.random.default_rng(seed)
    probs = rng.random(shape)
    probs[rng.random(shape) < 0.2] = 0.0
    return probs


def _hard_rows(size=6):
    """Rows the fast kernels must hand to the generic ones, one kind per row."""
    rng = np.random.default_rng(1)
    p, q = rng.random((8, size)), rng.random((8, size))
    p[0, 0] = 0.0
    q[0, 0] = 0.0  # no mass on either side
    q[1, 1] = 0.0  # p > 0 = q: +inf
    p[2, 2] = -0.1  # a negative probability: NaN
    q[3, 3] = np.nan
    p[4] = [1e10, 1e-200, 1e-300, 0.5, 1.0, 2.0]  # quotients outside the normal range
    q[4] = [1e-300, 1e200, 1e15, 0.5, 1.0, 2.0]
    p[5] = 0.0  # a row without mass: NaN
    q[6] = 0.0
    p[7, :] = 0.0
    p[7, 3] = 1.0  # one-hot
    return p, q


@pytest.fixture
def tiny_blocks(monkeypatch):
    monkeypatch.setattr(_blocked, "BLOCK_ELEMENTS", 7)


@pytest.fixture
def generic_kernels(monkeypatch):
    """The fast kernels replaced by the generic ones they fall back to."""
    monkeypatch.setattr(_fast, "_plain_numpy", lambda *arrays: False)
    monkeypatch.setattr(_fast, "_plain_torch_cpu", lambda *arrays: False)


def _call(function, p, q):
    if function == "entropy":
        return kldiv.entropy(p, q)
    if function == "cross_entropy":
        return kldiv.cross_entropy(p, q)
    return getattr(kldiv, function)(p, q, reduction="none")


@pytest.mark.parametrize("function", ROW_FUNCTIONS)
@pytest.mark.parametrize(("shape", "axis"), [((40, 9), -1), ((9, 40), 0), ((4, 9, 5), 1)])
def test_blocked_rows_equal_one_pass(xp, function, shape, axis, monkeypatch):
    p = xp.asarray(
        np.moveaxis(_probabilities(shape), -1, axis) if axis != -1 else _probabilities(shape)
    )
    q = xp.asarray(_probabilities(tuple(p.shape), seed=1) + 0.01)
    whole = getattr(kldiv, function)(p, q, axis=axis, **_rows_kwargs(function))
    monkeypatch.setattr(_blocked, "BLOCK_ELEMENTS", 7)
    blocked = getattr(kldiv, function)(p, q, axis=axis, **_rows_kwargs(function))
    assert_close(blocked, whole)


def _rows_kwargs(function):
    return {} if function in ("entropy", "cross_entropy") else {"reduction": "none"}


@pytest.mark.parametrize("reduction", ["sum", "mean", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_blocked_kl_div_equals_one_pass(xp, reduction, log_target, monkeypatch):
    p = _probabilities((30, 11))
    log_q = np.log(_probabilities((30, 11), seed=2) + 0.01)
    with np.errstate(divide="ignore"):
        target = np.log(p) if log_target else p
    args = (xp.asarray(log_q), xp.asarray(target))
    whole = kldiv.kl_div(*args, reduction=reduction, log_target=log_target)
    monkeypatch.setattr(_blocked, "BLOCK_ELEMENTS", 7)
    assert_close(kldiv.kl_div(*args, reduction=reduction, log_target=log_target), whole)


@pytest.mark.parametrize("library", ["numpy", "torch"])
@pytest.mark.parametrize("function", ROW_FUNCTIONS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fast_kernels_equal_generic_ones(library, function, dtype, tiny_blocks, monkeypatch):
    module = pytest.importorskip(library)
    with np.errstate(over="ignore"):  # the float64 extremes are +inf in float32
        p, q = (np.asarray(a, dtype=dtype) for a in _hard_rows())
    p = np.concatenate([p, _probabilities((20, 6), seed=3).astype(dtype)])
    q = np.concatenate([q, _probabilities((20, 6), seed=4).astype(dtype) + 0.01])
    if library == "torch":
        p, q = module.asarray(p), module.asarray(q)
    with np.errstate(all="ignore"):
        fast = _call(function, p, q)
        monkeypatch.setattr(_fast, "_plain_numpy", lambda *arrays: False)
        monkeypatch.setattr(_fast, "_plain_torch_cpu", lambda *arrays: False)
        generic = _call(function, p, q)
    assert_close(fast, generic)


@pytest.mark.parametrize("library", ["numpy", "torch"])
@pytest.mark.parametrize("reduction", ["sum", "batchmean"])
def test_fast_kl_div_equals_generic(library, reduction, tiny_blocks, monkeypatch):
    module = pytest.importorskip(library)
    p, q = _hard_rows()
    with np.errstate(all="ignore"):
        log_q = np.log(q / q.sum(axis=-1, keepdims=True))
    for rows in ([0, 1, 6, 7], [0, 7], list(range(8))):
        args = [log_q[rows], p[rows]]
        if library == "torch":
            args = [module.asarray(array) for array in args]
        with np.errstate(all="ignore"):
            fast = kldiv.kl_div(*args, reduction=reduction)
            with monkeypatch.context() as patch:
                patch.setattr(_fast, "_plain_numpy", lambda *arrays: False)
                patch.setattr(_fast, "_plain_torch_cpu", lambda *arrays: False)
                generic = kldiv.kl_div(*args, reduction=reduction)
        assert_close(fast, generic, err_msg=f"rows {rows}")


@pytest.mark.parametrize("reduction", ["sum", "mean", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("blocks", [7, 1 << 16])
def test_torch_kl_div_gradients_equal_the_composite(reduction, log_target, blocks, monkeypatch):
    """The custom backward pass against autograd through the generic elementwise terms."""
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(_blocked, "BLOCK_ELEMENTS", blocks)
    p = torch.asarray(_probabilities((6, 5)))
    log_q = torch.log(torch.asarray(_probabilities((6, 5), seed=5) + 0.05))
    target = torch.log(p) if log_target else p

    def gradients(function):
        inputs = [log_q.clone().requires_grad_(), target.clone().requires_grad_()]
        value = function(*inputs)
        value.backward()
        return value.detach(), inputs[0].grad, inputs[1].grad

    def composite(input, target):
        terms = kldiv.kl_div(input, target, reduction="none", log_target=log_target)
        count = {"sum": 1, "mean": terms.numel(), "batchmean": terms.shape[0]}[reduction]
        return terms.sum() / count

    ours = gradients(lambda i, t: kldiv.kl_div(i, t, reduction=reduction, log_target=log_target))
    expected = gradients(composite)
    for actual, desired in zip(ours, expected, strict=True):
        assert_close(actual, desired)
    assert torch.all(torch.isfinite(ours[2]))  # finite at target = 0 (torch: nan)


def test_torch_kl_div_gradcheck():
    torch = pytest.importorskip("torch")
    p = torch.asarray(_probabilities((3, 4)) + 0.1).requires_grad_()
    log_q = torch.log(torch.asarray(_probabilities((3, 4), seed=6) + 0.1)).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda i, t: kldiv.kl_div(i, t, reduction="batchmean"), (log_q, p)
    )
    assert torch.autograd.gradcheck(
        lambda i, t: kldiv.kl_div(i, t, reduction="sum", log_target=True), (log_q, torch.log(p))
    )


def test_blocked_rows_keep_the_batch_shape():
    p = np.ones((3, 4, 5))
    rows = _blocked.blocked_rows(np, lambda a, axis: np.sum(a, axis=axis), (p,), 1)
    assert rows.shape == (3, 5)
