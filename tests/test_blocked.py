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
    _force_tiny_blocks(monkeypatch)


def _force_tiny_blocks(monkeypatch):
    """Blocks of 7 elements, and no whole-call forms (which bypass the blocks)."""
    monkeypatch.setattr(_blocked, "BLOCK_ELEMENTS", 7)
    monkeypatch.setattr(_fast, "SMALL_CALL", 0)


def _use_generic_kernels(patch):
    """The fast kernels and whole-call forms replaced by the generic path they fall back to."""
    patch.setattr(_fast, "_plain_numpy", lambda *arrays: False)
    patch.setattr(_fast, "_plain_torch_cpu", lambda *arrays: False)
    patch.setattr(_fast, "SMALL_CALL", 0)


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
    _force_tiny_blocks(monkeypatch)
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
    _force_tiny_blocks(monkeypatch)
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
        _use_generic_kernels(monkeypatch)
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
                _use_generic_kernels(patch)
                generic = kldiv.kl_div(*args, reduction=reduction)
        assert_close(fast, generic, err_msg=f"rows {rows}")


@pytest.mark.parametrize("library", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(6,), (3, 6), (2, 2, 6)])
def test_whole_call_forms_equal_the_general_path(library, dtype, shape, monkeypatch):
    """Small inputs take ``kl_div``/``kl_divergence`` in a few dispatches: the same numbers,
    and the hard rows (zeros, NaN, infinities, negatives) handed back to the general path."""
    module = pytest.importorskip(library)
    hard_p, hard_q = _hard_rows()
    p_rows = np.concatenate([hard_p, _probabilities((3, 6), seed=5)])
    q_rows = np.concatenate([hard_q, _probabilities((3, 6), seed=6) + 0.01])
    with np.errstate(all="ignore"):
        log_q_rows = np.log(q_rows / q_rows.sum(axis=-1, keepdims=True))
    for row in range(len(p_rows)):  # every hard row alone, and with the easy rows after it
        with np.errstate(all="ignore"):  # the float64 extremes are 0 or inf in float32
            arrays = [
                np.resize(rows[row:], shape).astype(dtype) for rows in (p_rows, q_rows, log_q_rows)
            ]
        if library == "torch":
            arrays = [module.asarray(array) for array in arrays]
        p, q, log_q = arrays
        if row >= len(hard_p):  # only easy rows: the whole-call forms take them
            assert _fast.small_kl_divergence(p, q, "mean", -1) is not None
            assert library == "numpy" or _fast.small_kl_div(log_q, p, "sum", False) is not None
        calls = [(kldiv.kl_divergence, (p, q), r) for r in ("mean", "sum", "none", None)]
        calls += [(kldiv.kl_div, (log_q, p), r) for r in ("sum", "mean", "batchmean")]
        for function, args, reduction in calls:
            with np.errstate(all="ignore"):
                small = function(*args, reduction=reduction)
                with monkeypatch.context() as patch:
                    _use_generic_kernels(patch)
                    general = function(*args, reduction=reduction)
            assert_close(small, general, err_msg=f"{function.__name__} {reduction} row {row}")


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
