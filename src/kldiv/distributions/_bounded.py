"""KL pairs with a p of bounded or half-bounded support: Uniform, Pareto, ContinuousBernoulli.

Each pair is KL(p ‖ q) = E_p[-log q] - H(p), +inf where q misses part of p's support, by ``where``
(so batch shapes broadcast; torch raises ``IndexError`` there). Support tests are strict where
torch's are not: KL(ContinuousBernoulli ‖ Uniform(0, 1)) and KL(Uniform(0, 1) ‖
ContinuousBernoulli) are finite here (torch: inf).

>>> import array_api_strict as xp
>>> from kldiv.distributions import ContinuousBernoulli, Uniform, kl_divergence
>>> kl_divergence(ContinuousBernoulli(xp.asarray(0.2)), Uniform(0.0, xp.asarray([1.0, 0.5])))
Array([0.07641445,        inf], dtype=array_api_strict.float64)
"""

from __future__ import annotations

from .._array import Array, Namespace
from .._elementwise import identity_minus_log1p, replace_where, where_inf, xlogy
from .._special import betaln
from ._binary_families import ContinuousBernoulli
from ._expectations import (
    cb_cross_entropy,
    cb_entropy,
    cb_moments,
    exponential_cross_entropy,
    gamma_cross_entropy,
    gaussian_cross_entropy,
)
from ._families import Beta, Exponential, Gamma, Gumbel, Normal, Pareto, Uniform
from ._registry import register_infinite, register_kl

__all__: list[str] = []


def _cb_moments(p: ContinuousBernoulli) -> tuple[Array, Array, Array]:
    """(E[x], Var[x], -H) of ``p``: what a cross-entropy E_p[-log q] and KL need of it."""
    xp = p.xp
    mean, variance = cb_moments(xp, p.probs, p.logits, p.lims)
    return mean, variance, -cb_entropy(xp, p.probs, p.logits, p.lims)


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_cb_cb(p: ContinuousBernoulli, q: ContinuousBernoulli) -> Array:
    mean, _, negative_entropy = _cb_moments(p)
    return negative_entropy + cb_cross_entropy(p.xp, mean, q.probs, q.logits, q.lims)


@register_kl(ContinuousBernoulli, Exponential)
def _kl_cb_exponential(p: ContinuousBernoulli, q: Exponential) -> Array:
    mean, _, negative_entropy = _cb_moments(p)
    return negative_entropy + exponential_cross_entropy(p.xp, mean, q.rate)


@register_kl(ContinuousBernoulli, Normal)
def _kl_cb_normal(p: ContinuousBernoulli, q: Normal) -> Array:
    mean, variance, negative_entropy = _cb_moments(p)
    return negative_entropy + gaussian_cross_entropy(p.xp, mean, variance, q.loc, q.scale)


def _uniform_cross_entropy(xp: Namespace, covers: Array, low: Array, high: Array) -> Array:
    """E_p[-log Uniform(x; low, high)] = log(high - low) where q covers p's support, else +inf."""
    width = replace_where(xp, ~covers, 1.0, high - low)
    return where_inf(xp, ~covers, xp.log(width))


@register_kl(ContinuousBernoulli, Uniform)
def _kl_cb_uniform(p: ContinuousBernoulli, q: Uniform) -> Array:
    """-H(p) + log(high - low); +inf unless low <= 0 and high >= 1 (torch: also at 0 and 1)."""
    xp = p.xp
    probs, logits = p.probs, p.logits
    low, high = q.low, q.high
    cross = _uniform_cross_entropy(xp, (low <= 0) & (high >= 1), low, high)
    return cross - cb_entropy(xp, probs, logits, p.lims)


# -- Uniform ------------------------------------------------------------------------------------


def _mean_log(xp: Namespace, low: Array, high: Array) -> Array:
    """E[log x] for x ~ Uniform(low, high), 0 <= low < high: (h log h - l log l)/(h - l) - 1."""
    return (xlogy(xp, high, high) - xlogy(xp, low, low)) / (high - low) - 1.0


def _inside(xp: Namespace, outside: Array, low: Array, high: Array, bounds: tuple) -> tuple:
    """``low``, ``high`` replaced by ``bounds`` where ``outside``: safe arguments for logs."""
    return replace_where(xp, outside, bounds[0], low), replace_where(xp, outside, bounds[1], high)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> Array:
    """log((q.high - q.low) / (p.high - p.low)); +inf unless q's interval contains p's."""
    xp = p.xp
    low_p, high_p, low_q, high_q = p.low, p.high, q.low, q.high
    covers = (low_q <= low_p) & (high_q >= high_p)
    return _uniform_cross_entropy(xp, covers, low_q, high_q) - xp.log(high_p - low_p)


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p: Uniform, q: Beta) -> Array:
    """log B(α, β) - (α - 1) E[log x] - (β - 1) E[log(1 - x)] - log(h - l); +inf outside [0, 1]."""
    xp = p.xp
    low, high, alpha, beta = p.low, p.high, q.concentration1, q.concentration0
    outside = (low < 0) | (high > 1)
    low, high = _inside(xp, outside, low, high, (0.25, 0.75))
    mean_log = _mean_log(xp, low, high)
    mean_log_complement = _mean_log(xp, 1 - high, 1 - low)
    cross = betaln(xp, alpha, beta) - (alpha - 1) * mean_log - (beta - 1) * mean_log_complement
    return where_inf(xp, outside, cross - xp.log(high - low))


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_cb(p: Uniform, q: ContinuousBernoulli) -> Array:
    """E_p[-log CB] - log(h - l); +inf outside [0, 1] (torch: also when touching 0 or 1)."""
    xp = p.xp
    low, high = p.low, p.high
    probs, logits = q.probs, q.logits
    outside = (low < 0) | (high > 1)
    low, high = _inside(xp, outside, low, high, (0.25, 0.75))
    cross = cb_cross_entropy(xp, (low + high) / 2, probs, logits, q.lims)
    return where_inf(xp, outside, cross - xp.log(high - low))


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p: Uniform, q: Exponential) -> Array:
    xp = p.xp
    low, high, rate = p.low, p.high, q.rate
    cross = exponential_cross_entropy(xp, (low + high) / 2, rate)
    return where_inf(xp, low < 0, cross - xp.log(high - low))


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p: Uniform, q: Gamma) -> Array:
    xp = p.xp
    low, high, concentration, rate = p.low, p.high, q.concentration, q.rate
    outside = low < 0
    low, high = _inside(xp, outside, low, high, (1.0, 2.0))
    mean_log = _mean_log(xp, low, high)
    cross = gamma_cross_entropy(xp, (low + high) / 2, mean_log, concentration, rate)
    return where_inf(xp, outside, cross - xp.log(high - low))


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p: Uniform, q: Gumbel) -> Array:
    """log(s/w) + (z_h + z_l)/2 - (s/w)(e^{-z_h} - e^{-z_l}), z = (x - loc)/s, w = h - l."""
    xp = p.xp
    low, high, loc, scale = p.low, p.high, q.loc, q.scale
    ratio = scale / (high - low)
    z_high = (high - loc) / scale
    z_low = (low - loc) / scale
    return xp.log(ratio) + (z_high + z_low) / 2 - ratio * (xp.exp(-z_high) - xp.exp(-z_low))


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p: Uniform, q: Normal) -> Array:
    xp = p.xp
    low, high, loc, scale = p.low, p.high, q.loc, q.scale
    width = high - low
    cross = gaussian_cross_entropy(xp, (low + high) / 2, width**2 / 12, loc, scale)
    return cross - xp.log(width)


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p: Uniform, q: Pareto) -> Array:
    """(α + 1) E[log x] - log α - α log s - log(h - l); +inf where low < s."""
    xp = p.xp
    low, high, scale, alpha = p.low, p.high, q.scale, q.alpha
    outside = low < scale
    low, high = _inside(xp, outside, low, high, (1.0, 2.0))
    scale = replace_where(xp, outside, 1.0, scale)
    cross = (alpha + 1) * _mean_log(xp, low, high) - xp.log(alpha) - alpha * xp.log(scale)
    return where_inf(xp, outside, cross - xp.log(high - low))


# -- Pareto -------------------------------------------------------------------------------------


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p: Pareto, q: Pareto) -> Array:
    """α_q log(s_p / s_q) + (r - 1 - log r), r = α_q / α_p; +inf where s_p < s_q."""
    xp = p.xp
    scale_p, alpha_p, scale_q, alpha_q = p.scale, p.alpha, q.scale, q.alpha
    divergence = alpha_q * xp.log(scale_p / scale_q)
    divergence = divergence + identity_minus_log1p(xp, (alpha_q - alpha_p) / alpha_p)
    return where_inf(xp, scale_p < scale_q, divergence)


def _pareto_moments(p: Pareto, minimum_alpha: float) -> tuple[Array, Array, Array, Array, Array]:
    """(infinite, alpha, -H, E[log x], E[x]) of ``p``: ``infinite`` where alpha <= minimum_alpha
    (the moments a cross-entropy needs diverge), alpha made safe there for the others."""
    xp = p.xp
    infinite = p.alpha <= minimum_alpha
    alpha = replace_where(xp, infinite, minimum_alpha + 1.0, p.alpha)
    negative_entropy = xp.log(alpha / p.scale) - 1.0 / alpha - 1.0
    mean = alpha * p.scale / (alpha - 1)
    return infinite, alpha, negative_entropy, xp.log(p.scale) + 1.0 / alpha, mean


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p: Pareto, q: Exponential) -> Array:
    """-H(p) + λ E[x] - log λ; +inf for alpha <= 1 (infinite mean)."""
    xp = p.xp
    infinite, _, negative_entropy, _, mean = _pareto_moments(p, 1.0)
    return where_inf(xp, infinite, negative_entropy + exponential_cross_entropy(xp, mean, q.rate))


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p: Pareto, q: Gamma) -> Array:
    """-H(p) + E_p[-log Gamma]; +inf for alpha <= 1 (infinite mean)."""
    xp = p.xp
    infinite, _, negative_entropy, mean_log, mean = _pareto_moments(p, 1.0)
    cross = gamma_cross_entropy(xp, mean, mean_log, q.concentration, q.rate)
    return where_inf(xp, infinite, negative_entropy + cross)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p: Pareto, q: Normal) -> Array:
    """-H(p) + E_p[-log Normal]; +inf for alpha <= 2 (infinite variance)."""
    xp = p.xp
    infinite, alpha, negative_entropy, _, mean = _pareto_moments(p, 2.0)
    variance = p.scale**2 * alpha / ((alpha - 1) ** 2 * (alpha - 2))
    cross = gaussian_cross_entropy(xp, mean, variance, q.loc, q.scale)
    return where_inf(xp, infinite, negative_entropy + cross)


register_infinite(ContinuousBernoulli, (Pareto,))
register_infinite(Pareto, (Beta, ContinuousBernoulli, Uniform))
