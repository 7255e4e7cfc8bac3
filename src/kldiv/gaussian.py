"""Closed forms between Gaussians in the forms models produce: log-variances, Cholesky factors.

``kl_standard_normal`` and ``kl_normal`` are elementwise (diagonal Gaussians, the VAE case) and
take the same reductions as :func:`kldiv.kl_div`: 'none', 'sum', 'mean', 'batchmean' (sum over
all elements divided by the size of axis 0). ``kl_mvn`` takes full covariances through their lower
Cholesky factors, batched with broadcasting. Value checks (NaN parameters, non-positive Cholesky
diagonals) run only with ``validate_args=True`` (default off, as in ``torch.nn.functional``).

Beyond KL, with the same arguments: the Rényi divergence of order α (``renyi_normal``,
``renyi_mvn``), the Bhattacharyya distance and coefficient (``bhattacharyya_*``), the Hellinger
distance (``hellinger_*``) and the 2-Wasserstein distance (``wasserstein2_*``); the ``*_normal``
forms take ``event_ndims`` to treat trailing axes as the coordinates of one diagonal Gaussian.
"""

from __future__ import annotations

from ._array import Array, Namespace, broadcast_shapes, ignore_fp_warnings, prepare
from ._docs_gaussian import with_gaussian_pieces
from ._elementwise import expm1_minus_identity
from ._gaussian_checks import (
    check_clamp,
    check_not_nan,
    finish_normal,
    per_gaussian,
    prepare_mvn_pair,
    prepare_normal_pair,
)
from ._gaussian_mvn import (
    FACTORS_FAILED,
    bhattacharyya_mvn,
    hellinger_mvn,
    renyi_mvn,
    wasserstein2_mvn,
)
from ._gaussian_normal import (
    bhattacharyya_normal,
    hellinger_normal,
    renyi_normal,
    renyi_normal_terms,
    wasserstein2_normal,
)
from ._linalg import kl_mvn_from_cholesky, not_positive_definite_as_value_error

__all__ = [
    "bhattacharyya_mvn",
    "bhattacharyya_normal",
    "hellinger_mvn",
    "hellinger_normal",
    "kl_mvn",
    "kl_normal",
    "kl_standard_normal",
    "renyi_mvn",
    "renyi_normal",
    "wasserstein2_mvn",
    "wasserstein2_normal",
]


@ignore_fp_warnings
def kl_standard_normal(
    mu: Array,
    log_var: Array,
    *,
    reduction: str = "none",
    clamp_min: float = -30.0,
    clamp_max: float = 20.0,
    validate_args: bool | None = None,
) -> Array:
    """KL(N(mu, e^log_var) ‖ N(0, 1)) = ½(mu² + e^lv − lv − 1), lv = clip(log_var), elementwise.

    The VAE prior term; the same numbers as ml-starter's ``kl_div_single_loss`` (which clamps
    ``log_var`` to [clamp_min, clamp_max] the same way, zeroing its gradient outside), computed
    as ½(mu² + (expm1(lv) − lv)) so that it stays accurate near lv = 0.

    Parameters
    ----------
    mu, log_var : array
        Mean and log-variance of the diagonal Gaussian; shapes broadcast.
    reduction : {'none', 'sum', 'mean', 'batchmean'}, default 'none'
        'batchmean' divides the sum over all elements by the size of axis 0.
    clamp_min, clamp_max : float, default -30.0, 20.0
        Log-variances are clipped to [clamp_min, clamp_max] (gradient 0 outside).
    validate_args : bool, optional
        Raise ``ValueError`` on NaN inputs (default off, see :func:`kldiv.set_validate_args`).

    Returns
    -------
    array
        The KL per element (broadcast shape of the inputs), or its reduction; the inputs'
        common dtype.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> kl_standard_normal(xp.asarray([0.0, 1.0]), xp.asarray([0.0, 0.0]))
    Array([0. , 0.5], dtype=array_api_strict.float64)
    """
    check_clamp(clamp_min, clamp_max)
    context, (mu, log_var) = prepare(mu=mu, log_var=log_var)
    shape = broadcast_shapes(mu=tuple(mu.shape), log_var=tuple(log_var.shape))
    check_not_nan(context, validate_args, mu=mu, log_var=log_var)
    xp = context.xp
    clamped = xp.clip(log_var, min=clamp_min, max=clamp_max)
    terms = 0.5 * (mu * mu + expm1_minus_identity(xp, clamped))
    return finish_normal(context, per_gaussian(xp, terms, shape), reduction)


@with_gaussian_pieces
@ignore_fp_warnings
def kl_normal(
    mu_p: Array,
    log_var_p: Array,
    mu_q: Array,
    log_var_q: Array,
    *,
    reduction: str = "none",
    clamp_min: float = -30.0,
    clamp_max: float = 20.0,
    validate_args: bool | None = None,
) -> Array:
    """KL(N(mu_p, e^lv_p) ‖ N(mu_q, e^lv_q)) elementwise, log-variances clipped to [min, max].

    Stable form ½(expm1(d) − d + (mu_p − mu_q)²·e^(−lv_q)), d = lv_p − lv_q: exact to rounding
    when p ≈ q. Note: ml-starter's ``kl_div_pair_loss`` computes
    (lv_q − lv_p) + (e^lv_p + (mu_p − mu_q)²)/e^lv_q − ½, which is 2·KL + ½ (½ when p = q),
    not the KL its docstring claims; ``2 * kl_normal(...) + 0.5`` reproduces it.

    Parameters
    ----------
    {normal_pair}
    reduction, clamp_min, clamp_max, validate_args
        As for :func:`kl_standard_normal`.

    Returns
    -------
    array
        As for :func:`kl_standard_normal`.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> kl_normal(xp.asarray([1.0]), xp.asarray([0.0]), xp.asarray([0.0]), xp.asarray([0.0]))
    Array([0.5], dtype=array_api_strict.float64)
    """
    pair = prepare_normal_pair(
        (mu_p, log_var_p, mu_q, log_var_q), clamp_min, clamp_max, validate_args
    )
    return pair.finish(pair.per_gaussian(_kl_normal_terms), reduction)


def _kl_normal_terms(
    xp: Namespace, mu_p: Array, log_var_p: Array, mu_q: Array, log_var_q: Array
) -> Array:
    """KL elementwise (the Rényi terms of order 1)."""
    return renyi_normal_terms(xp, mu_p, log_var_p, mu_q, log_var_q, 1.0)


@with_gaussian_pieces
@ignore_fp_warnings
def kl_mvn(
    loc_p: Array,
    scale_tril_p: Array,
    loc_q: Array,
    scale_tril_q: Array,
    *,
    validate_args: bool | None = None,
) -> Array:
    """KL(N(loc_p, L_p L_pᵀ) ‖ N(loc_q, L_q L_qᵀ)) from lower Cholesky factors, shape (...).

    = Σ log diag L_q − Σ log diag L_p + ½(‖L_q⁻¹L_p‖²_F + ‖L_q⁻¹(loc_q − loc_p)‖² − d).
    Batch axes broadcast. Only the lower triangles are read by the solve; with
    ``validate_args=True`` a non-positive diagonal is a ``ValueError``. For covariance or
    precision matrices use :class:`kldiv.distributions.MultivariateNormal`.

    Parameters
    ----------
    {mvn_pair}
    {mvn_validate}

    Returns
    -------
    array
        KL(p ‖ q) with the broadcast batch shape (...), in the inputs' common dtype.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> eye = xp.eye(2)
    >>> kl_mvn(xp.asarray([1.0, 0.0]), eye, xp.zeros(2), 2 * eye)
    Array(0.76129436, dtype=array_api_strict.float64)
    """
    context, arrays = prepare_mvn_pair(
        "kl_mvn", (loc_p, scale_tril_p, loc_q, scale_tril_q), validate_args
    )
    with not_positive_definite_as_value_error(FACTORS_FAILED):  # a singular factor (NumPy)
        return context.finish(kl_mvn_from_cholesky(context.xp, *arrays))
