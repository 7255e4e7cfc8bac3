"""The mpmath oracle: every discrete function at 50 significant digits.

It decides the cases where kldiv and a reference disagree. Inputs are float64 NumPy arrays, read
exactly (every float64 is an mpmath number); the math runs on object arrays of ``mpf`` and the
result is rounded once to float64. The conventions are the mathematical ones: KL sums over the
support of P, so a term with P = 0 is 0 whatever Q is (0·log 0 = 0, and 0·(+inf) does not
arise); P > 0 where Q = 0 gives +inf.

>>> import numpy as np
>>> kl_divergence(np.array([[0.36, 0.48, 0.16]]), np.array([[1/3, 1/3, 1/3]]))
array(0.0852996)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from kldiv import discrete

#: One oracle per function of :mod:`kldiv.discrete` (its ``KLDivLoss`` is judged by ``kl_div``).
__all__ = ["DIGITS", "log_softmaxes", *sorted(set(discrete.__all__) - {"KLDivLoss"})]

DIGITS = 50

_NAN = mpmath.mpf("nan")
_INF = mpmath.mpf("inf")


def _elementwise(function: Callable[..., Any]) -> Callable[..., np.ndarray]:
    """``function`` of mpf scalars applied to broadcast object arrays."""
    ufunc = np.frompyfunc(function, 2, 1)
    return lambda *arrays: np.asarray(ufunc(*arrays), dtype=object)


def _mp(array: np.ndarray) -> np.ndarray:
    values = np.asarray(array, dtype=np.float64)
    return np.asarray(np.frompyfunc(mpmath.mpf, 1, 1)(values), dtype=object)


def _float(values: Any) -> np.ndarray:
    return np.asarray(np.frompyfunc(float, 1, 1)(np.asarray(values, dtype=object)), np.float64)


def _term(x: Any, y: Any) -> Any:
    """x·log(x/y) for x ≥ 0: 0 where x = 0, +inf where y = 0 < x."""
    if mpmath.isnan(x) or mpmath.isnan(y) or x < 0 or y < 0:
        return _NAN
    if x == 0:
        return mpmath.mpf(0)
    return _INF if y == 0 else x * mpmath.log(x / y)


def _log_term(log_x: Any, log_y: Any) -> Any:
    """exp(log_x)·(log_x − log_y): 0 where log_x = -inf, +inf where log_y = -inf < log_x."""
    if mpmath.isnan(log_x) or mpmath.isnan(log_y):
        return _NAN
    if log_x == -_INF:
        return mpmath.mpf(0)
    return _INF if log_y == -_INF else mpmath.exp(log_x) * (log_x - log_y)


def _mixed_term(x: Any, log_y: Any) -> Any:
    """x·(log x − log_y) for x ≥ 0: the term of torch's kl_div."""
    return _log_term(mpmath.log(x) if x > 0 else (-_INF if x == 0 else _NAN), log_y)


def _rel_entr_scipy(x: Any, y: Any) -> Any:
    """SciPy's rel_entr: x·log(x/y) for x, y > 0; 0 for x = 0 ≤ y; +inf otherwise."""
    if mpmath.isnan(x) or mpmath.isnan(y):
        return _NAN
    if x > 0 and y > 0:
        return x * mpmath.log(x / y)
    return mpmath.mpf(0) if x == 0 and y >= 0 else _INF


_terms = _elementwise(_term)
_log_terms = _elementwise(_log_term)
_mixed_terms = _elementwise(_mixed_term)
_rel_entr_terms = _elementwise(_rel_entr_scipy)
_cross_terms = _elementwise(lambda x, y: _term(x, y) - _term(x, mpmath.mpf(1)))  # −x·log y


def _sum(values: np.ndarray, axis: int | None = None) -> np.ndarray:
    return np.asarray(np.sum(values, axis=axis), dtype=object)


def _normalized(probs: np.ndarray, axis: int) -> np.ndarray:
    return probs / np.expand_dims(_sum(probs, axis), axis)


def _prepare(*arrays: np.ndarray, axis: int) -> tuple[list[np.ndarray], int]:
    """Broadcast, convert to mpf and normalise ``axis``."""
    broadcast = np.broadcast_arrays(*arrays)
    return [_mp(array) for array in broadcast], axis % max(broadcast[0].ndim, 1)


def _reduce_pointwise(terms: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return terms
    total = _sum(terms)
    if reduction == "sum":
        return total
    if reduction == "mean":
        return total / terms.size
    return total / terms.shape[0] if terms.ndim else total


def _reduce_rows(rows: np.ndarray, reduction: str | None) -> np.ndarray:
    if reduction is None or reduction == "none":
        return rows
    total = _sum(rows)
    return total if reduction == "sum" else total / rows.size


def _in_base(values: np.ndarray, base: float | None) -> np.ndarray:
    return values if base is None else values / mpmath.log(mpmath.mpf(base))


def _oracle(function: Callable[..., Any]) -> Callable[..., np.ndarray]:
    """Run ``function`` at :data:`DIGITS` digits and round its result to float64."""

    def wrapper(*args: Any, **kwargs: Any) -> np.ndarray:
        with mpmath.workdps(DIGITS):
            return _float(function(*args, **kwargs))

    wrapper.__name__ = wrapper.__qualname__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper


def _kl_rows(p: np.ndarray, q: np.ndarray, axis: int, log_prob: bool) -> np.ndarray:
    if log_prob:
        return _sum(_log_terms(p, q), axis)
    return _sum(_terms(_normalized(p, axis), _normalized(q, axis)), axis)


def _js_rows(p: np.ndarray, q: np.ndarray, axis: int, log_prob: bool) -> np.ndarray:
    if log_prob:
        exp = np.frompyfunc(mpmath.exp, 1, 1)
        log_m = np.frompyfunc(mpmath.log, 1, 1)((exp(p) + exp(q)) / 2)
        return _sum(_log_terms(p, log_m) + _log_terms(q, log_m), axis) / 2
    p, q = _normalized(p, axis), _normalized(q, axis)
    m = (p + q) / 2
    return _sum(_terms(p, m) + _terms(q, m), axis) / 2


def _log_softmax(logits: np.ndarray, axis: int) -> np.ndarray:
    exp = np.frompyfunc(mpmath.exp, 1, 1)
    log_total = np.frompyfunc(mpmath.log, 1, 1)(_sum(exp(logits), axis))
    return logits - np.expand_dims(np.asarray(log_total, dtype=object), axis)


@_oracle
def rel_entr(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """SciPy's ``rel_entr`` elementwise."""
    (p, q), _ = _prepare(p, q, axis=-1)
    return _rel_entr_terms(p, q)


@_oracle
def kl_div(
    input: np.ndarray, target: np.ndarray, reduction: str = "mean", log_target: bool = False
) -> np.ndarray:
    """torch's ``kl_div``: terms target·(log target − input), then the pointwise reduction."""
    (log_q, target), _ = _prepare(input, target, axis=-1)
    terms = (_log_terms if log_target else _mixed_terms)(target, log_q)
    return _reduce_pointwise(terms, reduction)


def _row_oracle(
    name: str, rows: Callable[[np.ndarray, np.ndarray, int, bool], np.ndarray], doc: str
) -> Callable[..., np.ndarray]:
    """The oracle ``name`` of a function with ``kl_divergence``'s arguments: ``rows(p, q, axis,
    log_prob)`` of the prepared pair, then the row reduction."""

    def oracle(
        *pair: np.ndarray, log_prob: bool = False, reduction: str | None = "mean", axis: int = -1
    ) -> np.ndarray:
        (p, q), axis = _prepare(*pair, axis=axis)
        return _reduce_rows(rows(p, q, axis, log_prob), reduction)

    oracle.__name__, oracle.__doc__ = name, doc
    return _oracle(oracle)


kl_divergence = _row_oracle(
    "kl_divergence",
    _kl_rows,
    "KL(P ‖ Q) per row (rows renormalised unless ``log_prob``), then the row reduction.",
)
jeffreys = _row_oracle(
    "jeffreys",
    lambda p, q, axis, log_prob: _kl_rows(p, q, axis, log_prob) + _kl_rows(q, p, axis, log_prob),
    "KL(P ‖ Q) + KL(Q ‖ P) per row, then the row reduction.",
)


@_oracle
def entropy(
    p: np.ndarray, q: np.ndarray | None = None, base: float | None = None, axis: int = -1
) -> np.ndarray:
    """H(P), or KL(P ‖ Q) when ``q`` is given, per row."""
    if q is not None:
        (p, q), axis = _prepare(p, q, axis=axis)
        return _in_base(_kl_rows(p, q, axis, log_prob=False), base)
    (p,), axis = _prepare(p, axis=axis)
    probs = _normalized(p, axis)
    return _in_base(-_sum(_terms(probs, np.ones_like(probs)), axis), base)


@_oracle
def cross_entropy(
    p: np.ndarray, q: np.ndarray, base: float | None = None, axis: int = -1
) -> np.ndarray:
    """H(P, Q) = −Σ P log Q per row."""
    (p, q), axis = _prepare(p, q, axis=axis)
    terms = _cross_terms(_normalized(p, axis), _normalized(q, axis))
    return _in_base(_sum(terms, axis), base)


@_oracle
def js_divergence(
    p: np.ndarray,
    q: np.ndarray,
    log_prob: bool = False,
    base: float | None = None,
    reduction: str | None = "mean",
    axis: int = -1,
) -> np.ndarray:
    """½ KL(P ‖ M) + ½ KL(Q ‖ M) per row, then the row reduction."""
    (p, q), axis = _prepare(p, q, axis=axis)
    return _reduce_rows(_in_base(_js_rows(p, q, axis, log_prob), base), reduction)


@_oracle
def js_distance(p: np.ndarray, q: np.ndarray, base: float = 2, axis: int = -1) -> np.ndarray:
    """sqrt(JS(P, Q)) per row."""
    (p, q), axis = _prepare(p, q, axis=axis)
    divergence = _in_base(_js_rows(p, q, axis, log_prob=False), base)
    return np.frompyfunc(mpmath.sqrt, 1, 1)(divergence)


@_oracle
def kl_div_logits(
    input_logits: np.ndarray,
    target_logits: np.ndarray,
    temperature: float = 1.0,
    reduction: str = "batchmean",
    axis: int = -1,
) -> np.ndarray:
    """KL(softmax(target/T) ‖ softmax(input/T)) as pointwise terms, then the pointwise reduction."""
    log_q, log_p = log_softmaxes(input_logits, target_logits, temperature, axis)
    return _reduce_pointwise(_log_terms(log_p, log_q), reduction)


def log_softmaxes(
    input_logits: np.ndarray, target_logits: np.ndarray, temperature: float, axis: int
) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays broadcast, divided by ``temperature`` and log-softmaxed along ``axis``."""
    (student, teacher), axis = _prepare(input_logits, target_logits, axis=axis)
    scale = mpmath.mpf(temperature)
    return _log_softmax(student / scale, axis), _log_softmax(teacher / scale, axis)
