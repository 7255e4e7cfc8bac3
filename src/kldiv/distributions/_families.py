"""Continuous families with scalar events, named and parameterised as in ``torch.distributions``.

Each family is its parameters' declarations (:mod:`._base`); every constructor also takes the
keyword ``validate_args``. Parameters may be arrays of any array-API library, Python numbers or
lists (float64 NumPy when no parameter is an array); batch shapes broadcast.
"""

from __future__ import annotations

from .._array import Array
from ._base import Distribution, Param, greater_than, positive, real

__all__ = [
    "Beta",
    "Cauchy",
    "Chi2",
    "Exponential",
    "Gamma",
    "Gumbel",
    "HalfNormal",
    "Kumaraswamy",
    "Laplace",
    "LogNormal",
    "Normal",
    "Pareto",
    "Uniform",
    "VonMises",
    "Weibull",
]


class Normal(Distribution):
    """Normal(loc, scale): density exp(−(x − loc)²/(2·scale²)) / (scale·√(2π)).

    >>> kl_divergence(Normal(xp.asarray(0.0), 1.0), Normal(xp.asarray(1.0), 1.0))
    Array(0.5, dtype=array_api_strict.float64)
    """

    loc = Param(real, doc="Mean (real).")
    scale = Param(positive, doc="Standard deviation (> 0).")


class LogNormal(Distribution):
    """LogNormal(loc, scale): exp(X) for X ~ Normal(loc, scale).

    >>> kl_divergence(LogNormal(xp.asarray(0.0), 1.0), LogNormal(xp.asarray(1.0), 1.0))
    Array(0.5, dtype=array_api_strict.float64)
    """

    loc = Param(real, doc="Mean of log x (real).")
    scale = Param(positive, doc="Standard deviation of log x (> 0).")


class Laplace(Distribution):
    """Laplace(loc, scale): density ``exp(−|x − loc|/scale) / (2·scale)``.

    >>> kl_divergence(Laplace(xp.asarray(0.0), 1.0), Laplace(xp.asarray(1.0), 1.0))
    Array(0.36787944, dtype=array_api_strict.float64)
    """

    loc = Param(real, doc="Location (real).")
    scale = Param(positive, doc="Scale (> 0).")


class Cauchy(Distribution):
    """Cauchy(loc, scale): density 1 / (π·scale·(1 + ((x − loc)/scale)²)).

    >>> kl_divergence(Cauchy(xp.asarray(0.0), 1.0), Cauchy(xp.asarray(2.0), 1.0))
    Array(0.69314718, dtype=array_api_strict.float64)
    """

    loc = Param(real, doc="Median (real).")
    scale = Param(positive, doc="Half width at half maximum (> 0).")


class Gumbel(Distribution):
    """Gumbel(loc, scale): density exp(−(z + e^(−z))) / scale, z = (x − loc)/scale.

    >>> kl_divergence(Gumbel(xp.asarray(0.0), 1.0), Gumbel(xp.asarray(0.0), 1.0))
    Array(0., dtype=array_api_strict.float64)
    """

    loc = Param(real, doc="Mode (real).")
    scale = Param(positive, doc="Scale (> 0).")


class HalfNormal(Distribution):
    """HalfNormal(scale): ``|X|`` for X ~ Normal(0, scale).

    >>> kl_divergence(HalfNormal(xp.asarray(1.0)), HalfNormal(xp.asarray(2.0)))
    Array(0.31814718, dtype=array_api_strict.float64)
    """

    scale = Param(positive, doc="Scale of the underlying normal (> 0).")


class Exponential(Distribution):
    """Exponential(rate): density rate·exp(−rate·x) on x ≥ 0.

    >>> kl_divergence(Exponential(xp.asarray(1.0)), Exponential(xp.asarray(2.0)))
    Array(0.30685282, dtype=array_api_strict.float64)
    """

    rate = Param(positive, doc="Rate, 1 / mean (> 0).")


class Gamma(Distribution):
    """Gamma(concentration, rate): density ∝ x^(concentration − 1)·exp(−rate·x) on x > 0.

    >>> kl_divergence(Gamma(xp.asarray(2.0), 1.0), Gamma(xp.asarray([2.0, 3.0]), 2.0))
    Array([0.61370564, 0.1909213 ], dtype=array_api_strict.float64)
    """

    concentration = Param(positive, doc="Shape α (> 0).")
    rate = Param(positive, doc="Rate β (> 0).")


class Chi2(Gamma):
    """Chi2(df) = Gamma(df/2, 1/2); a :class:`Gamma` subclass as in torch, so Gamma pairs apply.

    >>> kl_divergence(Chi2(xp.asarray(2.0)), Exponential(xp.asarray(0.5)))
    Array(0., dtype=array_api_strict.float64)
    """

    df = Param(positive, doc="Degrees of freedom (> 0).")

    def _derive(self, name: str) -> Array:
        if name == "concentration":
            return 0.5 * self.df
        if name == "rate":
            return self.context.asarray(0.5)
        return super()._derive(name)


class Beta(Distribution):
    """Beta(concentration1, concentration0): density ∝ x^(c1 − 1)·(1 − x)^(c0 − 1) on [0, 1].

    >>> kl_divergence(Beta(xp.asarray(2.0), 2.0), Beta(xp.asarray(1.0), 1.0))
    Array(0.1250928, dtype=array_api_strict.float64)
    """

    concentration1 = Param(positive, doc="α, the exponent of x (> 0).")
    concentration0 = Param(positive, doc="β, the exponent of 1 − x (> 0).")


class Kumaraswamy(Distribution):
    """Kumaraswamy(concentration1, concentration0): density a·b·x^(a−1)·(1 − x^a)^(b−1) on [0, 1].

    >>> kl_divergence(Kumaraswamy(xp.asarray(1.0), 1.0), Beta(xp.asarray(1.0), 1.0))
    Array(0., dtype=array_api_strict.float64)
    """

    concentration1 = Param(positive, doc="a (> 0).")
    concentration0 = Param(positive, doc="b (> 0).")


class Pareto(Distribution):
    """Pareto(scale, alpha): density alpha·scale^alpha / x^(alpha + 1) on x ≥ scale.

    >>> kl_divergence(Pareto(xp.asarray(1.0), 2.0), Pareto(xp.asarray([1.0, 2.0]), 2.0))
    Array([ 0., inf], dtype=array_api_strict.float64)
    """

    scale = Param(positive, doc="Lower end of the support (> 0).")
    alpha = Param(positive, doc="Tail index (> 0).")


class Uniform(Distribution):
    """Uniform(low, high): density 1 / (high − low) on [low, high).

    >>> kl_divergence(Uniform(xp.asarray(0.0), 1.0), Uniform(xp.asarray(0.0), 2.0))
    Array(0.69314718, dtype=array_api_strict.float64)
    """

    low = Param(real, doc="Lower end (real).")
    high = Param(greater_than("low"), doc="Upper end (> low).")


class Weibull(Distribution):
    """Weibull(scale, concentration): density (k/λ)(x/λ)^(k−1)·exp(−(x/λ)^k) on x ≥ 0.

    >>> kl_divergence(Weibull(xp.asarray(1.0), 1.0), Weibull(xp.asarray(2.0), 1.0))
    Array(0.19314718, dtype=array_api_strict.float64)
    """

    scale = Param(positive, doc="λ (> 0).")
    concentration = Param(positive, doc="k (> 0).")


class VonMises(Distribution):
    """VonMises(loc, concentration): density exp(κ·cos(x − loc)) / (2π·I₀(κ)) on the circle.

    >>> kl_divergence(VonMises(xp.asarray(0.0), 2.0), VonMises(xp.asarray(0.0), 2.0))
    Array(0., dtype=array_api_strict.float64)
    """

    loc = Param(real, doc="Mean direction (real, radians).")
    concentration = Param(positive, doc="κ (> 0).")
