"""kldiv.kl_estimate: each preset against its framework's formula, the rest against mpmath.

The framework formulas are those of :mod:`conformance.estimator_specs`. Cases without a preset
are compared with a 50-digit mpmath evaluation of the definitions.
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

import kldiv
from conformance.estimator_specs import (
    PRESET_FORMULAS,
    log_probability_cases,
    slime_approx_kl,
    verl_agg_loss,
)
from conformance.registry import Case, register
from kldiv.estimators import AGGREGATES, ESTIMATORS

__all__ = ["kl_estimate_mpmath"]


def _preset_reference(
    logp: np.ndarray, logp_ref: np.ndarray, mask: np.ndarray, *old: np.ndarray, **kwargs: Any
) -> np.ndarray:
    preset, aggregate = kwargs["preset"], kwargs.get("aggregate", "token-mean")
    if old:  # slime: the importance ratio inside compute_approx_kl, before its clamp
        kl_loss_type = preset.split(":")[1]
        values = slime_approx_kl(logp, logp_ref, kl_loss_type, np.exp(logp - old[0]))
    else:
        values = PRESET_FORMULAS[preset](logp, logp_ref)
    if aggregate == "none":
        return np.where(mask != 0, values, 0.0)
    return verl_agg_loss(values, mask, aggregate, count_epsilon=0.0)


# --- the mpmath oracle ------------------------------------------------------------------------

_ESTIMATORS_MP = {
    "k1": lambda d: d,
    "k2": lambda d: d * d / 2,
    "k3": lambda d: mpmath.expm1(-d) + d,
    "abs": abs,
}


def _clip(value: Any, bounds: tuple[float, float] | None) -> Any:
    return value if bounds is None else min(max(value, mpmath.mpf(bounds[0])), bounds[1])


def kl_estimate_mpmath(
    logp: np.ndarray, logp_ref: np.ndarray, mask: np.ndarray, *old: np.ndarray, **kwargs: Any
) -> np.ndarray:
    """``kl_estimate`` without a preset, at 50 significant digits, rounded once to float64."""
    estimator = kwargs.get("estimator", "k3")
    clamp, log_ratio_clamp = kwargs.get("clamp"), kwargs.get("log_ratio_clamp")
    if estimator == "low_var_kl":
        estimator = "k3"
        clamp = clamp or (-10.0, 10.0)
        log_ratio_clamp = log_ratio_clamp or (-20.0, 20.0)
    with mpmath.workdps(50):
        values = np.empty(logp.shape, dtype=object)
        for index in np.ndindex(logp.shape):
            delta = mpmath.mpf(logp[index]) - mpmath.mpf(logp_ref[index])
            value = _ESTIMATORS_MP[estimator](_clip(delta, log_ratio_clamp))
            if old:
                value *= mpmath.exp(mpmath.mpf(logp[index]) - mpmath.mpf(old[0][index]))
            values[index] = _clip(value, clamp) if mask[index] != 0 else mpmath.mpf(0)
        return np.asarray(_aggregate_mp(values, mask, kwargs.get("aggregate", "token-mean")))


def _aggregate_mp(values: np.ndarray, mask: np.ndarray, aggregate: str) -> Any:
    if aggregate == "none":
        return np.frompyfunc(float, 1, 1)(values).astype(np.float64)
    counts = mask.sum(-1)
    sums = [mpmath.fsum(row) for row in values.reshape(-1, values.shape[-1])]
    if aggregate == "token-mean":
        return float(mpmath.fsum(sums) / mask.sum())
    if aggregate == "seq-mean-token-sum-norm":
        return float(mpmath.fsum(sums) / values.shape[-1])
    kept = [(total, count) for total, count in zip(sums, counts.ravel(), strict=True) if count]
    if aggregate == "seq-mean-token-mean":
        return float(mpmath.fsum(total / count for total, count in kept) / len(kept))
    return float(mpmath.fsum(total for total, _ in kept) / len(kept))


# --- cases ------------------------------------------------------------------------------------


def _cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for index, aggregate in enumerate(AGGREGATES):
        arrays = log_probability_cases(rng)
        for preset in kldiv.ESTIMATOR_PRESETS:
            kwargs = {"preset": preset, "aggregate": aggregate}
            cases.append(Case(f"{preset}-{aggregate}", arrays, kwargs))
        for estimator in ESTIMATORS:
            kwargs = {"estimator": estimator, "aggregate": aggregate}
            cases.append(Case(f"{estimator}-{aggregate}", arrays, kwargs))
        old = arrays[0] + rng.normal(scale=0.5, size=arrays[0].shape)
        for preset in ("slime:k3", "slime:low_var_kl"):
            kwargs = {"preset": preset, "aggregate": aggregate}
            cases.append(Case(f"{preset}-is-ratio-{index}", (*arrays, old), kwargs))
        options = {"clamp": (-0.5, 3.0), "log_ratio_clamp": (-4.0, 4.0), "aggregate": aggregate}
        cases.append(Case(f"k3-clamped-is-ratio-{index}", (*arrays, old), options))
    tiny = np.asarray([[1e-8, -1e-8, 3e-12, -2.5e-5]])
    cases.append(Case("k3-tiny-log-ratios", (tiny, np.zeros_like(tiny), np.ones_like(tiny))))
    return cases


def _kl_estimate(
    logp: Any, logp_ref: Any, mask: Any, *old: Any, **kwargs: Any
) -> Any:  # old: the is_ratio array, when the case has one
    return kldiv.kl_estimate(logp, logp_ref, mask=mask, is_ratio=old[0] if old else None, **kwargs)


def _reference(*arrays: np.ndarray, **kwargs: Any) -> np.ndarray:
    if "preset" in kwargs:
        return _preset_reference(*arrays, **kwargs)
    return kl_estimate_mpmath(*arrays, **kwargs)


register(
    name="kl_estimate",
    kldiv=_kl_estimate,
    reference=_reference,
    oracle=kl_estimate_mpmath,
    cases=_cases,
    dtypes=("float64", "float32"),
    tags=("estimators",),
)
