"""The distillation losses: ``kl_topk`` against a dense torch evaluation of each tail rule,
``js_div_logits`` and ``reverse_kl_logits`` against TRL's ``generalized_jsd_loss``, and the
mpmath oracle (:mod:`conformance.oracle_distill`) where a reference is known to differ.

The top-k cases store the indices as float arrays (the runner converts every case array to the
dtype under test; vocabularies of 40 keep them exact even in bfloat16); the call turns them back
into the library's index dtype. The unit tests import the references from here.
"""

from __future__ import annotations

from typing import Any

import array_api_compat as compat
import numpy as np

import kldiv
from conformance import oracle_distill
from conformance.cases.discrete import make_cases
from conformance.oracle_distill import reduce_topk_rows
from conformance.registry import DASK_FLOAT64_ONLY, Case, register

__all__ = [
    "dense_topk_kl",
    "dense_topk_rows",
    "topk_inputs",
    "trl_generalized_jsd",
]

Arrays = tuple[np.ndarray, ...]

# --- references -------------------------------------------------------------------------------


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


def _trl_in_kldiv_terms(
    input_logits: np.ndarray,
    target_logits: np.ndarray,
    beta: float = 0.5,
    temperature: float = 1.0,
    reduction: str = "batchmean",
    axis: int = -1,
) -> np.ndarray:
    """TRL's loss for kldiv's arguments: the vocabulary moved last, and kldiv's 'batchmean'
    (the sum over ``shape[0]``, as ``F.kl_div``) from TRL's 'sum'."""
    pair = np.broadcast_arrays(input_logits, target_logits)
    student, teacher = (np.moveaxis(array, axis, -1) for array in pair)
    trl_reduction = "sum" if reduction == "batchmean" else reduction
    value = trl_generalized_jsd(student[None], teacher[None], beta, temperature, trl_reduction)
    if reduction == "none":
        return np.moveaxis(value.reshape(student.shape), -1, axis)
    return value / pair[0].shape[0] if reduction == "batchmean" else value


def _reverse_reference(input_logits: np.ndarray, target_logits: np.ndarray, **kwargs: Any) -> Any:
    """TRL's ``generalized_jsd_loss`` at β = 1: KL(student ‖ teacher)."""
    return _trl_in_kldiv_terms(input_logits, target_logits, beta=1.0, **kwargs)


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


def dense_topk_kl(
    student_logits: np.ndarray,
    teacher_topk_logprobs: np.ndarray,
    teacher_topk_indices: np.ndarray,
    *mask: np.ndarray,
    tail: str = "bucket",
    temperature: float = 1.0,
    reduction: str = "batchmean",
    axis: int = -1,
) -> np.ndarray:
    """:func:`dense_topk_rows` from the student's full ``torch.log_softmax`` (float64), masked
    rows 0 and not counted, reduced as ``kl_topk`` documents."""
    import torch

    axis = axis % student_logits.ndim
    student = np.moveaxis(student_logits, axis, -1)
    batch_shape, size = student.shape[:-1], student.shape[-1]
    kept = np.broadcast_to(mask[0] != 0, batch_shape) if mask else np.ones(batch_shape, bool)
    indices = np.moveaxis(teacher_topk_indices, axis, -1)
    indices = np.where(kept[..., None], indices, 0).reshape(-1, indices.shape[-1])
    log_s = torch.log_softmax(torch.from_numpy(student.reshape(-1, size)) / temperature, dim=-1)
    positions = torch.from_numpy(indices.astype(np.int64))
    log_t = torch.from_numpy(np.moveaxis(teacher_topk_logprobs, axis, -1).reshape(len(indices), -1))
    rows = dense_topk_rows(log_s, log_t, positions, tail).numpy().reshape(batch_shape)
    values = np.where(kept, rows, 0.0)
    return reduce_topk_rows(values, kept if mask else None, reduction, student_logits.shape[0])


# --- kl_topk cases ----------------------------------------------------------------------------


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


def _topk_cases(rng: np.random.Generator) -> list[Case]:
    layouts = [((4,), -1, 6), ((3, 2), 1, 5), ((), -1, 8)]
    options = [
        (tail, reduction, temperature)
        for tail in ("bucket", "renormalize", "ignore")
        for reduction, temperature in (
            ("batchmean", 1.0),
            ("sum", 2.0),
            ("mean", 0.7),
            ("none", 1.0),
        )
    ]
    cases = []
    for index, (tail, reduction, temperature) in enumerate(options):
        batch, axis, k = layouts[index % len(layouts)]
        kwargs = {"tail": tail, "reduction": reduction, "temperature": temperature, "axis": axis}
        arrays = topk_inputs(rng, batch, k=k, axis=axis)
        cases.append(Case(f"{tail}-{reduction}-{len(batch)}d", arrays, kwargs))
    for tail in ("bucket", "renormalize", "ignore"):
        student, logprobs, indices = topk_inputs(rng, (5,), k=4)
        indices[2] = -100.0  # a padded row: anything may stand there
        mask = np.asarray([1.0, 1.0, 0.0, 1.0, 0.0])
        for reduction in ("batchmean", "none"):
            kwargs = {"tail": tail, "reduction": reduction}
            cases.append(
                Case(f"{tail}-masked-{reduction}", (student, logprobs, indices, mask), kwargs)
            )
        student, logprobs, indices = topk_inputs(rng, (3,), k=5)
        logprobs[0, -2:] = -np.inf  # the teacher holds fewer than k tokens
        student[1, int(indices[1, 0])] = -np.inf  # a teacher token the student rules out
        student[0, int(indices[0, -1])] = -np.inf  # ruled out where the teacher has no mass
        cases.append(
            Case(
                f"{tail}-neg-inf", (student, logprobs, indices), {"tail": tail, "reduction": "none"}
            )
        )
        near = topk_inputs(rng, (4,), k=6, spread=1e-6)
        cases.append(Case(f"{tail}-near-equal", near, {"tail": tail, "reduction": "none"}))
        every = topk_inputs(rng, (3,), size=12, k=12)
        dtypes = ("float64",) if tail == "bucket" else None  # an empty bucket: float64 rounding
        cases.append(Case(f"{tail}-k-equals-vocabulary", every, {"tail": tail}, dtypes=dtypes))
    return cases


def _kl_topk(student: Any, logprobs: Any, indices: Any, *mask: Any, **kwargs: Any) -> Any:
    xp = compat.array_namespace(indices)
    index_dtype = xp.__array_namespace_info__().default_dtypes()["indexing"]
    return kldiv.kl_topk(
        student, logprobs, xp.astype(indices, index_dtype), mask=mask[0] if mask else None, **kwargs
    )


register(
    name="kl_topk",
    kldiv=_kl_topk,
    reference=dense_topk_kl,
    oracle=oracle_distill.kl_topk,
    cases=_topk_cases,
    tags=("distill",),
    dtypes_on=DASK_FLOAT64_ONLY,
)

# --- js_div_logits and reverse_kl_logits ------------------------------------------------------


def _logit_pair(pair: tuple[np.ndarray, np.ndarray], kwargs: dict[str, Any]) -> Arrays:
    """Student (q) and teacher (p) logits, shifted by a constant per array."""
    p, q = pair
    with np.errstate(divide="ignore"):
        return np.log(q / q.sum(-1, keepdims=True)) + 3.0, np.log(
            p / p.sum(-1, keepdims=True)
        ) - 2.0


def _neg_inf_deviation(name: str, arrays: Arrays, kwargs: dict[str, Any]) -> str | None:
    """TRL's terms ``F.kl_div(..., log_target=True)`` are NaN wherever a log-probability is -inf."""
    hit = any(np.isneginf(array).any() for array in arrays)
    return "torch-kl-div-log-target-neg-inf" if hit else None


register(
    name="js_div_logits",
    kldiv=lambda *arrays, **kwargs: kldiv.js_div_logits(*arrays, **kwargs),
    reference=_trl_in_kldiv_terms,
    oracle=oracle_distill.js_div_logits,
    cases=make_cases(
        _logit_pair,
        [
            {"beta": beta, "temperature": temperature, "reduction": reduction, "axis": 0}
            for beta, temperature in ((0.5, 1.0), (0.1, 2.0), (0.9, 0.5), (0.0, 1.0), (1.0, 1.5))
            for reduction in ("batchmean", "sum", "mean", "none")
        ],
        _neg_inf_deviation,
    ),
    tags=("distill",),
    dtypes_on=DASK_FLOAT64_ONLY,
)
register(
    name="reverse_kl_logits",
    kldiv=lambda *arrays, **kwargs: kldiv.reverse_kl_logits(*arrays, **kwargs),
    reference=_reverse_reference,
    oracle=oracle_distill.reverse_kl_logits,
    cases=make_cases(
        _logit_pair,
        [
            {"temperature": temperature, "reduction": reduction, "axis": 0}
            for temperature in (1.0, 2.0, 0.5)
            for reduction in ("batchmean", "sum", "mean", "none")
        ],
        _neg_inf_deviation,
    ),
    tags=("distill",),
    dtypes_on=DASK_FLOAT64_ONLY,
)
