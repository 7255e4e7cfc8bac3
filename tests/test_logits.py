"""kl_div_logits: the streamed row-block pass against the elementwise form, and its gradients."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import kldiv
from kldiv import _logits
from kldiv.testing import assert_close, to_numpy

REDUCED = ["sum", "mean", "batchmean"]
# (shape, axis): batch rank 0 to 3, the distribution axis last or not.
LAYOUTS = [
    ((11,), -1),
    ((5, 9), -1),
    ((5, 9), 0),
    ((3, 4, 10), 1),
    ((3, 4, 10), -1),
    ((2, 3, 4, 7), 2),
    ((2, 3, 4, 7), 0),
]


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Blocks of a few elements, so that every test input is cut into many blocks."""
    monkeypatch.setattr(_logits, "BLOCK_ELEMENTS", 7)


def _logit_pair(shape, axis, seed=0, input_neg_inf=True):
    """Student and teacher logits with ``-inf`` in the target (and, where both are, the input)."""
    rng = np.random.default_rng(seed)
    student, teacher = rng.normal(size=shape) * 4, rng.normal(size=shape) * 4
    vocabulary_first = np.moveaxis(teacher, axis, 0)
    vocabulary_first[:2, ...] = -np.inf  # a view: the target has no mass on two entries
    if input_neg_inf:
        np.moveaxis(student, axis, 0)[0, ...] = -np.inf  # where the target has none either
    return student, teacher


def _elementwise_reference(xp, student, teacher, temperature, reduction, axis):
    """The 'none' terms reduced by hand: the form every reduced result must equal."""
    terms = kldiv.kl_div_logits(
        student, teacher, temperature=temperature, reduction="none", axis=axis
    )
    total = xp.sum(terms)
    if reduction == "sum":
        return total
    return total / (math.prod(terms.shape) if reduction == "mean" else terms.shape[0])


@pytest.mark.parametrize("reduction", REDUCED)
@pytest.mark.parametrize(("shape", "axis"), LAYOUTS)
def test_blocked_equals_unblocked_and_elementwise(
    xp, tiny_blocks, monkeypatch, shape, axis, reduction
):
    student, teacher = (xp.asarray(a) for a in _logit_pair(shape, axis))
    call = {"temperature": 1.7, "reduction": reduction, "axis": axis}
    blocked = kldiv.kl_div_logits(student, teacher, **call)
    monkeypatch.setattr(_logits, "BLOCK_ELEMENTS", 1 << 20)
    unblocked = kldiv.kl_div_logits(student, teacher, **call)
    assert_close(blocked, unblocked)
    assert_close(blocked, _elementwise_reference(xp, student, teacher, 1.7, reduction, axis))


@pytest.mark.parametrize("reduction", REDUCED)
def test_float32_blocks_agree_within_float32_tolerance(xp, tiny_blocks, reduction):
    student, teacher = (xp.asarray(a, dtype=xp.float32) for a in _logit_pair((6, 4, 13), -1))
    result = kldiv.kl_div_logits(student, teacher, temperature=0.5, reduction=reduction)
    expected = _elementwise_reference(xp, student, teacher, 0.5, reduction, -1)
    assert_close(result, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("reduction", ["none", *REDUCED])
def test_equals_torch_composite(tiny_blocks, reduction):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    student, teacher = (
        torch.as_tensor(a) for a in _logit_pair((4, 3, 17), -1, seed=1, input_neg_inf=False)
    )
    terms = functional.kl_div(
        functional.log_softmax(student / 3.0, -1),
        functional.log_softmax(teacher / 3.0, -1),
        reduction="none",
        log_target=True,
    )
    terms = torch.nan_to_num(terms, nan=0.0)  # torch: 0 * (-inf - x) is NaN, ours 0
    expected = {
        "none": terms,
        "sum": terms.sum(),
        "mean": terms.mean(),
        "batchmean": terms.sum() / terms.shape[0],
    }[reduction]
    result = kldiv.kl_div_logits(student, teacher, temperature=3.0, reduction=reduction)
    assert_close(result, expected)


def test_infinite_and_nan_logits_propagate(xp, tiny_blocks):
    student, teacher = _logit_pair((4, 6), -1, input_neg_inf=False)
    student[0, 3] = -np.inf  # the target has mass there: +inf
    teacher[1, 4] = np.nan
    student[2, 5] = np.inf
    expected = np.asarray([np.inf, np.nan, np.nan, 0.0])
    expected[3] = to_numpy(
        kldiv.kl_div_logits(xp.asarray(student[3]), xp.asarray(teacher[3]), reduction="none")
    ).sum()
    rows = [
        kldiv.kl_div_logits(
            xp.asarray(student[i : i + 1]), xp.asarray(teacher[i : i + 1]), reduction="sum"
        )
        for i in range(4)
    ]
    for row, value in zip(rows, expected, strict=True):
        assert_close(row, float(value))
    total = kldiv.kl_div_logits(xp.asarray(student), xp.asarray(teacher), reduction="sum")
    assert_close(total, float("nan"))


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_half_precision_computes_in_float32(xp, tiny_blocks, dtype_name):
    dtype = getattr(xp, dtype_name, None)
    if dtype is None:
        pytest.skip(f"{xp.__name__} has no {dtype_name}")
    student, teacher = (xp.asarray(a, dtype=dtype) for a in _logit_pair((5, 16), -1, seed=2))
    result = kldiv.kl_div_logits(student, teacher, temperature=2.0)
    as_float32 = kldiv.kl_div_logits(
        xp.astype(student, xp.float32), xp.astype(teacher, xp.float32), temperature=2.0
    )
    assert result.dtype == dtype
    assert_close(result, xp.astype(as_float32, dtype))


def test_empty_rows_give_torchs_values(xp, tiny_blocks):
    if "dask" in xp.__name__:
        pytest.skip("Dask's maximum of an empty chunk is an error (no identity)")
    empty = xp.asarray(np.zeros((0, 5)))
    assert_close(kldiv.kl_div_logits(empty, empty, reduction="sum"), 0.0)
    assert_close(kldiv.kl_div_logits(empty, empty, reduction="batchmean"), float("nan"))


def test_lazy_and_device_arrays_stay_as_they_are(device, tiny_blocks):
    xp, where = device
    student, teacher = (xp.asarray(a, device=where) for a in _logit_pair((4, 9), -1))
    result = kldiv.kl_div_logits(student, teacher)
    assert result.device == student.device
    assert tuple(result.shape) == ()


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda s, t: kldiv.kl_div_logits(s, t, reduction="avg"), ValueError, "reduction="),
        (lambda s, t: kldiv.kl_div_logits(s, t, temperature=0.0), ValueError, "temperature"),
        (lambda s, t: kldiv.kl_div_logits(s, t, axis=3), ValueError, "axis=3 is out of range"),
        (lambda s, t: kldiv.kl_div_logits(s, t[:, :2]), ValueError, "cannot be broadcast"),
    ],
)
def test_errors_name_the_argument(xp, call, error, message):
    logits = xp.asarray(np.zeros((2, 3)))
    with pytest.raises(error, match=message):
        call(logits, logits)


# --- gradients: torch ------------------------------------------------------------------------


def _torch_gradients(torch, student, teacher, function):
    student = torch.tensor(student, requires_grad=True)
    teacher = torch.tensor(teacher, requires_grad=True)
    value = function(student, teacher)
    value.backward()
    return value, student.grad, teacher.grad


@pytest.mark.parametrize("reduction", REDUCED)
@pytest.mark.parametrize(("shape", "axis"), LAYOUTS)
def test_torch_gradients_equal_the_composites(tiny_blocks, shape, axis, reduction):
    torch = pytest.importorskip("torch")
    import array_api_compat.torch as torch_xp

    student, teacher = _logit_pair(shape, axis, seed=3)
    call = {"temperature": 0.8, "reduction": reduction, "axis": axis}
    ours = _torch_gradients(torch, student, teacher, lambda s, t: kldiv.kl_div_logits(s, t, **call))
    plain = _torch_gradients(
        torch,
        student,
        teacher,
        lambda s, t: _elementwise_reference(torch_xp, s, t, 0.8, reduction, axis),
    )
    for mine, reference in zip(ours, plain, strict=True):
        assert_close(mine, reference.detach())


def test_torch_gradient_of_the_input_alone(tiny_blocks):
    torch = pytest.importorskip("torch")
    student, teacher = (torch.as_tensor(a) for a in _logit_pair((3, 12), -1, seed=4))
    student.requires_grad_(True)
    kldiv.kl_div_logits(student, teacher, temperature=2.0, reduction="batchmean").backward()
    probs = [torch.softmax(x / 2.0, -1) for x in (student.detach(), teacher)]
    assert_close(student.grad, (probs[0] - probs[1]) / 2.0 / 3)
    assert teacher.grad is None


@pytest.mark.parametrize("reduction", REDUCED)
def test_torch_gradcheck_in_float64(tiny_blocks, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    student, teacher = (torch.tensor(rng.normal(size=(2, 3, 4)), requires_grad=True) for _ in "st")
    assert torch.autograd.gradcheck(
        lambda s, t: kldiv.kl_div_logits(s, t, temperature=1.3, reduction=reduction, axis=1),
        (student, teacher),
    )


def test_torch_backward_saves_nothing_as_large_as_the_logits(tiny_blocks):
    torch = pytest.importorskip("torch")
    student, teacher = (torch.tensor(a, requires_grad=True) for a in _logit_pair((6, 50), -1))
    node = kldiv.kl_div_logits(student, teacher, temperature=2.0).grad_fn
    while "SummedRowKL" not in node.name():  # past the division by the batch size
        node = node.next_functions[0][0]
    saved = node.saved_tensors
    large = [t for t in saved if t.numel() == student.numel()]
    assert all(t.data_ptr() in (student.data_ptr(), teacher.data_ptr()) for t in large)
    assert len(saved) == len(large) + 3  # the row KL and the two log-sum-exps


def test_torch_gradient_reaches_a_tensor_temperature(tiny_blocks):
    torch = pytest.importorskip("torch")
    student, teacher = (torch.tensor(a, requires_grad=True) for a in _logit_pair((4, 9), 0))
    temperature = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    kldiv.kl_div_logits(student, teacher, temperature=temperature, axis=0).backward()
    reference = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    terms = kldiv.kl_div_logits(
        student.detach(), teacher.detach(), temperature=reference, reduction="none", axis=0
    )
    (terms.sum() / terms.shape[0]).backward()
    assert_close(temperature.grad, reference.grad)


def test_torch_without_gradient_records_nothing(tiny_blocks):
    torch = pytest.importorskip("torch")
    student, teacher = (torch.as_tensor(a) for a in _logit_pair((3, 12), -1))
    assert kldiv.kl_div_logits(student, teacher).grad_fn is None


# --- gradients: JAX --------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCED)
@pytest.mark.parametrize(("shape", "axis"), LAYOUTS[::2])
def test_jax_gradients_equal_the_generic_path(jax, tiny_blocks, shape, axis, reduction):
    import jax.numpy as jnp

    student, teacher = (jnp.asarray(a) for a in _logit_pair(shape, axis, seed=6))

    def ours(s, t):
        return kldiv.kl_div_logits(s, t, temperature=1.4, reduction=reduction, axis=axis)

    def generic(s, t):
        return _elementwise_reference(jnp, s, t, 1.4, reduction, axis)

    expected = jax.grad(generic, argnums=(0, 1))(student, teacher)
    for gradients in (
        jax.grad(ours, argnums=(0, 1))(student, teacher),
        jax.jit(jax.grad(ours, argnums=(0, 1)))(student, teacher),
    ):
        for mine, reference in zip(gradients, expected, strict=True):
            assert_close(mine, reference)
    assert_close(jax.jit(ours)(student, teacher), generic(student, teacher))


# --- imports ---------------------------------------------------------------------------------


def test_numpy_calls_import_neither_torch_nor_jax():
    script = (
        "import sys, numpy as np, kldiv\n"
        "kldiv.kl_div_logits(np.zeros((2, 3)), np.ones((2, 3)))\n"
        "print(sorted({'torch', 'jax'} & set(sys.modules)))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"
