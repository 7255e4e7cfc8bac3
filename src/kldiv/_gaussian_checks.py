"""Argument handling shared by the Gaussian closed forms: clamps, shapes, value checks."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

from ._array import Array, Context, Namespace, broadcast_shapes, prepare
from ._linalg import diagonal
from ._reduce import reduce_pointwise
from ._validate import any_value, resolve_validate_args

__all__ = [
    "NormalPair",
    "check_clamp",
    "check_not_nan",
    "finish_normal",
    "per_gaussian",
    "prepare_mvn_pair",
    "prepare_normal_pair",
]

_NORMAL_NAMES = ("mu_p", "log_var_p", "mu_q", "log_var_q")
_MVN_NAMES = ("loc_p", "scale_tril_p", "loc_q", "scale_tril_q")

#: Elementwise terms ``(xp, mu_p, log_var_p, mu_q, log_var_q) -> values`` of univariate Gaussians.
NormalTerms = Callable[[Namespace, Array, Array, Array, Array], Array]


def check_clamp(clamp_min: float, clamp_max: float) -> None:
    """A ``TypeError`` unless both are real numbers, a ``ValueError`` unless clamp_min <=
    clamp_max."""
    for name, value in (("clamp_min", clamp_min), ("clamp_max", clamp_max)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a real number, got {value!r}")
    if not clamp_min <= clamp_max:
        raise ValueError(f"clamp_min={clamp_min!r} must be <= clamp_max={clamp_max!r}")


def check_not_nan(context: Context, validate_args: bool | None, **arrays: Array) -> None:
    """Under validation, a ``ValueError`` naming the first argument that contains NaN."""
    if not resolve_validate_args(validate_args, "gaussian"):
        return
    xp = context.xp
    for name, array in arrays.items():
        if any_value(xp, xp.isnan(array)):
            raise ValueError(f"{name} contains NaN")


@dataclass(frozen=True)
class NormalPair:
    """Univariate Gaussians p and q as a closed form computes with them: the call's context, the
    inputs' broadcast shape and (mu_p, log_var_p, mu_q, log_var_q), log-variances clipped."""

    context: Context
    shape: tuple[int | None, ...]
    arrays: tuple[Array, Array, Array, Array]

    def per_gaussian(self, terms: NormalTerms, event_ndims: int = 0) -> Array:
        """``terms`` of the arrays, one value per Gaussian (see :func:`per_gaussian`)."""
        xp = self.context.xp
        return per_gaussian(xp, terms(xp, *self.arrays), self.shape, event_ndims)

    def finish(self, values: Array, reduction: str) -> Array:
        """``reduction`` of per-Gaussian ``values``, in the caller's dtype."""
        return finish_normal(self.context, values, reduction)


def prepare_normal_pair(
    arrays: tuple[Array, Array, Array, Array],
    clamp_min: float,
    clamp_max: float,
    validate_args: bool | None,
) -> NormalPair:
    """The :class:`NormalPair` of (mu_p, log_var_p, mu_q, log_var_q), checked."""
    check_clamp(clamp_min, clamp_max)
    context, converted = prepare(**dict(zip(_NORMAL_NAMES, arrays, strict=True)))
    shape = broadcast_shapes(
        **{name: tuple(a.shape) for name, a in zip(_NORMAL_NAMES, converted, strict=True)}
    )
    check_not_nan(context, validate_args, **dict(zip(_NORMAL_NAMES, converted, strict=True)))
    xp = context.xp
    mu_p, log_var_p, mu_q, log_var_q = converted
    log_var_p = xp.clip(log_var_p, min=clamp_min, max=clamp_max)
    log_var_q = xp.clip(log_var_q, min=clamp_min, max=clamp_max)
    return NormalPair(context, shape, (mu_p, log_var_p, mu_q, log_var_q))


def per_gaussian(
    xp: Namespace, terms: Array, shape: tuple[int | None, ...], event_ndims: int = 0
) -> Array:
    """``terms`` broadcast to ``shape`` and summed over the last ``event_ndims`` axes (the
    coordinates of one diagonal Gaussian): one value per Gaussian."""
    if isinstance(event_ndims, bool) or not isinstance(event_ndims, int):
        raise TypeError(f"event_ndims must be an int, got {type(event_ndims).__name__}")
    if not 0 <= event_ndims <= len(shape):
        raise ValueError(
            f"event_ndims must be in [0, {len(shape)}] for inputs of shape {shape}, "
            f"got {event_ndims}"
        )
    if tuple(terms.shape) != shape:
        terms = xp.broadcast_to(terms, shape)
    return xp.sum(terms, axis=tuple(range(-event_ndims, 0))) if event_ndims else terms


def finish_normal(context: Context, values: Array, reduction: str) -> Array:
    """``reduction`` of per-Gaussian ``values``, in the caller's dtype."""
    return context.finish(reduce_pointwise(context.xp, values, reduction))


def _check_mvn_shapes(function: str, **arrays: Array) -> None:
    size = int(arrays["loc_p"].shape[-1]) if arrays["loc_p"].ndim else None
    for name, array in arrays.items():
        matrix = name.startswith("scale_tril")
        ndim = 2 if matrix else 1
        expected = (size, size) if matrix else (size,)
        if array.ndim < ndim or tuple(array.shape[array.ndim - ndim :]) != expected:
            shapes = ", ".join(f"{n} {tuple(a.shape)}" for n, a in arrays.items())
            raise ValueError(
                f"{function} needs locs of shape (..., d) and scale_trils of shape (..., d, d) "
                f"with one d; got {shapes}"
            )


def prepare_mvn_pair(
    function: str,
    arrays: tuple[Array, Array, Array, Array],
    validate_args: bool | None,
) -> tuple[Context, tuple[Array, Array, Array, Array]]:
    """Context and (loc_p, scale_tril_p, loc_q, scale_tril_q), shapes checked (``function``
    names the caller in the message); under validation, NaN means and non-positive Cholesky
    diagonals are a ``ValueError``."""
    context, converted = prepare(**dict(zip(_MVN_NAMES, arrays, strict=True)))
    by_name = dict(zip(_MVN_NAMES, converted, strict=True))
    _check_mvn_shapes(function, **by_name)
    broadcast_shapes(
        loc_p=tuple(converted[0].shape[:-1]),
        scale_tril_p=tuple(converted[1].shape[:-2]),
        loc_q=tuple(converted[2].shape[:-1]),
        scale_tril_q=tuple(converted[3].shape[:-2]),
    )
    xp = context.xp
    if resolve_validate_args(validate_args, "gaussian"):
        check_not_nan(context, True, loc_p=by_name["loc_p"], loc_q=by_name["loc_q"])
        for name in ("scale_tril_p", "scale_tril_q"):
            if any_value(xp, ~(diagonal(xp, by_name[name]) > 0)):
                raise ValueError(f"{name} must have a positive diagonal")
    loc_p, tril_p, loc_q, tril_q = converted
    return context, (loc_p, tril_p, loc_q, tril_q)
