"""Fast kernels for the libraries where in-place operations pay: NumPy and torch on the CPU.

The generic kernels (array API only) are the reference; these compute the same values with
fewer passes over a block: one quotient, one logarithm, a floor instead of a zero guard (a term
with ``p = 0`` is ``0 · log(floor) = 0``) and a dot product instead of a product and a sum. They
decide nothing elementwise: a block whose result is not finite, or that holds a negative
probability or a row without mass, is computed again by the generic kernel, which handles
zeros, infinities and quotients outside the normal range exactly. Reading those flags back is
free here: the data already lives on the host. They run inside the public functions'
:func:`~kldiv._array.ignore_fp_warnings`, which silences NumPy's warnings for the infinities.

The torch forms run only where autograd records nothing; the gradients of ``kl_div`` come from
:func:`kldiv._custom_grad.kl_div_total`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from array_api_compat import is_numpy_namespace, is_torch_namespace

from ._array import Array, Namespace
from ._custom_grad import torch_needs_gradient

__all__ = ["fast_kernel"]

RowKernel = Callable[..., Array]


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
    near_one = _near_one(np.minimum.reduce(scale), np.maximum.reduce(scale))
    if not near_one:
        np.multiply(ratio, scale[:, None], out=ratio)
    np.fmax(ratio, _smallest_normal(p.dtype), out=ratio)
    np.log(ratio, out=ratio)
    rows = _row_dot(np, p, ratio) / sum_p
    if near_one:
        rows += np.log(scale)
    if _numpy_rows_need_generic(np, rows, p, q, sum_q):
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
    beyond an ulp); otherwise it multiplies every quotient (exact for sums far from 1)."""
    return smallest >= 0.5 and largest <= 2.0


def _numpy_rows_need_generic(np: Any, rows: Array, p: Array, q: Array, sum_q: Array) -> bool:
    """Whether a block holds a non-finite row, a negative probability or a q row without mass
    (an infinite or NaN sum makes its rows non-finite already)."""
    return not (
        np.isfinite(np.add.reduce(rows))
        and np.minimum.reduce(p, axis=None) >= 0
        and np.minimum.reduce(q, axis=None) >= 0
        and np.minimum.reduce(sum_q) > 0
    )


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
    with torch.no_grad():
        sum_p, sum_q = p.sum(dim=1), q.sum(dim=1)
        scale = sum_q / sum_p
        ratio = torch.div(p, q)
        near_one = _near_one(*(float(bound) for bound in torch.aminmax(scale)))
        if not near_one:
            ratio.mul_(scale[:, None])
        torch.fmax(ratio, _floor(p.dtype), out=ratio)
        ratio.log_()
        rows = torch.linalg.vecdot(p, ratio, dim=1).div_(sum_p)
        if near_one:
            rows.add_(torch.log(scale))
        valid = torch.isfinite(rows.sum()) & (p.amin() >= 0) & (q.amin() >= 0)
        valid &= sum_q.amin() > 0
    return rows if bool(valid) else generic(p, q, axis=axis)


def _torch_kl_div_rows(generic: RowKernel, log_q: Array, p: Array, axis: int) -> Array:
    import torch

    if p.ndim != 2 or axis != 1 or 0 in p.shape:
        return generic(log_q, p, axis=axis)
    with torch.no_grad():
        log_p = torch.fmax(p, _floor(p.dtype)).log_().sub_(log_q)
        rows = torch.linalg.vecdot(p, log_p, dim=1)
        valid = torch.isfinite(rows.sum()) & (p.amin() >= 0)
    return rows if bool(valid) else generic(log_q, p, axis=axis)


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
