"""Namespace, device and dtype resolution: the only module that knows array-api-compat.

Every public function starts with :func:`prepare`, which turns its array arguments into one
:class:`Context` (namespace, device, result dtype, compute dtype) plus the arguments converted to
the compute dtype. Mixing libraries is a ``TypeError``, mixing devices a ``ValueError``; both name
the arguments involved. Python numbers and nested lists or tuples of numbers are accepted wherever
an array is (they join the arrays' library, or NumPy float64 when there is no array); anything
else is a ``TypeError`` that says what the argument is.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import array_api_compat as compat
import numpy as np

Array = Any
Namespace = Any

__all__ = [
    "Array",
    "Context",
    "Namespace",
    "broadcast_shapes",
    "ignore_fp_warnings",
    "index_array",
    "is_lazy",
    "normalize_axis",
    "prepare",
    "runs_eagerly",
    "take_along_axis",
    "widest_float",
]


F = TypeVar("F", bound=Callable[..., Any])


def ignore_fp_warnings(function: F) -> F:
    """Silence NumPy's floating-point warnings inside ``function``.

    Infinities and NaNs are results here (``p > 0, q = 0`` gives +inf by design), not accidents;
    NumPy-backed libraries would otherwise warn on every such element. Other libraries never warn.
    """

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class Context:
    """What one call computes with: namespace, device, and the dtypes in and out.

    ``dtype`` is the dtype of the result (the promoted input dtype); ``compute_dtype`` is the dtype
    the math runs in: float32 for 16-bit inputs, ``dtype`` otherwise.
    """

    xp: Namespace
    device: Any
    dtype: Any
    compute_dtype: Any

    def asarray(self, value: Any) -> Array:
        """``value`` as an array of the compute dtype on this context's device."""
        return self.xp.asarray(value, dtype=self.compute_dtype, device=self.device)

    def finish(self, result: Array) -> Array:
        """Cast a computed result back to the caller's dtype."""
        if result.dtype == self.dtype:
            return result
        return self.xp.astype(result, self.dtype)


def _is_array(value: Any) -> bool:
    return compat.is_array_api_obj(value)


def _namespace(named: dict[str, Any]) -> Namespace:
    arrays = {name: value for name, value in named.items() if _is_array(value)}
    try:
        return compat.array_namespace(*arrays.values())
    except TypeError as error:
        kinds = ", ".join(
            f"{name}: {type(value).__module__}.{type(value).__name__}"
            for name, value in arrays.items()
        )
        raise TypeError(f"arrays from different libraries cannot be mixed ({kinds})") from error


_ACCEPTED = "an array, a (nested) list or tuple of real numbers, or a real number"


def _check_array_like(name: str, value: Any) -> None:
    """A ``TypeError`` or ``ValueError`` naming ``name`` unless ``value`` is an array, a real
    number or a rectangular nested list/tuple of real numbers."""
    if _is_array(value) or isinstance(value, numbers.Real):
        return
    kind = type(value).__name__
    if not isinstance(value, list | tuple):
        raise TypeError(f"{name} must be {_ACCEPTED}; {name} is a {kind}")
    try:
        dtype = np.asarray(value).dtype
    except ValueError as error:
        raise ValueError(
            f"{name} is a ragged {kind}: its nested sequences must all have the same length"
        ) from error
    except TypeError as error:
        raise TypeError(f"{name} is a {kind} that is not numeric: {error}") from error
    if dtype.kind == "c":
        raise TypeError(f"{name} is a {kind} of complex numbers; only real inputs are supported")
    if dtype.kind not in "biuf":
        raise TypeError(f"{name} is a {kind} that is not numeric; it must be {_ACCEPTED}")


def _as_arrays(named: dict[str, Any]) -> dict[str, Any]:
    """``named`` with lists and numbers as float64 NumPy arrays when none of them is an array
    (as SciPy); unchanged otherwise (they then take the arrays' namespace, device and dtype)."""
    for name, value in named.items():
        _check_array_like(name, value)
    if any(_is_array(value) for value in named.values()):
        return named
    return {name: np.asarray(value, dtype=np.float64) for name, value in named.items()}


def _device(named: dict[str, Any], device_of: Callable[[Any], Any] = compat.device) -> Any:
    """The common device; ``None`` (a traced JAX array has no device yet) matches any device."""
    devices = {name: device_of(value) for name, value in named.items() if _is_array(value)}
    known = {name: device for name, device in devices.items() if device is not None}
    if not known:
        return None
    first_name, first = next(iter(known.items()))
    for name, device in known.items():
        if device != first:
            raise ValueError(
                f"arrays on different devices cannot be mixed: {first_name} is on {first!r}, "
                f"{name} is on {device!r}"
            )
    return first


def _float_dtype(xp: Namespace, name: str, value: Any, device: Any) -> Any:
    """The floating dtype ``value`` computes in: integers and bools become the default float."""
    if not _is_array(value):
        return None  # numbers and lists take the arrays' dtype
    dtype = value.dtype
    try:
        if xp.isdtype(dtype, "real floating"):
            return dtype
        if xp.isdtype(dtype, "complex floating"):
            raise TypeError(f"{name} has complex dtype {dtype}; only real inputs are supported")
        numeric = xp.isdtype(dtype, ("integral", "bool"))
    except (TypeError, ValueError, AttributeError) as error:
        if "complex dtype" in str(error):
            raise
        numeric = False
    if not numeric:
        raise TypeError(f"{name} has non-numeric dtype {dtype}; expected a real floating dtype")
    return xp.__array_namespace_info__().default_dtypes(device=device)["real floating"]


def _compute_dtype(xp: Namespace, dtype: Any) -> Any:
    return xp.float32 if xp.finfo(dtype).bits < 32 else dtype


#: (array type, dtype) -> (namespace, compute dtype, device getter), for real floating dtypes
#: already seen: the common call (arrays of one library and one dtype) resolves nothing again.
_RESOLVED: dict[tuple[type, Any], tuple[Namespace, Any, Callable[[Any], Any]]] = {}


def _device_getter(array: Array) -> Callable[[Any], Any]:
    """How to read the device of arrays of ``array``'s type: an attribute for torch, a
    constant for NumPy, array-api-compat otherwise."""
    if compat.is_torch_array(array):
        return operator.attrgetter("device")
    if compat.is_numpy_array(array):
        return lambda array: "cpu"
    return compat.device


def prepare(**named: Any) -> tuple[Context, list[Array]]:
    """Resolve the namespace, device and dtypes of ``named`` arrays and convert them.

    Returns the :class:`Context` and the arguments, in order, as arrays of the compute dtype on
    the common device. Python numbers and (nested) lists or tuples of numbers take the namespace,
    device and floating dtype of the array arguments, or are float64 NumPy arrays when no
    argument is an array. No data is copied when nothing changes. Arrays of one type and one
    floating dtype seen before take a cached path; everything else takes the slow path.
    """
    values = list(named.values())
    key = (type(values[0]), getattr(values[0], "dtype", None))
    resolved = _RESOLVED.get(key)
    if resolved is not None and all(
        type(value) is key[0] and value.dtype == key[1] for value in values[1:]
    ):
        xp, compute_dtype, device_of = resolved
        devices = {device_of(value) for value in values}
        device = devices.pop() if len(devices) == 1 else _device(named, device_of)
        context = Context(xp, device, key[1], compute_dtype)
        if compute_dtype == key[1]:
            return context, values
        return context, [xp.astype(value, compute_dtype) for value in values]
    named = _as_arrays(named)
    values = list(named.values())
    xp = _namespace(named)
    device = _device(named)
    dtypes = [_float_dtype(xp, name, value, device) for name, value in named.items()]
    dtype = xp.result_type(*(d for d in dtypes if d is not None))
    context = Context(xp, device, dtype, _compute_dtype(xp, dtype))
    if _is_array(values[0]) and all(
        type(value) is key[0] and value.dtype == dtype for value in values
    ):
        _RESOLVED[key] = (xp, context.compute_dtype, _device_getter(values[0]))
    converted = []
    for value in named.values():
        if not _is_array(value):
            converted.append(context.asarray(value))
        elif value.dtype != context.compute_dtype:
            converted.append(xp.astype(value, context.compute_dtype))
        else:
            converted.append(value)
    return context, converted


def is_lazy(*arrays: Array) -> bool:
    """True when values cannot be read without computing a graph (Dask, traced JAX, torch meta)."""
    for array in arrays:
        if compat.is_jax_array(array):
            import jax

            if isinstance(array, jax.core.Tracer):
                return True
        elif compat.is_lazy_array(array) or _is_torch_meta(array):
            return True
    return False


def runs_eagerly(*arrays: Array) -> bool:
    """True when every array's library runs each operation at once on concrete data (NumPy,
    torch, CuPy, array-api-strict): loops over blocks of rows pay there. False for Dask (lazy
    graphs), JAX (it compiles per shape and fuses) and torch ``meta``."""
    return not any(
        compat.is_jax_array(array) or compat.is_dask_array(array) or is_lazy(array)
        for array in arrays
    )


def _is_torch_meta(array: Array) -> bool:
    return compat.is_torch_array(array) and array.device.type == "meta"


def broadcast_shapes(**shapes: tuple[int | None, ...]) -> tuple[int | None, ...]:
    """The broadcast shape of ``shapes``; a ``ValueError`` naming the arguments otherwise."""
    ndim = max(len(shape) for shape in shapes.values())
    result: list[int | None] = []
    for position in range(-ndim, 0):
        size: int | None = 1
        for shape in shapes.values():
            if -position > len(shape):
                continue
            this = shape[position]
            if this == 1 or this == size:
                continue
            if size == 1:
                size = this
            elif this is None or size is None or _isnan(this) or _isnan(size):
                size = None
            else:
                described = ", ".join(f"{name} {tuple(s)}" for name, s in shapes.items())
                raise ValueError(f"shapes cannot be broadcast together: {described}")
        result.append(size)
    return tuple(result)


def _isnan(size: Any) -> bool:
    return isinstance(size, float) and math.isnan(size)


def normalize_axis(axis: int, ndim: int, name: str = "axis") -> int:
    """``axis`` as a non-negative index into ``ndim`` dimensions, or a ``ValueError``."""
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"{name} must be an int, got {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}={axis} is out of range for an array of {ndim} dimensions")
    return axis % ndim


def take_along_axis(xp: Namespace, x: Array, indices: Array, axis: int) -> Array:
    """``x`` gathered at the integer ``indices`` along ``axis``.

    The array API's ``take_along_axis`` where the library has it; otherwise one ``take`` from
    ``x`` flattened, at each index offset by its row's start (Dask).
    """
    native = getattr(xp, "take_along_axis", None)
    if native is not None:
        return native(x, indices, axis=axis)
    moved, moved_indices = xp.moveaxis(x, axis, -1), xp.moveaxis(indices, axis, -1)
    batch_shape = tuple(moved_indices.shape[:-1])
    starts = xp.arange(math.prod(batch_shape), dtype=indices.dtype, device=compat.device(x))
    starts = xp.reshape(starts * moved.shape[-1], (*batch_shape, 1))
    flat = xp.take(xp.reshape(moved, (-1,)), xp.reshape(moved_indices + starts, (-1,)), axis=0)
    return xp.moveaxis(xp.reshape(flat, tuple(moved_indices.shape)), -1, axis)


def index_array(context: Context, name: str, value: Any, partners: tuple[str, ...]) -> Array:
    """``value`` as an integer array of ``context``'s library and device, in the library's
    default index dtype (lists become arrays there); a ``TypeError`` or ``ValueError`` naming
    ``name`` (and the ``partners`` that set the library) for another library, another device
    or a non-integer dtype."""
    xp = context.xp
    if isinstance(value, list | tuple):
        _check_array_like(name, value)
        value = xp.asarray(value, device=context.device)
    if not _is_array(value):
        raise TypeError(f"{name} must be an integer array, got {type(value).__name__}")
    if _namespace({name: value}) is not xp:
        raise TypeError(
            f"{name} is a {type(value).__module__} array; {' and '.join(partners)} are not"
        )
    device = compat.device(value)
    if None not in (device, context.device) and device != context.device:
        raise ValueError(f"{name} is on {device!r}, {' and '.join(partners)} on {context.device!r}")
    if not xp.isdtype(value.dtype, "integral"):
        raise TypeError(f"{name} must have an integer dtype, got {value.dtype}")
    index_dtype = xp.__array_namespace_info__().default_dtypes(device=context.device)["indexing"]
    return value if value.dtype == index_dtype else xp.astype(value, index_dtype)


def widest_float(xp: Namespace, array: Array) -> Any:
    """The widest real floating dtype ``xp`` offers on ``array``'s device (float64 where it
    exists, else ``array``'s dtype): for sums whose difference must not cancel."""
    dtypes = xp.__array_namespace_info__().dtypes(device=compat.device(array), kind="real floating")
    return dtypes.get("float64", array.dtype)
