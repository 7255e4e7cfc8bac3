"""The f-divergence family transcribed once, evaluated twice: in float64 NumPy and in mpmath.

Each formula is written against :class:`Numbers` (sqrt, log, exp, log-sum-exp, ...). With
:data:`FLOAT64` it is the NumPy float64 transcription used as the reference where SciPy lacks the
function; with :data:`MPMATH` it is the oracle, at :data:`conformance.oracle.DIGITS` digits on
exactly read inputs. Rows are normalised along ``axis`` (log-probabilities with ``log_prob`` are
used as they are) and the power sums are taken in log space, so neither side overflows where the
divergence is finite.

>>> import numpy as np
>>> float(hellinger(np.array([1.0, 0.0]), np.array([0.0, 1.0])))
1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import scipy.special

from conformance.oracle import _float, _mp, _oracle
from kldiv._power import LAMBDA_NAMES

__all__ = [
    "FLOAT64",
    "MPMATH",
    "ROWS",
    "Numbers",
    "hellinger",
    "oracle",
    "oracle_call",
    "reference",
    "rows_of",
    "wasserstein_rows",
]


def _mp_unary(function: Callable[[Any], Any]) -> Callable[[np.ndarray], np.ndarray]:
    ufunc = np.frompyfunc(function, 1, 1)
    return lambda array: np.asarray(ufunc(array), dtype=object)


def _mp_log(x: Any) -> Any:
    if mpmath.isnan(x) or x < 0:
        return mpmath.mpf("nan")
    return -mpmath.inf if x == 0 else mpmath.log(x)


def _mp_logsumexp(values: np.ndarray, axis: int) -> np.ndarray:
    def one(row: np.ndarray) -> Any:
        finite = [value for value in row if value != -mpmath.inf]
        if any(mpmath.isnan(value) for value in row):
            return mpmath.mpf("nan")
        return (
            mpmath.log(mpmath.fsum(mpmath.exp(value) for value in finite))
            if finite
            else -mpmath.inf
        )

    return np.asarray(np.apply_along_axis(one, axis, values), dtype=object)


@dataclass(frozen=True)
class Numbers:
    """The elementwise functions a formula needs, in one precision."""

    convert: Callable[[np.ndarray], np.ndarray]
    finish: Callable[[Any], np.ndarray]
    sqrt: Callable[[np.ndarray], np.ndarray]
    log: Callable[[np.ndarray], np.ndarray]
    exp: Callable[[np.ndarray], np.ndarray]
    logsumexp: Callable[[np.ndarray, int], np.ndarray]


FLOAT64 = Numbers(
    convert=lambda array: np.asarray(array, dtype=np.float64),
    finish=lambda values: np.asarray(values, dtype=np.float64),
    sqrt=np.sqrt,
    log=np.log,
    exp=np.exp,
    logsumexp=lambda values, axis: scipy.special.logsumexp(values, axis=axis),
)
MPMATH = Numbers(
    convert=_mp,
    finish=_float,
    sqrt=_mp_unary(mpmath.sqrt),
    log=_mp_unary(_mp_log),
    exp=_mp_unary(mpmath.exp),
    logsumexp=_mp_logsumexp,
)


def _sum(values: np.ndarray) -> np.ndarray:
    total = np.sum(values, axis=-1)
    return total if isinstance(total, np.ndarray | np.generic) else np.asarray(total, dtype=object)


def _log_power_sum(n: Numbers, log_p: np.ndarray, log_q: np.ndarray, a: float, b: float) -> Any:
    """log Σ P^a Q^b: a zero base with a positive exponent makes its term 0, with a negative
    exponent +inf (the conventions of :func:`kldiv._elementwise.log_power_sum`)."""
    p_empty, q_empty = log_p == -math.inf, log_q == -math.inf
    exponent = a * np.where(p_empty, 0.0, log_p) + b * np.where(q_empty, 0.0, log_q)
    exponent = np.where(p_empty & (a < 0) | q_empty & (b < 0), math.inf, exponent)
    exponent = np.where(p_empty & (a >= 0) | q_empty & (b > 0), -math.inf, exponent)
    return n.logsumexp(np.asarray(exponent, dtype=log_p.dtype), -1)


def _kl(n: Numbers, p: np.ndarray, q: np.ndarray, log_p: np.ndarray, log_q: np.ndarray) -> Any:
    terms = np.where(p == 0, 0.0, p * (np.where(p == 0, 0.0, log_p) - log_q))
    return _sum(terms)


def _expm1(n: Numbers, x: Any) -> Any:
    return np.expm1(x) if n is FLOAT64 else n.exp(x) - 1


def _renyi(n: Numbers, p: Any, q: Any, log_p: Any, log_q: Any, alpha: float, **_: Any) -> Any:
    if alpha == 1:
        return _kl(n, p, q, log_p, log_q)
    if alpha == math.inf:
        return np.max(np.where(p == 0, -math.inf, log_p - log_q), axis=-1)
    return _log_power_sum(n, log_p, log_q, alpha, 1 - alpha) / (alpha - 1)


def _tsallis(n: Numbers, p: Any, q: Any, log_p: Any, log_q: Any, q_index: float, **_: Any) -> Any:
    if q_index == 1:
        return _kl(n, p, q, log_p, log_q)
    return _expm1(n, _log_power_sum(n, log_p, log_q, q_index, 1 - q_index)) / (q_index - 1)


def _alpha(n: Numbers, p: Any, q: Any, log_p: Any, log_q: Any, alpha: float, **_: Any) -> Any:
    if abs(alpha) == 1:
        return _kl(n, q, p, log_q, log_p) if alpha == 1 else _kl(n, p, q, log_p, log_q)
    log_sum = _log_power_sum(n, log_p, log_q, (1 - alpha) / 2, (1 + alpha) / 2)
    return -4 * _expm1(n, log_sum) / (1 - alpha * alpha)


def _power(
    n: Numbers, p: Any, q: Any, log_p: Any, log_q: Any, lambda_: float | str = 2 / 3, **_: Any
) -> Any:
    lambda_ = LAMBDA_NAMES.get(lambda_, lambda_) if isinstance(lambda_, str) else lambda_
    if lambda_ in (0, -1):
        return 2 * (_kl(n, p, q, log_p, log_q) if lambda_ == 0 else _kl(n, q, p, log_q, log_p))
    log_sum = _log_power_sum(n, log_p, log_q, 1 + lambda_, -lambda_)
    return 2 * _expm1(n, log_sum) / (lambda_ * (lambda_ + 1))


def _bc(n: Numbers, p: Any, q: Any, *_: Any, **__: Any) -> Any:
    return _sum(n.sqrt(p * q))


def _chi2(n: Numbers, p: Any, q: Any, *_: Any, kind: str = "pearson", **__: Any) -> Any:
    if kind == "neyman":
        p, q = q, p
    terms = np.where(q == 0, np.where(p == 0, 0.0, math.inf), (p - q) ** 2 / np.where(q == 0, 1, q))
    return _sum(terms)


def _psi(
    n: Numbers, p: Any, q: Any, log_p: Any, log_q: Any, epsilon: float = 1e-4, **_: Any
) -> Any:
    """Empty bins (log P = -inf) get ``epsilon``; the rows are renormalised (in log space)."""
    log_epsilon = math.log(epsilon) if epsilon > 0 else -math.inf
    logs = []
    for log_x in (log_p, log_q):
        filled = np.where(log_x == -math.inf, log_epsilon, log_x)
        logs.append(filled - n.logsumexp(np.asarray(filled, dtype=log_x.dtype), -1)[..., None])
    log_p, log_q = logs
    return _sum((n.exp(log_p) - n.exp(log_q)) * (log_p - log_q))


def _f_divergence(
    n: Numbers,
    p: Any,
    q: Any,
    *_: Any,
    f: Callable[[Any], Any],
    f_at_zero: float | None = None,
    slope_at_infinity: float = math.inf,
    **__: Any,
) -> Any:
    values = f(np.where(q == 0, 1, p / np.where(q == 0, 1, q)))
    if f_at_zero is not None:
        values = np.where(p == 0, f_at_zero, values)
    edge = np.where(p == 0, 0.0, p * slope_at_infinity)
    return _sum(np.where(q == 0, edge, q * values))


#: Each function's row formula ``(numbers, P, Q, log P, log Q, **kwargs) -> rows``.
ROWS: dict[str, Callable[..., Any]] = {
    "hellinger": lambda n, *args, **kw: n.sqrt(np.maximum(1 - _bc(n, *args), 0)),
    "hellinger_squared": lambda n, *args, **kw: 1 - _bc(n, *args),
    "bhattacharyya_coefficient": _bc,
    "bhattacharyya_distance": lambda n, *args, **kw: -n.log(_bc(n, *args)),
    "total_variation": lambda n, p, q, *args, **kw: _sum(np.abs(p - q)) / 2,
    "chi2": _chi2,
    "psi": _psi,
    "renyi_divergence": _renyi,
    "tsallis_divergence": _tsallis,
    "alpha_divergence": _alpha,
    "power_divergence": _power,
    "f_divergence": _f_divergence,
}


def rows_of(
    n: Numbers,
    name: str,
    p: np.ndarray,
    q: np.ndarray,
    *,
    log_prob: bool = False,
    reduction: str | None = "mean",
    axis: int = -1,
    base: float | None = None,
    **kwargs: Any,
) -> np.ndarray:
    """``name``'s value in precision ``n``, with kldiv's arguments."""
    p, q = (np.moveaxis(x, axis, -1) for x in np.broadcast_arrays(p, q))
    p, q = n.convert(p), n.convert(q)
    if log_prob:
        log_p, log_q = p, q
        p, q = n.exp(p), n.exp(q)
    else:
        invalid = (p < 0).any(-1) | (q < 0).any(-1)
        log_p, log_q = (n.log(np.where(x < 0, 0, x)) - n.log(_sum(x))[..., None] for x in (p, q))
        p, q = (x / _sum(x)[..., None] for x in (p, q))
    rows = np.asarray(ROWS[name](n, p, q, log_p, log_q, **kwargs))
    if not log_prob:
        rows = np.where(invalid, math.nan, rows)
    if base is not None:
        rows = rows / n.log(n.convert(np.asarray(float(base))))
    if reduction in (None, "none"):
        return n.finish(rows)
    total = np.sum(rows)
    return n.finish(total if reduction == "sum" else total / max(rows.size, 1))


def reference(name: str) -> Callable[..., np.ndarray]:
    """The NumPy float64 transcription of ``name``."""
    function = lambda p, q, **kwargs: rows_of(FLOAT64, name, p, q, **kwargs)  # noqa: E731
    function.__name__ = f"numpy_float64_{name}"
    return function


def oracle(name: str) -> Callable[..., np.ndarray]:
    """The mpmath transcription of ``name``."""
    function = _oracle(lambda p, q, **kwargs: rows_of(MPMATH, name, p, q, **kwargs))
    function.__name__ = f"mpmath_{name}"
    return function


def _quantiles(levels: np.ndarray, cdf: np.ndarray, values: np.ndarray) -> np.ndarray:
    index = np.minimum(np.searchsorted(cdf, levels, side="left"), values.size - 1)
    return values[index]


def wasserstein_rows(
    n: Numbers,
    u_values: np.ndarray,
    v_values: np.ndarray,
    u_weights: np.ndarray,
    v_weights: np.ndarray,
    p: float = 1,
) -> np.ndarray:
    """W_p from the quantile functions: (Σ over the merged levels of width · |gap|^p)^(1/p)."""
    sides = []
    for values, weights in ((u_values, u_weights), (v_values, v_weights)):
        order = np.argsort(values, kind="stable")
        cumulative = np.cumsum(n.convert(weights[order]))
        sides.append((n.convert(values[order]), cumulative / cumulative[-1]))
    (u_sorted, u_cdf), (v_sorted, v_cdf) = sides
    levels = np.sort(np.concatenate([u_cdf, v_cdf]))
    widths = np.diff(levels, prepend=levels[0] * 0)
    gaps = np.abs(_quantiles(levels, u_cdf, u_sorted) - _quantiles(levels, v_cdf, v_sorted))
    total = np.sum(widths * gaps**p)
    return n.finish(total if p == 1 else total ** (1 / p))


def oracle_call(function: Callable[..., Any], *arrays: np.ndarray, **kwargs: Any) -> np.ndarray:
    """``function(MPMATH, *arrays, **kwargs)`` at the oracle's precision."""
    return _oracle(lambda *args, **kw: function(MPMATH, *args, **kw))(*arrays, **kwargs)


hellinger = oracle("hellinger")
