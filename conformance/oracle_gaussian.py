"""The closed forms between Gaussians in mpmath, at :data:`conformance.oracle.DIGITS` digits.

Written as the textbooks do (no log1p/expm1, no whitening: at 50 digits the cancellations these
forms suffer in float64 are harmless): Rényi D_α = α·ΔᵀΣ_α⁻¹Δ/2 − log(|Σ_α| / (|Σ_p|^(1−α)
|Σ_q|^α)) / (2(α − 1)) with Σ_α = α·Σ_q + (1 − α)·Σ_p (+inf where Σ_α is not positive definite,
the KL at α = 1), Bhattacharyya D_B = D_½/2, BC = e^(−D_B), Hellinger √(1 − BC), and W₂² =
‖Δ‖² + tr Σ_p + tr Σ_q − 2·tr (Σ_q^½ Σ_p Σ_q^½)^½ with mpmath's ``sqrtm``. Inputs are the
functions' own: means and log-variances (elementwise, ``event_ndims`` trailing axes summed) or
means and lower Cholesky factors (batched).

>>> import numpy as np
>>> float(wasserstein2_normal(np.array(3.0), np.array(0.0), np.array(0.0), np.array(0.0)))
3.0
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import mpmath
import numpy as np

from conformance.oracle import _float, _mp, _oracle

__all__ = [
    "bhattacharyya_mvn",
    "bhattacharyya_normal",
    "each_mvn_pair",
    "hellinger_mvn",
    "hellinger_normal",
    "renyi_mvn",
    "renyi_normal",
    "wasserstein2_mvn",
    "wasserstein2_normal",
]

_INF = mpmath.mpf("inf")


def _renyi_scalar(alpha: Any) -> Callable[..., Any]:
    def renyi(mu_p: Any, var_p: Any, mu_q: Any, var_q: Any) -> Any:
        distance = (mu_p - mu_q) ** 2
        if alpha == 1:
            return (var_p / var_q - 1 - mpmath.log(var_p / var_q) + distance / var_q) / 2
        mixed = alpha * var_q + (1 - alpha) * var_p
        if mixed <= 0:
            return _INF
        log_ratio = mpmath.log(mixed) - (1 - alpha) * mpmath.log(var_p) - alpha * mpmath.log(var_q)
        return alpha * distance / (2 * mixed) - log_ratio / (2 * (alpha - 1))

    return renyi


def _w2_scalar(mu_p: Any, var_p: Any, mu_q: Any, var_q: Any) -> Any:
    return (mu_p - mu_q) ** 2 + (mpmath.sqrt(var_p) - mpmath.sqrt(var_q)) ** 2


def _reduce(values: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return values
    total = mpmath.fsum(values.ravel()) if values.ndim else values[()]
    if reduction == "sum":
        return np.asarray(total, dtype=object)
    divisor = values.size if reduction == "mean" else (values.shape[0] if values.ndim else 1)
    return np.asarray(total / divisor, dtype=object)


def _normal_oracle(name: str, scalar: Callable[[float], Callable[..., Any]]) -> Callable[..., Any]:
    """The mpmath ``*_normal`` function ``name``: ``scalar(alpha)`` of the elementwise terms that
    add up over the event axes, then the ``name``'s finish of each sum, then the reduction."""

    def oracle(
        mu_p: np.ndarray,
        log_var_p: np.ndarray,
        mu_q: np.ndarray,
        log_var_q: np.ndarray,
        *,
        alpha: float = 0.5,
        event_ndims: int = 0,
        reduction: str = "none",
        clamp_min: float = -30.0,
        clamp_max: float = 20.0,
        coefficient: bool = False,
        squared: bool = False,
    ) -> np.ndarray:
        arrays = np.broadcast_arrays(mu_p, log_var_p, mu_q, log_var_q)
        mu_p, log_var_p, mu_q, log_var_q = (_mp(a) for a in arrays)
        exp = np.frompyfunc(mpmath.exp, 1, 1)
        var_p, var_q = (exp(np.clip(v, clamp_min, clamp_max)) for v in (log_var_p, log_var_q))
        terms = np.frompyfunc(scalar(mpmath.mpf(alpha)), 4, 1)(mu_p, var_p, mu_q, var_q)
        terms = np.asarray(terms, dtype=object)
        if event_ndims:
            terms = np.asarray(np.sum(terms, axis=tuple(range(-event_ndims, 0))), dtype=object)
        values = np.frompyfunc(_FINISH[name](coefficient, squared), 1, 1)(terms)
        return _float(_reduce(np.asarray(values, dtype=object), reduction))

    oracle.__name__ = f"mpmath_{name}"
    return _oracle(oracle)


def _finish_renyi(coefficient: bool, squared: bool) -> Callable[[Any], Any]:
    return lambda value: value


def _finish_bhattacharyya(coefficient: bool, squared: bool) -> Callable[[Any], Any]:
    return lambda value: mpmath.exp(-value / 2) if coefficient else value / 2


def _finish_hellinger(coefficient: bool, squared: bool) -> Callable[[Any], Any]:
    def finish(value: Any) -> Any:
        square = 1 - mpmath.exp(-value / 2)
        return square if squared else mpmath.sqrt(max(square, 0))

    return finish


def _finish_w2(coefficient: bool, squared: bool) -> Callable[[Any], Any]:
    return lambda value: value if squared else mpmath.sqrt(max(value, 0))


_FINISH = {
    "renyi": _finish_renyi,
    "bhattacharyya": _finish_bhattacharyya,
    "hellinger": _finish_hellinger,
    "wasserstein2": _finish_w2,
}
renyi_normal = _normal_oracle("renyi", _renyi_scalar)
bhattacharyya_normal = _normal_oracle("bhattacharyya", lambda alpha: _renyi_scalar(0.5))
hellinger_normal = _normal_oracle("hellinger", lambda alpha: _renyi_scalar(0.5))
wasserstein2_normal = _normal_oracle("wasserstein2", lambda alpha: _w2_scalar)


def _matrix(array: np.ndarray) -> Any:
    return mpmath.matrix([[mpmath.mpf(float(x)) for x in row] for row in array])


def _log_det(matrix: Any) -> Any:
    return 2 * mpmath.fsum(mpmath.log(mpmath.cholesky(matrix)[i, i]) for i in range(matrix.rows))


def _is_positive_definite(matrix: Any) -> bool:
    try:
        mpmath.cholesky(matrix)
    except ValueError:
        return False
    return True


def _renyi_pair(alpha: Any, distance: Any, cov_p: Any, cov_q: Any) -> Any:
    if alpha == 1:
        solved = mpmath.inverse(cov_q) * cov_p
        trace = mpmath.fsum(solved[i, i] for i in range(cov_p.rows))
        quadratic = (distance.T * mpmath.lu_solve(cov_q, distance))[0]
        log_ratio = _log_det(cov_q) - _log_det(cov_p)
        return (trace + quadratic - cov_p.rows + log_ratio) / 2
    mixed = alpha * cov_q + (1 - alpha) * cov_p
    if not _is_positive_definite(mixed):
        return _INF
    quadratic = (distance.T * mpmath.lu_solve(mixed, distance))[0]
    log_ratio = _log_det(mixed) - (1 - alpha) * _log_det(cov_p) - alpha * _log_det(cov_q)
    return alpha * quadratic / 2 - log_ratio / (2 * (alpha - 1))


def _w2_pair(distance: Any, cov_p: Any, cov_q: Any) -> Any:
    root_q = mpmath.sqrtm(cov_q)
    cross = mpmath.sqrtm(root_q * cov_p * root_q)
    traces = mpmath.fsum((cov_p + cov_q - 2 * cross)[i, i] for i in range(cov_p.rows))
    return mpmath.re(mpmath.fsum(x**2 for x in distance) + traces)


def each_mvn_pair(
    loc_p: np.ndarray, tril_p: np.ndarray, loc_q: np.ndarray, tril_q: np.ndarray
) -> tuple[tuple[int, ...], Iterator[tuple[tuple[int, ...], tuple[np.ndarray, ...]]]]:
    """The broadcast batch shape, and (index, (loc_p, tril_p, loc_q, tril_q)) per element."""
    size = loc_p.shape[-1]
    batch = np.broadcast_shapes(
        loc_p.shape[:-1], tril_p.shape[:-2], loc_q.shape[:-1], tril_q.shape[:-2]
    )
    locs = [np.broadcast_to(x, (*batch, size)) for x in (loc_p, loc_q)]
    trils = [np.broadcast_to(x, (*batch, size, size)) for x in (tril_p, tril_q)]
    pairs = (
        (index, (locs[0][index], trils[0][index], locs[1][index], trils[1][index]))
        for index in np.ndindex(*batch)
    )
    return batch, pairs


def _mvn_oracle(name: str) -> Callable[..., Any]:
    def oracle(
        loc_p: np.ndarray,
        tril_p: np.ndarray,
        loc_q: np.ndarray,
        tril_q: np.ndarray,
        *,
        alpha: float = 0.5,
        coefficient: bool = False,
        squared: bool = False,
    ) -> np.ndarray:
        batch, pairs = each_mvn_pair(loc_p, tril_p, loc_q, tril_q)
        values = np.empty(batch, dtype=object)
        for index, (one_loc_p, one_tril_p, one_loc_q, one_tril_q) in pairs:
            distance = _matrix((one_loc_p - one_loc_q)[:, None])
            factors = [_matrix(t) for t in (one_tril_p, one_tril_q)]
            cov_p, cov_q = (factor * factor.T for factor in factors)
            if name == "wasserstein2":
                value = _w2_pair(distance, cov_p, cov_q)
            else:
                order = mpmath.mpf(alpha) if name == "renyi" else mpmath.mpf(0.5)
                value = _renyi_pair(order, distance, cov_p, cov_q)
            values[index] = _FINISH[name](coefficient, squared)(value)
        return _float(values)

    oracle.__name__ = f"mpmath_{name}_mvn"
    return _oracle(oracle)


renyi_mvn = _mvn_oracle("renyi")
bhattacharyya_mvn = _mvn_oracle("bhattacharyya")
hellinger_mvn = _mvn_oracle("hellinger")
wasserstein2_mvn = _mvn_oracle("wasserstein2")
