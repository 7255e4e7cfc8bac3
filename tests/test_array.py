"""The gate: one call resolves namespace, device and dtypes, also on its cached path."""

from __future__ import annotations

import numpy as np
import pytest

from kldiv._array import prepare
from kldiv.testing import assert_close


def test_python_numbers_first_take_the_arrays_library(xp):
    for _ in range(2):  # the second call may take the cached path
        context, (count, probs) = prepare(count=10, probs=xp.asarray([0.5, 0.25]))
        assert_close(probs, xp.asarray([0.5, 0.25]))
        assert_close(count, xp.asarray(10.0, dtype=probs.dtype))
        assert context.dtype == probs.dtype


def test_the_cached_path_still_checks_every_argument(xp):
    first = xp.asarray([0.5, 0.5])
    prepare(p=first, q=first)
    _, (_, q) = prepare(p=first, q=0.5)
    assert_close(q, xp.asarray(0.5, dtype=first.dtype))
    if hasattr(xp, "float32"):
        _, (p, q) = prepare(p=first, q=xp.asarray([1.0, 0.0], dtype=xp.float32))
        assert p.dtype == q.dtype == first.dtype


def test_arrays_of_two_libraries_are_a_type_error_after_caching():
    torch = pytest.importorskip("torch")
    prepare(p=np.ones(2), q=np.ones(2))
    with pytest.raises(TypeError, match="different libraries"):
        prepare(p=np.ones(2), q=torch.ones(2, dtype=torch.float64))


def test_lists_take_the_arrays_library_device_and_floating_dtype(xp):
    dtype = getattr(xp, "float32", None) or xp.float64
    probs = xp.asarray([0.5, 0.25], dtype=dtype)
    for _ in range(2):  # a list never takes the cached path
        context, (counts, same) = prepare(counts=[[1, 2], (3, 4)], probs=probs)
        assert same is probs
        assert_close(counts, xp.asarray([[1.0, 2.0], [3.0, 4.0]], dtype=dtype))
        assert context.dtype == dtype


def test_lists_and_numbers_alone_are_float64_numpy():
    context, (p, q) = prepare(p=[1, 2], q=3)
    assert_close(p, np.asarray([1.0, 2.0]))
    assert_close(q, np.float64(3.0))
    assert context.dtype == np.float64
