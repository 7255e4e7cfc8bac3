"""torchmetrics metrics computed by kldiv: drop-in for ``torchmetrics.regression``'s classes.

Same constructor, states and reductions as torchmetrics (``measures``: a scalar sum, or a list of
per-row tensors for ``reduction='none'``; ``total``: the row count; both declared with
``add_state`` and ``dist_reduce_fx``), so they work in Lightning and DDP unchanged; the numbers
come from :func:`kldiv.kl_divergence` / :func:`kldiv.js_divergence` (any batch rank, zeros handled,
float64 log 2, value checks with ``validate_args``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torchmetrics import Metric
from torchmetrics.utilities.data import dim_zero_cat

from .._validate import resolve_validate_args
from ..discrete import js_divergence, kl_divergence

__all__ = ["JensenShannonDivergence", "KLDivergence"]

_REDUCTIONS = ("mean", "sum", "none", None)


class _KldivMetric(Metric):
    """States and reductions shared by the two classes; subclasses set ``_divergence``."""

    is_differentiable = True
    higher_is_better = False
    full_state_update = False
    plot_lower_bound = 0.0
    _divergence: Callable[..., torch.Tensor]
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
        """Add a batch of distributions (one per row along the last axis)."""
        rows = type(self)._divergence(
            p,
            q,
            log_prob=self.log_prob,
            reduction="none",
            validate_args=resolve_validate_args(self.validate_args, "metrics"),
        )
        rows = rows.reshape(1) if rows.ndim == 0 else rows
        if self.reduction in ("mean", "sum"):
            self.measures = self.measures + rows.sum()  # type: ignore[operator]
        else:
            self.measures.append(rows)  # type: ignore[union-attr]
        self.total = self.total + rows.numel()

    def compute(self) -> torch.Tensor:
        """The mean or sum over every row seen, or the per-row values ('none'/None)."""
        if self.reduction not in ("mean", "sum"):
            return dim_zero_cat(self.measures)  # a list, or one tensor after a DDP sync
        measures = dim_zero_cat(self.measures)
        return measures / self.total if self.reduction == "mean" else measures


class KLDivergence(_KldivMetric):
    """KL(P ‖ Q) per row, accumulated (``torchmetrics.regression.KLDivergence``).

    >>> import torch
    >>> metric = KLDivergence()
    >>> metric(torch.tensor([[0.36, 0.48, 0.16]]), torch.tensor([[1/3, 1/3, 1/3]]))
    tensor(0.0853)
    """

    _divergence = staticmethod(kl_divergence)


class JensenShannonDivergence(_KldivMetric):
    """½ KL(P ‖ M) + ½ KL(Q ‖ M) per row, accumulated
    (``torchmetrics.regression.JensenShannonDivergence``).

    >>> import torch
    >>> metric = JensenShannonDivergence()
    >>> metric(torch.tensor([[0.36, 0.48, 0.16]]), torch.tensor([[1/3, 1/3, 1/3]]))
    tensor(0.0225)
    """

    _divergence = staticmethod(js_divergence)
