"""KL pairs with a discrete p: Bernoulli, Binomial, Geometric, Categorical, Poisson.

Terms with no mass contribute 0 and q = 0 where p > 0 gives +inf, through ``where`` (never
``result[mask] = inf``), so p and q may have different batch shapes that broadcast — torch raises
``IndexError`` there.

>>> import array_api_strict as xp
>>> from kldiv.distributions import Bernoulli, kl_divergence
>>> kl_divergence(Bernoulli(xp.asarray([0.5, 0.0])), Bernoulli(xp.asarray([[0.25], [0.0]])))
Array([[0.14384104, 0.28768207],
       [       inf, 0.        ]], dtype=array_api_strict.float64)
"""

from __future__ import annotations

from .._array import Array, Namespace
from .._elementwise import identity_minus_log1p, replace_where, where_inf, xlogy
from .._special import softplus
from .._validate import any_value, resolve_validate_args
from ._base import Distribution
from ._binary_families import Bernoulli, Binomial, Geometric, Poisson
from ._multivariate import Categorical, OneHotCategorical
from ._registry import register_infinite, register_kl

__all__: list[str] = []


def _binary_term(xp: Namespace, weight: Array, log_p: Array, log_q: Array, q_empty: Array) -> Array:
    """weight·(log_p - log_q): 0 where weight = 0, +inf where q's outcome is impossible."""
    no_mass = weight == 0
    impossible = q_empty & ~no_mass
    safe = no_mass | impossible
    difference = replace_where(xp, safe, 0.0, log_p) - replace_where(xp, safe, 0.0, log_q)
    return where_inf(xp, impossible, weight * difference)


def _bernoulli_kl(
    xp: Namespace, probs_p: Array, logits_p: Array, probs_q: Array, logits_q: Array
) -> Array:
    """p log(p/q) + (1 - p) log((1 - p)/(1 - q)), with log p = -softplus(-logit) (torch's form)."""
    success = _binary_term(
        xp, probs_p, -softplus(xp, -logits_p), -softplus(xp, -logits_q), probs_q == 0
    )
    failure = _binary_term(
        xp, 1 - probs_p, -softplus(xp, logits_p), -softplus(xp, logits_q), probs_q == 1
    )
    return success + failure


def _binary_params(p: Distribution, q: Distribution) -> list[Array]:
    return [p.probs, p.logits, q.probs, q.logits]  # type: ignore[attr-defined]


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Array:
    return _bernoulli_kl(p.xp, *_binary_params(p, q))


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p: Geometric, q: Geometric) -> Array:
    """KL = KL(Bernoulli(p) ‖ Bernoulli(q)) / p: one Bernoulli trial per expected trial."""
    params = _binary_params(p, q)
    return _bernoulli_kl(p.xp, *params) / params[0]


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p: Binomial, q: Binomial) -> Array:
    """n·KL(Bernoulli(p) ‖ Bernoulli(q)) for equal counts n; +inf when p.total_count > q's.

    q.total_count > p.total_count has no closed form: ``NotImplementedError`` as in torch when
    values are checked (``validate_args``, eager arrays), NaN otherwise.
    """
    xp = p.xp
    count_p, count_q = p.total_count, q.total_count
    validating = resolve_validate_args(p.validate_args, "distributions")
    if validating and any_value(xp, count_p < count_q):
        raise NotImplementedError(
            "KL between Binomials where q.total_count > p.total_count is not implemented"
        )
    per_trial = _bernoulli_kl(xp, *_binary_params(p, q))
    kl = xp.where(count_p < count_q, xp.full_like(per_trial, xp.nan), count_p * per_trial)
    return where_inf(xp, count_p > count_q, kl)


@register_kl(Categorical, Categorical)
@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Array:
    """Σ_k p_k (log p_k - log q_k) over the last axis; same number of categories required."""
    if p.num_categories != q.num_categories:
        raise ValueError(
            f"{type(p).__name__} and {type(q).__name__} must have the same number of categories; "
            f"got {p.num_categories} and {q.num_categories}"
        )
    xp = p.xp
    terms = _binary_term(xp, p.probs, p.logits, q.logits, q.probs == 0)
    return xp.sum(terms, axis=-1)


def _poisson_kl(xp: Namespace, rate_p: Array, rate_q: Array) -> Array:
    """rate_p log(rate_p / rate_q) - rate_p + rate_q = rate_q·f(u), u = rate_p / rate_q - 1.

    f(u) = (1 + u) log1p(u) - u = u·log1p(u) - (u - log1p(u)): two accurate positive terms, no
    catastrophic cancellation near rate_p ≈ rate_q. rate_p = 0 gives rate_q; rate_q = 0 < rate_p
    gives +inf.
    """
    p_zero = rate_p == 0
    q_zero = rate_q == 0
    safe_q = replace_where(xp, q_zero, 1.0, rate_q)
    u = replace_where(xp, p_zero | q_zero, 0.0, (rate_p - safe_q) / safe_q)
    divergence = safe_q * (u * xp.log1p(u) - identity_minus_log1p(xp, u))
    divergence = xp.where(p_zero, rate_q + xp.zeros_like(divergence), divergence)
    return where_inf(xp, q_zero & ~p_zero, divergence)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p: Poisson, q: Poisson) -> Array:
    return _poisson_kl(p.xp, p.rate, q.rate)


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p: Bernoulli, q: Poisson) -> Array:
    """-H(p) - E_p[log Poisson(x; λ)] = p log p + (1 - p) log(1 - p) - p log λ + λ."""
    xp = p.xp
    probs, rate = p.probs, q.rate
    negative_entropy = xlogy(xp, probs, probs) + xlogy(xp, 1 - probs, 1 - probs)
    log_rate = xp.log(replace_where(xp, rate == 0, 1.0, rate))
    cross = _binary_term(xp, probs, xp.zeros_like(log_rate), log_rate, rate == 0)
    return negative_entropy + cross + rate


register_infinite(Poisson, (Bernoulli, Binomial))
