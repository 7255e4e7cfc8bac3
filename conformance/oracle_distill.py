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

from conformance.distill_specs import Arrays, topk_by_rows
from conformance.oracle import (
    _log_softmax,
    _log_terms,
    _mp,
    _oracle,
    _reduce_pointwise,
    kl_div_logits,
    log_softmaxes,
)

__all__ = ["js_div_logits", "kl_topk", "reverse_kl_logits"]

_INF = mpmath.mpf("inf")


def reverse_kl_logits(
    input_logits: np.ndarray, target_logits: np.ndarray, **options: Any
) -> np.ndarray:
    """KL(softmax(input/T) ‖ softmax(target/T)): :func:`conformance.oracle.kl_div_logits` with
    the two logits swapped, the same keywords."""
    return kl_div_logits(target_logits, input_logits, **options)


def _log_mixture(log_p: Any, log_q: Any, beta: Any) -> Any:
    if log_p == -_INF and log_q == -_INF:
        return -_INF
    return mpmath.log(beta * mpmath.exp(log_p) + (1 - beta) * mpmath.exp(log_q))


@_oracle
def js_div_logits(
    *logits: np.ndarray,
    beta: float = 0.5,
    temperature: float = 1.0,
    reduction: str = "batchmean",
    axis: int = -1,
) -> np.ndarray:
    """β KL(p ‖ m) + (1 - β) KL(q ‖ m), m = β p + (1 - β) q, of the (input, target) logits;
    KL(p ‖ q) at β = 0 and KL(q ‖ p) at β = 1 (TRL's ends); pointwise, then the reduction."""
    input_logits, target_logits = logits
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


def _topk_rows(rows: Arrays, kept: np.ndarray, tail: str, temperature: float) -> np.ndarray:
    """Each kept row's KL from the student's full log-softmax; 0 where not kept."""
    student, logprobs, indices = rows
    log_s = _log_softmax(_mp(student) / mpmath.mpf(temperature), 1)
    log_t = _mp(logprobs)
    indices = indices.astype(int)
    values = [
        _topk_row(log_s[row], log_t[row], indices[row], tail) if kept[row] else mpmath.mpf(0)
        for row in range(len(log_s))
    ]
    return np.asarray(values, dtype=object)


@_oracle
def kl_topk(*arrays: np.ndarray, **options: Any) -> np.ndarray:
    """``kl_topk`` (its arguments and keywords): each row from the student's full log-softmax
    at 50 digits, then the masked reduction."""
    return topk_by_rows(_topk_rows, *arrays, **options)
