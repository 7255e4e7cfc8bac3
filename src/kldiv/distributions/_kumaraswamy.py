"""KL(Kumaraswamy(a, b) ‖ Beta(α, β)), a pair torch lacks.

Nalisnick & Smyth (2017, "Stick-breaking variational autoencoders", appendix) give

    KL = (a - α)/a · (-γ - ψ(b) - 1/b) + log(ab) + log B(α, β) - (b - 1)/b
         + (β - 1)·b·Σ_{m≥1} B(m/a, b) / (m + ab),

where the series is -E[log(1 - X)], X ~ Kumaraswamy(a, b). Its terms decay like m^(-1-b): the
truncations used in practice (10 terms) are off by ~1e-2, and 1e-10 would take ~1e10 terms at
b = 1. So the same expectation is evaluated as an integral over the inverse CDF,
E[log(1 - X)] = ∫₀¹ log(1 - (1 - v^(1/b))^(1/a)) dv, by tanh-sinh quadrature on 73 fixed
nodes (step 1/8, |t| <= 4.5), computed in log space so both singular ends are exact. Measured
against mpmath (50 digits): relative error < 1e-13 for a, b in [0.5, 100], < 3e-11 down to
a, b = 0.05 (``tests/test_distributions_other.py``).

>>> import array_api_strict as xp
>>> from kldiv.distributions import Beta, Kumaraswamy, kl_divergence
>>> kl_divergence(Kumaraswamy(xp.asarray(1.0), 1.0), Beta(xp.asarray(1.0), 1.0))
Array(0., dtype=array_api_strict.float64)
"""

from __future__ import annotations

import math
from functools import cache

from .._array import Array, Namespace
from .._elementwise import EULER_GAMMA, log1mexp_from_log
from .._special import betaln, digamma
from ._families import Beta, Kumaraswamy
from ._registry import register_kl

__all__: list[str] = []

_STEP = 0.125
_HALF_WIDTH = 4.5


@cache
def _nodes() -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(log v_k, w_k): tanh-sinh nodes v = sigmoid(π sinh t) on (0, 1) and their weights."""
    log_nodes, weights = [], []
    count = round(_HALF_WIDTH / _STEP)
    for k in range(-count, count + 1):
        t = k * _STEP
        s = math.pi * math.sinh(t)
        decay = math.exp(-abs(s))
        log_nodes.append(-math.log1p(math.exp(-s)) if s > 0 else s - math.log1p(math.exp(s)))
        weights.append(_STEP * math.pi * math.cosh(t) * decay / (1.0 + decay) ** 2)
    return tuple(log_nodes), tuple(weights)


def _mean_log_complement(xp: Namespace, a: Array, b: Array, device: object) -> Array:
    """E[log(1 - X)] for X ~ Kumaraswamy(a, b), by quadrature over X = (1 - v^(1/b))^(1/a).

    log(1 - X) = log(1 - e^{-t}), t = -log(1 - v^(1/b)) / a, with log t computed directly.
    """
    log_nodes, weights = _nodes()
    dtype = a.dtype
    log_v = xp.asarray(log_nodes, dtype=dtype, device=device)
    weight = xp.asarray(weights, dtype=dtype, device=device)
    log_w = log_v / xp.expand_dims(b, axis=-1)  # log v^(1/b)
    tiny = log_w < -20.0  # -log(1 - w) = w + w²/2 + …
    safe_log_w = xp.where(tiny, xp.full_like(log_w, -1.0), log_w)
    log_minus_log1m_w = xp.where(
        tiny, log_w + xp.exp(log_w) / 2, xp.log(-xp.log(-xp.expm1(safe_log_w)))
    )
    log_t = log_minus_log1m_w - xp.expand_dims(xp.log(a), axis=-1)
    return xp.sum(weight * log1mexp_from_log(xp, log_t), axis=-1)


@register_kl(Kumaraswamy, Beta)
def _kl_kumaraswamy_beta(p: Kumaraswamy, q: Beta) -> Array:
    xp = p.xp
    a, b, alpha, beta = xp.broadcast_arrays(
        p.concentration1, p.concentration0, q.concentration1, q.concentration0
    )
    mean_log_y = -EULER_GAMMA - digamma(xp, b) - 1.0 / b  # E[log X^a], X^a ~ Beta(1, b)
    return (
        (a - alpha) / a * mean_log_y
        + xp.log(a * b)
        + betaln(xp, alpha, beta)
        - (b - 1) / b
        - (beta - 1) * _mean_log_complement(xp, a, b, p.context.device)
    )
