"""The distillation losses as the tests and the conformance cases see them.

Dense references in torch float64: TRL's ``generalized_jsd_loss``
(:func:`trl_generalized_jsd`), and ``kl_topk`` evaluated from the student's full log-softmax
(:func:`dense_topk_rows`, :func:`dense_topk_kl`); ``kl_topk``'s layout around any row evaluator
(:func:`topk_by_rows`, which the mpmath oracle shares) and its reductions
(:func:`reduce_topk_rows`); seeded top-k inputs (:func:`topk_inputs`).

torch is imported only inside the functions that call it: this module loads with NumPy alone.

>>> import numpy as np
>>> student, logprobs, indices = topk_inputs(np.random.default_rng(0), (2,), size=5, k=3)
>>> student.shape, logprobs.shape, indices.shape
((2, 5), (2, 3), (2, 3))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "dense_topk_kl",
    "dense_topk_rows",
    "reduce_topk_rows",
    "topk_by_rows",
    "topk_inputs",
    "trl_generalized_jsd",
]

Arrays = tuple[np.ndarray, ...]

#: ``rows((student, logprobs, indices), kept, tail, temperature)``: the KL of each row (0 where
#: ``kept`` is False) from 2-D arrays, one row each, the vocabulary last (indices as given).
RowEvaluator = Callable[[Arrays, np.ndarray, str, float], np.ndarray]


def trl_generalized_jsd(
    student_logits: np.ndarray,
    teacher_logits: np.ndarray,
    beta: float = 0.5,
    temperature: float = 1.0,
    reduction: str = "batchmean",
) -> np.ndarray:
    """TRL ``trl/trainer/gkd_trainer.py`` ``GKDTrainer.generalized_jsd_loss`` (a9fa292), no
    labels, vocabulary last, in torch float64: the mixture (1 - β)·student + β·teacher formed
    with ``logsumexp`` of the log-probabilities plus log(1 - β) and log β, forward KL at β = 0,
    reverse KL at β = 1; 'batchmean' divides by ``size(0) * size(1)``."""
    import torch
    import torch.nn.functional as F

    student = F.log_softmax(torch.from_numpy(np.array(student_logits)) / temperature, dim=-1)
    teacher = F.log_softmax(torch.from_numpy(np.array(teacher_logits)) / temperature, dim=-1)
    if beta == 0:
        jsd = F.kl_div(student, teacher, reduction="none", log_target=True)
    elif beta == 1:
        jsd = F.kl_div(teacher, student, reduction="none", log_target=True)
    else:
        weight = torch.tensor(beta, dtype=student.dtype)
        parts = torch.stack([student + torch.log(1 - weight), teacher + torch.log(weight)])
        mixture = torch.logsumexp(parts, dim=0)
        to_teacher = F.kl_div(mixture, teacher, reduction="none", log_target=True)
        to_student = F.kl_div(mixture, student, reduction="none", log_target=True)
        jsd = weight * to_teacher + (1 - weight) * to_student
    if reduction == "batchmean":
        return (jsd.sum() / (jsd.size(0) * jsd.size(1))).numpy()
    if reduction in ("sum", "mean"):
        return getattr(jsd, reduction)().numpy()
    return jsd.numpy()


def dense_topk_rows(log_s: Any, log_t: Any, positions: Any, tail: str) -> Any:
    """The top-k KL of each row in torch (differentiable), vocabulary last: ``log_s`` the
    student's full log-softmax, ``log_t`` the teacher's k log-probabilities at ``positions``.

    The k terms t (log t - log s) at the gathered log-probabilities; 'renormalize' renormalises
    both with ``log_softmax`` over the k first; 'bucket' adds t_r log(t_r / s_r), s_r the sum of
    the student's probabilities outside the indices (masked densely with ``scatter``), counting a
    teacher missing mass t_r within the rounding of float64 log-probabilities as 0 (kldiv's rule).
    """
    import torch

    log_s_topk = log_s.gather(-1, positions)
    if tail == "renormalize":
        log_t, log_s_topk = log_t.log_softmax(-1), log_s_topk.log_softmax(-1)
    no_mass = log_t == -torch.inf
    safe_log_t = torch.where(no_mass, 0.0, log_t)
    terms = torch.where(no_mass, 0.0, torch.exp(safe_log_t) * (safe_log_t - log_s_topk))
    rows = terms.sum(-1)
    if tail != "bucket":
        return rows
    in_topk = torch.zeros_like(log_s, dtype=torch.bool).scatter(-1, positions, True)
    rest = torch.where(in_topk, 0.0, torch.exp(log_s)).sum(-1)
    missing = 1 - torch.exp(log_t).sum(-1)
    information = torch.where(no_mass, 0.0, torch.exp(safe_log_t) * safe_log_t)
    counts = missing > 2 * np.finfo(np.float64).eps * (1 - information.sum(-1))
    safe_missing = torch.where(counts, missing, 1.0)
    return rows + torch.where(counts, safe_missing * torch.log(safe_missing / rest), 0.0)


def topk_by_rows(
    rows: RowEvaluator,
    student_logits: np.ndarray,
    teacher_topk_logprobs: np.ndarray,
    teacher_topk_indices: np.ndarray,
    *mask: np.ndarray,
    tail: str = "bucket",
    temperature: float = 1.0,
    reduction: str = "batchmean",
    axis: int = -1,
) -> np.ndarray:
    """``kl_topk`` of the arguments with each row's KL from ``rows``: the vocabulary moved last
    and the batch flattened into rows, masked rows not counted, reduced as ``kl_topk``
    documents."""
    axis = axis % student_logits.ndim
    student = np.moveaxis(student_logits, axis, -1)
    batch_shape = student.shape[:-1]
    kept = np.broadcast_to(mask[0] != 0, batch_shape) if mask else np.ones(batch_shape, bool)
    student_rows = student.reshape(-1, student.shape[-1])
    logprobs, indices = (
        np.moveaxis(array, axis, -1).reshape(len(student_rows), -1)
        for array in (teacher_topk_logprobs, teacher_topk_indices)
    )
    values = rows((student_rows, logprobs, indices), kept.reshape(-1), tail, temperature)
    return reduce_topk_rows(
        values.reshape(batch_shape), kept if mask else None, reduction, student_logits.shape[0]
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


def _dense_rows(rows: Arrays, kept: np.ndarray, tail: str, temperature: float) -> np.ndarray:
    """:func:`dense_topk_rows` from the student's full ``torch.log_softmax``; masked rows 0."""
    import torch

    student, logprobs, indices = rows
    log_s = torch.log_softmax(torch.from_numpy(student) / temperature, dim=-1)
    positions = torch.from_numpy(np.where(kept[:, None], indices, 0).astype(np.int64))
    values = dense_topk_rows(log_s, torch.from_numpy(logprobs), positions, tail).numpy()
    return np.where(kept, values, 0.0)


def dense_topk_kl(*arrays: np.ndarray, **options: Any) -> np.ndarray:
    """``kl_topk`` (its arguments and keywords) from :func:`dense_topk_rows` in torch float64."""
    return topk_by_rows(_dense_rows, *arrays, **options)


def topk_inputs(
    rng: np.random.Generator,
    batch_shape: tuple[int, ...],
    size: int = 40,
    k: int = 6,
    axis: int = -1,
    spread: float = 1.5,
) -> Arrays:
    """Student logits (a noisy copy of the teacher's), the teacher's top-k log-probabilities
    (sorted, the largest first) and their indices (as floats), the vocabulary on ``axis``."""
    teacher = rng.normal(size=(*batch_shape, size)) * 3.0
    student = teacher + rng.normal(size=teacher.shape) * spread
    log_t = teacher - np.log(np.exp(teacher).sum(-1, keepdims=True))
    indices = np.argsort(-log_t, axis=-1, kind="stable")[..., :k]
    logprobs = np.take_along_axis(log_t, indices, -1)
    moved = (np.moveaxis(a, -1, axis) for a in (student, logprobs, indices.astype(np.float64)))
    return tuple(moved)
