"""The Hellinger distance and the Bhattacharyya coefficient and distance, from √P and √Q."""

from __future__ import annotations

from ._array import Array, Namespace, ignore_fp_warnings
from ._divergence_rows import divergence, documented, probabilities, row_step
from ._elementwise import log_or_neg_inf, sqrt_at_least_zero

__all__ = [
    "bhattacharyya_coefficient",
    "bhattacharyya_distance",
    "hellinger",
    "hellinger_squared",
]


def _sqrt_probabilities(xp: Namespace, x: Array, axis: int, log_prob: bool) -> Array:
    """sqrt(P) with a finite gradient where P = 0."""
    if log_prob:
        return xp.exp(x / 2)
    return sqrt_at_least_zero(xp, probabilities(xp, x, axis, log_prob))


def _hellinger_squared_rows(
    xp: Namespace, log_prob: bool, p: Array, q: Array, *, axis: int
) -> Array:
    """1 - BC as ½ Σ (√P - √Q)² + (1 - ½ Σ (P + Q)): the first sum has no cancellation near
    P = Q, the correction is 0 for renormalised rows (kept for log-probabilities as given)."""
    root_p = _sqrt_probabilities(xp, p, axis, log_prob)
    root_q = _sqrt_probabilities(xp, q, axis, log_prob)
    squared = xp.sum((root_p - root_q) ** 2, axis=axis) / 2
    if not log_prob:
        return squared
    return squared + (1 - xp.sum(root_p**2 + root_q**2, axis=axis) / 2)


def _bhattacharyya_rows(xp: Namespace, log_prob: bool, p: Array, q: Array, *, axis: int) -> Array:
    root_p = _sqrt_probabilities(xp, p, axis, log_prob)
    return xp.sum(root_p * _sqrt_probabilities(xp, q, axis, log_prob), axis=axis)


@documented
@ignore_fp_warnings
def hellinger_squared(
    p: Array,
    q: Array,
    *,
    log_prob: bool = False,
    reduction: str | None = "mean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """Squared Hellinger distance H² = 1 - BC = ½ Σ (√P - √Q)², in [0, 1].

    Computed as ½ Σ (√P - √Q)² (no cancellation near P = Q). Zeros need no convention.

    {parameters}

    {returns}

    Notes
    -----
    Conventions elsewhere: dit's ``hellinger_distance`` is √(1 - BC), our :func:`hellinger`;
    some texts define H² = Σ (√P - √Q)² (twice ours, in [0, 2]); the Amari
    :func:`alpha_divergence` at α = 0 is 4 H².

    Examples
    --------
    >>> import array_api_strict as xp
    >>> hellinger_squared(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.5, 0.5]]))
    Array(0.29289322, dtype=array_api_strict.float64)
    """
    return divergence(
        row_step(_hellinger_squared_rows), p, q, log_prob, reduction, axis, validate_args
    )


def _hellinger_rows(xp: Namespace, log_prob: bool, p: Array, q: Array, *, axis: int) -> Array:
    return sqrt_at_least_zero(xp, _hellinger_squared_rows(xp, log_prob, p, q, axis=axis))


@documented
@ignore_fp_warnings
def hellinger(
    p: Array,
    q: Array,
    *,
    log_prob: bool = False,
    reduction: str | None = "mean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """Hellinger distance H = √(1 - BC), BC = Σ √(P Q): a metric, in [0, 1].

    The square root of :func:`hellinger_squared` (gradient 0 where P = Q, a subgradient);
    'mean' averages the distances.

    {parameters}

    {returns}

    Notes
    -----
    Conventions elsewhere: dit's ``hellinger_distance`` (same value); texts without the ½ in
    H² = ½ Σ (√P - √Q)² give √2 times ours. SciPy, torchmetrics, pyitlib: none.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> hellinger(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.0, 1.0]]))
    Array(1., dtype=array_api_strict.float64)
    """
    return divergence(row_step(_hellinger_rows), p, q, log_prob, reduction, axis, validate_args)


@documented
@ignore_fp_warnings
def bhattacharyya_coefficient(
    p: Array,
    q: Array,
    *,
    log_prob: bool = False,
    reduction: str | None = "mean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """Bhattacharyya coefficient BC = Σ √(P Q), in [0, 1] (1 where P = Q): a similarity.

    {parameters}

    {returns}

    Notes
    -----
    Conventions elsewhere: dit's ``bhattacharyya_coefficient`` (same). 1 - BC is
    :func:`hellinger_squared`.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> bhattacharyya_coefficient(xp.asarray([[0.5, 0.5]]), xp.asarray([[0.5, 0.5]]))
    Array(1., dtype=array_api_strict.float64)
    """
    return divergence(row_step(_bhattacharyya_rows), p, q, log_prob, reduction, axis, validate_args)


def _bhattacharyya_distance_rows(
    xp: Namespace, log_prob: bool, p: Array, q: Array, *, axis: int
) -> Array:
    """-log1p(-H²) near P = Q (no cancellation), -log BC where BC < ½ (H² rounds to 1 first);
    +inf for disjoint supports."""
    squared = _hellinger_squared_rows(xp, log_prob, p, q, axis=axis)
    coefficient = _bhattacharyya_rows(xp, log_prob, p, q, axis=axis)
    far = coefficient < 0.5
    near_value = -xp.log1p(-xp.where(far, xp.zeros_like(squared), squared))
    far_value = -log_or_neg_inf(xp, xp.where(far, coefficient, xp.ones_like(coefficient)))
    return xp.where(far, far_value, near_value)


@documented
@ignore_fp_warnings
def bhattacharyya_distance(
    p: Array,
    q: Array,
    *,
    log_prob: bool = False,
    base: float | None = None,
    reduction: str | None = "mean",
    axis: int = -1,
    validate_args: bool | None = None,
) -> Array:
    """Bhattacharyya distance -log BC (-log1p(-H²) near P = Q); +inf for disjoint supports.

    Equal to half the Rényi divergence of order ½ (:func:`renyi_divergence`). Not a metric.

    {parameters}
    {base}

    {returns}

    Notes
    -----
    Conventions elsewhere: dit has no such function (``-log`` of its
    ``bhattacharyya_coefficient``); SciPy, torchmetrics, pyitlib: none.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> bhattacharyya_distance(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.5, 0.5]]), base=2)
    Array(0.5, dtype=array_api_strict.float64)
    """
    step = row_step(_bhattacharyya_distance_rows)
    return divergence(step, p, q, log_prob, reduction, axis, validate_args, base)
