"""Comparing arrays of any library: :func:`assert_close`, :data:`TOLERANCES`, :func:`to_numpy`.

:func:`assert_close` checks that two arrays are of the same library, on the same device, of the
same shape and dtype, and only then compares the values with per-dtype default tolerances.
Reading values back to the host is what a test does; kldiv's own functions never do it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import array_api_compat as compat
import numpy as np

from .._array import Array

__all__ = ["TOLERANCES", "Tolerance", "assert_close", "assert_same_kind", "to_numpy"]


@dataclass(frozen=True)
class Tolerance:
    """A value passes when ``|actual - desired| <= atol + rtol * |desired|``.

    Parameters
    ----------
    rtol : float
        Relative tolerance: for ordinary values.
    atol : float
        Absolute tolerance: for values near 0, where any relative criterion is meaningless.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> tolerance = TOLERANCES["float32"]
    >>> assert_close(xp.asarray([1.0, 0.0]), xp.asarray([1.0 + 5e-6, 1e-7]),
    ...              rtol=tolerance.rtol, atol=tolerance.atol)
    >>> float(tolerance.scaled(1e3).atol)
    0.001
    >>> tolerance.for_sqrt()
    Tolerance(rtol=1e-05, atol=0.001)
    """

    rtol: float
    atol: float

    def bound(self, desired: Any) -> Any:
        """The largest error allowed around ``desired`` (a number or a NumPy array)."""
        return self.atol + self.rtol * np.abs(desired)

    def scaled(self, scale: float) -> Tolerance:
        """This tolerance with ``atol`` multiplied by ``max(scale, 1)``."""
        return Tolerance(self.rtol, self.atol * max(scale, 1.0))

    def for_sqrt(self) -> Tolerance:
        """The tolerance of sqrt(D) given this one of D: an error e in D near 0 is sqrt(e)."""
        return Tolerance(self.rtol, self.atol**0.5)


#: Default tolerances per dtype name: kldiv's result in that dtype against a float64 truth.
#: 16-bit inputs compute in float32, so their error is the rounding of the result.
TOLERANCES: dict[str, Tolerance] = {
    "float64": Tolerance(rtol=1e-12, atol=1e-14),
    "float32": Tolerance(rtol=1e-5, atol=1e-6),
    "float16": Tolerance(rtol=2e-3, atol=1e-4),
    "bfloat16": Tolerance(rtol=1.6e-2, atol=1e-3),
}


def _dtype_name(dtype: Any) -> str:
    return str(dtype).rsplit(".", 1)[-1]


def to_numpy(array: Array) -> np.ndarray:
    """A NumPy copy of any library's array: computes Dask graphs, moves GPU arrays to the host.

    Parameters
    ----------
    array : array
        An array of any array-API library, on any device.

    Returns
    -------
    numpy.ndarray
        Its values in its dtype; bfloat16 (which NumPy lacks) comes back as float32, exactly.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> to_numpy(xp.asarray([1.0, 2.0]))
    array([1., 2.])
    """
    if compat.is_dask_array(array):
        with np.errstate(all="ignore"):  # the graph runs here, outside kldiv's own errstate
            array = array.compute()
    if compat.is_torch_array(array):
        import torch

        host = array.detach().cpu()
        return (host.float() if host.dtype == torch.bfloat16 else host).numpy()
    if compat.is_cupy_array(array):
        return array.get()
    if compat.is_array_api_strict_namespace(compat.array_namespace(array)):
        import array_api_strict

        on_cpu = array_api_strict.asarray(array, device=array_api_strict.Device("CPU_DEVICE"))
        return np.asarray(on_cpu._array)
    return np.asarray(array)


def _describe(array: Array) -> str:
    return f"{type(array).__module__}.{type(array).__name__}"


def assert_close(
    actual: Array,
    desired: Array,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    err_msg: str = "",
) -> None:
    """Assert that ``actual`` and ``desired`` are the same kind of array with close values.

    Parameters
    ----------
    actual, desired : array
        Arrays of the same array-API library. ``desired`` may also be a Python number or a
        NumPy array when ``actual`` is not a NumPy array: it is then converted into
        ``actual``'s library, dtype and device (a reference computed on the host).
    rtol, atol : float, optional
        Relative and absolute tolerances; by default those of :data:`TOLERANCES` for the
        dtype of ``actual``. Non-finite values must match exactly (NaN where NaN, +inf where
        +inf).
    err_msg : str, optional
        Prepended to the failure message.

    Raises
    ------
    AssertionError
        Naming what differs: library, device, shape, dtype, or the values (first position,
        both values, number of mismatches).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> assert_close(xp.asarray([1.0, 2.0]), xp.asarray([1.0, 2.0 + 1e-15]))
    >>> assert_close(xp.asarray([1.0]), xp.asarray([1.0], dtype=xp.float32))
    Traceback (most recent call last):
    ...
    AssertionError: dtype: actual float64, desired float32
    """
    prefix = f"{err_msg}: " if err_msg else ""
    if not compat.is_array_api_obj(actual):
        raise AssertionError(f"{prefix}actual is a {_describe(actual)}, not an array")
    xp = compat.array_namespace(actual)
    if not compat.is_array_api_obj(desired) or (
        compat.is_numpy_array(desired) and not compat.is_numpy_array(actual)
    ):
        desired = xp.asarray(desired, dtype=actual.dtype, device=compat.device(actual))
    if compat.array_namespace(desired) is not xp:
        raise AssertionError(
            f"{prefix}library: actual {_describe(actual)}, desired {_describe(desired)}"
        )
    if compat.device(actual) != compat.device(desired):
        raise AssertionError(
            f"{prefix}device: actual {compat.device(actual)!r}, desired {compat.device(desired)!r}"
        )
    if tuple(actual.shape) != tuple(desired.shape):
        raise AssertionError(
            f"{prefix}shape: actual {tuple(actual.shape)}, desired {tuple(desired.shape)}"
        )
    if actual.dtype != desired.dtype:
        raise AssertionError(
            f"{prefix}dtype: actual {_dtype_name(actual.dtype)}, "
            f"desired {_dtype_name(desired.dtype)}"
        )
    default = TOLERANCES.get(_dtype_name(actual.dtype), TOLERANCES["float64"])
    tolerance = Tolerance(
        default.rtol if rtol is None else rtol, default.atol if atol is None else atol
    )
    _assert_values_close(to_numpy(actual), to_numpy(desired), tolerance, prefix)


def _assert_values_close(
    actual: np.ndarray, desired: np.ndarray, tolerance: Tolerance, prefix: str
) -> None:
    actual, desired = np.asarray(actual, dtype=np.float64), np.asarray(desired, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(desired) & np.isfinite(actual)
        same_special = (np.isnan(actual) & np.isnan(desired)) | (actual == desired)
        close = np.abs(actual - desired) <= tolerance.bound(desired)
    good = np.where(finite, close, same_special)
    if np.all(good):
        return
    bad = np.argwhere(~good)
    first = tuple(int(i) for i in bad[0])
    raise AssertionError(
        f"{prefix}values differ at {bad.shape[0]} of {good.size} positions "
        f"(rtol={tolerance.rtol:g}, atol={tolerance.atol:g}); first at {first}: "
        f"actual {actual[first]!r}, desired {desired[first]!r}"
    )


def assert_same_kind(
    actual: Array, xp: Any, *, dtype: Any = None, device: Any = None, err_msg: str = ""
) -> None:
    """Assert that ``actual`` is an array of namespace ``xp``'s library, dtype and device.

    Parameters
    ----------
    actual : array
        The result to check.
    xp : namespace
        The namespace whose library ``actual`` must belong to.
    dtype, device : optional
        The dtype and device ``actual`` must have (not checked when None).
    err_msg : str, optional
        Prepended to the failure message.

    Raises
    ------
    AssertionError
        Naming what differs: library, dtype or device.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> assert_same_kind(xp.asarray([1.0]), xp, dtype=xp.float64)
    >>> assert_same_kind(xp.asarray([1.0]), xp, dtype=xp.float32)
    Traceback (most recent call last):
    ...
    AssertionError: dtype: actual float64, desired float32
    """
    prefix = f"{err_msg}: " if err_msg else ""
    probe = xp.asarray(0.0)
    if not compat.is_array_api_obj(actual) or (
        compat.array_namespace(actual) is not compat.array_namespace(probe)
    ):
        raise AssertionError(
            f"{prefix}library: actual {_describe(actual)}, desired {_describe(probe)}"
        )
    if dtype is not None and actual.dtype != dtype:
        raise AssertionError(
            f"{prefix}dtype: actual {_dtype_name(actual.dtype)}, desired {_dtype_name(dtype)}"
        )
    if device is not None and compat.device(actual) != device:
        raise AssertionError(
            f"{prefix}device: actual {compat.device(actual)!r}, desired {device!r}"
        )
