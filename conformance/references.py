"""The references, one adapter each: float64 NumPy in, float64 NumPy out.

Each adapter takes kldiv's arguments, calls the trusted library as it is, and converts back.
Arrays cross into torch and back through DLPack. torchmetrics accepts only 2-D inputs with the
distribution on the last axis: its adapters broadcast, move ``axis`` last and reshape to
``(rows, d)``, then reshape per-row results back (any rank is kldiv's extension, not a
deviation). The torchmetrics adapters call both the functional and the class form and require
them to agree, so both are exercised on every case.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "ReferenceDisagreement",
    "check_agree",
    "scipy_entropy",
    "scipy_jensenshannon",
    "scipy_rel_entr",
    "torch_categorical_kl",
    "torch_kl_div",
    "torch_kl_div_loss",
    "torchmetrics_js_divergence",
    "torchmetrics_kl_divergence",
]


class ReferenceDisagreement(AssertionError):
    """Two forms of one reference (e.g. torchmetrics' class and functional) disagree."""


def _tensor(array: np.ndarray) -> Any:
    import torch

    return torch.from_dlpack(np.ascontiguousarray(array, dtype=np.float64))


def _numpy(tensor: Any) -> np.ndarray:
    return np.array(np.from_dlpack(tensor.detach().contiguous()), dtype=np.float64)


def _rows(p: np.ndarray, q: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray, tuple]:
    """``p``, ``q`` broadcast, ``axis`` moved last, as 2-D ``(rows, d)``; and the batch shape."""
    p, q = (np.moveaxis(array, axis, -1) for array in np.broadcast_arrays(p, q))
    batch_shape = p.shape[:-1]
    return p.reshape(-1, p.shape[-1]), q.reshape(-1, q.shape[-1]), batch_shape


def check_agree(name: str, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """``first``, after checking that two forms of one reference agree (else raise)."""
    try:
        np.testing.assert_allclose(first, second, rtol=1e-10, atol=1e-13, equal_nan=True)
    except AssertionError as error:
        raise ReferenceDisagreement(f"{name}: two forms disagree\n{error}") from None
    return first


def torch_kl_div(
    input: np.ndarray, target: np.ndarray, reduction: str = "mean", log_target: bool = False
) -> np.ndarray:
    """``torch.nn.functional.kl_div``."""
    import torch.nn.functional as F

    result = F.kl_div(_tensor(input), _tensor(target), reduction=reduction, log_target=log_target)
    return _numpy(result)


def torch_kl_div_loss(
    input: np.ndarray, target: np.ndarray, reduction: str = "mean", log_target: bool = False
) -> np.ndarray:
    """``torch.nn.KLDivLoss``."""
    import torch

    loss = torch.nn.KLDivLoss(reduction=reduction, log_target=log_target)
    return _numpy(loss(_tensor(input), _tensor(target)))


def torch_categorical_kl(p: np.ndarray, q: np.ndarray, axis: int = -1) -> np.ndarray:
    """``torch.distributions.kl.kl_divergence`` between ``Categorical(probs=...)``: per row."""
    from torch.distributions import Categorical
    from torch.distributions.kl import kl_divergence

    p, q = (np.moveaxis(array, axis, -1) for array in np.broadcast_arrays(p, q))
    first = Categorical(probs=_tensor(p), validate_args=False)
    second = Categorical(probs=_tensor(q), validate_args=False)
    return _numpy(kl_divergence(first, second))


def _torchmetrics(
    name: str, functional: Callable[..., Any], metric_class: type
) -> Callable[..., np.ndarray]:
    """An adapter for a torchmetrics measure with ``(p, q, log_prob, reduction)``."""

    def adapter(
        p: np.ndarray,
        q: np.ndarray,
        log_prob: bool = False,
        reduction: str | None = "mean",
        axis: int = -1,
    ) -> np.ndarray:
        import torch

        p_rows, q_rows, batch_shape = _rows(p, q, axis)
        p_rows, q_rows = _tensor(p_rows), _tensor(q_rows)
        direct = _numpy(functional(p_rows, q_rows, log_prob=log_prob, reduction=reduction))
        metric = metric_class(log_prob=log_prob, reduction=reduction).set_dtype(torch.float64)
        metric.update(p_rows, q_rows)
        accumulated = _numpy(metric.compute())
        result = check_agree(name, direct, accumulated)
        return result.reshape(batch_shape) if reduction in (None, "none") else result

    adapter.__name__ = adapter.__qualname__ = f"torchmetrics_{name}"
    adapter.__doc__ = f"torchmetrics' {name}, functional and class (2-D, reshaped)."
    return adapter


def torchmetrics_kl_divergence(*args: Any, **kwargs: Any) -> np.ndarray:
    """torchmetrics' ``kl_divergence`` and ``KLDivergence`` (inputs reshaped to 2-D)."""
    from torchmetrics import KLDivergence
    from torchmetrics.functional import kl_divergence

    return _torchmetrics("kl_divergence", kl_divergence, KLDivergence)(*args, **kwargs)


def torchmetrics_js_divergence(
    p: np.ndarray, q: np.ndarray, *, base: float | None = None, **kwargs: Any
) -> np.ndarray:
    """torchmetrics' ``jensen_shannon_divergence`` and ``JensenShannonDivergence``, in ``base``."""
    from torchmetrics.functional.regression import jensen_shannon_divergence
    from torchmetrics.regression import JensenShannonDivergence

    adapter = _torchmetrics("js_divergence", jensen_shannon_divergence, JensenShannonDivergence)
    nats = adapter(p, q, **kwargs)
    return nats if base is None else nats / math.log(base)


def scipy_rel_entr(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``scipy.special.rel_entr``."""
    from scipy.special import rel_entr

    return np.asarray(rel_entr(p, q), dtype=np.float64)


def scipy_entropy(
    p: np.ndarray, q: np.ndarray | None = None, base: float | None = None, axis: int = -1
) -> np.ndarray:
    """``scipy.stats.entropy`` (SciPy's default axis is 0: ours is passed explicitly)."""
    from scipy.stats import entropy

    if q is not None:
        p, q = np.broadcast_arrays(p, q)
    return np.asarray(entropy(p, q, base=base, axis=axis), dtype=np.float64)


def scipy_jensenshannon(
    p: np.ndarray, q: np.ndarray, base: float | None = 2, axis: int = -1
) -> np.ndarray:
    """``scipy.spatial.distance.jensenshannon``."""
    from scipy.spatial.distance import jensenshannon

    p, q = np.broadcast_arrays(p, q)
    return np.asarray(jensenshannon(p, q, base=base, axis=axis), dtype=np.float64)
