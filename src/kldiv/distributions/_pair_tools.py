"""Shared pieces of the closed-form pairs: working precision, joint shapes, stable differences.

Pairs compute in the *working dtype*: float64 whenever the namespace has it on the parameters'
device, even for float32 parameters (the registry casts the result back). Closed forms of KL are
differences of O(1) terms whose result is O(|p - q|²), so float32 arithmetic loses every digit
near p ≈ q (torch returns negative KLs there); float64 working precision keeps ~1e-13 absolute.
"""

from __future__ import annotations

from .._array import Array, Namespace
from .._elementwise import HALF_LOG_2PI, binary_logits, sigmoid
from .._special import lgamma
from .._validate import resolve_validate_args
from ._families import Distribution
from ._registry import joint_shape

__all__ = [
    "binary_params",
    "broadcast_joint",
    "exponential_cross_entropy",
    "gamma_cross_entropy",
    "gaussian_cross_entropy",
    "validating",
    "widen",
]


def _working_dtype(p: Distribution, q: Distribution) -> object:
    xp = p.xp
    context = p.context
    dtype = xp.result_type(context.compute_dtype, q.context.compute_dtype)
    float64 = getattr(xp, "float64", None)
    if float64 is None or dtype == float64:
        return dtype
    available = xp.__array_namespace_info__().dtypes(device=context.device, kind="real floating")
    return float64 if float64 in available.values() else dtype


def widen(p: Distribution, q: Distribution, *arrays: Array) -> list[Array]:
    """``arrays`` in the working dtype of the pair ``(p, q)`` (no copy when already there)."""
    xp = p.xp
    dtype = _working_dtype(p, q)
    return [array if array.dtype == dtype else xp.astype(array, dtype) for array in arrays]


def validating(dist: Distribution) -> bool:
    """Whether value checks are on for ``dist`` (the families' default: on)."""
    return resolve_validate_args(dist.validate_args, "distributions")


def broadcast_joint(p: Distribution, q: Distribution, value: Array) -> Array:
    """``value`` broadcast to the joint batch shape of ``p`` and ``q`` (for p-only formulas)."""
    shape = joint_shape(p, q)
    return value if tuple(value.shape) == shape else p.xp.broadcast_to(value, shape)


def gaussian_cross_entropy(
    xp: Namespace, mean: Array, variance: Array, loc: Array, scale: Array
) -> Array:
    """E_p[-log N(x; loc, scale)] = ½ log(2π scale²) + (variance + (mean - loc)²) / (2 scale²).

    ``mean`` and ``variance`` are p's moments: KL(p ‖ Normal) = this - H(p).
    """
    return HALF_LOG_2PI + xp.log(scale) + (variance + (mean - loc) ** 2) / (2 * scale * scale)


def exponential_cross_entropy(xp: Namespace, mean: Array, rate: Array) -> Array:
    """E_p[-log Exponential(x; rate)] = -log(rate) + rate·E_p[x], for p on [0, inf)."""
    return rate * mean - xp.log(rate)


def gamma_cross_entropy(
    xp: Namespace, mean: Array, mean_log: Array, concentration: Array, rate: Array
) -> Array:
    """E_p[-log Gamma(x; α, β)] = lgamma(α) - α log β - (α - 1)·E_p[log x] + β·E_p[x]."""
    return (
        lgamma(xp, concentration)
        - concentration * xp.log(rate)
        - (concentration - 1) * mean_log
        + rate * mean
    )


def binary_params(p: Distribution, q: Distribution, dist: Distribution) -> tuple[Array, Array]:
    """(probs, logits) of a probs-or-logits family in the working dtype, both derived there from
    the parameter the user gave (a float32 logit near ½ has no correct digit otherwise)."""
    xp = dist.xp
    if getattr(dist, "_given", "probs") == "logits":
        (logits,) = widen(p, q, dist.logits)  # type: ignore[attr-defined]
        return sigmoid(xp, logits), logits
    (probs,) = widen(p, q, dist.probs)  # type: ignore[attr-defined]
    return probs, binary_logits(xp, probs)
