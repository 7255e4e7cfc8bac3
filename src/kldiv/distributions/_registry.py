"""The registry of closed-form KL pairs and the dispatch of :func:`kl_divergence`.

Dispatch picks the most specific registered pair by distance in the method resolution order, as
torch does. A pair function ``kl(p, q)`` reads the families' parameters and returns KL(p ‖ q) with
shape ``broadcast(p.batch_shape, q.batch_shape)``. The dispatcher checks that ``p`` and ``q``
share a library and a device, hands the pair both families in the working dtype (float64 where
the library has it on that device, see :mod:`kldiv.distributions`) and casts the result to the
parameters' common dtype.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from .._array import Array, Context, broadcast_shapes, ignore_fp_warnings
from ._base import Distribution
from ._from_numpyro import from_numpyro, is_numpyro_distribution
from ._from_torch import from_torch, is_torch_distribution

__all__ = [
    "check_event_shapes",
    "infinite_pair",
    "joint_shape",
    "kl_divergence",
    "register_infinite",
    "register_kl",
]

PairFunction = Callable[[Any, Any], Array]
_REGISTRY: dict[tuple[type, type], PairFunction] = {}


def register_kl(type_p: type, type_q: type) -> Callable[[PairFunction], PairFunction]:
    """Decorator registering ``kl(p, q)`` for ``p`` of ``type_p`` and ``q`` of ``type_q``.

    Subclasses match too; the most specific registration wins (nearest in both method
    resolution orders, as in torch). Re-registering a pair replaces it. The function receives
    both families with parameters in the working dtype (see :mod:`kldiv.distributions`) and
    returns KL(p ‖ q) with the broadcast batch shape.

    Parameters
    ----------
    type_p : type
        The family of ``p``: a subclass of :class:`Distribution`.
    type_q : type
        The family of ``q``: a subclass of :class:`Distribution`.

    Returns
    -------
    callable
        A decorator that registers the function and returns it unchanged.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from kldiv.distributions import Normal, kl_divergence
    >>> class Unit(Normal): ...
    >>> @register_kl(Unit, Unit)
    ... def _kl_unit(p, q):
    ...     return (p.loc - q.loc) ** 2 / 2
    >>> kl_divergence(Unit(xp.asarray(1.0), 1.0), Unit(xp.asarray(0.0), 1.0))
    Array(0.5, dtype=array_api_strict.float64)
    """
    for role, kind in (("type_p", type_p), ("type_q", type_q)):
        if not (isinstance(kind, type) and issubclass(kind, Distribution)):
            raise TypeError(f"{role} must be a subclass of kldiv.distributions.Distribution")

    def decorator(function: PairFunction) -> PairFunction:
        _REGISTRY[type_p, type_q] = function
        _dispatch.cache_clear()
        return function

    return decorator


def register_infinite(type_p: type, types_q: Iterable[type]) -> None:
    """Register KL = +inf from ``type_p`` to each of ``types_q`` (q misses part of p's support)."""
    for type_q in types_q:
        register_kl(type_p, type_q)(infinite_pair)


def joint_shape(p: Distribution, q: Distribution) -> tuple[int, ...]:
    """The broadcast of the two batch shapes: the shape of KL(p ‖ q)."""
    return broadcast_shapes(p=p.batch_shape, q=q.batch_shape)  # type: ignore[return-value]


def infinite_pair(p: Distribution, q: Distribution) -> Array:
    """+inf with the joint batch shape: the KL when q is 0 where p has mass."""
    context = p.context
    return context.xp.full(
        joint_shape(p, q), float("inf"), dtype=context.compute_dtype, device=context.device
    )


@cache
def _dispatch(type_p: type, type_q: type) -> PairFunction | None:
    """The registered pair nearest to ``(type_p, type_q)`` in their MROs, as torch picks it."""
    matches = [
        (type_p.__mro__.index(super_p), type_q.__mro__.index(super_q), function)
        for (super_p, super_q), function in _REGISTRY.items()
        if issubclass(type_p, super_p) and issubclass(type_q, super_q)
    ]
    if not matches:
        return None
    return min(matches, key=lambda match: (match[0], match[1]))[2]


def check_event_shapes(p: Distribution, q: Distribution) -> None:
    """``ValueError`` naming both families unless their event shapes are equal."""
    if p.event_shape != q.event_shape:
        raise ValueError(
            f"KL between {type(p).__name__} and {type(q).__name__} needs equal event shapes; "
            f"got {p.event_shape} and {q.event_shape}"
        )


def _joint_context(p: Distribution, q: Distribution) -> Context:
    """The context of the pair: one library and one device (``TypeError`` / ``ValueError``
    naming p and q), the parameters' common dtype, and the working dtype to compute in."""
    xp = p.xp
    if q.xp is not xp:
        raise TypeError(
            f"arrays from different libraries cannot be mixed (p: {xp.__name__}, "
            f"q: {q.xp.__name__})"
        )
    devices = [device for device in (p.context.device, q.context.device) if device is not None]
    if len(devices) == 2 and devices[0] != devices[1]:
        raise ValueError(
            f"arrays on different devices cannot be mixed: p is on {devices[0]!r}, "
            f"q is on {devices[1]!r}"
        )
    device = devices[0] if devices else None
    dtype = xp.result_type(p.context.dtype, q.context.dtype)
    compute_dtype = xp.result_type(p.context.compute_dtype, q.context.compute_dtype)
    float64 = getattr(xp, "float64", None)
    if float64 is not None:
        available = xp.__array_namespace_info__().dtypes(device=device, kind="real floating")
        if float64 in available.values():
            compute_dtype = float64
    return Context(xp, device, dtype, compute_dtype)


def _converted(dist: Any) -> Any:
    """A torch or NumPyro distribution object as kldiv's family; anything else unchanged."""
    if is_torch_distribution(dist):
        return from_torch(dist)
    if is_numpyro_distribution(dist):
        return from_numpyro(dist)
    return dist


@ignore_fp_warnings
def kl_divergence(p: Distribution, q: Distribution) -> Array:
    """KL(p ‖ q) = E_p[log p(x) − log q(x)] in closed form, for two parameter containers.

    Parameters
    ----------
    p, q : Distribution
        Families of one array library and device; their batch shapes broadcast.
        ``torch.distributions`` and ``numpyro.distributions`` objects are converted on entry
        by :func:`from_torch` and :func:`from_numpyro`.

    Returns
    -------
    array
        KL(p ‖ q) with shape ``broadcast(p.batch_shape, q.batch_shape)`` and the parameters'
        common dtype; +inf where q misses part of p's support.

    Raises
    ------
    NotImplementedError
        When no pair is registered for the two types (the message names both).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from kldiv.distributions import Normal
    >>> kl_divergence(Normal(xp.asarray([0.0, 1.0]), 1.0), Normal(0.0, xp.asarray(2.0)))
    Array([0.31814718, 0.44314718], dtype=array_api_strict.float64)
    """
    p, q = (_converted(dist) for dist in (p, q))
    for name, dist in (("p", p), ("q", q)):
        if not isinstance(dist, Distribution):
            raise TypeError(f"{name} must be a kldiv distribution, got {type(dist).__name__}")
    function = _dispatch(type(p), type(q))  # type: ignore[arg-type]
    if function is None:
        raise NotImplementedError(
            f"No KL(p || q) is implemented for p type {type(p).__name__} and q type "
            f"{type(q).__name__}"
        )
    context = _joint_context(p, q)
    joint_shape(p, q)
    dtype = context.compute_dtype
    return context.finish(function(p._with_dtype(dtype), q._with_dtype(dtype)))
