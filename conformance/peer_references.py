"""Adapters for the optional peers dit, pyitlib and POT: kldiv's arguments in, kldiv's units out.

Each adapter calls the peer as it is, row by row where the peer takes one distribution at a time,
and converts with the README's convention table: dit and pyitlib work in bits (× ln 2 gives
nats, ÷ ln(base) gives kldiv's ``base``), POT's ``wasserstein_1d`` returns W_p^p (its p-th root
is kldiv's W_p), POT's Bures–Wasserstein distance is W₂ itself. dit builds a distribution from
the outcomes of positive probability only, so a term at P = 0 is dropped (for an f-divergence,
Q·f(0) is lost): the peer cases keep every probability positive.

>>> import numpy as np
>>> p, q = np.array([[0.5, 0.5]]), np.array([[0.25, 0.75]])
>>> round(float(pyitlib_kl_divergence(p, q)[0]), 12)  # nats, from pyitlib's bits
0.143841036226
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from conformance.oracle_gaussian import each_mvn_pair
from conformance.references import _rows

__all__ = [
    "DIT_MEASURES",
    "dit_measure",
    "pot_bures_wasserstein",
    "pot_wasserstein_1d",
    "pyitlib_cross_entropy",
    "pyitlib_entropy",
    "pyitlib_jeffreys",
    "pyitlib_js_divergence",
    "pyitlib_kl_divergence",
    "row_by_row",
]

_LN2 = math.log(2.0)


def _bits_to(values: np.ndarray, base: float | None) -> np.ndarray:
    """Bits as kldiv reports them: nats by default, else in ``base``."""
    nats = values * _LN2
    return nats if base is None else nats / math.log(base)


def _reduced(values: np.ndarray, batch_shape: tuple, reduction: str | None) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).reshape(batch_shape)
    if reduction in (None, "none"):
        return values
    return np.asarray(values.sum() if reduction == "sum" else values.mean())


# --- dit -----------------------------------------------------------------------------------------


def _dit_distribution(row: np.ndarray) -> Any:
    import dit

    return dit.Distribution([str(i) for i in range(row.size)], row / row.sum())


#: kldiv function → (dit.divergences function, whether it is in bits, kldiv's parameter name).
DIT_MEASURES: dict[str, tuple[str, bool, str | None]] = {
    "kl_divergence": ("kullback_leibler_divergence", True, None),
    "cross_entropy": ("cross_entropy", True, None),
    "js_divergence": ("jensen_shannon_divergence", True, None),
    "hellinger": ("hellinger_distance", False, None),
    "bhattacharyya_coefficient": ("bhattacharyya_coefficient", False, None),
    "total_variation": ("variational_distance", False, None),
    "renyi_divergence": ("renyi_divergence", True, "alpha"),
    "tsallis_divergence": ("tsallis_divergence", False, "q_index"),
    "alpha_divergence": ("alpha_divergence", False, "alpha"),
    "f_divergence": ("f_divergence", False, "f"),
}


def dit_measure(name: str) -> Callable[..., np.ndarray]:
    """The adapter of ``dit.divergences``' counterpart of kldiv's ``name`` (rows on ``axis``)."""
    measure, in_bits, parameter = DIT_MEASURES[name]

    def adapter(
        p: np.ndarray,
        q: np.ndarray,
        *,
        reduction: str | None = "none",
        axis: int = -1,
        base: float | None = None,
        **kwargs: Any,
    ) -> np.ndarray:
        from dit import divergences

        function = getattr(divergences, measure)
        extra = () if parameter is None else (kwargs[parameter],)
        p_rows, q_rows, batch_shape = _rows(p, q, axis)
        values = []
        for p_row, q_row in zip(p_rows, q_rows, strict=True):
            pair = (_dit_distribution(p_row), _dit_distribution(q_row))
            value = function(list(pair)) if name == "js_divergence" else function(*pair, *extra)
            values.append(float(value))
        rows = np.asarray(values)
        rows = _bits_to(rows, base) if in_bits else rows
        return _reduced(rows, batch_shape, reduction)

    adapter.__name__ = adapter.__qualname__ = f"dit_{measure}"
    adapter.__doc__ = f"dit.divergences.{measure}, row by row" + (" (bits converted)" * in_bits)
    return adapter


# --- pyitlib -------------------------------------------------------------------------------------


def _pyitlib(measure: str, pair: bool = True) -> Callable[..., np.ndarray]:
    def adapter(
        p: np.ndarray,
        q: np.ndarray | None = None,
        *,
        reduction: str | None = "none",
        axis: int = -1,
        base: float | None = None,
    ) -> np.ndarray:
        from pyitlib import discrete_random_variable

        function = getattr(discrete_random_variable, measure)
        if pair:
            p_rows, q_rows, batch_shape = _rows(p, q, axis)
            arguments = (
                p_rows / p_rows.sum(-1, keepdims=True),
                q_rows / q_rows.sum(-1, keepdims=True),
            )
        else:
            p_rows = np.moveaxis(p, axis, -1)
            batch_shape = p_rows.shape[:-1]
            p_rows = p_rows.reshape(-1, p_rows.shape[-1])
            arguments = (p_rows / p_rows.sum(-1, keepdims=True),)
        bits = np.asarray(function(*arguments, base=2), dtype=np.float64)
        return _reduced(_bits_to(bits, base), batch_shape, reduction)

    adapter.__name__ = adapter.__qualname__ = f"pyitlib_{measure}"
    adapter.__doc__ = f"pyitlib.discrete_random_variable.{measure} in bits, converted."
    return adapter


pyitlib_kl_divergence = _pyitlib("divergence_kullbackleibler_pmf")
pyitlib_js_divergence = _pyitlib("divergence_jensenshannon_pmf")
pyitlib_jeffreys = _pyitlib("divergence_kullbackleibler_symmetrised_pmf")
pyitlib_cross_entropy = _pyitlib("entropy_cross_pmf")
pyitlib_entropy = _pyitlib("entropy_pmf", pair=False)


# --- POT -----------------------------------------------------------------------------------------


def row_by_row(function: Callable[..., float], *arrays: np.ndarray, **kwargs: Any) -> np.ndarray:
    """``function(*rows, **kwargs)`` for each row of ``arrays`` (the last axis is the support,
    the leading axes broadcast), as an array of the batch shape."""
    batch = np.broadcast_shapes(*(a.shape[:-1] for a in arrays))
    arrays = tuple(np.broadcast_to(a, (*batch, a.shape[-1])) for a in arrays)
    values = np.empty(batch)
    for index in np.ndindex(*batch):
        values[index] = function(*(a[index] for a in arrays), **kwargs)
    return values


def _pot_wasserstein_row(
    u_values: np.ndarray,
    v_values: np.ndarray,
    u_weights: np.ndarray,
    v_weights: np.ndarray,
    p: float,
) -> float:
    import ot

    u_mass, v_mass = u_weights / u_weights.sum(), v_weights / v_weights.sum()
    return float(ot.wasserstein_1d(u_values, v_values, u_mass, v_mass, p=p)) ** (1 / p)


def pot_wasserstein_1d(*arrays: np.ndarray, p: float = 1) -> np.ndarray:
    """``ot.wasserstein_1d`` of the arrays ``(u_values, v_values, u_weights, v_weights)`` row by
    row (batch axes broadcast), its W_p^p made W_p."""
    return row_by_row(_pot_wasserstein_row, *arrays, p=p)


def pot_bures_wasserstein(
    loc_p: np.ndarray,
    tril_p: np.ndarray,
    loc_q: np.ndarray,
    tril_q: np.ndarray,
    squared: bool = False,
) -> np.ndarray:
    """``ot.gaussian.bures_wasserstein_distance`` (W₂) per batch element, squared on request."""
    import ot

    batch, pairs = each_mvn_pair(loc_p, tril_p, loc_q, tril_q)
    values = np.empty(batch)
    for index, (one_loc_p, one_tril_p, one_loc_q, one_tril_q) in pairs:
        covariances = [t @ t.T for t in (one_tril_p, one_tril_q)]
        distance = ot.gaussian.bures_wasserstein_distance(one_loc_p, one_loc_q, *covariances)
        values[index] = float(distance) ** (2 if squared else 1)
    return values
