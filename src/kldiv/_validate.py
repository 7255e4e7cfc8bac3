"""Argument checks that raise the library's errors.

Metadata (shapes, reductions, axes, scalars) is always checked. Value checks read the data, so they
run only when ``validate_args`` is on, and are skipped on lazy arrays (Dask, traced JAX, torch
``meta``): there the values do not exist yet.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from typing import Any

from array_api_compat import is_array_api_obj as _is_array

from ._array import Array, Namespace, is_lazy

__all__ = [
    "DEFAULT_VALIDATE",
    "any_value",
    "check_bool",
    "check_finite_or_neg_inf",
    "check_nonnegative",
    "check_positive_number",
    "check_reduction",
    "resolve_validate_args",
    "set_validate_args",
]

#: Whether value checks run when neither the call nor :func:`set_validate_args` says, per part of
#: the library: off for the functions (as ``torch.nn.functional`` and torchmetrics' functional
#: forms), on for the stateful metric classes and the distributions (as torchmetrics' classes and
#: ``torch.distributions``).
DEFAULT_VALIDATE = {
    "discrete": False,
    "gaussian": False,
    "estimators": False,
    "distill": False,
    "metrics": True,
    "distributions": True,
}

_global_validate_args: bool | None = None


def set_validate_args(value: bool | None) -> None:
    """Turn value checks on (``True``) or off (``False``) for every function and class of kldiv.

    ``None`` restores the per-family defaults: off for the functions of :mod:`kldiv` and
    :mod:`kldiv.gaussian`, on for the metric classes and :mod:`kldiv.distributions`.

    Parameters
    ----------
    value : bool or None
        The global setting; an explicit ``validate_args=`` argument still wins.

    Examples
    --------
    >>> import kldiv
    >>> kldiv.set_validate_args(True)
    >>> kldiv.kl_divergence([[-0.5, 1.5]], [[0.5, 0.5]])
    Traceback (most recent call last):
    ...
    ValueError: p contains negative probabilities
    >>> kldiv.set_validate_args(None)
    """
    global _global_validate_args
    if value is not None and not isinstance(value, bool):
        raise TypeError(
            f"set_validate_args(value): value must be True, False or None, got {value!r}"
        )
    _global_validate_args = value


def resolve_validate_args(value: bool | None, part: str) -> bool:
    """The effective setting: the argument if given, else the global one, else the default of
    ``part`` (a key of :data:`DEFAULT_VALIDATE`); a ``TypeError`` unless it is a bool or None."""
    if value is not None:
        check_bool("validate_args", value)
        return value
    if _global_validate_args is not None:
        return _global_validate_args
    return DEFAULT_VALIDATE[part]


def any_value(xp: Namespace, condition: Array) -> bool:
    """True when ``condition`` holds anywhere; False on lazy arrays, whose values do not exist yet.

    The one place a value check reads data back to the host (only with ``validate_args``).
    """
    return not is_lazy(condition) and bool(xp.any(condition))


def check_reduction(reduction: Any, allowed: Collection[str | None]) -> None:
    """A ``ValueError`` listing the allowed names when ``reduction`` is not one of them."""
    if reduction not in allowed:
        names = ", ".join(repr(name) for name in allowed)
        raise ValueError(f"reduction={reduction!r} is not supported; use one of {names}")


def check_bool(name: str, value: Any) -> None:
    """A ``TypeError`` naming ``name`` unless ``value`` is a bool."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def check_positive_number(name: str, value: Any) -> None:
    """A ``ValueError`` unless the Python number ``value`` is finite and > 0 (arrays pass); a
    ``TypeError`` naming ``name`` when it is neither a real number nor an array."""
    if _is_array(value):
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    if not (math.isfinite(value) and float(value) > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def check_nonnegative(xp: Namespace, **arrays: Array) -> None:
    """``ValueError`` naming the argument that holds a negative or NaN probability."""
    for name, array in arrays.items():
        if any_value(xp, xp.isnan(array)):
            raise ValueError(f"{name} contains NaN")
        if any_value(xp, array < 0):
            raise ValueError(f"{name} contains negative probabilities")


def check_finite_or_neg_inf(xp: Namespace, **arrays: Array) -> None:
    """``ValueError`` naming the log-probability argument that holds NaN or +inf."""
    for name, array in arrays.items():
        if any_value(xp, xp.isnan(array)):
            raise ValueError(f"{name} contains NaN")
        if any_value(xp, array == xp.inf):
            raise ValueError(f"{name} contains +inf, which is not a log-probability")
