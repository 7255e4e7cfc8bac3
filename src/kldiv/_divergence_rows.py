"""The shared steps of the row divergences: preparing, blocking, reducing, checking.

A row step ``step(context, p, q, axis, log_prob)`` maps prepared rows (probabilities, or
log-probabilities with ``log_prob``) to one value per row; :func:`divergence` runs it between the
gate and the reduction. A row kernel ``kernel(xp, log_prob, p, q, *, axis)`` does so for a block
of rows: :func:`row_step` makes it a step that runs a block at a time and gives NaN to the rows
with a negative probability (or none at all).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from ._array import Array, Context, Namespace
from ._blocked import blocked_rows
from ._docs import ROW_DIVERGENCE, ROW_RETURNS, filled, parameters_section
from ._elementwise import log_or_neg_inf
from ._reduce import reduce_rows
from ._rows import (
    in_base,
    kl_rows_of_logs,
    kl_rows_of_probs,
    nan_where_invalid,
    prepare_rows,
)

__all__ = [
    "Kernel",
    "RowStep",
    "check_number",
    "divergence",
    "documented",
    "kl_kernel",
    "log_probabilities",
    "probabilities",
    "reverse_kl_kernel",
    "row_step",
]

Kernel = Callable[..., Array]
RowStep = Callable[[Context, Array, Array, int, bool], Array]


#: Fills a discrete function's docstring: ``{parameters}`` (the section of a row divergence's
#: shared arguments, which its own entries follow), ``{returns}`` (its Returns section),
#: ``{base_axis_validate_args}`` (those three entries) and each entry of ``ROW_DIVERGENCE`` by
#: name (``{base}``, ``{axis}``, ``{validate_args}``, ...).
documented = filled(
    parameters=parameters_section(
        ROW_DIVERGENCE[name] for name in ("p_q", "log_prob", "reduction", "axis", "validate_args")
    ),
    returns=ROW_RETURNS,
    base_axis_validate_args="\n".join(
        ROW_DIVERGENCE[name] for name in ("base", "axis", "validate_args")
    ),
    **ROW_DIVERGENCE,
)


def kl_kernel(xp: Namespace, log_prob: bool, p: Array, q: Array, *, axis: int) -> Array:
    """KL(P ‖ Q) per row, as :func:`kldiv.kl_divergence` computes it."""
    return (kl_rows_of_logs if log_prob else kl_rows_of_probs)(xp, p, q, axis=axis)


def reverse_kl_kernel(xp: Namespace, log_prob: bool, p: Array, q: Array, *, axis: int) -> Array:
    """KL(Q ‖ P) per row."""
    return kl_kernel(xp, log_prob, q, p, axis=axis)


def probabilities(xp: Namespace, x: Array, axis: int, log_prob: bool) -> Array:
    """The row's probabilities: ``exp(x)`` with ``log_prob``, else ``x / Σx``."""
    return xp.exp(x) if log_prob else x / xp.sum(x, axis=axis, keepdims=True)


def log_probabilities(xp: Namespace, x: Array, axis: int, log_prob: bool) -> Array:
    """The row's log-probabilities: ``x`` with ``log_prob``, else ``log x - log Σx`` (-inf at 0)."""
    if log_prob:
        return x
    return log_or_neg_inf(xp, x) - xp.log(xp.sum(x, axis=axis, keepdims=True))


def _checked(
    kernel: Kernel, xp: Namespace, log_prob: bool, p: Array, q: Array, *, axis: int
) -> Array:
    rows = kernel(xp, log_prob, p, q, axis=axis)
    return rows if log_prob else nan_where_invalid(xp, rows, axis, p, q)


def row_step(kernel: Kernel) -> RowStep:
    """``kernel`` as a row step ``(context, p, q, axis, log_prob) -> rows`` on prepared arrays,
    a block of rows at a time (what the metric classes accumulate)."""

    def step(context: Context, p: Array, q: Array, axis: int, log_prob: bool) -> Array:
        xp = context.xp
        return blocked_rows(xp, functools.partial(_checked, kernel, xp, log_prob), (p, q), axis)

    return step


def divergence(
    step: RowStep,
    p: Any,
    q: Any,
    log_prob: bool,
    reduction: str | None,
    axis: int,
    validate_args: bool | None,
    base: float | None = None,
) -> Array:
    """``step``'s row values of the prepared ``(p, q)``, in ``base`` (None: as computed), reduced
    ('none'/None: the rows), in the caller's dtype."""
    context, (p, q), axis = prepare_rows(axis, log_prob, validate_args, p=p, q=q)
    rows = in_base(context, step(context, p, q, axis, log_prob), base)
    return context.finish(reduce_rows(context.xp, rows, reduction))


def check_number(
    name: str, value: Any, *, minimum: float | None = None, allow_inf: bool = False
) -> float:
    """``value`` as a float: a ``ValueError`` naming it unless a real number in range."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    number = float(value)
    if math.isnan(number) or (math.isinf(number) and not (allow_inf and number > 0)):
        raise ValueError(f"{name} must be a finite number{' or +inf' * allow_inf}, got {value!r}")
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return number
