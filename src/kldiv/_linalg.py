"""Batched linear algebra for Gaussians: Cholesky factors, triangular solves, log-determinants.

Native where the library has the routine (``torch.linalg.solve_triangular``,
``jax.scipy.linalg.solve_triangular``, ``scipy.linalg.solve_triangular`` for NumPy), per block for
Dask (its own linalg is 2-D only), and a portable fallback otherwise: a divide-and-conquer
triangular solve made of slices, ``@`` and ``concat`` only (no in-place writes), whose cost is
dominated by matrix products. Batch axes broadcast everywhere. Backend branches live here only.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import array_api_compat as compat

from ._array import Array, Namespace

__all__ = [
    "cholesky",
    "diag_embed",
    "diagonal",
    "kl_mvn_from_cholesky",
    "logdet_from_cholesky",
    "not_positive_definite_as_value_error",
    "precision_from_scale_tril",
    "precision_to_scale_tril",
    "solve_triangular",
    "squared_frobenius",
    "symmetric_eigenvalues",
    "whiten",
]


def diagonal(xp: Namespace, matrix: Array) -> Array:
    """The diagonals of a stack of matrices, shape (..., n)."""
    linalg = getattr(xp, "linalg", None)
    if linalg is not None and hasattr(linalg, "diagonal"):
        return linalg.diagonal(matrix)
    size = int(matrix.shape[-1])
    eye = xp.eye(size, dtype=matrix.dtype, device=compat.device(matrix))
    return xp.sum(matrix * eye, axis=-1)


def diag_embed(xp: Namespace, values: Array) -> Array:
    """Diagonal matrices with ``values`` (..., n) on their diagonals, shape (..., n, n)."""
    size = int(values.shape[-1])
    eye = xp.eye(size, dtype=values.dtype, device=compat.device(values))
    return eye * values[..., None, :]


def logdet_from_cholesky(xp: Namespace, tril: Array) -> Array:
    """log det(L·Lᵀ) = 2·Σ log Lᵢᵢ for a Cholesky factor ``tril``, shape (...)."""
    return 2 * xp.sum(xp.log(diagonal(xp, tril)), axis=-1)


def squared_frobenius(xp: Namespace, matrix: Array) -> Array:
    """‖M‖²_F = tr(M·Mᵀ) per matrix of a stack, shape (...)."""
    return xp.sum(xp.sum(matrix * matrix, axis=-1), axis=-1)


def _per_dask_block(xp: Namespace, function: Callable[..., Any], *matrices: Array) -> Array:
    """Apply a NumPy ``function`` of stacked matrices to Dask arrays, one batch block at a time.

    The result has the last argument's matrix shape (the right-hand side of a solve).
    """
    import dask.array as da

    batch = _broadcast_batch(*(tuple(m.shape[:-2]) for m in matrices))
    first = da.broadcast_to(matrices[0], batch + tuple(matrices[0].shape[-2:]))
    batch_chunks = first.chunks[: len(batch)]
    whole = [
        da.broadcast_to(m, batch + tuple(m.shape[-2:])).rechunk(
            (*batch_chunks, (m.shape[-2],), (m.shape[-1],))
        )
        for m in matrices
    ]
    return da.map_blocks(function, *whole, dtype=matrices[0].dtype, chunks=whole[-1].chunks)


def _broadcast_batch(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    from ._array import broadcast_shapes

    return broadcast_shapes(**{f"matrix {i}": shape for i, shape in enumerate(shapes)})  # type: ignore[return-value]


def cholesky(xp: Namespace, matrix: Array) -> Array:
    """The lower Cholesky factor L of each symmetric positive definite matrix (L·Lᵀ = matrix).

    Libraries differ on a matrix that is not positive definite: NumPy and torch raise (see
    :func:`not_positive_definite_as_value_error`), JAX returns NaN; callers that must know check
    the factor.
    """
    if compat.is_dask_namespace(xp):
        import numpy as np

        return _per_dask_block(xp, np.linalg.cholesky, matrix)
    return xp.linalg.cholesky(matrix)


def symmetric_eigenvalues(xp: Namespace, matrix: Array) -> Array:
    """The eigenvalues, ascending, of each symmetric matrix of a stack, shape (..., n).

    The array API's ``linalg.eigvalsh`` (whose gradient is finite even at repeated eigenvalues,
    unlike that of the eigenvectors), per batch block for Dask.

    >>> import array_api_strict as xp
    >>> symmetric_eigenvalues(xp, xp.asarray([[2.0, 1.0], [1.0, 2.0]]))
    Array([1., 3.], dtype=array_api_strict.float64)
    """
    if compat.is_dask_namespace(xp):
        import numpy as np

        last = matrix.ndim - 1
        whole = matrix.rechunk({last - 1: -1, last: -1})
        return whole.map_blocks(np.linalg.eigvalsh, drop_axis=last, dtype=matrix.dtype)
    return xp.linalg.eigvalsh(matrix)


def solve_triangular(xp: Namespace, tril: Array, rhs: Array) -> Array:
    """X with L·X = B for lower triangular ``tril`` L (..., n, n) and ``rhs`` B (..., n, k).

    >>> import array_api_strict as xp
    >>> solve_triangular(xp, xp.asarray([[2.0, 0.0], [1.0, 1.0]]), xp.asarray([[2.0], [3.0]]))
    Array([[1.],
           [2.]], dtype=array_api_strict.float64)
    """
    native = _native_solver(xp)
    if native is not None:
        return native(tril, rhs)
    if compat.is_dask_namespace(xp):
        return _per_dask_block(xp, _numpy_solver(), tril, rhs)
    return _solve_lower_portable(xp, tril, rhs)


def _native_solver(xp: Namespace) -> Callable[[Array, Array], Array] | None:
    if compat.is_torch_namespace(xp):
        import torch

        return lambda tril, rhs: torch.linalg.solve_triangular(tril, rhs, upper=False)
    if compat.is_jax_namespace(xp):
        import jax.scipy.linalg as jsl

        def jax_solve(tril: Array, rhs: Array) -> Array:
            tril, rhs = _broadcast_pair(xp, tril, rhs)
            return jsl.solve_triangular(tril, rhs, lower=True)

        return jax_solve
    if compat.is_numpy_namespace(xp):
        return _numpy_solver()
    return None


def _numpy_solver() -> Callable[[Array, Array], Array]:
    import numpy as np

    try:
        from scipy.linalg import solve_triangular as scipy_solve
    except ImportError:  # SciPy is optional: a general solve is right, only slower
        return np.linalg.solve

    def numpy_solve(tril: Array, rhs: Array) -> Array:
        batch = np.broadcast_shapes(tril.shape[:-2], rhs.shape[:-2])
        tril = np.broadcast_to(tril, batch + tril.shape[-2:])
        rhs = np.broadcast_to(rhs, batch + rhs.shape[-2:])
        if 0 in batch:  # SciPy refuses zero-size batches: there is nothing to solve
            return np.empty(batch + rhs.shape[-2:], dtype=np.result_type(tril, rhs))
        return scipy_solve(tril, rhs, lower=True, check_finite=False)

    return numpy_solve


def _broadcast_pair(xp: Namespace, tril: Array, rhs: Array) -> tuple[Array, Array]:
    batch = _broadcast_batch(tuple(tril.shape[:-2]), tuple(rhs.shape[:-2]))
    return (
        xp.broadcast_to(tril, batch + tuple(tril.shape[-2:])),
        xp.broadcast_to(rhs, batch + tuple(rhs.shape[-2:])),
    )


def _solve_lower_portable(xp: Namespace, tril: Array, rhs: Array) -> Array:
    """Divide and conquer: [[A, 0], [C, D]]·[X₁; X₂] = [B₁; B₂] gives X₁ = A⁻¹B₁,
    X₂ = D⁻¹(B₂ − C·X₁). Work is in the products; n leaves, log₂ n levels."""
    size = int(tril.shape[-1])
    if size == 1:
        return rhs / tril
    half = size // 2
    upper = _solve_lower_portable(xp, tril[..., :half, :half], rhs[..., :half, :])
    lower_rhs = rhs[..., half:, :] - tril[..., half:, :half] @ upper
    lower = _solve_lower_portable(xp, tril[..., half:, half:], lower_rhs)
    upper, lower = _broadcast_pair(xp, upper, lower)
    return xp.concat((upper, lower), axis=-2)


def precision_to_scale_tril(xp: Namespace, precision: Array) -> Array:
    """The lower Cholesky factor of Σ = P⁻¹ without inverting P (torch's method).

    With J the reversal permutation and Lf = chol(J·P·J), P = Uᵀ... written U = J·Lf·J (upper
    triangular) gives P = U·Uᵀ, so Σ = U⁻ᵀ·U⁻¹ and L = U⁻ᵀ = (Uᵀ)⁻¹, Uᵀ lower triangular.
    """
    flipped = cholesky(xp, xp.flip(precision, axis=(-2, -1)))
    inverse_tril = xp.matrix_transpose(xp.flip(flipped, axis=(-2, -1)))
    size = int(precision.shape[-1])
    eye = xp.eye(size, dtype=precision.dtype, device=compat.device(precision))
    return solve_triangular(xp, inverse_tril, eye)


def precision_from_scale_tril(xp: Namespace, tril: Array) -> Array:
    """Σ⁻¹ = L⁻ᵀ·L⁻¹ from the lower Cholesky factor L of Σ."""
    size = int(tril.shape[-1])
    eye = xp.eye(size, dtype=tril.dtype, device=compat.device(tril))
    inverse = solve_triangular(xp, tril, eye + xp.zeros_like(tril))
    return xp.matrix_transpose(inverse) @ inverse


def _is_linalg_error(error: Exception) -> bool:
    """Whether ``error`` is a library's report of a failed factorisation."""
    import numpy as np

    if isinstance(error, np.linalg.LinAlgError):  # NumPy, array-api-strict, Dask, SciPy
        return True
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(error, torch.linalg.LinAlgError)


@contextmanager
def not_positive_definite_as_value_error(message: str) -> Iterator[None]:
    """Turn the library's error for a matrix that is not positive definite into a ``ValueError``.

    ``message`` names the argument, e.g. ``"MultivariateNormal: covariance_matrix must be
    positive definite"``. Other errors pass through unchanged.
    """
    try:
        yield
    except Exception as error:
        if not _is_linalg_error(error):
            raise
        raise ValueError(message) from error


def kl_mvn_from_cholesky(
    xp: Namespace, loc_p: Array, tril_p: Array, loc_q: Array, tril_q: Array
) -> Array:
    """KL between full-covariance Gaussians from lower Cholesky factors, shape (...).

    KL = Σ log diag L_q − Σ log diag L_p + ½(‖L_q⁻¹L_p‖²_F + ‖L_q⁻¹(μ_q − μ_p)‖² − d),
    from :func:`whiten`.

    >>> import array_api_strict as xp
    >>> eye = xp.eye(2)
    >>> kl_mvn_from_cholesky(xp, xp.asarray([1.0, 0.0]), eye, xp.zeros(2), 2 * eye)
    Array(0.76129436, dtype=array_api_strict.float64)
    """
    tril_ratio, scaled_distance = whiten(xp, loc_p, tril_p, loc_q, tril_q)
    log_det_ratio = xp.sum(xp.log(diagonal(xp, tril_q) / diagonal(xp, tril_p)), axis=-1)
    size = int(loc_p.shape[-1])
    squares = squared_frobenius(xp, tril_ratio) + xp.sum(scaled_distance**2, axis=-1)
    return log_det_ratio + 0.5 * (squares - size)


def whiten(
    xp: Namespace, loc_p: Array, tril_p: Array, loc_q: Array, tril_q: Array
) -> tuple[Array, Array]:
    """L_q⁻¹·L_p (lower triangular, (..., d, d)) and L_q⁻¹(μ_p − μ_q) (..., d): p in the
    coordinates where q is standard normal, by one triangular solve for d + 1 right-hand sides.

    >>> import array_api_strict as xp
    >>> eye = xp.eye(2)
    >>> whiten(xp, xp.asarray([1.0, 0.0]), eye, xp.zeros(2), 2 * eye)[1]
    Array([0.5, 0. ], dtype=array_api_strict.float64)
    """
    size = int(loc_p.shape[-1])
    distance = (loc_p - loc_q)[..., None]
    batch = _broadcast_batch(tuple(tril_p.shape[:-2]), tuple(distance.shape[:-2]))
    rhs = xp.concat(
        (
            xp.broadcast_to(tril_p, (*batch, size, size)),
            xp.broadcast_to(distance, (*batch, size, 1)),
        ),
        axis=-1,
    )
    solved = solve_triangular(xp, tril_q, rhs)
    return solved[..., :size], solved[..., size]
