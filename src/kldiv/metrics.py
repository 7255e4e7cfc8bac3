"""Streaming divergences: :class:`KLDivergence` and :class:`JensenShannonDivergence`.

torchmetrics' semantics (``update`` / ``compute`` / ``reset``), for any array library, plus
``merge`` (combine two metrics: map-reduce, Dask, several data loaders), ``sync`` (all-reduce
over ``torch.distributed``) and checkpoints (``state_dict`` / ``load_state_dict``, pickle,
:func:`copy.deepcopy`). The state is a :class:`MetricState` of arrays in the inputs' namespace
and on their device: the running sum of the per-row divergences and the row count, and for
``reduction='none'`` the per-row values themselves. An update computes its rows with the row step
of the functional API (:func:`kldiv._rows.kl_rows`, :func:`kldiv._rows.js_rows`), is checked
in full before the state changes, and the new state replaces the old one in a single assignment:
a bad update raises and leaves everything accumulated as it was.
"""

from __future__ import annotations

from ._metric_state import MetricState
from ._rows import js_rows, kl_rows
from ._streaming import METRIC_PARAMETERS, StreamingDivergence, with_parameter_docs

__all__ = ["JensenShannonDivergence", "KLDivergence", "MetricState"]


@with_parameter_docs(*METRIC_PARAMETERS)
class KLDivergence(StreamingDivergence):
    """KL(P ‖ Q) = Σ P log(P / Q) per row, accumulated over batches (torchmetrics' class).

    {parameters}

    Examples
    --------
    >>> import array_api_strict as xp
    >>> metric = KLDivergence()
    >>> metric.update(xp.asarray([[0.36, 0.48, 0.16]]), xp.asarray([[1/3, 1/3, 1/3]]))
    >>> metric.update(xp.asarray([[0.5, 0.5, 0.0]]), xp.asarray([[0.5, 0.5, 0.0]]))
    >>> metric.compute()
    Array(0.0426498, dtype=array_api_strict.float64)
    """

    _row_step = staticmethod(kl_rows)


@with_parameter_docs(*METRIC_PARAMETERS)
class JensenShannonDivergence(StreamingDivergence):
    """JS(P, Q) = ½ KL(P ‖ M) + ½ KL(Q ‖ M), M = (P + Q) / 2, per row, over batches.

    torchmetrics' class, in nats.

    {parameters}

    Examples
    --------
    >>> import array_api_strict as xp
    >>> metric = JensenShannonDivergence(reduction="sum")
    >>> metric(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.0, 1.0]]))  # this batch's value
    Array(0.69314718, dtype=array_api_strict.float64)
    >>> metric.update(xp.asarray([[1.0, 0.0]]), xp.asarray([[1.0, 0.0]]))
    >>> metric.compute()
    Array(0.69314718, dtype=array_api_strict.float64)
    """

    _row_step = staticmethod(js_rows)
