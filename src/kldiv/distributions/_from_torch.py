"""``torch.distributions`` objects as kldiv families, sharing their tensors.

torch is never imported here: a torch distribution is recognised by its class's module name, and
its parameters are read as attributes. A family converts to the kldiv class of the same name
with the same parameters: each declared parameter is read from the torch object, and of
alternative parameterisations (``probs``/``logits``, ``covariance_matrix``/``precision_matrix``/
``scale_tril``) the one the object was built with where torch records it, else ``scale_tril``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._docs import filled
from ._base import Distribution, Option, Param

__all__ = ["convert", "converter_raises", "from_torch", "is_torch_distribution", "kldiv_family"]


def is_torch_distribution(value: Any) -> bool:
    """True when ``value`` is an instance of a ``torch.distributions`` class."""
    return type(value).__module__.startswith("torch.distributions")


def kldiv_family(name: str) -> type[Distribution] | None:
    """kldiv's family class named ``name``, or None."""
    from kldiv import distributions

    family = getattr(distributions, name, None) if name in distributions.__all__ else None
    if isinstance(family, type) and issubclass(family, Distribution) and family is not Distribution:
        return family
    return None


def _held(dist: Any) -> dict[str, Any]:
    """The attributes ``dist`` holds, with those of the torch distributions it wraps (torch's
    ``OneHotCategorical`` holds its parameters in a ``Categorical``)."""
    held: dict[str, Any] = {}
    for value in vars(dist).values():
        if is_torch_distribution(value):
            held.update(vars(value))
    return held | vars(dist)


def _alternative(held: dict[str, Any], names: list[str]) -> str | None:
    """Which of the alternative parameters ``names`` to read: the one torch was given (its
    ``_param``), else ``scale_tril`` (from which torch computes the others), else the first
    held. torch computes the others on first read and keeps them, so several may be held."""
    candidates = [name for name in names if name in held]
    given = [name for name in candidates if held[name] is held.get("_param")]
    if given:
        return given[0]
    if "scale_tril" in candidates:
        return "scale_tril"
    return candidates[0] if candidates else None


def _parameters(dist: Any, family: type[Distribution]) -> dict[str, Any]:
    """The arguments of ``family`` read from the torch object ``dist``."""
    held = _held(dist)
    alternatives = [
        argument.name
        for argument in family._arguments
        if isinstance(argument, Param) and argument.alternative
    ]
    chosen = _alternative(held, alternatives)
    arguments: dict[str, Any] = {}
    for argument in family._arguments:
        name = argument.name
        if name in alternatives:
            if name == chosen:
                arguments[name] = held[name]
        elif isinstance(argument, Option):
            arguments[name] = held[name] if name in held else held[f"_{name}"]
        else:
            arguments[name] = getattr(dist, name)
    return arguments


def converter_raises(library: str, module: str) -> str:
    """The numpydoc Raises section of a converter from ``library``'s ``module`` objects."""
    return f"""Raises
------
NotImplementedError
    For a {library} family kldiv does not have (the message names it).
TypeError
    When ``dist`` is not a ``{module}`` object."""


@filled(raises=converter_raises("torch", "torch.distributions"))
def from_torch(dist: Any) -> Distribution:
    """The kldiv family equal to a ``torch.distributions`` object, sharing its tensors.

    Parameters
    ----------
    dist : torch.distributions.Distribution
        A family kldiv also has (same name and parameters), an ``Independent`` of one, or a
        ``MultivariateNormal`` (built from the parameterisation it holds, usually the one it was
        built with) or ``LowRankMultivariateNormal``.

    Returns
    -------
    Distribution
        The kldiv family with the same parameters: the same tensors, except where kldiv computes
        them (torch's ``Chi2`` holds ``concentration``, so ``df`` is computed from it; the
        categorical families normalise ``probs``, as torch does). Value checks follow the torch
        object's ``validate_args``.

    {raises}

    Examples
    --------
    >>> import torch
    >>> from kldiv.distributions import from_torch
    >>> from_torch(torch.distributions.Normal(torch.tensor([0.0, 1.0]), 2.0)).batch_shape
    (2,)
    """
    return convert(
        dist,
        "torch.distributions",
        is_torch_distribution(dist),
        type(dist).__name__,
        lambda family: _parameters(dist, family),
        from_torch,
    )


def convert(
    dist: Any,
    library: str,
    of_library: bool,
    name: str,
    arguments: Callable[[type[Distribution]], dict[str, Any]],
    recurse: Callable[[Any], Distribution],
) -> Distribution:
    """``dist``, an object of ``library``'s distributions (``of_library``), as the kldiv family
    ``name``.

    ``arguments(family)`` reads the family's constructor arguments from ``dist``; an
    ``Independent`` converts its base with ``recurse``. Value checks follow ``dist``'s
    ``validate_args``; a family kldiv lacks is a ``NotImplementedError`` naming it, an object
    of another library a ``TypeError``.
    """
    if not of_library:
        raise TypeError(
            f"dist must be a {library} object, got {type(dist).__module__}.{type(dist).__name__}"
        )
    validate_args = getattr(dist, "_validate_args", None)
    if name == "Independent":
        base = recurse(dist.base_dist)
        ndims = dist.reinterpreted_batch_ndims
        return kldiv_family(name)(base, ndims, validate_args=validate_args)  # type: ignore[misc]
    family = kldiv_family(name)
    if family is None:
        raise NotImplementedError(
            f"{library}.{type(dist).__name__} has no kldiv counterpart; the families kldiv "
            "converts are those of kldiv.distributions"
        )
    return family(**arguments(family), validate_args=validate_args)
