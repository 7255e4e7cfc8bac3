"""Closed-form KL divergences between parametric families, on arrays of any array-API library.

Families are named and parameterised as in ``torch.distributions``; :func:`kl_divergence` picks
the most specific registered pair (it also takes ``torch.distributions`` objects, converted by
:func:`from_torch`, :func:`from_numpyro`); :func:`register_kl` adds users' own. Every pair torch
registers is here, with torch's values where torch is right, plus pairs torch lacks.

Precision: every pair computes in float64 where the library has it on the parameters' device
(float32 parameters are converted once, per call), and :func:`kl_divergence` returns the
parameters' common dtype. Closed forms of KL are differences of O(1) terms whose result is
``O(|p − q|²)``: float32 arithmetic would lose every digit near p ≈ q (torch returns
KL(Beta(500, 500) ‖ Beta(501, 500)) < 0 in float32). Where the library has no float64 on the
device (some accelerators, JAX without x64), pairs compute in the parameters' dtype.

>>> import array_api_strict as xp
>>> from kldiv.distributions import Normal, kl_divergence
>>> kl_divergence(Normal(xp.asarray(0.0), 1.0), Normal(xp.asarray(1.0), 1.0))
Array(0.5, dtype=array_api_strict.float64)
"""

# The pair modules register their pairs on import.
from . import _bounded, _discrete, _gamma_beta, _independent, _kumaraswamy, _normal, _vonmises
from ._base import Distribution
from ._binary_families import Bernoulli, Binomial, ContinuousBernoulli, Geometric, Poisson
from ._families import (
    Beta,
    Cauchy,
    Chi2,
    Exponential,
    Gamma,
    Gumbel,
    HalfNormal,
    Kumaraswamy,
    Laplace,
    LogNormal,
    Normal,
    Pareto,
    Uniform,
    VonMises,
    Weibull,
)
from ._from_numpyro import from_numpyro
from ._from_torch import from_torch
from ._multivariate import (
    Categorical,
    Dirichlet,
    Independent,
    LowRankMultivariateNormal,
    MultivariateNormal,
    OneHotCategorical,
)
from ._registry import kl_divergence, register_kl

del _bounded, _discrete, _gamma_beta, _independent, _kumaraswamy, _normal, _vonmises

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
    "from_numpyro",
    "from_torch",
    "kl_divergence",
    "register_kl",
]
