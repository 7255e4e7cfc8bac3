"""Fast kernels for the libraries where in-place operations pay: NumPy and torch on the CPU.

The generic kernels (array API only) are the reference; these compute the same values with
fewer passes over a block: one quotient, one logarithm, a floor instead of a zero guard (a term
with ``p = 0`` is ``0 · log(floor) = 0``; the floor keeps NaN, so a row of ``q`` without mass
gives NaN) and a dot product instead of a product and a sum. They decide nothing elementwise: a
block whose result is not finite, or that holds a negative probability, is computed again by
the generic kernel, which handles
zeros, infinities and quotients outside the normal range exactly. Reading those flags back is
free here: the data already lives on the host. They run inside the public functions'
:func:`~kldiv._array.ignore_fp_warnings`, which silences NumPy's warnings for the infinities.

The torch forms run only where autograd records nothing (no input requires a gradient), so
their in-place steps need no ``no_grad``; the gradients of ``kl_div`` come from
:func:`kldiv._custom_grad.kl_div_total`.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable
from typing import Any

from array_api_compat import is_numpy_namespace, is_torch_namespace

from ._array import Array, Namespace
from ._custom_grad import torch_needs_gradient

__all__ = ["fast_kernel", "small_kl_div", "small_kl_divergence"]

RowKernel = Callable[..., Array]

#: Blocks of at most this many elements skip decisions that cost a reduction to save a pass.
SMALL_BLOCK = 1 << 12


def fast_kernel(
    name: str, xp: Namespace, generic: RowKernel, arrays: tuple[Array, ...]
) -> RowKernel:
    """The fastest kernel ``name`` for ``arrays``: a NumPy or torch form of :data:`KERNELS`, or
    ``generic`` (which the fast forms also call for the blocks they hand back).

    ``"kl_rows"``: KL(P ‖ Q) per row of unnormalised ``p, q`` blocks; ``"kl_div_rows"``: Σ over
    each row of ``target · (log target - input)`` for ``(input, target)`` blocks.
    """
    numpy_form, torch_form = KERNELS[name]
    if is_numpy_namespace(xp) and _plain_numpy(*arrays):
        return functools.partial(numpy_form, generic)
    if is_torch_namespace(xp) and _plain_torch_cpu(*arrays):
        return functools.partial(torch_form, generic)
    return generic


def _plain_numpy(*arrays: Array) -> bool:
    import numpy as np

    return all(
        type(array) is np.ndarray and array.dtype in (np.float32, np.float64) for array in arrays
    )


def _plain_torch_cpu(*arrays: Array) -> bool:
    import torch

    return not torch_needs_gradient(*arrays) and all(
        array.device.type == "cpu" and array.dtype in (torch.float32, torch.float64)
        for array in arrays
    )


# --- NumPy ------------------------------------------------------------------------------------


def _numpy_kl_rows(generic: RowKernel, p: Array, q: Array, axis: int) -> Array:
    import numpy as np

    if p.ndim != 2 or axis != 1 or 0 in p.shape:
        return generic(p, q, axis=axis)
    sum_p, sum_q = np.add.reduce(p, axis=1), np.add.reduce(q, axis=1)
    scale = sum_q / sum_p
    ratio = np.divide(p, q)
    near_one = p.size > SMALL_BLOCK and _near_one(
        np.minimum.reduce(scale), np.maximum.reduce(scale)
    )
    if not near_one:
        np.multiply(ratio, scale[:, None], out=ratio)
    np.maximum(ratio, _smallest_normal(p.dtype), out=ratio)
    np.log(ratio, out=ratio)
    rows = _row_dot(np, p, ratio) / sum_p
    if near_one:
        rows += np.log(scale)
    finite = np.isfinite(np.add.reduce(rows))
    if not (finite and min(np.minimum.reduce(p, axis=None), np.minimum.reduce(q, axis=None)) >= 0):
        return generic(p, q, axis=axis)
    return rows


@functools.cache
def _smallest_normal(dtype: Any) -> Any:
    import numpy as np

    return np.finfo(dtype).smallest_normal


def _row_dot(np: Any, a: Array, b: Array) -> Array:
    """Σ_j a_ij b_ij per row: NumPy 2's ``vecdot`` ufunc, else ``einsum``."""
    vecdot = getattr(np, "vecdot", None)
    return vecdot(a, b) if vecdot is not None else np.einsum("ij,ij->i", a, b)


def _near_one(smallest: float, largest: float) -> bool:
    """Whether every row's Σq / Σp lies in [1/2, 2]: then its logarithm is added to the rows
    (``log(p/q) + log(Σq/Σp)``, a pass fewer, |log(Σq/Σp)| <= log 2 so no cancellation
    beyond an ulp); otherwise it multiplies every quotient (exact for sums far from 1). Blocks
    of at most :data:`SMALL_BLOCK` elements always multiply: there the pass costs less than
    the two reductions that decide."""
    return smallest >= 0.5 and largest <= 2.0


def _numpy_kl_div_rows(generic: RowKernel, log_q: Array, p: Array, axis: int) -> Array:
    import numpy as np

    if p.ndim != 2 or axis != 1 or 0 in p.shape:
        return generic(log_q, p, axis=axis)
    log_p = np.fmax(p, _smallest_normal(p.dtype))
    np.log(log_p, out=log_p)
    np.subtract(log_p, log_q, out=log_p)
    rows = _row_dot(np, p, log_p)
    if not (np.isfinite(np.add.reduce(rows)) and np.minimum.reduce(p, axis=None) >= 0):
        return generic(log_q, p, axis=axis)
    return rows


# --- torch (CPU, no autograd) ---------------------------------------------------------------


def _torch_kl_rows(generic: RowKernel, p: Array, q: Array, axis: int) -> Array:
    import torch

    if p.ndim != 2 or axis != 1 or 0 in p.shape:
        return generic(p, q, axis=axis)
    sum_p, sum_q = p.sum(dim=1), q.sum(dim=1)
    scale = sum_q / sum_p
    ratio = torch.div(p, q)
    near_one = p.numel() > SMALL_BLOCK and _near_one(
        *(bound.item() for bound in torch.aminmax(scale))
    )
    if not near_one:
        ratio.mul_(scale[:, None])
    torch.maximum(ratio, _floor(p.dtype), out=ratio)
    ratio.log_()
    rows = torch.linalg.vecdot(p, ratio, dim=1).div_(sum_p)
    if near_one:
        rows.add_(torch.log(scale))
    valid = math.isfinite(rows.sum().item()) and min(p.amin().item(), q.amin().item()) >= 0
    return rows if valid else generic(p, q, axis=axis)


def _torch_kl_div_rows(generic: RowKernel, log_q: Array, p: Array, axis: int) -> Array:
    import torch

    if p.ndim != 2 or axis != 1 or 0 in p.shape:
        return generic(log_q, p, axis=axis)
    log_p = torch.fmax(p, _floor(p.dtype)).log_().sub_(log_q)
    rows = torch.linalg.vecdot(p, log_p, dim=1)
    valid = math.isfinite(rows.sum().item()) and p.amin().item() >= 0
    return rows if valid else generic(log_q, p, axis=axis)


@functools.cache
def _floor(dtype: Any) -> Any:
    """The smallest normal number of ``dtype``, as a 0-d CPU tensor."""
    import torch

    return torch.tensor(torch.finfo(dtype).smallest_normal, dtype=dtype)


#: The fast forms of each kernel: (NumPy, torch on the CPU).
KERNELS: dict[str, tuple[Callable[..., Array], Callable[..., Array]]] = {
    "kl_rows": (_numpy_kl_rows, _torch_kl_rows),
    "kl_div_rows": (_numpy_kl_div_rows, _torch_kl_div_rows),
}


# --- whole calls on small inputs ---------------------------------------------------------
#
# On a few thousand elements a call costs its number of library dispatches (about a microsecond
# each in NumPy and torch), not its arithmetic. These forms take calls on plain inputs (two
# NumPy arrays, or two CPU tensors that need no gradient, of one shape and one dtype, float32 or
# float64, at most SMALL_CALL elements, value checks off: the caller decides) straight to a
# kernel, past the general path's resolution, blocking and reduction steps. They hand back None
# for any other call, and for a result that is not finite, which the general path then computes
# under the conventions at zeros.

#: Inputs of at most this many elements may take the whole-call forms.
SMALL_CALL = 1 << 12


def small_kl_div(input: Any, target: Any, reduction: Any, log_target: bool) -> Array | None:
    """``kl_div(input, target, reduction=...)`` on CPU tensors for a reduced result, or None.

    ``Σ xlogy(p, p) - p · input`` in four dispatches (torch's own ``kl_div`` takes about five,
    the general path fifteen); a negative p gives NaN, so the general path takes it.
    """
    torch = sys.modules.get("torch")
    if (
        torch is None
        or log_target
        or reduction not in _POINTWISE_REDUCED
        or not _plain_small_pair(torch.Tensor, input, target)
        or input.device.type != "cpu"
        or target.device.type != "cpu"
        or input.requires_grad
        or target.requires_grad
    ):
        return None
    total = torch.special.xlogy(target, target).sub_(target * input).sum()
    if not math.isfinite(total.item()):
        return None
    if reduction == "sum":
        return total
    return total.div_(float(target.numel() if reduction == "mean" else target.shape[0]))


def small_kl_divergence(p: Any, q: Any, reduction: Any, axis: Any) -> Array | None:
    """``kl_divergence(p, q, reduction=..., axis=...)`` (probabilities, the last axis) on NumPy
    arrays (the ``"kl_rows"`` kernel of :data:`KERNELS`) or CPU tensors, or None."""
    if reduction not in _ROWWISE or axis not in (-1, getattr(p, "ndim", 0) - 1):
        return None
    np, torch = sys.modules["numpy"], sys.modules.get("torch")
    if _plain_small_pair(np.ndarray, p, q):
        numpy_form, _ = KERNELS["kl_rows"]
        rows = numpy_form(_hand_back, *_as_rows(p, q), 1)
    elif (
        torch is not None
        and _plain_small_pair(torch.Tensor, p, q)
        and p.device.type == "cpu"
        and q.device.type == "cpu"
        and not (p.requires_grad or q.requires_grad)
    ):
        return _small_torch_kl(torch, p, q, reduction)
    else:
        return None
    if rows is None:
        return None
    if reduction == "mean":
        return rows.mean()
    if reduction == "sum":
        return rows.sum()
    return rows.reshape(p.shape[:-1])


def _small_torch_kl(torch: Any, p: Array, q: Array, reduction: Any) -> Array | None:
    """KL of the normalised rows through torch's own ``kl_div`` (``xlogy(p, p) - p · log q``
    in one dispatch): eight dispatches for the call. A negative entry anywhere gives NaN there
    (``xlogy`` of a negative p, ``log`` of a negative q even where p = 0), so one finiteness
    read of the total decides; None then, and for infinities."""
    kl_div = torch.nn.functional.kl_div
    log_q = (q / q.sum(-1, keepdim=True)).log_()
    normalized_p = p / p.sum(-1, keepdim=True)
    if reduction in ("none", None):
        result = kl_div(log_q, normalized_p, reduction="none").sum(-1)
        total = result.sum()
    elif reduction == "sum" or p.ndim == 1:  # one row: its mean is its sum
        result = total = kl_div(log_q, normalized_p, reduction="sum")
    elif p.ndim == 2:  # 'batchmean' of a matrix: the mean of its rows
        result = total = kl_div(log_q, normalized_p, reduction="batchmean")
    else:
        total = kl_div(log_q, normalized_p, reduction="sum")
        result = total / (p.numel() // p.shape[-1])
    return result if math.isfinite(total.item()) else None


def _plain_small_pair(array_type: Any, a: Any, b: Any) -> bool:
    """Two arrays of exactly ``array_type``, one shape of rank >= 1, one float32/float64 dtype,
    1 to :data:`SMALL_CALL` elements."""
    return (
        type(a) is array_type
        and type(b) is array_type
        and a.dtype == b.dtype
        and str(a.dtype) in _FLOAT_NAMES
        and a.shape == b.shape
        and a.ndim > 0
        and 0 < math.prod(a.shape) <= SMALL_CALL
    )


def _as_rows(*arrays: Any) -> list[Any]:
    """The arrays as ``(rows, size)`` matrices (as they are when already two-dimensional)."""
    return [a if a.ndim == 2 else a.reshape(-1, a.shape[-1]) for a in arrays]


def _hand_back(*arrays: Array, axis: int) -> None:
    """The ``generic`` of a kernel called from a whole-call form: the general path takes over."""
    return None


# Tuples, not sets: membership of an unhashable argument is then False (the general path names
# the bad argument) rather than a TypeError of its own.
_POINTWISE_REDUCED = ("sum", "mean", "batchmean")
_ROWWISE = ("none", None, "sum", "mean")
_FLOAT_NAMES = frozenset({"float32", "float64", "torch.float32", "torch.float64"})
