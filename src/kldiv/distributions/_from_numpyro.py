"""``numpyro.distributions`` objects as kldiv families, on their JAX arrays.

NumPyro is never imported here: its distributions are recognised by their class's module name
and read as attributes. NumPyro splits the families with two parameterisations into classes
(``BernoulliProbs``/``BernoulliLogits``, ...): the suffix says which parameter to read. A
``MultivariateNormal`` converts through its ``scale_tril``.
"""

from __future__ import annotations

from typing import Any

from .._docs import filled
from ._base import Distribution, Param
from ._from_torch import convert, converter_raises

__all__ = ["from_numpyro", "is_numpyro_distribution"]

_ALTERNATIVE_SUFFIXES = {"Probs": "probs", "Logits": "logits"}


def is_numpyro_distribution(value: Any) -> bool:
    """True when ``value`` is an instance of a ``numpyro.distributions`` class."""
    return type(value).__module__.startswith("numpyro.distributions")


def _family_and_alternative(class_name: str) -> tuple[str, str | None]:
    """kldiv's family name and the alternative parameter a NumPyro class name says."""
    for suffix, parameter in _ALTERNATIVE_SUFFIXES.items():
        if class_name.endswith(suffix):
            return class_name.removesuffix(suffix), parameter
    return class_name, "scale_tril" if class_name == "MultivariateNormal" else None


@filled(raises=converter_raises("NumPyro", "numpyro.distributions"))
def from_numpyro(dist: Any) -> Distribution:
    """The kldiv family equal to a ``numpyro.distributions`` object, sharing its arrays.

    Parameters
    ----------
    dist : numpyro.distributions.Distribution
        A family kldiv also has (``BernoulliProbs`` and ``BernoulliLogits`` are kldiv's
        ``Bernoulli``, and so on), an ``Independent`` of one, a ``MultivariateNormal`` (converted
        through its ``scale_tril``) or a ``LowRankMultivariateNormal``.

    Returns
    -------
    Distribution
        The kldiv family with the same parameters, as JAX arrays (the same arrays where NumPyro
        holds JAX arrays; NumPy ones are converted); value checks follow the NumPyro object's
        ``validate_args``.

    {raises}

    Examples
    --------
    >>> import numpyro.distributions as nd
    >>> from kldiv.distributions import from_numpyro, kl_divergence
    >>> p = from_numpyro(nd.Normal(0.0, 1.0))
    >>> float(kl_divergence(p, from_numpyro(nd.Normal(1.0, 1.0))))
    0.5
    """
    name, alternative = _family_and_alternative(type(dist).__name__)
    return convert(
        dist,
        "numpyro.distributions",
        is_numpyro_distribution(dist),
        name,
        lambda family: _parameters(dist, family, alternative),
        from_numpyro,
    )


def _parameters(dist: Any, family: type[Distribution], alternative: str | None) -> dict[str, Any]:
    """The array parameters of ``family`` read from ``dist`` as JAX arrays (NumPyro keeps some
    as NumPy arrays); of alternatives only ``alternative``. NumPyro has none of kldiv's
    options, so they keep their defaults."""
    import jax.numpy as jnp

    return {
        argument.name: jnp.asarray(getattr(dist, argument.name))
        for argument in family._arguments
        if isinstance(argument, Param)
        and (not argument.alternative or argument.name == alternative)
    }
