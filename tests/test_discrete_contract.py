"""The array contract: namespace, device and dtype kept; lazy and traced backends; clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import kldiv
from kldiv.testing import assert_close, assert_same_kind, float_dtypes, to_numpy

NAN = float("nan")

ROW_FUNCTIONS = {
    "kl_divergence": lambda p, q: kldiv.kl_divergence(p, q, reduction="none"),
    "js_divergence": lambda p, q: kldiv.js_divergence(p, q, reduction="none"),
    "jeffreys": lambda p, q: kldiv.jeffreys(p, q, reduction="none"),
    "entropy": lambda p, q: kldiv.entropy(p, q),
    "cross_entropy": lambda p, q: kldiv.cross_entropy(p, q),
    "js_distance": lambda p, q: kldiv.js_distance(p, q),
    "kl_div": lambda p, q: kldiv.kl_div(p, q, reduction="sum"),
    "kl_div_log_target": lambda p, q: kldiv.kl_div(p, q, reduction="batchmean", log_target=True),
    "KLDivLoss": lambda p, q: kldiv.KLDivLoss(reduction="batchmean")(p, q),
    "rel_entr": lambda p, q: kldiv.rel_entr(p, q),
    "kl_div_logits": lambda p, q: kldiv.kl_div_logits(p, q),
}
LOG_SPACE = {"kl_div", "kl_div_log_target", "KLDivLoss"}


def _inputs(xp, name, dtype=None, shape=(4, 8), seed=0):
    rng = np.random.default_rng(seed)
    p, q = (
        rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]),
        rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]),
    )
    if name in LOG_SPACE:
        p = np.log(p)
        if name != "kl_div_log_target":
            return xp.asarray(p, dtype=dtype), xp.asarray(q, dtype=dtype)
        q = np.log(q)
    return xp.asarray(p, dtype=dtype), xp.asarray(q, dtype=dtype)


@pytest.mark.parametrize("name", list(ROW_FUNCTIONS))
def test_result_keeps_namespace_and_dtype(xp, name):
    for dtype in float_dtypes(xp):
        p, q = _inputs(xp, name, dtype)
        assert_same_kind(ROW_FUNCTIONS[name](p, q), xp, dtype=dtype)


@pytest.mark.parametrize("name", list(ROW_FUNCTIONS))
def test_result_stays_on_the_callers_device(device, name):
    xp, where = device
    p, q = _inputs(xp, name)
    p, q = xp.asarray(p, device=where), xp.asarray(q, device=where)
    assert_same_kind(ROW_FUNCTIONS[name](p, q), xp, device=where)


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", sorted(set(ROW_FUNCTIONS) - {"rel_entr"}))
def test_half_precision_is_within_1e_3_of_float64(backend, xp, name, dtype_name):
    """16-bit inputs accumulate in float32: 1e-3 relative to float64 on the same rounded inputs."""
    if dtype_name not in backend.dtypes:
        pytest.skip(f"{backend.name} has no {dtype_name}")
    dtype = backend.dtype(dtype_name)
    p, q = _inputs(xp, name, dtype, shape=(16, 512), seed=1)
    half = ROW_FUNCTIONS[name](p, q)
    assert_same_kind(half, xp, dtype=dtype)
    exact = ROW_FUNCTIONS[name](xp.astype(p, xp.float64), xp.astype(q, xp.float64))
    # the result itself is rounded to 16 bits: 2**-8 relative for bfloat16, 2**-11 for float16
    rounding = 2.0**-8 if dtype_name == "bfloat16" else 2.0**-11
    assert_close(xp.astype(half, xp.float64), exact, rtol=1e-3 + rounding, atol=1e-6)


def test_integer_and_bool_inputs_promote_to_the_default_float(xp):
    p = xp.asarray([[1, 2, 1]])
    q = xp.asarray([[True, True, True]])
    result = kldiv.kl_divergence(p, q)
    default = xp.asarray(1.0).dtype
    assert_same_kind(result, xp, dtype=default)
    assert_close(result, np.log(3) - 1.5 * np.log(2), rtol=1e-6)


def test_python_scalar_arguments_are_allowed(xp):
    log_q = xp.asarray([-1.0, -2.0], dtype=xp.float64)
    result = kldiv.kl_div(log_q, 0.5, reduction="sum")
    assert_close(result, 0.5 * (2 * np.log(0.5) + 3), rtol=1e-14)


def test_jax_jit_traces_every_function():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    for name, function in ROW_FUNCTIONS.items():
        p, q = _inputs(jax.numpy, name)
        compiled = jax.jit(function)
        assert_close(compiled(p, q), function(p, q), rtol=1e-12, err_msg=name)


def test_dask_results_are_lazy_and_never_computed_by_kldiv():
    dask = pytest.importorskip("dask")
    import dask.array as da

    def refuse(*args, **kwargs):
        raise AssertionError("kldiv computed a Dask graph")

    with dask.config.set(scheduler=refuse):
        for name, function in ROW_FUNCTIONS.items():
            p, q = _inputs(np, name, shape=(6, 8))
            result = function(da.from_array(p, chunks=(3, 8)), da.from_array(q, chunks=(3, 8)))
            assert isinstance(result, da.Array), name
        validated = kldiv.kl_divergence(da.from_array(p), da.from_array(q), validate_args=True)
        assert isinstance(validated, da.Array)
    assert_close(result, kldiv.kl_div_logits(p, q), rtol=1e-13)


# --- errors -------------------------------------------------------------------------------------


def test_shapes_that_do_not_broadcast_name_both_arguments(xp):
    p, q = xp.asarray(np.ones((2, 3))), xp.asarray(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"p \(2, 3\), q \(4, 3\)"):
        kldiv.kl_divergence(p, q)
    with pytest.raises(ValueError, match=r"input \(2, 3\), target \(4, 3\)"):
        kldiv.kl_div(p, q)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        kldiv.rel_entr(p, q)


def test_arrays_of_two_libraries_are_a_type_error():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="different libraries.*numpy.*torch"):
        kldiv.kl_divergence(np.ones((2, 3)), torch.ones((2, 3)))


def test_arrays_on_two_devices_are_a_value_error(device):
    xp, where = device
    on_device = xp.asarray(np.ones((2, 3)), device=where)
    with pytest.raises(ValueError, match="different devices.*p is on.*q is on"):
        kldiv.kl_divergence(xp.asarray(np.ones((2, 3))), on_device)


def test_complex_inputs_are_a_type_error(xp):
    if not hasattr(xp, "complex128"):
        pytest.skip("no complex dtype")
    p = xp.asarray(np.ones((2, 3), dtype=np.complex128))
    with pytest.raises(TypeError, match="q has complex dtype"):
        kldiv.kl_divergence(xp.asarray(np.ones((2, 3))), p)


def test_non_numeric_inputs_are_a_type_error():
    with pytest.raises(TypeError, match="p has non-numeric dtype"):
        kldiv.kl_divergence(np.array([["a", "b"]]), np.ones((1, 2)))
    with pytest.raises(TypeError, match="q must be an array, .* q is a str"):
        kldiv.kl_divergence(np.ones((1, 2)), "uniform")


@pytest.mark.parametrize(
    "call",
    [
        lambda p: kldiv.kl_div(p, p, reduction="avg"),
        lambda p: kldiv.kl_divergence(p, p, reduction="batchmean"),
        lambda p: kldiv.js_divergence(p, p, reduction="max"),
        lambda p: kldiv.jeffreys(p, p, reduction="elementwise"),
        lambda p: kldiv.kl_div_logits(p, p, reduction=None),
        lambda p: kldiv.KLDivLoss(reduction="avg"),
    ],
)
def test_unknown_reductions_are_a_value_error(xp, call):
    with pytest.raises(ValueError, match=r"reduction=.* is not supported; use one of"):
        call(xp.asarray(np.ones((2, 3))))


@pytest.mark.parametrize("axis", [2, -3])
def test_axis_out_of_range_is_a_value_error(xp, axis):
    p = xp.asarray(np.ones((2, 3)))
    with pytest.raises(ValueError, match=f"axis={axis} is out of range for an array of 2 dim"):
        kldiv.kl_divergence(p, p, axis=axis)


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("nan"), float("inf")])
def test_temperature_must_be_positive(xp, temperature):
    logits = xp.asarray(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        kldiv.kl_div_logits(logits, logits, temperature=temperature)


@pytest.mark.parametrize("bad", [-0.1, np.nan])
def test_validate_args_rejects_negative_or_nan_probabilities(xp, bad):
    good = xp.asarray(np.full((2, 3), 1 / 3))
    wrong = xp.asarray(np.array([[0.5, 0.6, bad], [0.2, 0.3, 0.5]]))
    message = "q contains NaN" if np.isnan(bad) else "q contains negative probabilities"
    if "dask" in xp.__name__:
        pytest.skip("values of lazy arrays are not checked (documented)")
    with pytest.raises(ValueError, match=message):
        kldiv.kl_divergence(good, wrong, validate_args=True)
    with pytest.raises(ValueError, match=message.replace("q ", "target ")):
        kldiv.kl_div(good, wrong, validate_args=True)


@pytest.mark.usefixtures("validate_args")
def test_set_validate_args_turns_checks_on_globally(xp):
    if "dask" in xp.__name__:
        pytest.skip("values of lazy arrays are not checked (documented)")
    wrong = xp.asarray(np.array([[-0.5, 1.5]]))
    with pytest.raises(ValueError, match="p contains negative"):
        kldiv.kl_divergence(wrong, wrong)
    assert_close(kldiv.kl_divergence(wrong, wrong, validate_args=False), NAN, rtol=0, atol=0)


def test_values_are_unchecked_by_default(xp):
    wrong = xp.asarray(np.array([[-0.5, 1.5]]))
    assert_close(kldiv.kl_divergence(wrong, wrong), NAN, rtol=0, atol=0)


@pytest.mark.parametrize("name", list(ROW_FUNCTIONS))
def test_inputs_are_never_modified(xp, name):
    """The read-only NumPy backend makes any in-place write raise; the values are compared too."""
    p, q = _inputs(xp, name)
    before = to_numpy(p).copy(), to_numpy(q).copy()
    ROW_FUNCTIONS[name](p, q)
    assert_close(p, before[0], rtol=0, atol=0)
    assert_close(q, before[1], rtol=0, atol=0)


def test_jax_traced_and_concrete_arguments_mix():
    """A tracer has no device yet: it must not count as 'another device' (jax.grad on one arg)."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    q = jax.numpy.asarray([[0.2, 0.8]])
    gradient = jax.grad(lambda p: kldiv.kl_divergence(p, q))(jax.numpy.asarray([[0.5, 0.5]]))
    # d/dp_i of KL(p/Σp ‖ q) = (log(P_i / Q_i) - KL) / Σp
    log_ratio = np.log([2.5, 0.625])
    kl = 0.5 * log_ratio.sum()
    assert_close(gradient, np.array([log_ratio - kl]), rtol=1e-12)


def test_empty_batches_and_empty_rows(xp):
    """No rows: 'sum' is 0, 'mean' NaN (0/0); rows with no support are NaN (0/0), never errors."""
    no_rows = xp.asarray(np.ones((0, 3)))
    assert_close(kldiv.kl_divergence(no_rows, no_rows, reduction="sum"), 0.0, rtol=0, atol=0)
    assert_close(kldiv.kl_divergence(no_rows, no_rows), NAN, rtol=0, atol=0)
    assert_close(kldiv.js_divergence(no_rows, no_rows, reduction="none"), np.zeros(0))
    empty_rows = xp.asarray(np.ones((2, 0)))
    result = kldiv.kl_divergence(empty_rows, empty_rows, reduction="none")
    assert_close(result, np.full(2, NAN), rtol=0, atol=0)
