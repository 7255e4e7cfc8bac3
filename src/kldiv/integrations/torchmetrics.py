"""torchmetrics metrics computed by kldiv: drop-in for ``torchmetrics.regression``'s classes.

Same constructor, states and reductions as torchmetrics (``measures``: a scalar sum, or a list of
per-row tensors for ``reduction='none'``; ``total``: the row count; both declared with
``add_state`` and ``dist_reduce_fx``), so they work in Lightning and DDP unchanged; the numbers
come from the row steps of :func:`kldiv.kl_divergence` / :func:`kldiv.js_divergence` (any batch
rank, zeros handled, float64 log 2, value checks with ``validate_args``).
"""

from __future__ import annotations

from typing import Any

import torch
from torchmetrics import Metric
from torchmetrics.utilities.data import dim_zero_cat

from .._docs import with_parameter_docs
from .._metric_state import RowStep, batch_rows
from .._rows import js_rows, kl_rows

_METRIC_OPTIONS = """**kwargs
    torchmetrics' :class:`~torchmetrics.Metric` options (``sync_on_compute``, ...)."""

__all__ = ["JensenShannonDivergence", "KLDivergence"]

_REDUCTIONS = ("mean", "sum", "none", None)


class _KldivMetric(Metric):
    """States and reductions shared by the two classes; subclasses set ``_row_step``."""

    is_differentiable = True
    higher_is_better = False
    full_state_update = False
    plot_lower_bound = 0.0
    _row_step: RowStep
    measures: torch.Tensor | list[torch.Tensor]
    total: torch.Tensor

    def __init__(
        self,
        log_prob: bool = False,
        reduction: str | None = "mean",
        validate_args: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(log_prob, bool):
            raise TypeError(f"Expected argument `log_prob` to be bool but got {log_prob}")
        if reduction not in _REDUCTIONS:
            allowed = list(_REDUCTIONS)
            raise ValueError(
                f"Expected argument `reduction` to be one of {allowed} but got {reduction}"
            )
        self.log_prob = log_prob
        self.reduction = reduction
        self.validate_args = validate_args
        if reduction in ("mean", "sum"):
            self.add_state("measures", torch.tensor(0.0), dist_reduce_fx="sum")
        else:
            self.add_state("measures", [], dist_reduce_fx="cat")
        self.add_state("total", torch.tensor(0), dist_reduce_fx="sum")

    def update(self, p: torch.Tensor, q: torch.Tensor) -> None:
        """Add a batch of distributions to the states.

        Parameters
        ----------
        p, q : torch.Tensor
            Probabilities (or log-probabilities with ``log_prob=True``), one distribution per
            row along the last axis; any batch rank.

        Returns
        -------
        None

        Examples
        --------
        >>> import torch
        >>> metric = KLDivergence(reduction="sum")
        >>> metric.update(torch.tensor([[0.5, 0.5]]), torch.tensor([[0.25, 0.75]]))
        >>> metric.total
        tensor(1)
        """
        context, rows = batch_rows(
            type(self)._row_step,
            p,
            q,
            log_prob=self.log_prob,
            axis=-1,
            validate_args=self.validate_args,
        )
        rows = context.finish(rows)
        rows = rows.reshape(1) if rows.ndim == 0 else rows
        if self.reduction in ("mean", "sum"):
            self.measures = self.measures + rows.sum()
        else:
            self.measures.append(rows)  # type: ignore[union-attr]
        self.total = self.total + rows.numel()

    def compute(self) -> torch.Tensor:
        """The divergence over every row seen (on every process, under DDP).

        Returns
        -------
        torch.Tensor
            The mean ('mean') or sum ('sum') over every row, or the per-row values
            ('none'/None), as torchmetrics' classes return them.

        Examples
        --------
        >>> import torch
        >>> metric = KLDivergence(reduction="none")
        >>> metric.update(torch.tensor([[0.5, 0.5], [1.0, 0.0]]), torch.tensor([[0.5, 0.5]] * 2))
        >>> metric.compute()
        tensor([0.0000, 0.6931])
        """
        if self.reduction not in ("mean", "sum"):
            return dim_zero_cat(self.measures)  # a list, or one tensor after a DDP sync
        measures = dim_zero_cat(self.measures)
        return measures / self.total if self.reduction == "mean" else measures


@with_parameter_docs("log_prob", "reduction", "validate_args", extra=_METRIC_OPTIONS)
class KLDivergence(_KldivMetric):
    """KL(P ‖ Q) per row, accumulated (``torchmetrics.regression.KLDivergence``).

    {parameters}

    Examples
    --------
    >>> import torch
    >>> metric = KLDivergence()
    >>> metric(torch.tensor([[0.36, 0.48, 0.16]]), torch.tensor([[1/3, 1/3, 1/3]]))
    tensor(0.0853)
    """

    _row_step = staticmethod(kl_rows)


@with_parameter_docs("log_prob", "reduction", "validate_args", extra=_METRIC_OPTIONS)
class JensenShannonDivergence(_KldivMetric):
    """½ KL(P ‖ M) + ½ KL(Q ‖ M) per row, in nats, accumulated.

    ``torchmetrics.regression.JensenShannonDivergence``, computed by kldiv.

    {parameters}

    Examples
    --------
    >>> import torch
    >>> metric = JensenShannonDivergence(reduction="none")
    >>> metric.update(torch.tensor([[1.0, 0.0], [0.5, 0.5]]), torch.tensor([[0.0, 1.0]] * 2))
    >>> metric.compute()  # per row: log 2 for disjoint supports
    tensor([0.6931, 0.2158])
    """

    _row_step = staticmethod(js_rows)
