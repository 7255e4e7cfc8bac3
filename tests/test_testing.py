"""kldiv.testing: backends and their conversions, check(fn, like=...), the lazy test modes."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types

import array_api_compat as compat
import numpy as np
import pytest

import kldiv
from kldiv.testing import (
    LIKE_ARGUMENTS,
    Backend,
    CheckFailure,
    assert_close,
    assert_same_kind,
    backends,
    check,
    edge_pairs,
    lazy_xp_function,
    patch_lazy_xp_functions,
    random_pairs,
)

from .conftest import load_backend

FAST_BACKENDS = ["numpy", "array_api_strict"]


# --- user functions with the classic mistakes ---------------------------------------------------


def _normalized(xp, probs):
    return probs / xp.sum(probs, axis=-1, keepdims=True)


def naive_kl(p, q):
    """Normalised rows, but p * log(p / q) is NaN at p = 0."""
    xp = compat.array_namespace(p, q)
    p, q = _normalized(xp, p), _normalized(xp, q)
    return xp.mean(xp.sum(p * xp.log(p / q), axis=-1))


def unnormalised_kl(p, q):
    """Zeros handled, but the rows are taken as they are."""
    xp = compat.array_namespace(p, q)
    safe_p = xp.where(p > 0, p, xp.ones_like(p))
    terms = xp.where(p > 0, p * xp.log(safe_p / q), xp.zeros_like(p))
    return xp.mean(xp.sum(terms, axis=-1))


def swapped_kl(p, q):
    return kldiv.kl_divergence(q, p)


# --- check ---------------------------------------------------------------------------------------


def test_check_names_the_zero_case_of_a_naive_kl():
    with pytest.raises(CheckFailure, match=r"first: case 'zeros-in-p' .* actual .*nan") as caught:
        check(naive_kl, backends=FAST_BACKENDS)
    failing_cases = {row.case for row in caught.value.report.failures}
    assert "zeros-in-p" in failing_cases
    assert "random-2d-small-01" not in failing_cases  # no zeros there: the naive form is right


def test_check_names_rows_that_do_not_sum_to_1_for_a_dropped_normalisation():
    with pytest.raises(CheckFailure, match=r"first: case 'zeros-in-p' \(p \(4, 8\) rows sum to 0"):
        check(unnormalised_kl, backends=FAST_BACKENDS)


def test_check_names_swapped_arguments():
    with pytest.raises(CheckFailure, match="the values match with the two arguments swapped"):
        check(swapped_kl, backends=FAST_BACKENDS)


def test_check_reports_a_function_that_raises():
    def broken(p, q):
        raise RuntimeError("not implemented on this backend")

    with pytest.raises(CheckFailure, match="not implemented on this backend") as caught:
        check(broken, backends=["numpy"], dtypes=["float64"])
    assert {row.status for row in caught.value.report.rows} == {"raises"}


def test_check_reports_a_result_of_the_wrong_dtype():
    def float64_always(p, q):
        xp = compat.array_namespace(p, q)
        return kldiv.kl_divergence(xp.astype(p, xp.float64), xp.astype(q, xp.float64))

    pytest.importorskip("array_api_strict")
    with pytest.raises(CheckFailure, match="float32: dtype: actual float64, desired float32"):
        check(float64_always, backends=["array_api_strict"])


@pytest.mark.parametrize("like", sorted(LIKE_ARGUMENTS))
def test_check_passes_kldivs_own_functions(like):
    report = check(getattr(kldiv, like), like=like, backends=[*FAST_BACKENDS, "torch"])
    assert report.ok
    assert {row.backend for row in report.rows} >= {b.name for b in backends(FAST_BACKENDS)}


def test_check_runs_every_installed_backend_and_dtype_by_default():
    report = check(kldiv.kl_divergence, kwargs={"reduction": "none"})
    expected = {(backend.name, dtype) for backend in backends() for dtype in backend.dtypes}
    assert {(row.backend, row.dtype) for row in report.rows} == expected
    assert report.ok


def test_check_report_is_a_readable_table():
    report = check(kldiv.js_distance, like="js_distance", backends=["numpy"], dtypes=["float64"])
    lines = str(report).splitlines()
    assert lines[0] == (
        f"kldiv.testing.check against kldiv.js_distance: {len(report.rows)} of "
        f"{len(report.rows)} checks pass"
    )
    assert lines[1].split() == ["case", "backend", "dtype", "status", "max", "error"]
    assert len(lines) == 2 + len(report.rows)
    assert lines[2].split()[:4] == ["zeros-in-p", "numpy", "float64", "ok"]
    assert all(row.max_error <= 1e-12 for row in report.rows)


def test_check_covers_the_edge_cases_and_several_batch_shapes():
    report = check(kldiv.kl_divergence, backends=["numpy"], dtypes=["float64"])
    cases = [row.case for row in report.rows]
    assert cases[:3] == [
        "zeros-in-p",
        "zeros-in-q-where-p-is-zero",
        "zeros-in-q-where-p-is-positive",
    ]
    assert {"near-equal-rows", "near-equal-rows-sums-far-from-1", "d-100000"} <= set(cases)
    assert {"random-1d-small-00", "random-4d-large-03", "random-3d-small-06"} <= set(cases)


def test_check_rejects_an_unknown_like():
    with pytest.raises(ValueError, match="like='hellinger' is not supported"):
        check(kldiv.kl_divergence, like="hellinger")


def test_case_pairs_are_seeded():
    first = list(edge_pairs(np.random.default_rng(5)))
    second = list(edge_pairs(np.random.default_rng(5)))
    assert [name for name, _ in first] == [name for name, _ in second]
    for (_, (p1, q1)), (_, (p2, q2)) in zip(first, second, strict=True):
        assert_close(p1, p2, rtol=0, atol=0)
        assert_close(q1, q2, rtol=0, atol=0)
    shapes = {p.shape[:-1] for _, (p, _) in random_pairs(np.random.default_rng(0), count=8)}
    assert shapes == {(), (4,), (3, 5), (2, 3, 4), (3, 1), (2, 1, 4)}


# --- backends -----------------------------------------------------------------------------------


def test_backends_lists_the_installed_ones_in_order():
    names = [backend.name for backend in backends()]
    assert names[:2] == ["numpy", "numpy_readonly"]
    assert names == [backend.value for backend in Backend if backend.value in names]
    strict_installed = importlib.util.find_spec("array_api_strict") is not None
    assert ("array_api_strict" in names) == strict_installed
    if strict_installed:
        assert names[2] == "array_api_strict"
        assert [b.name for b in backends(["array_api_strict", "numpy"])] == [
            "array_api_strict",
            "numpy",
        ]


def test_unknown_backend_names_are_an_error():
    with pytest.raises(ValueError, match="'mxnet' is not a valid Backend"):
        backends(["mxnet"])


@pytest.mark.parametrize("name", [backend for backend in Backend], ids=lambda b: b.value)
def test_conversions_round_trip_in_every_dtype(name):
    backend = load_backend(name)
    values = np.array([[0.25, 0.5], [1.0, 3.0]])  # exact in every dtype
    for dtype in backend.dtypes:
        native = backend.from_numpy(values, dtype)
        assert_same_kind(native, backend.xp, dtype=backend.dtype(dtype))
        back = backend.to_numpy(native)
        assert back.dtype == np.float64
        assert_close(back, values, rtol=0, atol=0)
    assert backend.to_numpy((backend.from_numpy(values, "float32"), 2.0))[1] == 2.0


def test_a_zero_dimensional_array_stays_zero_dimensional(backend):
    native = backend.from_numpy(np.float64(0.5), backend.dtypes[0])
    assert tuple(native.shape) == ()


def test_read_only_numpy_rejects_writes():
    readonly = load_backend(Backend.NUMPY_READONLY)
    for array in (readonly.xp.asarray([1.0, 2.0]), readonly.from_numpy(np.ones(2), "float64")):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 5.0


def test_strict_has_a_second_device_and_no_16_bit_dtypes():
    strict = load_backend(Backend.ARRAY_API_STRICT)
    assert strict.other_device == strict.xp.Device("device1")
    assert strict.dtypes == ("float64", "float32")


def test_gpu_backends_are_listed_only_with_a_gpu():
    listed = [loaded.name for loaded in backends()]
    for backend in (Backend.TORCH_CUDA, Backend.CUPY):
        assert backend.needs_gpu
        try:
            backend.load()
            available = True
        except kldiv.testing.BackendUnavailable:
            available = False
        assert (backend.value in listed) == available


def test_assert_same_kind_names_the_library():
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises(AssertionError, match="library: actual numpy.ndarray"):
        assert_same_kind(np.ones(2), strict)


def test_importing_kldiv_imports_no_optional_library():
    optional = "{'torch', 'jax', 'dask', 'pytest'}"
    code = f"import sys, kldiv, kldiv.testing; print(sorted({optional} & set(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"


# --- lazy test modes -----------------------------------------------------------------------------


def _module_with(**functions):
    module = types.ModuleType("test_module")
    for name, function in functions.items():
        setattr(module, name, function)
    return module


def test_tagged_functions_are_traced_under_jax():
    jax = pytest.importorskip("jax")
    seen = []

    def tagged(x, *, scale):
        seen.append(type(x))
        return x * scale

    lazy_xp_function(tagged)
    module = _module_with(tagged=tagged)
    with patch_lazy_xp_functions(module, xp=jax.numpy):
        result = module.tagged(jax.numpy.asarray([1.0, 2.0]), scale=3.0)
    assert issubclass(seen[0], jax.core.Tracer)
    assert_close(result, np.array([3.0, 6.0]))
    assert module.tagged is tagged  # restored


def test_tagged_functions_must_stay_lazy_on_dask():
    pytest.importorskip("dask")
    dask_xp = load_backend(Backend.DASK).xp

    def computes(x):
        return x * float(x.sum())

    lazy_xp_function(computes)
    module = _module_with(computes=computes)
    array = dask_xp.asarray(np.ones(3))
    with (
        patch_lazy_xp_functions(module, xp=dask_xp),
        pytest.raises(AssertionError, match="computed a Dask graph"),
    ):
        module.computes(array)
    lazy_xp_function(computes, allow_dask_compute=1)
    with patch_lazy_xp_functions(module, xp=dask_xp):
        assert_close(module.computes(array), np.full(3, 3.0))


def test_lazy_xp_modules_are_patched_too():
    jax = pytest.importorskip("jax")
    library = _module_with(double=lambda x: 2 * x)
    lazy_xp_function(library.double)
    module = _module_with(lazy_xp_modules=[library])
    with patch_lazy_xp_functions(module, xp=jax.numpy):
        assert library.double.__wrapped__ is not None
    assert not hasattr(library.double, "__wrapped__")


def test_other_namespaces_change_nothing():
    def tagged(x):
        return x

    lazy_xp_function(tagged)
    module = _module_with(tagged=tagged)
    with patch_lazy_xp_functions(module, xp=np):
        assert module.tagged is tagged


def test_only_python_functions_can_be_tagged():
    with pytest.raises(TypeError, match="cannot tag"):
        lazy_xp_function(np.log)
