"""Families of a success probability (``probs=`` or ``logits=``) and of counts: Bernoulli,
Geometric, Binomial, ContinuousBernoulli, Poisson, as in ``torch.distributions``.

``probs`` and ``logits = log(probs / (1 − probs))`` are alternatives: exactly one is given, the
other is derived from it on first read.
"""

from __future__ import annotations

from .._array import Array
from .._elementwise import binary_logits, sigmoid
from ._base import (
    Constraint,
    Distribution,
    Option,
    Param,
    nonnegative,
    nonnegative_integer,
    real,
    unit_interval,
)

__all__ = ["Bernoulli", "Binomial", "ContinuousBernoulli", "Geometric", "Poisson"]

#: The description of ``probs`` and ``logits`` (one entry), for a success probability in ``{}``.
SUCCESS = "Success probability in {}, or its log-odds; give exactly one."


class _SuccessProbability(Distribution):
    """A family whose ``probs`` and ``logits`` are alternatives."""

    probs: Array
    logits: Array

    def _derive(self, name: str) -> Array:
        if name == "logits":
            return binary_logits(self.xp, self.probs)
        if name == "probs":
            return sigmoid(self.xp, self.logits)
        return super()._derive(name)


class Bernoulli(_SuccessProbability):
    """Bernoulli(probs=|logits=): P(X = 1) = probs = sigmoid(logits).

    >>> kl_divergence(Bernoulli(xp.asarray([0.5, 0.0])), Bernoulli(xp.asarray([[0.25], [0.0]])))
    Array([[0.14384104, 0.28768207],
           [       inf, 0.        ]], dtype=array_api_strict.float64)
    """

    probs = Param(unit_interval, alternative=True, doc=SUCCESS.format("[0, 1]"))
    logits = Param(real, alternative=True, doc=SUCCESS.format("[0, 1]"))


class Geometric(_SuccessProbability):
    """Geometric(probs=|logits=): the number of failures before the first success.

    >>> kl_divergence(Geometric(xp.asarray(0.5)), Geometric(xp.asarray(0.5)))
    Array(0., dtype=array_api_strict.float64)
    """

    probs = Param(
        Constraint("in (0, 1]", lambda xp, value, dist: (value > 0) & (value <= 1)),
        alternative=True,
        doc=SUCCESS.format("(0, 1]"),
    )
    logits = Param(real, alternative=True, doc=SUCCESS.format("(0, 1]"))


class Binomial(_SuccessProbability):
    """Binomial(total_count, probs=|logits=): successes in ``total_count`` independent trials.

    >>> kl_divergence(Binomial(10, xp.asarray(0.5)), Binomial(10, xp.asarray(0.5)))
    Array(0., dtype=array_api_strict.float64)
    """

    total_count = Param(
        nonnegative_integer,
        default=1,
        doc="Number of trials (a non-negative integer).",
        kind="array or int, default 1",
    )
    probs = Param(unit_interval, alternative=True, doc=SUCCESS.format("[0, 1]"))
    logits = Param(real, alternative=True, doc=SUCCESS.format("[0, 1]"))


class ContinuousBernoulli(_SuccessProbability):
    """ContinuousBernoulli(probs=|logits=, lims): density C(λ)·λ^x·(1 − λ)^(1 − x) on [0, 1].

    >>> kl_divergence(ContinuousBernoulli(xp.asarray(0.2)), Uniform(0.0, xp.asarray([1.0, 0.5])))
    Array([0.07641445,        inf], dtype=array_api_strict.float64)
    """

    probs = Param(unit_interval, alternative=True, doc="λ in [0, 1].")
    logits = Param(
        real,
        alternative=True,
        doc="log(λ / (1 − λ)) (real); give exactly one of ``probs`` and ``logits``.",
    )
    lims = Option(
        (0.499, 0.501),
        doc="torch's interval around ½ where the formulas switch to a Taylor expansion.",
        kind="tuple of float, default (0.499, 0.501)",
    )


class Poisson(Distribution):
    """Poisson(rate): P(X = k) = rate^k·exp(−rate) / k!.

    >>> kl_divergence(Poisson(xp.asarray(1.0)), Poisson(xp.asarray([1.0, 2.0])))
    Array([0.        , 0.30685282], dtype=array_api_strict.float64)
    """

    rate = Param(nonnegative, doc="Mean (≥ 0).")
