"""Closed forms between univariate and diagonal Gaussians given as means and log-variances.

Each function is elementwise over univariate Gaussians N(mu, e^log_var) (shapes broadcast), with
``kl_normal``'s conventions: log-variances clipped to [clamp_min, clamp_max], the reductions
'none', 'sum', 'mean', 'batchmean'. ``event_ndims`` makes the last axes the coordinates of one
diagonal Gaussian: the Rényi and Bhattacharyya distances add up over them, the Bhattacharyya
coefficient multiplies, W₂² adds up; the reduction then applies to one value per Gaussian.
"""

from __future__ import annotations

import functools

from ._array import Array, Namespace, ignore_fp_warnings
from ._divergence_rows import check_number
from ._docs_gaussian import COEFFICIENT, normal_docs, squared_option, with_gaussian_pieces
from ._elementwise import (
    kl_normal_log_ratio,
    renyi_normal_log_det,
    renyi_normal_mixed_variance,
    replace_where,
    sqrt_at_least_zero,
    wasserstein2_normal_squared,
)
from ._gaussian_checks import NormalPair, prepare_normal_pair
from ._validate import check_bool

__all__ = [
    "bhattacharyya_normal",
    "hellinger_normal",
    "renyi_normal",
    "renyi_normal_terms",
    "wasserstein2_normal",
]


def renyi_normal_terms(
    xp: Namespace, mu_p: Array, log_var_p: Array, mu_q: Array, log_var_q: Array, alpha: float
) -> Array:
    """D_α(N(mu_p, e^lv_p) ‖ N(mu_q, e^lv_q)) elementwise, α ≥ 0 (α = 1: the KL).

    = α·(mu_p − mu_q)² / (2·σ_α²) + [log1p(β·u) − β·d] / (2β), β = 1 − α, d = lv_p − lv_q,
    u = expm1(d), σ_α² = α·σ_q² + β·σ_p² = σ_q²·(1 + β·u); +inf where σ_α² ≤ 0 (α > 1).
    """
    distance = mu_p - mu_q
    scaled_sq_distance = distance * distance * xp.exp(-log_var_q)
    log_ratio = log_var_p - log_var_q
    if alpha == 1:
        return kl_normal_log_ratio(xp, log_ratio, scaled_sq_distance)
    ratio_minus_one = xp.expm1(log_ratio)
    mixed = renyi_normal_mixed_variance(ratio_minus_one, alpha)
    safe_mixed = replace_where(xp, ~(mixed > 0), 1.0, mixed)
    mean_part = 0.5 * alpha * scaled_sq_distance / safe_mixed
    return mean_part + renyi_normal_log_det(xp, ratio_minus_one, log_ratio, alpha)


@with_gaussian_pieces
@ignore_fp_warnings
def renyi_normal(
    mu_p: Array,
    log_var_p: Array,
    mu_q: Array,
    log_var_q: Array,
    *,
    alpha: float,
    event_ndims: int = 0,
    reduction: str = "none",
    clamp_min: float = -30.0,
    clamp_max: float = 20.0,
    validate_args: bool | None = None,
) -> Array:
    """Rényi divergence of order α between Gaussians N(mu_p, e^lv_p) and N(mu_q, e^lv_q).

    D_α(p ‖ q) = 1/(α − 1)·log ∫ p^α q^(1−α) = α(mu_p − mu_q)²/(2σ_α²) − log(σ_α² /
    (σ_p^(2(1−α)) σ_q^(2α))) / (2(α − 1)), with the mixed variance σ_α² = α·σ_q² + (1 − α)·σ_p².
    For α > 1 it is finite only where σ_α² > 0, i.e. σ_p²/σ_q² < α/(α − 1); it is +inf
    elsewhere. α = 1 is the KL (:func:`kl_normal`), the limit of both sides; α = 0 gives 0.
    Computed with log1p and expm1 of d = lv_p − lv_q, so it stays accurate near p = q and
    near α = 1.

    Parameters
    ----------
    {normal_pair}
    alpha : float
        The order, ≥ 0 and finite.
    event_ndims : int, default 0
        How many trailing axes index the coordinates of one diagonal Gaussian (summed over).
    reduction, clamp_min, clamp_max, validate_args
        As for :func:`kldiv.gaussian.kl_standard_normal`; the reduction applies to the values
        per Gaussian.

    Returns
    -------
    array
        D_α per Gaussian (the broadcast shape without the event axes), or its reduction.

    Notes
    -----
    Gil, Alajaji & Hosseini (2013), "Rényi divergence measures for commonly used univariate
    continuous distributions", Information Sciences 249. Bhattacharyya's distance is half
    of D_½ (:func:`bhattacharyya_normal`).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> zero, one = xp.asarray([0.0]), xp.asarray([1.0])
    >>> renyi_normal(one, zero, zero, zero, alpha=0.5)  # α(Δμ)²/2 with equal variances
    Array([0.25], dtype=array_api_strict.float64)
    >>> renyi_normal(zero, xp.asarray([2.0]), zero, zero, alpha=3.0)  # σ_p² > 3/2 σ_q²
    Array([inf], dtype=array_api_strict.float64)
    """
    order = check_number("alpha", alpha, minimum=0.0)
    pair = prepare_normal_pair(
        (mu_p, log_var_p, mu_q, log_var_q), clamp_min, clamp_max, validate_args
    )
    terms = functools.partial(renyi_normal_terms, alpha=order)
    return pair.finish(pair.per_gaussian(terms, event_ndims), reduction)


def _bhattacharyya_terms(
    xp: Namespace, mu_p: Array, log_var_p: Array, mu_q: Array, log_var_q: Array
) -> Array:
    """D_B = D_½ / 2 elementwise."""
    return 0.5 * renyi_normal_terms(xp, mu_p, log_var_p, mu_q, log_var_q, 0.5)


def _wasserstein2_terms(
    xp: Namespace, mu_p: Array, log_var_p: Array, mu_q: Array, log_var_q: Array
) -> Array:
    """W₂² elementwise."""
    return wasserstein2_normal_squared(xp, mu_p - mu_q, log_var_p, log_var_q)


@normal_docs(COEFFICIENT, "D_B (or BC)")
@ignore_fp_warnings
def bhattacharyya_normal(
    mu_p: Array,
    log_var_p: Array,
    mu_q: Array,
    log_var_q: Array,
    *,
    coefficient: bool = False,
    event_ndims: int = 0,
    reduction: str = "none",
    clamp_min: float = -30.0,
    clamp_max: float = 20.0,
    validate_args: bool | None = None,
) -> Array:
    """Bhattacharyya distance D_B = −log BC between Gaussians, or the coefficient BC.

    D_B = (mu_p − mu_q)²/(4(σ_p² + σ_q²)) + ½·log((σ_p² + σ_q²)/(2σ_pσ_q)) = D_½/2 (half the
    Rényi divergence of order ½); BC = ∫ √(pq) = exp(−D_B) in (0, 1].

    {sections}

    Examples
    --------
    >>> import array_api_strict as xp
    >>> zero, one = xp.asarray([0.0]), xp.asarray([1.0])
    >>> bhattacharyya_normal(one, zero, zero, zero)  # (Δμ)²/8 with unit variances
    Array([0.125], dtype=array_api_strict.float64)
    """
    check_bool("coefficient", coefficient)
    pair = prepare_normal_pair(
        (mu_p, log_var_p, mu_q, log_var_q), clamp_min, clamp_max, validate_args
    )
    distance = pair.per_gaussian(_bhattacharyya_terms, event_ndims)
    return pair.finish(pair.context.xp.exp(-distance) if coefficient else distance, reduction)


@normal_docs(squared_option("H", "H²"), "H (or H²)")
@ignore_fp_warnings
def hellinger_normal(
    mu_p: Array,
    log_var_p: Array,
    mu_q: Array,
    log_var_q: Array,
    *,
    squared: bool = False,
    event_ndims: int = 0,
    reduction: str = "none",
    clamp_min: float = -30.0,
    clamp_max: float = 20.0,
    validate_args: bool | None = None,
) -> Array:
    """Hellinger distance H = √(1 − BC) between Gaussians, in [0, 1], or H² with ``squared``.

    H² = 1 − BC = −expm1(−D_B), accurate when p ≈ q (D_B from :func:`bhattacharyya_normal`);
    the convention of :func:`kldiv.hellinger` (no factor 2, dit's ``hellinger_distance``).

    {sections}

    Examples
    --------
    >>> import array_api_strict as xp
    >>> zero = xp.asarray([0.0])
    >>> hellinger_normal(xp.asarray([2.0]), zero, zero, zero, squared=True)  # 1 − e^(−½)
    Array([0.39346934], dtype=array_api_strict.float64)
    """
    check_bool("squared", squared)
    pair = prepare_normal_pair(
        (mu_p, log_var_p, mu_q, log_var_q), clamp_min, clamp_max, validate_args
    )
    squares = -pair.context.xp.expm1(-pair.per_gaussian(_bhattacharyya_terms, event_ndims))
    return _finish_distance(pair, squares, squared, reduction)


@normal_docs(squared_option("W₂", "W₂² (e.g. the Fréchet distance of FID)"), "W₂ (or W₂²)")
@ignore_fp_warnings
def wasserstein2_normal(
    mu_p: Array,
    log_var_p: Array,
    mu_q: Array,
    log_var_q: Array,
    *,
    squared: bool = False,
    event_ndims: int = 0,
    reduction: str = "none",
    clamp_min: float = -30.0,
    clamp_max: float = 20.0,
    validate_args: bool | None = None,
) -> Array:
    """2-Wasserstein distance W₂ between Gaussians, or W₂² with ``squared``.

    W₂² = (mu_p − mu_q)² + (σ_p − σ_q)², summed over the coordinates of a diagonal Gaussian
    (``event_ndims``); the scale part is computed as σ_q²·expm1((lv_p − lv_q)/2)².

    {sections}

    Examples
    --------
    >>> import array_api_strict as xp
    >>> zero, log_var_q = xp.zeros(2), xp.log(xp.asarray([1.0, 4.0]))  # σ_q = 1, 2
    >>> wasserstein2_normal(xp.asarray([3.0, 0.0]), zero, zero, log_var_q, event_ndims=1)
    Array(3.16227766, dtype=array_api_strict.float64)
    """
    check_bool("squared", squared)
    pair = prepare_normal_pair(
        (mu_p, log_var_p, mu_q, log_var_q), clamp_min, clamp_max, validate_args
    )
    return _finish_distance(
        pair, pair.per_gaussian(_wasserstein2_terms, event_ndims), squared, reduction
    )


def _finish_distance(pair: NormalPair, squares: Array, squared: bool, reduction: str) -> Array:
    """The reduction of ``squares`` per Gaussian, or of their square roots unless ``squared``."""
    return pair.finish(
        squares if squared else sqrt_at_least_zero(pair.context.xp, squares), reduction
    )
