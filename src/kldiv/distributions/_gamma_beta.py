"""KL pairs with p in the Gamma and Beta families: Gamma (Chi2), Exponential, Beta, Dirichlet,
Weibull.

Exponential(λ) is Gamma(1, λ) and Chi2(k) is Gamma(k/2, 1/2), so one formula serves each pair.
Same-family pairs are sums of Bregman divergences of lgamma and of -log, evaluated without the
cancellation torch suffers near p ≈ q (torch: KL(Beta(500, 500) ‖ Beta(501, 500)) < 0 in float32).

>>> import array_api_strict as xp
>>> from kldiv.distributions import Beta, Gamma, kl_divergence
>>> kl_divergence(Gamma(xp.asarray(2.0), 1.0), Gamma(xp.asarray([2.0, 3.0]), 2.0))
Array([0.61370564, 0.1909213 ], dtype=array_api_strict.float64)
"""

from __future__ import annotations

from .._array import Array, Namespace
from .._elementwise import EULER_GAMMA, identity_minus_log1p, replace_where, where_inf
from .._special import digamma, lgamma, lgamma_bregman
from ._base import Distribution
from ._binary_families import ContinuousBernoulli
from ._expectations import (
    beta_negative_entropy,
    cb_cross_entropy,
    exponential_cross_entropy,
    gamma_cross_entropy,
    gamma_negative_entropy,
    gaussian_cross_entropy,
)
from ._families import Beta, Exponential, Gamma, Gumbel, Normal, Pareto, Uniform, Weibull
from ._multivariate import Dirichlet
from ._registry import check_event_shapes, register_infinite, register_kl

__all__: list[str] = []

_GAMMA_LIKE = (Gamma, Exponential)


def _shape_rate(dist: Distribution) -> tuple[Array, Array]:
    """(concentration, rate): Exponential(λ) is Gamma(1, λ)."""
    if isinstance(dist, Exponential):
        return dist.xp.ones_like(dist.rate), dist.rate
    return dist.concentration, dist.rate  # type: ignore[attr-defined]


def _gamma_terms(dist: Distribution) -> tuple[Array, Array, Array]:
    """(concentration, rate, -H) of a Gamma-like ``dist``: what KL from it to others needs."""
    shape, rate = _shape_rate(dist)
    return shape, rate, gamma_negative_entropy(dist.xp, shape, rate)


def _gamma_kl(xp: Namespace, shape_p: Array, rate_p: Array, shape_q: Array, rate_q: Array) -> Array:
    """KL(Gamma(α_p, β_p) ‖ Gamma(α_q, β_q)).

    = D(α_p, α_q) + α_p·(u - log1p u) + (α_p - α_q)·log1p u, where D is the Bregman divergence
    of lgamma and u = β_q/β_p - 1; every piece is accurate near p ≈ q.
    """
    u = (rate_q - rate_p) / rate_p
    return (
        lgamma_bregman(xp, shape_p, shape_q)
        + shape_p * identity_minus_log1p(xp, u)
        + (shape_p - shape_q) * xp.log1p(u)
    )


def _gamma_pair(p: Distribution, q: Distribution) -> Array:
    return _gamma_kl(p.xp, *_shape_rate(p), *_shape_rate(q))


for _p in _GAMMA_LIKE:
    for _q in _GAMMA_LIKE:
        register_kl(_p, _q)(_gamma_pair)


@register_kl(Gamma, Normal)
@register_kl(Exponential, Normal)
def _kl_gamma_normal(p: Distribution, q: Normal) -> Array:
    shape, rate, negative_entropy = _gamma_terms(p)
    mean = shape / rate
    return negative_entropy + gaussian_cross_entropy(p.xp, mean, mean / rate, q.loc, q.scale)


@register_kl(Gamma, Gumbel)
@register_kl(Exponential, Gumbel)
def _kl_gamma_gumbel(p: Distribution, q: Gumbel) -> Array:
    """-H(p) + log s + (E[x] - μ)/s + E[e^{-(x - μ)/s}], the last = e^{μ/s - α log1p(1/(β s))}."""
    xp = p.xp
    shape, rate, negative_entropy = _gamma_terms(p)
    loc, scale = q.loc, q.scale
    moment = xp.exp(loc / scale - shape * xp.log1p(1.0 / (rate * scale)))
    cross = xp.log(scale) + (shape / rate - loc) / scale + moment
    return negative_entropy + cross


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> Array:
    """D(α_p, α_q) + D(β_p, β_q) - D(α_p + β_p, α_q + β_q), D the Bregman divergence of lgamma."""
    xp = p.xp
    alpha_p, beta_p, alpha_q, beta_q = (
        p.concentration1,
        p.concentration0,
        q.concentration1,
        q.concentration0,
    )
    return (
        lgamma_bregman(xp, alpha_p, alpha_q)
        + lgamma_bregman(xp, beta_p, beta_q)
        - lgamma_bregman(xp, alpha_p + beta_p, alpha_q + beta_q)
    )


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p: Dirichlet, q: Dirichlet) -> Array:
    """Σ_k D(α_k, β_k) - D(Σα, Σβ) over the last axis, D the Bregman divergence of lgamma."""
    check_event_shapes(p, q)
    xp = p.xp
    alpha, beta = p.concentration, q.concentration
    per_component = xp.sum(lgamma_bregman(xp, alpha, beta), axis=-1)
    return per_component - lgamma_bregman(xp, xp.sum(alpha, axis=-1), xp.sum(beta, axis=-1))


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p: Beta, q: Exponential) -> Array:
    xp = p.xp
    alpha, beta, rate = p.concentration1, p.concentration0, q.rate
    mean = alpha / (alpha + beta)
    return beta_negative_entropy(xp, alpha, beta) + exponential_cross_entropy(xp, mean, rate)


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p: Beta, q: Gamma) -> Array:
    xp = p.xp
    alpha, beta, shape, rate = p.concentration1, p.concentration0, q.concentration, q.rate
    total = alpha + beta
    mean_log = digamma(xp, alpha) - digamma(xp, total)
    cross = gamma_cross_entropy(xp, alpha / total, mean_log, shape, rate)
    return beta_negative_entropy(xp, alpha, beta) + cross


@register_kl(Beta, Normal)
def _kl_beta_normal(p: Beta, q: Normal) -> Array:
    xp = p.xp
    alpha, beta, loc, scale = p.concentration1, p.concentration0, q.loc, q.scale
    total = alpha + beta
    variance = alpha * beta / (total**2 * (total + 1))
    cross = gaussian_cross_entropy(xp, alpha / total, variance, loc, scale)
    return beta_negative_entropy(xp, alpha, beta) + cross


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_cb(p: Beta, q: ContinuousBernoulli) -> Array:
    xp = p.xp
    alpha, beta = p.concentration1, p.concentration0
    probs, logits = q.probs, q.logits
    cross = cb_cross_entropy(xp, alpha / (alpha + beta), probs, logits, q.lims)
    return beta_negative_entropy(xp, alpha, beta) + cross


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p: Beta, q: Uniform) -> Array:
    """-H(p) + log(high - low); +inf unless low <= 0 and high >= 1."""
    xp = p.xp
    alpha, beta, low, high = p.concentration1, p.concentration0, q.low, q.high
    outside = (low > 0) | (high < 1)
    width = replace_where(xp, outside, 1.0, high - low)
    return where_inf(xp, outside, beta_negative_entropy(xp, alpha, beta) + xp.log(width))


@register_kl(Weibull, Weibull)
def _kl_weibull_weibull(p: Weibull, q: Weibull) -> Array:
    """log(k_p/k_q) + k_q log(λ_q/λ_p) - γ(1 - k_q/k_p) + expm1(k_q log(λ_p/λ_q) + lgamma(1 + r)).

    r = k_q/k_p.
    Bauckhage (2013), "Computing the Kullback–Leibler divergence between two Weibull
    distributions", arXiv:1310.3713; λ = scale, k = concentration. Torch has no such pair.
    """
    xp = p.xp
    scale_p, shape_p, scale_q, shape_q = p.scale, p.concentration, q.scale, q.concentration
    log_scale_ratio = xp.log(scale_p / scale_q)
    shape_ratio = shape_q / shape_p
    return (
        xp.log(shape_p / shape_q)
        - shape_q * log_scale_ratio
        - EULER_GAMMA * (1 - shape_ratio)
        + xp.expm1(shape_q * log_scale_ratio + lgamma(xp, 1 + shape_ratio))
    )


register_infinite(Beta, (Pareto,))
for _p in _GAMMA_LIKE:
    register_infinite(_p, (Beta, ContinuousBernoulli, Pareto, Uniform))
