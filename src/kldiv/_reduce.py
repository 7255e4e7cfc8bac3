"""The reductions, in one place.

Two vocabularies, each the one its reference uses:

* pointwise (``torch.nn.functional.kl_div``, the Gaussian functions): the terms are elementwise;
  ``'none'`` keeps them, ``'sum'`` adds all, ``'mean'`` divides that sum by the number of
  elements, ``'batchmean'`` by the size of the first axis (the plain sum for a 0-d result).
* per-row (torchmetrics): one value per distribution; ``'none'``/``None`` keeps them, ``'sum'``
  adds them, ``'mean'`` averages them.
"""

from __future__ import annotations

from ._array import Array, Namespace
from ._validate import check_reduction

__all__ = ["POINTWISE", "ROWWISE", "reduce_pointwise", "reduce_rows", "scale_total"]

POINTWISE = ("none", "sum", "mean", "batchmean")
ROWWISE = ("none", None, "sum", "mean")


def _sum_all(xp: Namespace, values: Array) -> Array:
    return xp.sum(values) if values.ndim else values


def reduce_pointwise(
    xp: Namespace, values: Array, reduction: str, batch_size: int | None = None
) -> Array:
    """Reduce elementwise terms; ``batch_size`` overrides ``values.shape[0]`` for 'batchmean'.

    An empty input gives NaN for 'mean' and 'batchmean' (0/0), as torch does.
    """
    check_reduction(reduction, POINTWISE)
    if reduction == "none":
        return values
    return scale_total(_sum_all(xp, values), tuple(values.shape), reduction, batch_size)


def scale_total(
    total: Array, shape: tuple[int | None, ...], reduction: str, batch_size: int | None = None
) -> Array:
    """The sum ``total`` of pointwise terms over ``shape``, as 'sum', 'mean' or 'batchmean'
    give it: itself, divided by the number of terms, or by ``batch_size`` (default
    ``shape[0]``; a 0-d input gives the plain sum)."""
    if reduction == "sum":
        return total
    if reduction == "mean":
        return total / _count(shape)
    if len(shape) == 0:
        return total
    return total / float(shape[0] if batch_size is None else batch_size)  # type: ignore[arg-type]


def reduce_rows(xp: Namespace, rows: Array, reduction: str | None) -> Array:
    """Reduce per-row values: 'mean' over every row (all batch axes), 'sum', or 'none'/None."""
    check_reduction(reduction, ROWWISE)
    if reduction is None or reduction == "none":
        return rows
    total = _sum_all(xp, rows)
    if reduction == "sum":
        return total
    return total / _count(rows.shape)


def _count(shape: tuple[int | None, ...]) -> float:
    """The number of elements as a float (a Python float divides an array faster than an int
    in torch); NaN for none, so that a mean over nothing is NaN."""
    count = 1
    for size in shape:
        count *= size  # type: ignore[operator]
    return float("nan") if count == 0 else float(count)
