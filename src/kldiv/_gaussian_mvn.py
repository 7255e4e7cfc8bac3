"""Closed forms between full-covariance Gaussians given as means and lower Cholesky factors.

Both Gaussians are taken to the coordinates where q is standard normal (:func:`whiten`): p
becomes N(L_q⁻¹(μ_p − μ_q), S) with S = B·Bᵀ, B = L_q⁻¹L_p. The Rényi family then splits over
the eigenvalues s of S (each a univariate variance ratio, so the stable univariate kernel
applies) plus a quadratic form in the mean. Batch axes broadcast, as in ``kl_mvn``.
"""

from __future__ import annotations

import array_api_compat as compat

from ._array import Array, Namespace, ignore_fp_warnings
from ._divergence_rows import check_number
from ._docs_gaussian import COEFFICIENT, mvn_docs, squared_option, with_gaussian_pieces
from ._elementwise import (
    renyi_normal_log_det,
    renyi_normal_mixed_variance,
    sqrt_at_least_zero,
)
from ._gaussian_checks import prepare_mvn_pair
from ._linalg import (
    cholesky,
    kl_mvn_from_cholesky,
    not_positive_definite_as_value_error,
    solve_triangular,
    squared_frobenius,
    symmetric_eigenvalues,
    whiten,
)
from ._validate import check_bool

__all__ = ["bhattacharyya_mvn", "hellinger_mvn", "renyi_mvn", "wasserstein2_mvn"]


#: The error when a library's eigenvalue or Cholesky routine fails on the factors' products.
FACTORS_FAILED = (
    "scale_tril_p and scale_tril_q must be finite lower-triangular factors with positive "
    "diagonals: the eigenvalues or the factorisation of their product failed"
)


def _renyi_mvn_rows(
    xp: Namespace, loc_p: Array, tril_p: Array, loc_q: Array, tril_q: Array, alpha: float
) -> Array:
    """D_α between full-covariance Gaussians, shape (...); α = 1 is ``kl_mvn``'s KL.

    = Σᵢ h_α(sᵢ) + (α/2)·yᵀ(α·I + (1 − α)·S)⁻¹y, y = L_q⁻¹(μ_p − μ_q), sᵢ the eigenvalues of
    S and h_α the univariate variance part; +inf where α·I + (1 − α)·S is not positive definite.
    A solve, eigenvalue or Cholesky routine failing on the factors is a ``ValueError`` naming them.
    """
    with not_positive_definite_as_value_error(FACTORS_FAILED):
        return _renyi_mvn_terms(xp, loc_p, tril_p, loc_q, tril_q, alpha)


def _renyi_mvn_terms(
    xp: Namespace, loc_p: Array, tril_p: Array, loc_q: Array, tril_q: Array, alpha: float
) -> Array:
    if alpha == 1:
        return kl_mvn_from_cholesky(xp, loc_p, tril_p, loc_q, tril_q)
    tril_ratio, scaled_distance = whiten(xp, loc_p, tril_p, loc_q, tril_q)
    ratio = tril_ratio @ xp.matrix_transpose(tril_ratio)
    eigenvalues = symmetric_eigenvalues(xp, ratio)
    tiny = xp.finfo(eigenvalues.dtype).smallest_normal
    log_eigenvalues = xp.log(xp.maximum(eigenvalues, tiny))
    log_det = xp.sum(renyi_normal_log_det(xp, eigenvalues - 1, log_eigenvalues, alpha), axis=-1)
    size = int(loc_p.shape[-1])
    eye = xp.eye(size, dtype=ratio.dtype, device=compat.device(ratio))
    mixed = alpha * eye + (1 - alpha) * ratio
    if alpha > 1:  # a mixture that is not positive definite: +inf, with a safe factorisation
        invalid = xp.any(renyi_normal_mixed_variance(eigenvalues - 1, alpha) <= 0, axis=-1)
        mixed = xp.where(invalid[..., None, None], eye, mixed)
    solved = solve_triangular(xp, cholesky(xp, mixed), scaled_distance[..., None])
    return log_det + 0.5 * alpha * squared_frobenius(xp, solved)


def _bhattacharyya_rows(
    xp: Namespace, loc_p: Array, tril_p: Array, loc_q: Array, tril_q: Array
) -> Array:
    return 0.5 * _renyi_mvn_rows(xp, loc_p, tril_p, loc_q, tril_q, 0.5)


@with_gaussian_pieces
@ignore_fp_warnings
def renyi_mvn(
    loc_p: Array,
    scale_tril_p: Array,
    loc_q: Array,
    scale_tril_q: Array,
    *,
    alpha: float,
    validate_args: bool | None = None,
) -> Array:
    """Rényi divergence of order α between N(loc_p, L_p L_pᵀ) and N(loc_q, L_q L_qᵀ), shape (...).

    D_α = (α/2)·Δᵀ Σ_α⁻¹ Δ − log(det Σ_α / (det Σ_p^(1−α) det Σ_q^α)) / (2(α − 1)), Δ = loc_p −
    loc_q, Σ_α = α·Σ_q + (1 − α)·Σ_p. For α > 1 it is finite only where Σ_α is positive
    definite (every eigenvalue of Σ_q⁻¹Σ_p below α/(α − 1)); it is +inf elsewhere. α = 1 is
    the KL (:func:`kl_mvn`), the limit of both sides. The log-determinant part is the sum of
    the univariate one over the eigenvalues of L_q⁻¹Σ_pL_q⁻ᵀ (``linalg.eigvalsh``, whose
    gradient stays finite at repeated eigenvalues), so it keeps its accuracy near α = 1.

    Parameters
    ----------
    {mvn_pair}
    alpha : float
        The order, ≥ 0 and finite.
    {mvn_validate}

    Returns
    -------
    array
        D_α with the broadcast batch shape (...), in the inputs' common dtype.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> eye = xp.eye(2)
    >>> renyi_mvn(xp.asarray([1.0, 0.0]), eye, xp.zeros(2), eye, alpha=2.0)  # α‖Δ‖²/2
    Array(1., dtype=array_api_strict.float64)
    """
    order = check_number("alpha", alpha, minimum=0.0)
    context, arrays = prepare_mvn_pair(
        "renyi_mvn", (loc_p, scale_tril_p, loc_q, scale_tril_q), validate_args
    )
    return context.finish(_renyi_mvn_rows(context.xp, *arrays, order))


@mvn_docs(COEFFICIENT, "D_B (or BC)")
@ignore_fp_warnings
def bhattacharyya_mvn(
    loc_p: Array,
    scale_tril_p: Array,
    loc_q: Array,
    scale_tril_q: Array,
    *,
    coefficient: bool = False,
    validate_args: bool | None = None,
) -> Array:
    """Bhattacharyya distance D_B = −log BC between full-covariance Gaussians, or BC.

    D_B = ⅛·Δᵀ Σ⁻¹ Δ + ½·log(det Σ / √(det Σ_p · det Σ_q)), Σ = (Σ_p + Σ_q)/2: half the Rényi
    divergence of order ½ (:func:`renyi_mvn`); BC = exp(−D_B).

    {sections}

    Examples
    --------
    >>> import array_api_strict as xp
    >>> eye = xp.eye(2)
    >>> bhattacharyya_mvn(xp.asarray([2.0, 0.0]), eye, xp.zeros(2), eye)  # ‖Δ‖²/8
    Array(0.5, dtype=array_api_strict.float64)
    """
    check_bool("coefficient", coefficient)
    context, arrays = prepare_mvn_pair(
        "bhattacharyya_mvn", (loc_p, scale_tril_p, loc_q, scale_tril_q), validate_args
    )
    xp = context.xp
    distance = _bhattacharyya_rows(xp, *arrays)
    return context.finish(xp.exp(-distance) if coefficient else distance)


@mvn_docs(squared_option("H", "H²"), "H (or H²)")
@ignore_fp_warnings
def hellinger_mvn(
    loc_p: Array,
    scale_tril_p: Array,
    loc_q: Array,
    scale_tril_q: Array,
    *,
    squared: bool = False,
    validate_args: bool | None = None,
) -> Array:
    """Hellinger distance H = √(1 − BC) between full-covariance Gaussians, or H².

    H² = −expm1(−D_B) with D_B from :func:`bhattacharyya_mvn`; in [0, 1], no factor 2 (as
    :func:`kldiv.hellinger`).

    {sections}

    Examples
    --------
    >>> import array_api_strict as xp
    >>> eye = xp.eye(2)
    >>> hellinger_mvn(xp.asarray([2.0, 0.0]), eye, xp.zeros(2), eye, squared=True)  # 1 − e^(−½)
    Array(0.39346934, dtype=array_api_strict.float64)
    """
    check_bool("squared", squared)
    context, arrays = prepare_mvn_pair(
        "hellinger_mvn", (loc_p, scale_tril_p, loc_q, scale_tril_q), validate_args
    )
    xp = context.xp
    values = -xp.expm1(-_bhattacharyya_rows(xp, *arrays))
    return context.finish(values if squared else sqrt_at_least_zero(xp, values))


@mvn_docs(squared_option("W₂", "W₂² (the Fréchet distance of FID)"), "W₂ (or W₂²)")
@ignore_fp_warnings
def wasserstein2_mvn(
    loc_p: Array,
    scale_tril_p: Array,
    loc_q: Array,
    scale_tril_q: Array,
    *,
    squared: bool = False,
    validate_args: bool | None = None,
) -> Array:
    """2-Wasserstein distance W₂ between full-covariance Gaussians, or W₂² with ``squared``.

    W₂² = ‖Δ‖² + tr Σ_p + tr Σ_q − 2·tr (Σ_q^½ Σ_p Σ_q^½)^½ (the Bures metric). No matrix
    square root is formed: the last trace is the sum of the singular values of L_qᵀL_p, i.e.
    of √λ over the eigenvalues λ of the symmetric C = (L_qᵀL_p)ᵀ(L_qᵀL_p) = L_pᵀΣ_qL_p
    (``linalg.eigvalsh``, gradients finite at repeated eigenvalues). The result is clipped at
    0; near p = q its absolute error is about ε·(tr Σ_p + tr Σ_q), so W₂ there is accurate
    to about √(ε·tr Σ) only.

    {sections}

    Notes
    -----
    POT's ``ot.gaussian.bures_wasserstein_distance(ms, mt, Cs, Ct)`` returns W₂ (covariances
    in, matrix square roots by eigendecomposition); ``scipy.linalg.sqrtm``-based FID code
    returns W₂².

    Examples
    --------
    >>> import array_api_strict as xp
    >>> eye = xp.eye(2)
    >>> wasserstein2_mvn(xp.asarray([3.0, 0.0]), eye, xp.zeros(2), 2 * eye, squared=True)
    Array(11., dtype=array_api_strict.float64)
    """
    check_bool("squared", squared)
    context, (loc_p, tril_p, loc_q, tril_q) = prepare_mvn_pair(
        "wasserstein2_mvn", (loc_p, scale_tril_p, loc_q, scale_tril_q), validate_args
    )
    xp = context.xp
    product = xp.matrix_transpose(tril_q) @ tril_p
    with not_positive_definite_as_value_error(FACTORS_FAILED):
        eigenvalues = symmetric_eigenvalues(xp, xp.matrix_transpose(product) @ product)
    singular_values = sqrt_at_least_zero(xp, eigenvalues)
    distance = loc_p - loc_q
    total = (
        xp.sum(distance * distance, axis=-1)
        + squared_frobenius(xp, tril_p)
        + squared_frobenius(xp, tril_q)
        - 2 * xp.sum(singular_values, axis=-1)
    )
    total = xp.maximum(total, xp.zeros_like(total))
    return context.finish(total if squared else sqrt_at_least_zero(xp, total))
