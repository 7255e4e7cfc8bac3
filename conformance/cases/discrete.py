"""The discrete divergences: seeded random cases and named edge cases, one registration each.

Every function draws pairs of (possibly unnormalised) probability arrays ``p, q`` and maps them
to its own arguments (probabilities, log-probabilities, torch's ``(log q, p)``, or logits),
cycling through its keyword options. A case whose inputs hit a declared deviation (for example
``log p = -inf`` for torchmetrics) carries that deviation's key, found by the function's rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

import kldiv
from conformance import oracle as oracles
from conformance import references
from conformance.registry import Case, register
from conformance.tolerances import TOLERANCES, Tolerance, sqrt_of
from kldiv.testing import edge_pairs, random_pairs
from kldiv.testing._cases import log as _log
from kldiv.testing._cases import normalized as _normalized

Arrays = tuple[np.ndarray, ...]
Pair = tuple[np.ndarray, np.ndarray]

#: Deviation cases larger than this (in input elements) are left out: the oracle is slow.
ORACLE_SIZE = 20_000


def _call(name: str) -> Callable[..., Any]:
    """Call ``kldiv.<name>`` looked up at call time (so a test can monkeypatch it)."""
    return lambda *arrays, **kwargs: getattr(kldiv, name)(*arrays, **kwargs)


#: Pairs at the edges of the floating range, each with the dtypes whose range it probes: quotients
#: p / q that overflow, underflow to 0 and are subnormal (from normal inputs), and rows whose
#: scales are so far apart that the quotient of the unnormalised rows overflows.
EXTREME_PAIRS = (
    (
        "quotients-leave-the-range-float64",
        ([[1e10, 1e-200, 1e-300, 0.5]], [[1e-300, 1e200, 1e15, 0.5]]),
        ("float64",),
    ),
    (
        "quotients-leave-the-range-float32",
        ([[1e4, 1e-30, 1e-20, 0.5]], [[1e-36, 1e30, 1e20, 0.5]]),
        ("float32", "bfloat16", "float64"),
    ),
    ("row-scales-far-apart-float64", ([[1e200, 1e200]], [[1e-200, 1e-200]]), ("float64",)),
    (
        "row-scales-far-apart-float32",
        ([[1e6, 1e6], [1e-20, 3e-20]], [[1.0, 1e-33], [1e15, 1e15]]),
        ("float32", "bfloat16", "float64"),
    ),
)


def extreme_pairs() -> Iterator[tuple[str, Pair, tuple[str, ...]]]:
    """:data:`EXTREME_PAIRS` as float64 arrays."""
    for name, (p, q), dtypes in EXTREME_PAIRS:
        yield name, (np.array(p), np.array(q)), dtypes


# --- per-function arguments and deviation rules ------------------------------------------


def _probs(pair: Pair, kwargs: dict[str, Any]) -> Arrays:
    return pair


def _maybe_log(pair: Pair, kwargs: dict[str, Any]) -> Arrays:
    """Log-probabilities of the normalised rows when ``log_prob``, else the pair as it is."""
    p, q = pair
    return (_log(_normalized(p)), _log(_normalized(q))) if kwargs.get("log_prob") else pair


def _torch_order(pair: Pair, kwargs: dict[str, Any]) -> Arrays:
    """torch's ``(input, target)``: log q of the normalised q, and p (or log p)."""
    p, q = pair
    return _log(_normalized(q)), (_log(_normalized(p)) if kwargs.get("log_target") else p)


def _logits(pair: Pair, kwargs: dict[str, Any]) -> Arrays:
    """Logits of q (the student) and p (the teacher), shifted by a constant per array."""
    p, q = pair
    return _log(_normalized(q)) + 3.0, _log(_normalized(p)) - 2.0


def _p_alone_or_pair(pair: Pair, kwargs: dict[str, Any]) -> Arrays:
    """``(p, q)`` or ``(p,)``, as the option ``with_q`` (consumed here) says."""
    return pair if kwargs.pop("with_q") else pair[:1]


def _kl_div_deviation(name: str, arrays: Arrays, kwargs: dict[str, Any]) -> str | None:
    log_q, target = np.broadcast_arrays(*arrays)
    if kwargs.get("log_target"):
        return "torch-kl-div-log-target-neg-inf" if np.isneginf(target).any() else None
    hit = (target == 0) & np.isneginf(log_q)
    return "torch-kl-div-zero-target-neg-inf-input" if hit.any() else None


def _logits_deviation(name: str, arrays: Arrays, kwargs: dict[str, Any]) -> str | None:
    return "torch-kl-div-log-target-neg-inf" if np.isneginf(arrays[1]).any() else None


def _log_prob_deviation(name: str, arrays: Arrays, kwargs: dict[str, Any]) -> str | None:
    if kwargs.get("log_prob"):
        if any(np.isneginf(array).any() for array in arrays):
            return "torchmetrics-log-prob-neg-inf"
        return None
    return _normalised_underflow_deviation(name, arrays, kwargs)


def _normalised_underflow_deviation(
    name: str, arrays: Arrays, kwargs: dict[str, Any]
) -> str | None:
    """References that divide a row by its sum first underflow on the float64 extreme pair."""
    if name.startswith("quotients-leave-the-range-float64") and len(arrays) == 2:
        return "normalised-quotient-underflow"
    return None


def _js_deviation(name: str, arrays: Arrays, kwargs: dict[str, Any]) -> str | None:
    if kwargs.get("log_prob"):
        return _log_prob_deviation(name, arrays, kwargs) or "torchmetrics-js-log-prob-float32-log2"
    return None


def _near_equal_deviation(name: str, arrays: Arrays, kwargs: dict[str, Any]) -> str | None:
    return "scipy-jensenshannon-negative-rounding" if name.startswith("near-equal") else None


def _no_deviation(name: str, arrays: Arrays, kwargs: dict[str, Any]) -> str | None:
    return None


def _on_axis(arrays: Arrays, kwargs: dict[str, Any]) -> Arrays:
    """Move the distribution axis to ``kwargs['axis']`` (only same-rank arrays are given one)."""
    axis = kwargs.get("axis", -1)
    return tuple(np.moveaxis(array, -1, axis) for array in arrays)


def _with_axis(options: list[dict[str, Any]], pair: Pair, index: int) -> dict[str, Any]:
    """The options of case ``index``; every third same-rank case moves the axis to 0."""
    kwargs = dict(options[index % len(options)])
    if "axis" in kwargs and not (pair[0].ndim == pair[1].ndim > 1 and index % 3 == 1):
        del kwargs["axis"]
    return kwargs


def make_cases(
    arguments: Callable[[Pair, dict[str, Any]], Arrays],
    options: list[dict[str, Any]],
    deviation: Callable[[str, Arrays, dict[str, Any]], str | None] = _no_deviation,
) -> Callable[[np.random.Generator], list[Case]]:
    """Cases from the random and edge pairs, each pair with the next options in turn.

    Edge pairs (and the extreme pairs, in the dtypes they probe) run twice, the second time
    with the options half a cycle on (the log-space half, where the options list one). Options
    that contain ``axis`` are a template: the axis moves to 0 on some same-rank pairs.
    Deviation cases are compared with the mpmath oracle, so they are kept small (not on the
    d = 100000 pair).
    """

    def case(
        name: str, pair: Pair, index: int, dtypes: tuple[str, ...] | None = None
    ) -> Case | None:
        kwargs = _with_axis(options, pair, index)
        arrays = _on_axis(arguments(pair, kwargs), kwargs)
        found = deviation(name, arrays, kwargs)
        if found and sum(array.size for array in arrays) > ORACLE_SIZE:
            return None
        return Case(name, arrays, kwargs, deviation=found, dtypes=dtypes)

    def cases(rng: np.random.Generator) -> list[Case | None]:
        made = [case(name, pair, index) for index, (name, pair) in enumerate(random_pairs(rng))]
        half = len(options) // 2
        for index, (name, pair) in enumerate(edge_pairs(rng), start=len(made)):
            made.append(case(f"{name}-v1", pair, index))
            made.append(case(f"{name}-v2", pair, index + max(half, 1)))
        for index, (name, pair, dtypes) in enumerate(extreme_pairs(), start=len(made)):
            made.append(case(f"{name}-v1", pair, index, dtypes))
            made.append(case(f"{name}-v2", pair, index + max(half, 1), dtypes))
        return [item for item in made if item is not None]

    return cases


# --- references built from the trusted libraries -----------------------------------------


def _cross_entropy_reference(p: np.ndarray, q: np.ndarray, **kwargs: Any) -> np.ndarray:
    """H(P, Q) = H(P) + KL(P ‖ Q), both from ``scipy.stats.entropy``."""
    p_full = np.broadcast_arrays(p, q)[0]
    return references.scipy_entropy(p_full, **kwargs) + references.scipy_entropy(p, q, **kwargs)


def _unclamped(p: np.ndarray, q: np.ndarray, axis: int) -> bool:
    eps = np.finfo(np.float64).eps
    normalized = [np.moveaxis(_normalized(np.moveaxis(a, axis, -1)), -1, axis) for a in (p, q)]
    return all(((a > eps) & (a < 1 - eps)).all() for a in normalized)


def _entropy_reference(p: np.ndarray, q: np.ndarray | None = None, **kwargs: Any) -> np.ndarray:
    """``scipy.stats.entropy``; with ``q``, also torch.distributions' Categorical KL.

    The two must agree where torch's clamp of probabilities to [eps, 1 - eps] changes nothing.
    """
    value = references.scipy_entropy(p, q, **kwargs)
    if q is not None and _unclamped(p, q, kwargs.get("axis", -1)):
        base = kwargs.get("base")
        categorical = references.torch_categorical_kl(p, q, axis=kwargs.get("axis", -1))
        references.check_agree("entropy", value, categorical / (np.log(base) if base else 1.0))
    return value


def _jeffreys_reference(p: np.ndarray, q: np.ndarray, **kwargs: Any) -> np.ndarray:
    """KL(P ‖ Q) + KL(Q ‖ P) from torchmetrics, twice."""
    return references.torchmetrics_kl_divergence(
        p, q, **kwargs
    ) + references.torchmetrics_kl_divergence(q, p, **kwargs)


def _kl_div_logits_reference(
    *logits: np.ndarray, temperature: float = 1.0, reduction: str = "batchmean", axis: int = -1
) -> np.ndarray:
    """``F.kl_div(log_softmax(s / T), log_softmax(t / T), log_target=True)`` in torch, of the
    (input, target) logits (s, t)."""
    import torch

    def log_softmax(logits: np.ndarray) -> np.ndarray:
        tensor = torch.from_dlpack(np.ascontiguousarray(logits)) / temperature
        return np.from_dlpack(torch.log_softmax(tensor, dim=axis))

    student, teacher = np.broadcast_arrays(*logits)
    return references.torch_kl_div(
        log_softmax(student), log_softmax(teacher), reduction=reduction, log_target=True
    )


# --- registrations ------------------------------------------------------------------------

_POINTWISE = [
    {"reduction": reduction, "log_target": log_target}
    for log_target in (False, True)
    for reduction in ("batchmean", "sum", "none", "mean")
]
_ROWWISE = [
    {"reduction": reduction, "log_prob": log_prob, "axis": 0}
    for log_prob in (False, True)
    for reduction in ("mean", "sum", "none", None)
]


def _register(
    name: str,
    reference: Callable[..., Any],
    cases: Callable[[np.random.Generator], list[Case]],
    *,
    kldiv: Callable[..., Any] | None = None,
    oracle: Callable[..., Any] | None = None,
    tolerances: Mapping[str, Tolerance] | None = None,
) -> None:
    """Register ``kldiv.<name>`` (or ``kldiv``) against ``reference``, judged where they differ
    by ``oracle.<name>`` (or ``oracle``)."""
    register(
        name=name,
        kldiv=kldiv or _call(name),
        reference=reference,
        oracle=oracle or getattr(oracles, name),
        cases=cases,
        tolerances=tolerances,
        tags=("discrete",),
    )


_register("rel_entr", references.scipy_rel_entr, make_cases(_probs, [{}]))

_register(
    "kl_div", references.torch_kl_div, make_cases(_torch_order, _POINTWISE, _kl_div_deviation)
)

_register(
    "KLDivLoss",
    references.torch_kl_div_loss,
    make_cases(_torch_order, _POINTWISE[::-1], _kl_div_deviation),
    kldiv=lambda input, target, **kwargs: kldiv.KLDivLoss(**kwargs)(input, target),
    oracle=oracles.kl_div,
)

_register(
    "kl_divergence",
    references.torchmetrics_kl_divergence,
    make_cases(_maybe_log, _ROWWISE, _log_prob_deviation),
)

_register(
    "entropy",
    _entropy_reference,
    make_cases(
        _p_alone_or_pair,
        [
            {"with_q": with_q, "base": base, "axis": 0}
            for with_q in (False, True)
            for base in (None, 2, 10)
        ],
        _normalised_underflow_deviation,
    ),
)

_register(
    "cross_entropy",
    _cross_entropy_reference,
    make_cases(
        _probs,
        [{"axis": 0}, {"base": 2, "axis": 0}, {"base": 10.0, "axis": 0}],
        _normalised_underflow_deviation,
    ),
)

_register(
    "js_divergence",
    references.torchmetrics_js_divergence,
    make_cases(
        _maybe_log,
        [{**options, "base": base} for options in _ROWWISE for base in (None, 2)][::3],
        _js_deviation,
    ),
)

_register(
    "js_distance",
    references.scipy_jensenshannon,
    make_cases(
        _probs,
        [{"axis": 0}, {"base": 2.0, "axis": 0}, {"base": np.e, "axis": 0}],
        _near_equal_deviation,
    ),
    tolerances=sqrt_of(TOLERANCES),
)

_register(
    "jeffreys", _jeffreys_reference, make_cases(_maybe_log, _ROWWISE[::-1], _log_prob_deviation)
)

_register(
    "kl_div_logits",
    _kl_div_logits_reference,
    make_cases(
        _logits,
        [
            {"temperature": temperature, "reduction": reduction, "axis": 0}
            for temperature in (1.0, 2.0, 0.5)
            for reduction in ("batchmean", "sum", "mean", "none")
        ],
        _logits_deviation,
    ),
)
