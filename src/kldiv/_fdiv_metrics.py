"""Streaming metrics of the f-divergence family, on the machinery of :mod:`kldiv.metrics`."""

from __future__ import annotations

from ._divergence_rows import row_step
from ._docs import METRIC_PARAMETERS, with_parameter_docs
from ._hellinger import _hellinger_rows
from .fdiv import _total_variation_rows
from .metrics import _StreamingDivergence

__all__ = ["HellingerDistance", "TotalVariationDistance"]


@with_parameter_docs(*METRIC_PARAMETERS)
class HellingerDistance(_StreamingDivergence):
    """The Hellinger distance √(1 - Σ √(P Q)) per row (:func:`kldiv.hellinger`), over batches.

    A metric bounded by 1 (disjoint supports), 0 only where P = Q.

    {parameters}

    Examples
    --------
    >>> import array_api_strict as xp
    >>> metric = HellingerDistance()
    >>> metric.update(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.0, 1.0]]))
    >>> metric.update(xp.asarray([[0.5, 0.5]]), xp.asarray([[0.5, 0.5]]))
    >>> metric.compute()
    Array(0.5, dtype=array_api_strict.float64)
    """

    _row_step = staticmethod(row_step(_hellinger_rows))


@with_parameter_docs(*METRIC_PARAMETERS)
class TotalVariationDistance(_StreamingDivergence):
    """The total variation distance ``½ Σ |P - Q|`` per row (:func:`kldiv.total_variation`), over
    batches.

    {parameters}

    Examples
    --------
    >>> import array_api_strict as xp
    >>> metric = TotalVariationDistance(reduction="sum")
    >>> p, q = xp.asarray([[0.5, 0.5], [1.0, 0.0]]), xp.asarray([[0.25, 0.75], [0.0, 1.0]])
    >>> metric.update(p, q)  # two rows: 0.25 and 1
    >>> metric.compute()
    Array(1.25, dtype=array_api_strict.float64)
    """

    _row_step = staticmethod(row_step(_total_variation_rows))
