"""The per-row steps of the discrete divergences, shared by the functions and the metrics.

:func:`prepare_rows` resolves, checks and broadcasts the distribution arguments; the row steps
(:func:`kl_rows`, :func:`js_rows`, and those of the entropies) return one value per row along
``axis``, evaluated a block of rows at a time (:mod:`kldiv._blocked`) with the library's fast
kernel where it has one (:mod:`kldiv._fast`). Conventions: a term with ``p = 0`` is 0, ``p > 0 =
q`` gives +inf, a row with a negative probability or without support gives NaN.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from ._array import Array, Context, Namespace, broadcast_shapes, normalize_axis, prepare
from ._blocked import blocked_rows
from ._elementwise import log_midpoint, xlog_ratio, xlog_ratio_log, xlogy
from ._fast import fast_kernel
from ._validate import (
    check_bool,
    check_finite_or_neg_inf,
    check_nonnegative,
    check_positive_number,
    resolve_validate_args,
)

__all__ = [
    "broadcast_named",
    "check_values",
    "cross_entropy_rows",
    "entropy_rows",
    "in_base",
    "js_rows",
    "kl_rows",
    "kl_rows_of_logs",
    "kl_rows_of_probs",
    "nan_where_invalid",
    "prepare_logit_rows",
    "prepare_rows",
]


def check_values(
    context: Context, log_prob: bool, validate_args: bool | None, **arrays: Array
) -> None:
    if not resolve_validate_args(validate_args, "discrete"):
        return
    if log_prob:
        check_finite_or_neg_inf(context.xp, **arrays)
    else:
        check_nonnegative(context.xp, **arrays)


def broadcast_named(context: Context, **arrays: Array) -> list[Array]:
    """The arrays broadcast to one shape (a ``ValueError`` naming them if impossible)."""
    values = list(arrays.values())
    if all(value.shape == values[0].shape for value in values):
        return values
    broadcast_shapes(**{name: tuple(array.shape) for name, array in arrays.items()})
    return list(context.xp.broadcast_arrays(*values))


def prepare_rows(
    axis: int, log_prob: bool, validate_args: bool | None, **arrays: Any
) -> tuple[Context, list[Array], int]:
    """Prepare distribution arguments: resolve, check, broadcast, and normalise ``axis``."""
    check_bool("log_prob", log_prob)
    context, converted = prepare(**arrays)
    named = dict(zip(arrays, converted, strict=True))
    check_values(context, log_prob, validate_args, **named)
    broadcast = broadcast_named(context, **named)
    return context, broadcast, normalize_axis(axis, broadcast[0].ndim)


def prepare_logit_rows(
    axis: int, validate_args: bool | None, **logits: Any
) -> tuple[Context, list[Array], int]:
    """:func:`prepare_rows` for logits: a ``ValueError`` naming them when ``axis`` is empty (a
    softmax over no classes)."""
    context, broadcast, axis = prepare_rows(axis, True, validate_args, **logits)
    if broadcast[0].shape[axis] == 0:
        raise ValueError(
            f"{' and '.join(logits)} have no classes: axis={axis} of their broadcast shape "
            f"{tuple(broadcast[0].shape)} has size 0"
        )
    return context, broadcast, axis


def _normalized(xp: Namespace, probs: Array, axis: int) -> Array:
    return probs / xp.sum(probs, axis=axis, keepdims=True)


def nan_where_invalid(xp: Namespace, rows: Array, axis: int, p: Array, q: Array) -> Array:
    """``rows`` with NaN for every row that holds a negative probability or has no support.

    The terms are NaN there already unless both p and q are negative or the row is empty (a
    sum over nothing is 0); this row-level check makes the rule hold always (``any`` rather
    than ``min``: it has an identity on empty rows).
    """
    invalid = xp.any(p < 0, axis=axis) | xp.any(q < 0, axis=axis)
    if p.shape[axis] == 0:
        invalid = xp.ones_like(invalid)
    return xp.where(invalid, xp.nan, rows)


def kl_rows_of_probs(xp: Namespace, p: Array, q: Array, *, axis: int) -> Array:
    sum_p = xp.sum(p, axis=axis, keepdims=True)
    sum_q = xp.sum(q, axis=axis, keepdims=True)
    rows = xp.sum(xlog_ratio(xp, p, q, sum_p, sum_q), axis=axis)
    return nan_where_invalid(xp, rows, axis, p, q)


def kl_rows_of_logs(xp: Namespace, log_p: Array, log_q: Array, *, axis: int) -> Array:
    return xp.sum(xlog_ratio_log(xp, log_p, log_q), axis=axis)


def kl_rows(context: Context, p: Array, q: Array, axis: int, log_prob: bool) -> Array:
    """KL(P ‖ Q) = Σ P log(P / Q) per row, P = p / Σp and Q = q / Σq unless ``log_prob``.

    The normalisation folds into the quotient, so rows of any scale neither overflow nor
    underflow; one logarithm per element where P / Q is a normal number. Evaluated a block of
    rows at a time, with the library's fast kernel where it has one.
    """
    xp = context.xp
    kernel: Callable[..., Array]
    if log_prob:
        kernel = functools.partial(kl_rows_of_logs, xp)
    else:
        kernel = fast_kernel("kl_rows", xp, functools.partial(kl_rows_of_probs, xp), (p, q))
    return blocked_rows(xp, kernel, (p, q), axis)


def js_rows(context: Context, p: Array, q: Array, axis: int, log_prob: bool) -> Array:
    """½ KL(P ‖ M) + ½ KL(Q ‖ M), M = (P + Q) / 2, per row, a block of rows at a time."""
    xp = context.xp
    kernel = _js_rows_of_logs if log_prob else _js_rows_of_probs
    return blocked_rows(xp, functools.partial(kernel, xp), (p, q), axis)


def entropy_rows(xp: Namespace, p: Array, *, axis: int) -> Array:
    probs = _normalized(xp, p, axis)
    return -xp.sum(xlogy(xp, probs, probs), axis=axis)


def cross_entropy_rows(xp: Namespace, p: Array, q: Array, *, axis: int) -> Array:
    """-Σ P log Q = -Σ P log q + log Σq: no normalised Q is formed, so none underflows."""
    sum_q = xp.sum(q, axis=axis)
    rows = xp.log(sum_q) - xp.sum(xlogy(xp, _normalized(xp, p, axis), q), axis=axis)
    return nan_where_invalid(xp, rows, axis, p, q)


def _js_rows_of_logs(xp: Namespace, log_p: Array, log_q: Array, *, axis: int) -> Array:
    log_m = log_midpoint(xp, log_p, log_q)
    terms = xlog_ratio_log(xp, log_p, log_m) + xlog_ratio_log(xp, log_q, log_m)
    return xp.sum(terms, axis=axis) / 2


def _js_rows_of_probs(xp: Namespace, p: Array, q: Array, *, axis: int) -> Array:
    probs_p, probs_q = _normalized(xp, p, axis), _normalized(xp, q, axis)
    m = (probs_p + probs_q) / 2
    rows = xp.sum(xlog_ratio(xp, probs_p, m) + xlog_ratio(xp, probs_q, m), axis=axis) / 2
    return nan_where_invalid(xp, rows, axis, p, q)


def in_base(context: Context, values: Array, base: float | None) -> Array:
    """``values`` (in nats) in ``base`` (None: nats); ``base`` must be positive, not 1."""
    if base is None:
        return values
    check_positive_number("base", base)
    if base == 1:
        raise ValueError("base must not be 1")
    return values / math.log(base)
