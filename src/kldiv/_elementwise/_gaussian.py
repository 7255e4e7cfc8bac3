"""Stable kernels of the closed forms between Gaussians: Rényi's log-determinant part, W2."""

from __future__ import annotations

from .._array import Array, Namespace
from ._core import expm1_minus_identity
from ._families import identity_minus_log1p, replace_where

__all__ = ["renyi_normal_log_det", "renyi_normal_mixed_variance", "wasserstein2_normal_squared"]

# Below this |log variance ratio| the two-term form avoids the cancellation of log1p(βu) − βd.
_SMALL_LOG_RATIO = 1.0


def renyi_normal_mixed_variance(ratio_minus_one: Array, alpha: float) -> Array:
    """(α·σ_q² + (1 − α)·σ_p²) / σ_q² = 1 + (1 − α)·u for u = σ_p²/σ_q² − 1.

    The order-α mixture of the variances, relative to σ_q²: positive for α ≤ 1, and for α > 1
    only where σ_p²/σ_q² < α/(α − 1) (elsewhere the Rényi divergence is +inf).
    """
    return 1 + (1 - alpha) * ratio_minus_one


def renyi_normal_log_det(
    xp: Namespace, ratio_minus_one: Array, log_ratio: Array, alpha: float
) -> Array:
    """The variance part of the order-α Rényi divergence between univariate Gaussians.

    With u = σ_p²/σ_q² − 1, d = log(σ_p²/σ_q²) and β = 1 − α it is
    [log1p(β·u) − β·d] / (2β), written for |d| < 1 as ½(expm1(d) − d) − (β·u − log1p(β·u))/(2β)
    (two terms of order d², no cancellation) and, at α = 1, ½(expm1(d) − d): the KL. It is
    +inf where the mixed variance 1 + β·u is not positive (α > 1 only); NaN propagates, and
    gradients stay finite on the branch not taken.

    >>> import array_api_strict as xp
    >>> d = xp.asarray([1e-9, 2.0])
    >>> renyi_normal_log_det(xp, xp.expm1(d), d, 0.5)
    Array([1.2500000e-19, 4.3378083e-01], dtype=array_api_strict.float64)
    """
    if alpha == 1:
        return 0.5 * expm1_minus_identity(xp, log_ratio)
    beta = 1 - alpha
    invalid = renyi_normal_mixed_variance(ratio_minus_one, alpha) <= 0
    small = ~invalid & (xp.abs(log_ratio) < _SMALL_LOG_RATIO)
    near_d = replace_where(xp, ~small, 0.0, log_ratio)
    near_u = replace_where(xp, ~small, 0.0, ratio_minus_one)
    near = 0.5 * expm1_minus_identity(xp, near_d) - identity_minus_log1p(xp, beta * near_u) / (
        2 * beta
    )
    far_d = replace_where(xp, small | invalid, 0.0, log_ratio)
    far_u = replace_where(xp, small | invalid, 0.0, ratio_minus_one)
    far = (xp.log1p(beta * far_u) - beta * far_d) / (2 * beta)
    return xp.where(invalid, xp.inf, xp.where(small, near, far))


def wasserstein2_normal_squared(
    xp: Namespace, distance: Array, log_var_p: Array, log_var_q: Array
) -> Array:
    """W₂² between N(μ_p, σ_p²) and N(μ_q, σ_q²): (μ_p − μ_q)² + (σ_p − σ_q)².

    The scale part is σ_q²·expm1((log σ_p² − log σ_q²)/2)²: exact to rounding when σ_p ≈ σ_q.
    """
    return distance * distance + xp.exp(log_var_q) * xp.expm1((log_var_p - log_var_q) / 2) ** 2
