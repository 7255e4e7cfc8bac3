"""The mpmath oracle of the distillation losses (``kl_topk``, ``reverse_kl_logits``,
``js_div_logits``), at :data:`conformance.oracle.DIGITS` digits on exactly read inputs.

``kl_topk``'s 'bucket' rule takes the student's mass outside the top k as the exact sum over the
other vocabulary entries (no cancellation), and counts a teacher missing mass within the rounding
of float64 log-probabilities (2ε(1 + Σ t |log t|)) as 0, as kldiv documents.

>>> import numpy as np
>>> float(js_div_logits(np.array([[0.0, -np.inf]]), np.array([[-np.inf, 0.0]])))
0.6931471805599453
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

from conformance.oracle import (
    _log_softmax,
    _log_terms,
    _mp,
    _oracle,
    _reduce_pointwise,
    log_softmaxes,
)

__all__ = ["js_div_logits", "kl_topk", "reduce_topk_rows", "reverse_kl_logits"]

_INF = mpmath.mpf("inf")


@_oracle
def reverse_kl_logits(
    input_logits: np.ndarray,
    target_logits: np.ndarray,
    temperature: float = 1.0,
    reduction: str = "batchmean",
    axis: int = -1,
) -> np.ndarray:
    """KL(softmax(input/T) ‖ softmax(target/T)) as pointwise terms, then the reduction."""
    log_q, log_p = log_softmaxes(input_logits, target_logits, temperature, axis)
    return _reduce_pointwise(_log_terms(log_q, log_p), reduction)


def _log_mixture(log_p: Any, log_q: Any, beta: Any) -> Any:
    if log_p == -_INF and log_q == -_INF:
        return -_INF
    return mpmath.log(beta * mpmath.exp(log_p) + (1 - beta) * mpmath.exp(log_q))


@_oracle
def js_div_logits(
    input_logits: np.ndarray,
    target_logits: np.ndarray,
    beta: float = 0.5,
    temperature: float = 1.0,
    reduction: str = "batchmean",
    axis: int = -1,
) -> np.ndarray:
    """β KL(p ‖ m) + (1 - β) KL(q ‖ m), m = β p + (1 - β) q; KL(p ‖ q) at β = 0 and KL(q ‖ p)
    at β = 1 (TRL's ends); pointwise, then the reduction."""
    log_q, log_p = log_softmaxes(input_logits, target_logits, temperature, axis)
    if beta == 0:
        return _reduce_pointwise(_log_terms(log_p, log_q), reduction)
    if beta == 1:
        return _reduce_pointwise(_log_terms(log_q, log_p), reduction)
    weight = mpmath.mpf(beta)
    log_m = np.frompyfunc(lambda p, q: _log_mixture(p, q, weight), 2, 1)(log_p, log_q)
    terms = weight * _log_terms(log_p, log_m) + (1 - weight) * _log_terms(log_q, log_m)
    return _reduce_pointwise(np.asarray(terms, dtype=object), reduction)


def _topk_row(log_s: np.ndarray, log_t: np.ndarray, indices: np.ndarray, tail: str) -> Any:
    """One row's KL: ``log_s`` the student's V log-probabilities, ``log_t`` the teacher's k."""
    log_s_topk = log_s[indices]
    if tail == "renormalize":
        log_t = log_t - mpmath.log(mpmath.fsum(mpmath.exp(v) for v in log_t))
        log_s_topk = log_s_topk - mpmath.log(mpmath.fsum(mpmath.exp(v) for v in log_s_topk))
    value = mpmath.fsum(_log_terms(log_t, log_s_topk))
    if tail != "bucket":
        return value
    covered = mpmath.fsum(mpmath.exp(v) for v in log_t)
    entropy = -mpmath.fsum(_log_terms(log_t, np.zeros(len(log_t), dtype=object)))
    missing = 1 - covered
    if missing <= 2 * mpmath.mpf(np.finfo(np.float64).eps) * (1 + abs(entropy)):
        return value
    others = set(range(len(log_s))) - {int(index) for index in indices}
    rest = mpmath.fsum(mpmath.exp(log_s[j]) for j in sorted(others))
    return value + (_INF if rest == 0 else missing * mpmath.log(missing / rest))


@_oracle
def kl_topk(
    student_logits: np.ndarray,
    teacher_topk_logprobs: np.ndarray,
    teacher_topk_indices: np.ndarray,
    *mask: np.ndarray,
    tail: str = "bucket",
    temperature: float = 1.0,
    reduction: str = "batchmean",
    axis: int = -1,
) -> np.ndarray:
    """Each row from the student's full log-softmax at 50 digits, then the masked reduction."""
    axis = axis % student_logits.ndim
    student = np.moveaxis(student_logits, axis, -1)
    batch_shape = student.shape[:-1]
    log_s = _log_softmax(_mp(student.reshape(-1, student.shape[-1])) / mpmath.mpf(temperature), 1)
    log_t = _mp(np.moveaxis(teacher_topk_logprobs, axis, -1).reshape(len(log_s), -1))
    indices = np.moveaxis(teacher_topk_indices, axis, -1).reshape(len(log_s), -1).astype(int)
    kept = np.ones(len(log_s), dtype=bool)
    if mask:
        kept = np.broadcast_to(mask[0] != 0, batch_shape).reshape(-1)
    rows = np.asarray(
        [
            _topk_row(log_s[row], log_t[row], indices[row], tail) if kept[row] else mpmath.mpf(0)
            for row in range(len(log_s))
        ],
        dtype=object,
    ).reshape(batch_shape)
    return reduce_topk_rows(
        rows, kept.reshape(batch_shape) if mask else None, reduction, student_logits.shape[0]
    )


def reduce_topk_rows(
    rows: np.ndarray, kept: np.ndarray | None, reduction: str, first_size: int
) -> np.ndarray:
    """``kl_topk``'s reductions of the row values (0 where masked already): 'none', 'sum',
    'batchmean' over ``first_size`` (the logits' first axis) and 'mean' over the rows; with a
    mask ``kept``, both means over the kept rows."""
    if reduction == "none":
        return rows
    total = np.asarray(np.sum(rows))
    if reduction == "sum":
        return total
    if kept is not None:
        return total / int(kept.sum())
    return total / (rows.size if reduction == "mean" else first_size)
