"""Sample-based KL estimators: per-token terms of delta = log pi(x) - log pi_ref(x), x ~ pi."""

from __future__ import annotations

from .._array import Array, Namespace
from ._core import expm1_minus_identity

__all__ = ["K3_FORMS", "KL_ESTIMATOR_TERMS", "k3_term"]


def k3_term(xp: Namespace, delta: Array) -> Array:
    """``exp(-delta) - 1 + delta`` = ``expm1(-delta) + delta``, exact for tiny ``delta``.

    Computed as :func:`expm1_minus_identity` of ``-delta``: near 0 the naive forms lose every
    digit (``delta = 1e-8`` gives 0 in float64, the true value being 4.99999998e-17).

    >>> import array_api_strict as xp
    >>> k3_term(xp, xp.asarray([1e-8, -1.0]))
    Array([4.99999998e-17, 7.18281828e-01], dtype=array_api_strict.float64)
    """
    return expm1_minus_identity(xp, -delta)


def _k3_ratio_first(xp: Namespace, delta: Array) -> Array:
    """``(exp(r) - r) - 1`` with r = -delta: the naive form, in this order of operations."""
    log_ratio = -delta
    return (xp.exp(log_ratio) - log_ratio) - 1.0


def _k3_one_first(xp: Namespace, delta: Array) -> Array:
    """``(exp(r) - 1) - r`` with r = -delta: the naive form, in this order of operations."""
    log_ratio = -delta
    return (xp.exp(log_ratio) - 1.0) - log_ratio


#: The per-token term of each estimator, as a function of ``(xp, delta)``: k1 = delta (unbiased,
#: high variance, can be negative), k2 = delta²/2 (biased, its gradient is the gradient of KL),
#: k3 = exp(-delta) - 1 + delta (unbiased, non-negative, low variance near pi = pi_ref),
#: abs = |delta|.
KL_ESTIMATOR_TERMS = {
    "k1": lambda xp, delta: delta,
    "k2": lambda xp, delta: 0.5 * (delta * delta),
    "k3": k3_term,
    "abs": lambda xp, delta: xp.abs(delta),
}

#: The ways frameworks write k3, each by its formula (r = -delta), so a preset can reproduce the
#: rounding of the framework it names; "expm1" is the exact form.
K3_FORMS = {
    "expm1": k3_term,
    "(exp(r) - r) - 1": _k3_ratio_first,
    "(exp(r) - 1) - r": _k3_one_first,
}
