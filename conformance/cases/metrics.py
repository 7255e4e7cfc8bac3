"""The streaming metrics: kldiv's classes and torchmetrics' fed the same stream of batches.

A case is a pair ``p, q`` of shape ``(rows, d)`` and a ``batches`` keyword (rows per batch, in
order): both sides feed the batches one by one, then ``compute()``. The reference is torchmetrics'
own class run with torch's default dtype set to float64, so its internal constants are float64
too (its Jensen–Shannon ``log 2`` is otherwise a float32 tensor: the deviation
``torchmetrics-js-log-prob-float32-log2`` of ``js_divergence``); the stream then agrees with
kldiv to float64 precision in every reduction and both ``log_prob`` modes. The torchmetrics
integration (``kldiv.integrations.torchmetrics``) is checked the same way, on torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from conformance.registry import Case, register

NAMES = ("KLDivergence", "JensenShannonDivergence")
REDUCTIONS = ("mean", "sum", "none", None)
#: Rows per batch of each stream: uneven, one row, an empty batch and a large support.
STREAMS = ((3, 1, 7, 4), (1,), (5, 0, 2))


def _slices(batches: tuple[int, ...]) -> Iterator[slice]:
    start = 0
    for size in batches:
        yield slice(start, start + size)
        start += size


def _kldiv_stream(module: str, name: str) -> Callable[..., Any]:
    """Feed kldiv's class (looked up at call time) batch by batch; return ``compute()``."""

    def stream(p: Any, q: Any, *, batches: tuple[int, ...], **kwargs: Any) -> Any:
        metric = getattr(importlib.import_module(module), name)(**kwargs)
        for rows in _slices(batches):
            metric.update(p[rows, ...], q[rows, ...])
        return metric.compute()

    return stream


def _torchmetrics_stream(name: str, keep_rows_axis: bool) -> Callable[..., np.ndarray]:
    """torchmetrics' class fed the same batches, with torch's default dtype float64.

    torchmetrics' ``compute()`` squeezes a one-element result to 0-d, so one row with
    'none' gives a scalar; kldiv's classes keep the rows axis (``keep_rows_axis``), its
    torchmetrics subclasses inherit the squeeze.
    """

    def stream(
        p: np.ndarray, q: np.ndarray, *, batches: tuple[int, ...], **kwargs: Any
    ) -> np.ndarray:
        import torch
        from torchmetrics import regression

        previous = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            metric = getattr(regression, name)(**kwargs)
            for rows in _slices(batches):
                metric.update(torch.asarray(p[rows]), torch.asarray(q[rows]))
            result = np.asarray(metric.compute().numpy(), dtype=np.float64)
        finally:
            torch.set_default_dtype(previous)
        if keep_rows_axis and kwargs.get("reduction") in ("none", None):
            return result.reshape(-1)
        return result

    return stream


def _cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for index, batches in enumerate(STREAMS):
        width = int(rng.integers(2, 9)) if index != 2 else 300
        rows = sum(batches)
        p, q = (
            rng.uniform(0.01, 1.0, (2, rows, width))
            * rng.choice([1.0, 1e-3, 1e3], 2)[:, None, None]
        )
        logs = tuple(np.log(array / array.sum(-1, keepdims=True)) for array in (p, q))
        for log_prob in (False, True):
            arrays = logs if log_prob else (p, q)
            for reduction in REDUCTIONS if index == 0 else REDUCTIONS[:3]:  # None is 'none'
                kwargs = {"batches": batches, "log_prob": log_prob, "reduction": reduction}
                label = f"stream{index}-{'log' if log_prob else 'probs'}-{reduction}"
                cases.append(Case(label, arrays, kwargs))
    return cases


for _name in NAMES:
    register(
        name=_name,
        kldiv=_kldiv_stream("kldiv.metrics", _name),
        reference=_torchmetrics_stream(_name, keep_rows_axis=True),
        cases=_cases,
        tags=("metrics",),
    )
    register(
        name=f"integrations.torchmetrics.{_name}",
        kldiv=_kldiv_stream("kldiv.integrations.torchmetrics", _name),
        reference=_torchmetrics_stream(_name, keep_rows_axis=False),
        cases=_cases,
        backends=("torch", "torch_cuda"),
        # torchmetrics' float32 ``measures`` state makes 16-bit streams return float32 (as
        # torchmetrics' own classes do): the integration is checked in float64 and float32.
        dtypes=("float64", "float32"),
        tags=("metrics",),
    )
