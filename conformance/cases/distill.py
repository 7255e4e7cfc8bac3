"""The distillation losses: ``kl_topk`` against a dense torch evaluation of each tail rule,
``js_div_logits`` and ``reverse_kl_logits`` against TRL's ``generalized_jsd_loss``, and the
mpmath oracle (:mod:`conformance.oracle_distill`) where a reference is known to differ.

The references are those of :mod:`conformance.distill_specs`, which the unit tests share. The
top-k cases store the indices as float arrays (the runner converts every case array to the dtype
under test; vocabularies of 40 keep them exact even in bfloat16); the call turns them back into
the library's index dtype.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import array_api_compat as compat
import numpy as np

import kldiv
from conformance import oracle_distill
from conformance.cases.discrete import make_cases
from conformance.distill_specs import dense_topk_kl, topk_inputs, trl_generalized_jsd
from conformance.registry import DASK_FLOAT64_ONLY, Case, register

Arrays = tuple[np.ndarray, ...]

# --- references -------------------------------------------------------------------------------


def _trl_in_kldiv_terms(
    *logits: np.ndarray, reduction: str = "batchmean", axis: int = -1, **trl_options: Any
) -> np.ndarray:
    """TRL's loss for kldiv's (input, target) logits and keywords (``beta`` and ``temperature``
    passed on): the vocabulary moved last, and kldiv's 'batchmean' (the sum over ``shape[0]``,
    as ``F.kl_div``) from TRL's 'sum'."""
    pair = np.broadcast_arrays(*logits)
    student, teacher = (np.moveaxis(array, axis, -1) for array in pair)
    trl_reduction = "sum" if reduction == "batchmean" else reduction
    value = trl_generalized_jsd(
        student[None], teacher[None], reduction=trl_reduction, **trl_options
    )
    if reduction == "none":
        return np.moveaxis(value.reshape(student.shape), -1, axis)
    return value / pair[0].shape[0] if reduction == "batchmean" else value


def _reverse_reference(input_logits: np.ndarray, target_logits: np.ndarray, **kwargs: Any) -> Any:
    """TRL's ``generalized_jsd_loss`` at β = 1: KL(student ‖ teacher)."""
    return _trl_in_kldiv_terms(input_logits, target_logits, beta=1.0, **kwargs)


# --- kl_topk cases ----------------------------------------------------------------------------


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


def _register_logits(
    name: str, reference: Callable[..., Any], options: list[dict[str, Any]]
) -> None:
    """Register ``kldiv.<name>`` on logit pairs against ``reference``, judged where they differ
    by ``oracle_distill.<name>``, cycling through ``options`` (the vocabulary on axis 0)."""
    register(
        name=name,
        kldiv=lambda *arrays, **kwargs: getattr(kldiv, name)(*arrays, **kwargs),
        reference=reference,
        oracle=getattr(oracle_distill, name),
        cases=make_cases(
            _logit_pair, [{**kwargs, "axis": 0} for kwargs in options], _neg_inf_deviation
        ),
        tags=("distill",),
        dtypes_on=DASK_FLOAT64_ONLY,
    )


_REDUCTIONS = ("batchmean", "sum", "mean", "none")
_register_logits(
    "js_div_logits",
    _trl_in_kldiv_terms,
    [
        {"beta": beta, "temperature": temperature, "reduction": reduction}
        for beta, temperature in ((0.5, 1.0), (0.1, 2.0), (0.9, 0.5), (0.0, 1.0), (1.0, 1.5))
        for reduction in _REDUCTIONS
    ],
)
_register_logits(
    "reverse_kl_logits",
    _reverse_reference,
    [
        {"temperature": temperature, "reduction": reduction}
        for temperature in (1.0, 2.0, 0.5)
        for reduction in _REDUCTIONS
    ],
)
