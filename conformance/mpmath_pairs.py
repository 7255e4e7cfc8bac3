"""KL divergences of distribution pairs in mpmath at 50 digits: the oracles of the pair checks.

:data:`ORACLES` maps a (p, q) pair of family names to a scalar function of p's parameters then q's
(constructor order); :func:`oracle` applies one elementwise to broadcast float64 NumPy arrays.
Closed forms where they are exact, quadrature (``mpmath.quad``) where the pair has none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath as mp
import numpy as np

__all__ = ["DIGITS", "ORACLES", "dirichlet_oracle", "oracle"]

DIGITS = 50


def _lbeta(a: Any, b: Any) -> Any:
    return mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)


def _cb_density(probs: Any) -> Callable[[Any], Any]:
    lam = mp.mpf(probs)
    norm = 2 if lam == 0.5 else 2 * mp.atanh(1 - 2 * lam) / (1 - 2 * lam)
    return lambda x: norm * lam**x * (1 - lam) ** (1 - x)


def _quad_kl(p_density: Callable, q_density: Callable, support: list) -> Any:
    return mp.quad(lambda x: p_density(x) * mp.log(p_density(x) / q_density(x)), support)


def _log_density_kl(log_p: Callable, log_q: Callable, support: list) -> Any:
    return mp.quad(lambda x: mp.exp(log_p(x)) * (log_p(x) - log_q(x)), support)


def _uniform_density(low: Any, high: Any) -> Callable[[Any], Any]:
    low, high = mp.mpf(low), mp.mpf(high)
    return lambda x: 1 / (high - low) if low <= x <= high else mp.mpf(0)


def _bernoulli(p: Any, q: Any) -> Any:
    p, q = mp.mpf(p), mp.mpf(q)
    terms = [(p, q), (1 - p, 1 - q)]
    return sum((a * mp.log(a / b) if b > 0 else mp.inf) if a > 0 else 0 for a, b in terms)


def _kumaraswamy_beta(a: Any, b: Any, alpha: Any, beta: Any) -> Any:
    a, b, alpha, beta = (mp.mpf(v) for v in (a, b, alpha, beta))

    def log_complement(v: Any) -> Any:  # log(1 - X), X = (1 - v^(1/b))^(1/a)
        return mp.log(-mp.expm1(mp.log1p(-(v ** (1 / b))) / a))

    mean_log_complement = mp.quad(log_complement, [0, 0.5, 1])
    mean_log_y = -mp.euler - mp.digamma(b) - 1 / b
    return (
        (a - alpha) / a * mean_log_y + mp.log(a * b) + _lbeta(alpha, beta) - (b - 1) / b
        - (beta - 1) * mean_log_complement
    )  # fmt: skip


def _vonmises(loc_p: Any, kappa_p: Any, loc_q: Any, kappa_q: Any) -> Any:
    def density(loc: Any, kappa: Any) -> Callable[[Any], Any]:
        return lambda x: mp.exp(kappa * mp.cos(x - loc)) / (2 * mp.pi * mp.besseli(0, kappa))

    return _quad_kl(density(loc_p, kappa_p), density(loc_q, kappa_q), [-mp.pi, 0, mp.pi])


def _weibull(scale_p: Any, shape_p: Any, scale_q: Any, shape_q: Any) -> Any:
    def log_density(scale: Any, shape: Any) -> Callable[[Any], Any]:
        return lambda x: (
            mp.log(shape / scale) + (shape - 1) * mp.log(x / scale) - (x / scale) ** shape
        )

    support = [0, scale_p, mp.inf]
    return _log_density_kl(log_density(scale_p, shape_p), log_density(scale_q, shape_q), support)


def _chi2(df_p: Any, df_q: Any) -> Any:
    return _gamma(mp.mpf(df_p) / 2, 0.5, mp.mpf(df_q) / 2, 0.5)


def _gamma(ap: Any, bp: Any, aq: Any, bq: Any) -> Any:
    ap, bp, aq, bq = (mp.mpf(v) for v in (ap, bp, aq, bq))
    return (
        (ap - aq) * mp.digamma(ap) - mp.loggamma(ap) + mp.loggamma(aq)
        + aq * (mp.log(bp) - mp.log(bq)) + ap * (bq - bp) / bp
    )  # fmt: skip


def _beta(a1: Any, b1: Any, a2: Any, b2: Any) -> Any:
    a1, b1, a2, b2 = (mp.mpf(v) for v in (a1, b1, a2, b2))
    return (
        _lbeta(a2, b2) - _lbeta(a1, b1) + (a1 - a2) * mp.digamma(a1) + (b1 - b2) * mp.digamma(b1)
        + (a2 - a1 + b2 - b1) * mp.digamma(a1 + b1)
    )  # fmt: skip


def _poisson(rate_p: Any, rate_q: Any) -> Any:
    rate_p, rate_q = mp.mpf(rate_p), mp.mpf(rate_q)
    return rate_p * mp.log(rate_p / rate_q) - rate_p + rate_q


def _exponential(rate_p: Any, rate_q: Any) -> Any:
    ratio = mp.mpf(rate_q) / mp.mpf(rate_p)
    return ratio - 1 - mp.log(ratio)


def _cb_uniform(probs: Any, low: Any, high: Any) -> Any:
    if low > 0 or high < 1:
        return mp.inf
    return _quad_kl(_cb_density(probs), _uniform_density(low, high), [0, 1])


def _uniform_cb(low: Any, high: Any, probs: Any) -> Any:
    if low < 0 or high > 1:
        return mp.inf
    return _quad_kl(_uniform_density(low, high), _cb_density(probs), [low, high])


def _normal(loc_p: Any, scale_p: Any, loc_q: Any, scale_q: Any) -> Any:
    ratio = mp.mpf(scale_p) / mp.mpf(scale_q)
    distance = (mp.mpf(loc_p) - mp.mpf(loc_q)) / mp.mpf(scale_q)
    return (ratio**2 + distance**2 - 1 - mp.log(ratio**2)) / 2


def _gumbel(loc_p: Any, scale_p: Any, loc_q: Any, scale_q: Any) -> Any:
    def log_density(loc: Any, scale: Any) -> Callable[[Any], Any]:
        return lambda x: -mp.log(scale) - (x - loc) / scale - mp.exp(-(x - loc) / scale)

    support = [loc_p - 60 * scale_p, loc_p, loc_p + 60 * scale_p]
    return _log_density_kl(log_density(loc_p, scale_p), log_density(loc_q, scale_q), support)


def _laplace(loc_p: Any, scale_p: Any, loc_q: Any, scale_q: Any) -> Any:
    def log_density(loc: Any, scale: Any) -> Callable[[Any], Any]:
        return lambda x: -mp.log(2 * scale) - abs(x - loc) / scale

    support = sorted({loc_p - 80 * scale_p, loc_p, loc_q, loc_p + 80 * scale_p})
    return _log_density_kl(log_density(loc_p, scale_p), log_density(loc_q, scale_q), support)


#: scalar mpmath KL per pair (p's parameters then q's, in constructor order)
ORACLES: dict[tuple[str, str], Callable[..., Any]] = {
    ("Normal", "Normal"): _normal,
    ("Gumbel", "Gumbel"): _gumbel,
    ("Laplace", "Laplace"): _laplace,
    ("Bernoulli", "Bernoulli"): _bernoulli,
    ("Beta", "Beta"): _beta,
    ("Gamma", "Gamma"): _gamma,
    ("Exponential", "Exponential"): _exponential,
    ("Poisson", "Poisson"): _poisson,
    ("Chi2", "Chi2"): _chi2,
    ("Weibull", "Weibull"): _weibull,
    ("VonMises", "VonMises"): _vonmises,
    ("Kumaraswamy", "Beta"): _kumaraswamy_beta,
    ("ContinuousBernoulli", "Uniform"): _cb_uniform,
    ("Uniform", "ContinuousBernoulli"): _uniform_cb,
}


def dirichlet_oracle(alpha: np.ndarray, beta: np.ndarray) -> float:
    """KL(Dirichlet(alpha) ‖ Dirichlet(beta)) for one pair of concentration vectors (50 digits)."""
    with mp.workdps(DIGITS):
        a = [mp.mpf(v) for v in alpha]
        b = [mp.mpf(v) for v in beta]
        total_a, total_b = mp.fsum(a), mp.fsum(b)
        value = mp.loggamma(total_a) - mp.loggamma(total_b)
        value -= mp.fsum(mp.loggamma(x) - mp.loggamma(y) for x, y in zip(a, b, strict=True))
        value += mp.fsum(
            (x - y) * (mp.digamma(x) - mp.digamma(total_a)) for x, y in zip(a, b, strict=True)
        )
        return float(value)


def oracle(p_family: str, q_family: str) -> Callable[..., np.ndarray]:
    """The elementwise mpmath oracle of a pair, broadcasting its float64 parameter arrays."""
    scalar = ORACLES[p_family, q_family]

    def call(*arrays: np.ndarray, **_options: Any) -> np.ndarray:
        broadcast = np.broadcast_arrays(*arrays)
        out = np.empty(broadcast[0].shape)
        with mp.workdps(DIGITS):
            for index in np.ndindex(out.shape):
                out[index] = float(scalar(*(float(array[index]) for array in broadcast)))
        return out

    return call
