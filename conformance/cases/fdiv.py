"""The f-divergence family: the discrete cases of every row divergence, and 1-D Wasserstein.

References: SciPy where it has the function (``power_divergence`` and ``chisquare`` on rows with
full support, ``wasserstein_distance`` for p = 1), else the NumPy float64 transcription of
:mod:`conformance.oracle_fdiv`; oracles: the same transcription in mpmath.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from conformance import oracle_fdiv
from conformance.cases.discrete import _call, _maybe_log, make_cases
from conformance.registry import DASK_FLOAT64_ONLY, register
from conformance.tolerances import TOLERANCES, Tolerance, sqrt_of

Arrays = tuple[np.ndarray, ...]


def pearson(t: Any) -> Any:
    """f(t) = (t - 1)²: Pearson's χ²."""
    return (t - 1) ** 2


def squared_hellinger(t: Any) -> Any:
    """f(t) = (√t - 1)²: twice the squared Hellinger distance."""
    return (t**0.5 - 1) ** 2


def half_absolute(t: Any) -> Any:
    """f(t) = |t - 1| / 2: the total variation (f'(∞) = ½)."""
    return abs(t - 1) / 2


def _rowwise(**extra: list[Any]) -> list[dict[str, Any]]:
    """Row options cycling through the reductions and ``extra``'s values, the second half in
    log space; the axis moves to 0 on some pairs."""
    name, values = next(iter(extra.items())) if extra else ("", [None])
    count = max(4, len(values))
    reductions = ("mean", "sum", "none", None)
    return [
        {
            "reduction": reductions[index % 4],
            "log_prob": half == 1,
            "axis": 0,
            **({name: values[index % len(values)]} if name else {}),
        }
        for half in (0, 1)
        for index in range(count)
    ]


def _with_scipy(name: str, scipy_rows: Any) -> Any:
    """The transcription, with SciPy's value on every row where P and Q have full support."""
    transcription = oracle_fdiv.reference(name)

    def reference(p: np.ndarray, q: np.ndarray, **kwargs: Any) -> np.ndarray:
        rows_kwargs = {**kwargs, "reduction": "none"}
        rows = transcription(p, q, **rows_kwargs)
        if kwargs.get("log_prob"):
            return transcription(p, q, **kwargs)
        moved = [np.moveaxis(x, kwargs.get("axis", -1), -1) for x in np.broadcast_arrays(p, q)]
        probs_p, probs_q = (x / x.sum(-1, keepdims=True) for x in moved)
        full = ((probs_p > 0) & (probs_q > 0)).all(-1) & np.isfinite(rows)
        if full.any():
            rows = np.where(full, scipy_rows(probs_p, probs_q, **kwargs), rows)
        reduction = kwargs.get("reduction", "mean")
        if reduction in (None, "none"):
            return rows
        return np.asarray(rows.sum() if reduction == "sum" else rows.mean())

    reference.__name__ = f"scipy_{name}_or_numpy_float64"
    return reference


def _scipy_power(p: np.ndarray, q: np.ndarray, lambda_: Any = 2 / 3, **_: Any) -> np.ndarray:
    """SciPy's statistic of the proportions: n = 1."""
    from scipy.stats import power_divergence

    with np.errstate(all="ignore"):
        return power_divergence(p, q, lambda_=lambda_, axis=-1).statistic


def _scipy_chisquare(p: np.ndarray, q: np.ndarray, kind: str = "pearson", **_: Any) -> np.ndarray:
    from scipy.stats import chisquare

    observed, expected = (q, p) if kind == "neyman" else (p, q)
    with np.errstate(all="ignore"):
        return chisquare(observed, expected, axis=-1).statistic


ROW_FUNCTIONS: dict[str, dict[str, Any]] = {
    "hellinger": {"options": _rowwise(), "tolerances": sqrt_of(TOLERANCES)},
    "hellinger_squared": {"options": _rowwise()},
    "bhattacharyya_coefficient": {"options": _rowwise()},
    "bhattacharyya_distance": {"options": _rowwise(base=[None, 2.0])},
    "total_variation": {"options": _rowwise()},
    "chi2": {
        "options": _rowwise(kind=["pearson", "neyman"]),
        "reference": _with_scipy("chi2", _scipy_chisquare),
    },
    "psi": {"options": _rowwise(epsilon=[1e-4, 1e-6, 0.01])},
    "renyi_divergence": {"options": _rowwise(alpha=[0.0, 0.5, 1.0, 2.0, 7.5, math.inf])},
    "tsallis_divergence": {"options": _rowwise(q_index=[0.0, 0.5, 1.0, 2.0, 3.5])},
    "alpha_divergence": {"options": _rowwise(alpha=[-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])},
    "power_divergence": {
        "options": _rowwise(lambda_=[1.0, 0.0, -1.0, -2.0, -0.5, 2 / 3, "cressie-read", 1.7]),
        "reference": _with_scipy("power_divergence", _scipy_power),
    },
    "f_divergence": {
        "options": [
            {"f": pearson},
            {"f": squared_hellinger},
            {"f": half_absolute, "slope_at_infinity": 0.5},
            {"f": pearson, "log_prob": True, "reduction": "none", "axis": 0},
        ],
    },
}


def _within_range(cases: Any) -> Any:
    """``cases`` without the pairs whose quotients P / Q, or f of them, leave the dtype's range:
    a user's f is evaluated at P / Q in the compute dtype, where those are +inf or 0."""
    out_of_range = ("quotients-leave-the-range", "row-scales-far-apart")
    return lambda rng: [case for case in cases(rng) if not case.name.startswith(out_of_range)]


for _name, _spec in ROW_FUNCTIONS.items():
    _cases = make_cases(_maybe_log, _spec["options"])
    register(
        name=_name,
        kldiv=_call(_name),
        reference=_spec.get("reference", oracle_fdiv.reference(_name)),
        oracle=oracle_fdiv.oracle(_name),
        cases=_within_range(_cases) if _name == "f_divergence" else _cases,
        tolerances=_spec.get("tolerances"),
        dtypes_on=DASK_FLOAT64_ONLY,
        tags=("fdiv",),
    )


def _histograms(pair: tuple[np.ndarray, np.ndarray], kwargs: dict[str, Any]) -> Arrays:
    """The first rows of a pair as weights on two interleaved ordered supports in [0, 1]."""
    p, q = (x.reshape(-1, x.shape[-1])[0] for x in pair)
    positions = np.linspace(0.0, 1.0, p.size)
    return positions, positions + 0.5 / max(p.size, 2), p, q


def _wasserstein_reference(*arrays: np.ndarray, p: float = 1) -> np.ndarray:
    """``scipy.stats.wasserstein_distance`` for p = 1, the float64 transcription otherwise."""
    if p == 1:
        from scipy.stats import wasserstein_distance

        return np.asarray(wasserstein_distance(*arrays), dtype=np.float64)
    return oracle_fdiv.wasserstein_rows(oracle_fdiv.FLOAT64, *arrays, p=p)


def _wasserstein_oracle(*arrays: np.ndarray, p: float = 1) -> np.ndarray:
    return oracle_fdiv.oracle_call(oracle_fdiv.wasserstein_rows, *arrays, p=p)


#: float32 cumulative sums over up to 10⁵ weights carry more than the default rounding.
_WASSERSTEIN_TOLERANCES = {**TOLERANCES, "float32": Tolerance(rtol=1e-3, atol=1e-6)}

register(
    name="wasserstein_1d",
    kldiv=_call("wasserstein_1d"),
    reference=_wasserstein_reference,
    oracle=_wasserstein_oracle,
    cases=make_cases(_histograms, [{"p": 1}, {"p": 2}, {"p": 3}]),
    tolerances=_WASSERSTEIN_TOLERANCES,
    dtypes_on=DASK_FLOAT64_ONLY,
    tags=("fdiv",),
)
