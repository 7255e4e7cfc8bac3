"""Pairs whose p is a Normal-family distribution: Normal, HalfNormal, LogNormal, Laplace, Cauchy,
Gumbel and the multivariate normals (full and low-rank covariance).

Closed forms follow ``torch.distributions.kl``, rewritten where torch cancels near p ≈ q (every
same-family pair here is a sum of non-negative terms, exact to rounding when p ≈ q). Pairs to a
family whose support misses part of p's (a real line against [0, ∞) or [0, 1]) are +inf.
"""

from __future__ import annotations

import math

from .._array import Array
from .._elementwise import EULER_GAMMA, HALF_LOG_2PI, expm1_minus_identity, kl_normal_log_ratio
from .._linalg import (
    diag_embed,
    kl_mvn_from_cholesky,
    logdet_from_cholesky,
    solve_triangular,
    squared_frobenius,
)
from .._special import erf, lgamma
from ._binary_families import ContinuousBernoulli
from ._families import (
    Beta,
    Cauchy,
    Exponential,
    Gamma,
    Gumbel,
    HalfNormal,
    Laplace,
    LogNormal,
    Normal,
    Pareto,
    Uniform,
)
from ._multivariate import LowRankMultivariateNormal, MultivariateNormal
from ._registry import check_event_shapes, register_infinite, register_kl

__all__: list[str] = []

# q families supported on a half-line or an interval: +inf from any p with mass on all of ℝ.
_BOUNDED_SUPPORT = (Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform)


def _location_scale_normal(p: Normal | LogNormal, q: Normal | LogNormal) -> Array:
    """½(expm1(d) − d + ((μp − μq)/σq)²), d = 2 log(σp/σq) (LogNormal: the same, on the log)."""
    xp = p.xp
    scaled_distance = (p.loc - q.loc) / q.scale
    log_var_ratio = 2 * xp.log(p.scale / q.scale)
    return kl_normal_log_ratio(xp, log_var_ratio, scaled_distance * scaled_distance)


register_kl(Normal, Normal)(_location_scale_normal)
register_kl(LogNormal, LogNormal)(_location_scale_normal)


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p: HalfNormal, q: HalfNormal) -> Array:
    """½(expm1(d) − d), d = 2 log(σp/σq): the Normal pair with both locations at 0."""
    xp = p.xp
    return 0.5 * expm1_minus_identity(xp, 2 * xp.log(p.scale / q.scale))


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p: Normal, q: Gumbel) -> Array:
    """−log(σp/σq) + z + exp(−z + s²/2) − ½(1 + log 2π), z = (μp − μq)/σq, s = σp/σq."""
    xp = p.xp
    scale_ratio = p.scale / q.scale
    z = (p.loc - q.loc) / q.scale
    tail = xp.exp(-z + 0.5 * scale_ratio * scale_ratio)
    return -xp.log(scale_ratio) + z + tail - (0.5 + HALF_LOG_2PI)


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p: Normal, q: Laplace) -> Array:
    """−log(σp/bq) + E|X − μq|/bq − ½(1 + log(π/2)), δ = μp − μq,

    E|X − μq| = σp√(2/π)·e^(−δ²/2σp²) + δ·erf(δ/(σp√2)) (the folded normal's mean).
    """
    xp = p.xp
    distance = p.loc - q.loc
    standardized = distance / p.scale
    folded_mean = math.sqrt(2 / math.pi) * p.scale * xp.exp(
        -0.5 * standardized * standardized
    ) + distance * erf(xp, math.sqrt(0.5) * standardized)
    return -xp.log(p.scale / q.scale) + folded_mean / q.scale - 0.5 * (1 + math.log(math.pi / 2))


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p: Gumbel, q: Gumbel) -> Array:
    """lgamma(s) + γ(s − 1) + (expm1(w) − w), s = σp/σq, w = lgamma(1 + s) − (μp − μq)/σq.

    torch's −log s − z + sγ + exp(lgamma(1 + s) − z) + z − 1 − γ regrouped so that the O(1)
    terms cancel analytically (it returned negative values in float32 near p ≈ q).
    """
    xp = p.xp
    scale_ratio = p.scale / q.scale
    z = (p.loc - q.loc) / q.scale
    shape_term = lgamma(xp, scale_ratio) + EULER_GAMMA * (scale_ratio - 1)
    return shape_term + expm1_minus_identity(xp, lgamma(xp, 1 + scale_ratio) - z)


@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p: Gumbel, q: Normal) -> Array:
    """−log(s/√2π) + π²s²/12 + ½((μp + γσp − μq)/σq)² − (1 + γ), s = σp/σq."""
    xp = p.xp
    scale_ratio = p.scale / q.scale
    mean_distance = (p.loc + p.scale * EULER_GAMMA - q.loc) / q.scale
    return (
        -xp.log(scale_ratio)
        + HALF_LOG_2PI
        + (math.pi * scale_ratio) ** 2 / 12
        + 0.5 * mean_distance * mean_distance
        - (1 + EULER_GAMMA)
    )


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Laplace, q: Laplace) -> Array:
    """(expm1(w) − w) + a·expm1(r), r = log(bp/bq), a = |μp − μq|/bp, w = r − a.

    torch's −r + a·bp/bq + (bp/bq)e^(−a) − 1 regrouped into non-negative terms.
    """
    xp = p.xp
    log_ratio = xp.log(p.scale / q.scale)
    scaled_distance = xp.abs(p.loc - q.loc) / p.scale
    return expm1_minus_identity(xp, log_ratio - scaled_distance) + scaled_distance * xp.expm1(
        log_ratio
    )


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p: Laplace, q: Normal) -> Array:
    """−½ log(2s²/π) + s² + (μp − μq)²/(2σq²) − 1, s = bp/σq (E(X − μq)² = 2bp² + δ²)."""
    xp = p.xp
    scale_ratio = p.scale / q.scale
    scaled_distance = (p.loc - q.loc) / q.scale
    return (
        -xp.log(scale_ratio)
        - 0.5 * math.log(2 / math.pi)
        + scale_ratio * scale_ratio
        + 0.5 * scaled_distance * scaled_distance
        - 1
    )


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p: Cauchy, q: Cauchy) -> Array:
    """log(((γp + γq)² + δ²)/(4γpγq)) = log1p(((γp − γq)² + δ²)/(4γpγq))."""
    xp = p.xp
    scale_gap = p.scale - q.scale
    distance = p.loc - q.loc
    return xp.log1p((scale_gap * scale_gap + distance * distance) / (4 * p.scale * q.scale))


for _real_line in (Normal, Gumbel, Laplace):
    register_infinite(_real_line, _BOUNDED_SUPPORT)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p: MultivariateNormal, q: MultivariateNormal) -> Array:
    """Σ log diag Lq − Σ log diag Lp + ½(‖Lq⁻¹Lp‖²_F + ‖Lq⁻¹(μq − μp)‖² − d)."""
    check_event_shapes(p, q)
    return kl_mvn_from_cholesky(p.xp, p.loc, p.scale_tril, q.loc, q.scale_tril)


# -- low-rank covariance W·Wᵀ + D: Woodbury identity and the matrix determinant lemma ----------


def _lowrank_logdet(dist: LowRankMultivariateNormal) -> Array:
    """log det(W·Wᵀ + D) = log det C + Σ log D, C = I + Wᵀ D⁻¹ W (the capacitance)."""
    xp = dist.xp
    return logdet_from_cholesky(xp, dist.capacitance_tril) + xp.sum(xp.log(dist.cov_diag), axis=-1)


def _woodbury_factor(q: LowRankMultivariateNormal) -> Array:
    """A = Lc⁻¹ Wᵀ D⁻¹ (r × d): (W·Wᵀ + D)⁻¹ = D⁻¹ − Aᵀ·A."""
    xp = q.xp
    return solve_triangular(
        xp, q.capacitance_tril, xp.matrix_transpose(q.cov_factor) / q.cov_diag[..., None, :]
    )


def _lowrank_mahalanobis(q: LowRankMultivariateNormal, distance: Array) -> Array:
    """xᵀ(W·Wᵀ + D)⁻¹x = Σ x²/D − ‖A·x‖²."""
    xp = q.xp
    projected = _woodbury_factor(q) @ distance[..., None]
    return xp.sum(distance * distance / q.cov_diag, axis=-1) - squared_frobenius(xp, projected)


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrank_lowrank(p: LowRankMultivariateNormal, q: LowRankMultivariateNormal) -> Array:
    """½(log det Σq − log det Σp + tr(Σq⁻¹Σp) + δᵀΣq⁻¹δ − d), tr by Σq⁻¹ = Dq⁻¹ − AᵀA."""
    check_event_shapes(p, q)
    xp = p.xp
    factor = _woodbury_factor(q)
    trace = (
        xp.sum(p.cov_diag / q.cov_diag, axis=-1)
        + squared_frobenius(xp, p.cov_factor / xp.sqrt(q.cov_diag)[..., None])
        - squared_frobenius(xp, factor * xp.sqrt(p.cov_diag)[..., None, :])
        - squared_frobenius(xp, factor @ p.cov_factor)
    )
    log_det = _lowrank_logdet(q) - _lowrank_logdet(p)
    mahalanobis = _lowrank_mahalanobis(q, q.loc - p.loc)
    return 0.5 * (log_det + trace + mahalanobis - p.event_shape[0])


@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def _kl_lowrank_mvn(p: LowRankMultivariateNormal, q: MultivariateNormal) -> Array:
    """½(log det Σq − log det Σp + ‖Lq⁻¹Wp‖²_F + ‖Lq⁻¹Dp^½‖²_F + ‖Lq⁻¹δ‖² − d)."""
    check_event_shapes(p, q)
    xp = p.xp
    rhs = xp.concat(
        _broadcast_matrices(p, p.cov_factor, diag_embed(xp, xp.sqrt(p.cov_diag))), axis=-1
    )
    trace = squared_frobenius(xp, solve_triangular(xp, q.scale_tril, rhs))
    mahalanobis = squared_frobenius(
        xp, solve_triangular(xp, q.scale_tril, (q.loc - p.loc)[..., None])
    )
    log_det = logdet_from_cholesky(xp, q.scale_tril) - _lowrank_logdet(p)
    return 0.5 * (log_det + trace + mahalanobis - p.event_shape[0])


@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_mvn_lowrank(p: MultivariateNormal, q: LowRankMultivariateNormal) -> Array:
    """½(log det Σq − log det Σp + ‖Dq^(−½)Lp‖²_F − ‖A·Lp‖²_F + δᵀΣq⁻¹δ − d)."""
    check_event_shapes(p, q)
    xp = p.xp
    trace = squared_frobenius(xp, p.scale_tril / xp.sqrt(q.cov_diag)[..., None]) - (
        squared_frobenius(xp, _woodbury_factor(q) @ p.scale_tril)
    )
    log_det = _lowrank_logdet(q) - logdet_from_cholesky(xp, p.scale_tril)
    mahalanobis = _lowrank_mahalanobis(q, q.loc - p.loc)
    return 0.5 * (log_det + trace + mahalanobis - p.event_shape[0])


def _broadcast_matrices(dist: LowRankMultivariateNormal, *matrices: Array) -> tuple[Array, ...]:
    """The matrices with one batch shape (their trailing two axes kept), for ``concat``."""
    xp = dist.xp
    batch = dist.batch_shape
    return tuple(xp.broadcast_to(m, (*batch, *tuple(m.shape[-2:]))) for m in matrices)
