"""Kernels of the distillation losses: the top-k KL of one row from its k gathered values, and
the generalised Jensen–Shannon divergence of two logit blocks with its gradients.

The top-k kernel works on arrays of k values per row (k along ``axis``): the student's scaled
logits at the teacher's indices, the student's log-normaliser over the whole vocabulary, and the
teacher's stored log-probabilities. It returns the row KL and its partial derivatives with
respect to those three inputs, from which the gradient with respect to the full logits follows:
``d_lse · softmax + scatter(d_student)``. Nothing in it is as large as the vocabulary.
"""

from __future__ import annotations

from typing import Any

from .._array import Array, Namespace
from ._core import log_midpoint, logsumexp, xlog_ratio_log
from ._families import log1mexp

__all__ = [
    "TOPK_TAILS",
    "js_logits_gradients",
    "js_logits_rows",
    "js_logits_terms",
    "topk_kl_rows",
]

#: The rules for the teacher's mass outside its top k (see :func:`kldiv.kl_topk`).
TOPK_TAILS = ("ignore", "renormalize", "bucket")

TopkTerms = tuple[Array, Array, Array, Array]


def _mass_weighted(xp: Namespace, log_weight: Array, values: Array) -> Array:
    """``exp(log_weight) · values``, 0 where the weight has no mass (whatever ``values`` is)."""
    no_mass = log_weight == -xp.inf
    return xp.where(no_mass, 0.0, xp.exp(log_weight) * xp.where(no_mass, 0.0, values))


def topk_kl_rows(
    xp: Namespace,
    student_topk: Array,
    student_lse: Array | None,
    teacher_topk: Array,
    tail: str,
    axis: int,
    stored_dtype: Any = None,
) -> TopkTerms:
    """The row KL(teacher ‖ student) over the top-k support, and its partial derivatives.

    ``student_topk``: the student's scaled logits at the teacher's indices; ``student_lse``: the
    log-sum-exp of the student's whole scaled row (``axis`` kept; unused by 'renormalize');
    ``teacher_topk``: the teacher's log-probabilities t_i; ``stored_dtype``: the dtype whose
    rounding bounds the teacher's missing mass (default: the arrays' own). Returns ``(rows,
    d_lse, d_student, d_teacher)``: the row values (``axis`` kept) and the derivatives of each
    row with respect to the log-normaliser, the gathered logits and the teacher's
    log-probabilities.
    """
    if tail == "renormalize":
        return _renormalized(xp, student_topk, teacher_topk, axis)
    assert student_lse is not None
    log_student = student_topk - student_lse
    teacher_probs = xp.exp(teacher_topk)
    rows = xp.sum(xlog_ratio_log(xp, teacher_topk, log_student), axis=axis, keepdims=True)
    covered = xp.sum(teacher_probs, axis=axis, keepdims=True)
    surprise = teacher_topk - log_student + 1.0
    if tail == "ignore":
        d_teacher = _mass_weighted(xp, teacher_topk, surprise)
        return rows, covered, -teacher_probs, d_teacher
    eps = xp.finfo(teacher_topk.dtype if stored_dtype is None else stored_dtype).eps
    missing, log_missing = _teacher_missing_mass(xp, teacher_topk, axis, eps)
    log_rest = log1mexp(xp, xp.maximum(student_lse - logsumexp(xp, student_topk, axis, True), 0.0))
    has_missing = missing > 0
    bucket_log_ratio = xp.where(has_missing, log_missing - log_rest, 0.0)
    rest = xp.where(has_missing, xp.exp(log_rest), 1.0)
    ratio = xp.where(has_missing, missing / rest, 0.0)
    rows = rows + xp.where(has_missing, missing * bucket_log_ratio, 0.0)
    d_student = ratio * xp.exp(log_student) - teacher_probs
    bucket_slope = xp.where(has_missing, bucket_log_ratio + 1.0, 0.0)
    d_teacher = _mass_weighted(xp, teacher_topk, surprise - bucket_slope)
    return rows, covered + missing - ratio, d_student, d_teacher


def _renormalized(xp: Namespace, student_topk: Array, teacher_topk: Array, axis: int) -> TopkTerms:
    """KL of both distributions renormalised on the top-k support, and its derivatives."""
    teacher = teacher_topk - logsumexp(xp, teacher_topk, axis, keepdims=True)
    student = student_topk - logsumexp(xp, student_topk, axis, keepdims=True)
    rows = xp.sum(xlog_ratio_log(xp, teacher, student), axis=axis, keepdims=True)
    d_student = xp.exp(student) - xp.exp(teacher)
    d_teacher = _mass_weighted(xp, teacher, teacher - student - rows)
    return rows, xp.zeros_like(rows), d_student, d_teacher


def _teacher_missing_mass(
    xp: Namespace, teacher_topk: Array, axis: int, eps: float
) -> tuple[Array, Array]:
    """``1 - Σ t_i`` and its log, 0 (and log 0 replaced by 0) within rounding of zero.

    Rounding: each stored log t_i is off by about ε·|log t_i| (ε given), so Σ t_i is
    known to about ε·(1 + Σ t_i |log t_i|); a missing mass below twice that counts as none,
    so that a teacher whose top k hold all its mass has an empty bucket.
    """
    log_covered = xp.minimum(logsumexp(xp, teacher_topk, axis, keepdims=True), 0.0)
    raw = -xp.expm1(log_covered)
    information = xlog_ratio_log(xp, teacher_topk, xp.zeros_like(teacher_topk))
    entropy = -xp.sum(information, axis=axis, keepdims=True)
    rounding = 2.0 * eps * (1.0 + xp.abs(entropy))
    has_missing = raw > rounding
    log_missing = log1mexp(xp, xp.where(has_missing, -log_covered, 1.0))
    return xp.where(has_missing, raw, 0.0), xp.where(has_missing, log_missing, 0.0)


# --- generalised Jensen–Shannon divergence ------------------------------------------------


def js_logits_terms(xp: Namespace, log_q: Array, log_p: Array, beta: float) -> Array:
    """β·p·log(p/m) + (1 - β)·q·log(q/m) elementwise, m = β·p + (1 - β)·q (0 < β < 1)."""
    log_m = log_midpoint(xp, log_p, log_q, weight=beta)
    return beta * xlog_ratio_log(xp, log_p, log_m) + (1.0 - beta) * xlog_ratio_log(xp, log_q, log_m)


def js_logits_rows(
    xp: Namespace, input_logits: Array, target_logits: Array, beta: float, axis: int
) -> tuple[Array, Array, Array]:
    """Per-row generalised JSD of softmax(target) (p) and softmax(input) (q), and both
    log-sum-exps (all three keep ``axis``)."""
    lse_input = logsumexp(xp, input_logits, axis, keepdims=True)
    lse_target = logsumexp(xp, target_logits, axis, keepdims=True)
    terms = js_logits_terms(xp, input_logits - lse_input, target_logits - lse_target, beta)
    return xp.sum(terms, axis=axis, keepdims=True), lse_input, lse_target


def js_logits_gradients(
    xp: Namespace,
    input_logits: Array,
    target_logits: Array,
    beta: float,
    row_values: tuple[Array, Array, Array],
    axis: int,
    target_gradient: bool,
) -> tuple[Array, Array | None]:
    """Gradients of the summed row JSD with respect to both logit blocks (whole rows).

    With m the mixture: ``(1 - β)·q·(log(q/m) - KL(q‖m))`` for the input and
    ``β·p·(log(p/m) - KL(p‖m))`` for the target (or None unless ``target_gradient``).
    """
    _, lse_input, lse_target = row_values
    log_q, log_p = input_logits - lse_input, target_logits - lse_target
    log_m = log_midpoint(xp, log_p, log_q, weight=beta)
    parts = [(log_q, 1.0 - beta)] + ([(log_p, beta)] if target_gradient else [])
    gradients = []
    for log_x, weight in parts:
        divergence = xp.sum(xlog_ratio_log(xp, log_x, log_m), axis=axis, keepdims=True)
        gradients.append(weight * _mass_weighted(xp, log_x, log_x - log_m - divergence))
    return gradients[0], gradients[1] if target_gradient else None
