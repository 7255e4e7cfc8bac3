"""Expectations under one family that several pairs share: cross-entropies E_p[−log q(x)] as
functions of p's moments, and negative entropies −H(p).

KL(p ‖ q) = E_p[−log q] − H(p): a pair between two families combines p's moments and negative
entropy with q's cross-entropy. ContinuousBernoulli follows torch's formulas, with its Taylor
expansions inside ``lims``.
"""

from __future__ import annotations

import math

from .._array import Array, Namespace
from .._elementwise import HALF_LOG_2PI
from .._special import betaln, digamma, lgamma, softplus

__all__ = [
    "beta_negative_entropy",
    "cb_cross_entropy",
    "cb_entropy",
    "cb_moments",
    "exponential_cross_entropy",
    "gamma_cross_entropy",
    "gamma_negative_entropy",
    "gaussian_cross_entropy",
]


def gaussian_cross_entropy(
    xp: Namespace, mean: Array, variance: Array, loc: Array, scale: Array
) -> Array:
    """E_p[-log N(x; loc, scale)] = ½ log(2π scale²) + (variance + (mean - loc)²) / (2 scale²).

    ``mean`` and ``variance`` are p's moments: KL(p ‖ Normal) = this - H(p).
    """
    return HALF_LOG_2PI + xp.log(scale) + (variance + (mean - loc) ** 2) / (2 * scale * scale)


def exponential_cross_entropy(xp: Namespace, mean: Array, rate: Array) -> Array:
    """E_p[-log Exponential(x; rate)] = -log(rate) + rate·E_p[x], for p on [0, inf)."""
    return rate * mean - xp.log(rate)


def gamma_cross_entropy(
    xp: Namespace, mean: Array, mean_log: Array, concentration: Array, rate: Array
) -> Array:
    """E_p[-log Gamma(x; α, β)] = lgamma(α) - α log β - (α - 1)·E_p[log x] + β·E_p[x]."""
    return (
        lgamma(xp, concentration)
        - concentration * xp.log(rate)
        - (concentration - 1) * mean_log
        + rate * mean
    )


def gamma_negative_entropy(xp: Namespace, shape: Array, rate: Array) -> Array:
    """-H(Gamma(α, β)) = -α + log β - lgamma(α) + (α - 1)ψ(α)."""
    return -shape + xp.log(rate) - lgamma(xp, shape) + (shape - 1) * digamma(xp, shape)


def beta_negative_entropy(xp: Namespace, alpha: Array, beta: Array) -> Array:
    """-H(Beta(α, β)) = -log B(α, β) + (α - 1)ψ(α) + (β - 1)ψ(β) - (α + β - 2)ψ(α + β)."""
    total = alpha + beta
    return (
        -betaln(xp, alpha, beta)
        + (alpha - 1) * digamma(xp, alpha)
        + (beta - 1) * digamma(xp, beta)
        - (total - 2) * digamma(xp, total)
    )


def _cb_cut(xp: Namespace, probs: Array, logits: Array, lims: tuple[float, float]) -> tuple:
    """(outside the unstable region, probs and logits cut to lims[0] inside it)."""
    outside = (probs <= lims[0]) | (probs > lims[1])
    cut_probs = xp.where(outside, probs, xp.full_like(probs, lims[0]))
    cut_logits = xp.where(outside, logits, xp.full_like(logits, math.log(lims[0] / (1 - lims[0]))))
    return outside, cut_probs, cut_logits


def cb_log_norm(xp: Namespace, probs: Array, logits: Array, lims: tuple[float, float]) -> Array:
    """log C(λ), C = 2 artanh(1 - 2λ) / (1 - 2λ).

    Inside torch's ``lims`` the Taylor form log 2 + (4/3 + 104/45 x) x, x = (λ - ½)².
    """
    outside, cut, cut_logits = _cb_cut(xp, probs, logits, lims)
    below = cut <= 0.5
    denominator = xp.where(
        below,
        xp.log1p(-2.0 * xp.where(below, cut, xp.zeros_like(cut))),
        xp.log(2.0 * xp.where(below, xp.ones_like(cut), cut) - 1.0),
    )
    exact = xp.log(xp.abs(cut_logits)) - denominator
    x = (probs - 0.5) ** 2
    return xp.where(outside, exact, math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x)


def cb_moments(
    xp: Namespace, probs: Array, logits: Array, lims: tuple[float, float]
) -> tuple[Array, Array]:
    """(mean, variance) of ContinuousBernoulli(λ): λ/(2λ - 1) + 1/logit-gap and its variance."""
    outside, cut, cut_logits = _cb_cut(xp, probs, logits, lims)
    mean = cut / (2.0 * cut - 1.0) - 1.0 / cut_logits
    variance = cut * (cut - 1.0) / (1.0 - 2.0 * cut) ** 2 + 1.0 / cut_logits**2
    x = probs - 0.5
    mean_taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x**2) * x
    variance_taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x**2) * x**2
    return xp.where(outside, mean, mean_taylor), xp.where(outside, variance, variance_taylor)


def cb_cross_entropy(
    xp: Namespace, mean: Array, probs: Array, logits: Array, lims: tuple[float, float]
) -> Array:
    """E_p[-log CB(x; λ)] = -E_p[x]·logit(λ) - log(1 - λ) - log C(λ), for p on [0, 1]."""
    log_failure = -softplus(xp, logits)
    return -mean * logits - log_failure - cb_log_norm(xp, probs, logits, lims)


def cb_entropy(xp: Namespace, probs: Array, logits: Array, lims: tuple[float, float]) -> Array:
    """H(CB(λ)) = E[-log CB(x; λ)] under itself."""
    mean, _ = cb_moments(xp, probs, logits, lims)
    return cb_cross_entropy(xp, mean, probs, logits, lims)
