"""Closed-form KL divergences between parametric families, on arrays of any array-API library.

Families are named and parameterised as in ``torch.distributions``; :func:`kl_divergence` picks
the most specific registered pair; :func:`register_kl` adds users' own. Every pair torch
registers is here, with torch's values where torch is right, plus pairs torch lacks.

>>> import array_api_strict as xp
>>> from kldiv.distributions import Normal, kl_divergence
>>> kl_divergence(Normal(xp.asarray(0.0), 1.0), Normal(xp.asarray(1.0), 1.0))
Array(0.5, dtype=array_api_strict.float64)
"""

from . import _bounded, _discrete, _gamma_beta, _independent, _normal, _vonmises
from ._families import (
    Bernoulli,
    Beta,
    Binomial,
    Categorical,
    Cauchy,
    Chi2,
    ContinuousBernoulli,
    Dirichlet,
    Distribution,
    Exponential,
    Gamma,
    Geometric,
    Gumbel,
    HalfNormal,
    Independent,
    Kumaraswamy,
    Laplace,
    LogNormal,
    LowRankMultivariateNormal,
    MultivariateNormal,
    Normal,
    OneHotCategorical,
    Pareto,
    Poisson,
    Uniform,
    VonMises,
    Weibull,
)
from ._registry import kl_divergence, register_kl

del _bounded, _discrete, _gamma_beta, _independent, _normal, _vonmises

__all__ = [
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Cauchy",
    "Chi2",
    "ContinuousBernoulli",
    "Dirichlet",
    "Distribution",
    "Exponential",
    "Gamma",
    "Geometric",
    "Gumbel",
    "HalfNormal",
    "Independent",
    "Kumaraswamy",
    "Laplace",
    "LogNormal",
    "LowRankMultivariateNormal",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "Pareto",
    "Poisson",
    "Uniform",
    "VonMises",
    "Weibull",
    "kl_divergence",
    "register_kl",
]
