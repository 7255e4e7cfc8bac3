"""kldiv._linalg: native and portable paths agree with NumPy on every backend."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conformance.specs import scale_tril

from kldiv._array import prepare
from kldiv._linalg import (
    _solve_lower_portable,
    cholesky,
    diagonal,
    logdet_from_cholesky,
    precision_to_scale_tril,
    solve_triangular,
    squared_frobenius,
)
from kldiv.testing import assert_close, assert_same_kind


def _spd(rng: np.random.Generator, batch: tuple[int, ...], size: int) -> np.ndarray:
    factor = scale_tril(rng, batch, size)
    return factor @ np.swapaxes(factor, -1, -2)


def _namespace(array: Any) -> Any:
    context, _ = prepare(x=array)
    return context.xp


@pytest.mark.parametrize("size", [1, 2, 5, 16])
def test_cholesky_and_solve(xp: Any, size: int) -> None:
    rng = np.random.default_rng(size)
    matrix = _spd(rng, (3, 1), size)
    rhs = rng.normal(size=(2, size, 4))
    array = xp.asarray(matrix, dtype=xp.float64)
    ns = _namespace(array)
    tril = cholesky(ns, array)
    expected_tril = np.linalg.cholesky(matrix)

    def like(values: np.ndarray) -> Any:
        return xp.asarray(values, dtype=xp.float64)

    assert_close(tril, like(expected_tril), rtol=1e-12, atol=1e-12)
    solved = solve_triangular(ns, tril, like(rhs))
    desired = np.linalg.solve(expected_tril, rhs)
    assert_close(solved, like(desired), rtol=1e-10, atol=1e-12)
    logdet = logdet_from_cholesky(ns, tril)
    assert_close(logdet, like(np.linalg.slogdet(matrix)[1]), rtol=1e-12)
    diagonal_values = np.diagonal(expected_tril, axis1=-2, axis2=-1).copy()
    assert_close(diagonal(ns, tril), like(diagonal_values), rtol=1e-12)
    frobenius = (expected_tril**2).sum(axis=(-2, -1))
    assert_close(squared_frobenius(ns, tril), like(frobenius), rtol=1e-12)


def test_solve_of_an_empty_batch_is_empty(xp: Any) -> None:
    tril = xp.ones((0, 3, 3), dtype=xp.float64)
    solved = solve_triangular(_namespace(tril), tril, xp.ones((0, 3, 2), dtype=xp.float64))
    assert_close(solved, np.empty((0, 3, 2)))


def test_precision_to_scale_tril(xp: Any) -> None:
    rng = np.random.default_rng(0)
    covariance = _spd(rng, (2,), 4)
    precision = xp.asarray(np.linalg.inv(covariance), dtype=xp.float64)
    tril = precision_to_scale_tril(_namespace(precision), precision)
    desired = xp.asarray(np.linalg.cholesky(covariance), dtype=xp.float64)
    assert_close(tril, desired, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("size", [1, 3, 7, 33])
def test_portable_solve_matches_numpy(size: int) -> None:
    strict = pytest.importorskip("array_api_strict")
    rng = np.random.default_rng(size)
    tril = np.linalg.cholesky(_spd(rng, (2,), size))
    rhs = rng.normal(size=(size, 3))
    solved = _solve_lower_portable(strict, strict.asarray(tril), strict.asarray(rhs))
    assert_close(solved, strict.asarray(np.linalg.solve(tril, rhs)), rtol=1e-10, atol=1e-12)


def test_dask_stays_lazy() -> None:
    pytest.importorskip("dask.array")
    import array_api_compat.dask.array as da

    rng = np.random.default_rng(1)
    matrix = _spd(rng, (4,), 3)
    rhs = rng.normal(size=(4, 3, 2))
    tril = cholesky(da, da.asarray(matrix).rechunk((2, 3, 3)))
    solved = solve_triangular(da, tril, da.asarray(rhs))
    assert type(solved).__module__.startswith("dask")
    desired = np.linalg.solve(np.linalg.cholesky(matrix), rhs)
    assert_close(solved, da.asarray(desired), rtol=1e-10, atol=1e-12)


def test_device_is_kept(device: tuple[Any, Any]) -> None:
    xp, where = device
    eye = xp.eye(3, dtype=xp.float64, device=where)
    ns = _namespace(eye)
    result = solve_triangular(ns, cholesky(ns, 2 * eye), eye)
    assert_same_kind(result, xp, dtype=xp.float64, device=where)
