"""The array libraries kldiv is tested on, and how NumPy arrays cross into and out of each.

Arrays cross through DLPack: a float64 NumPy array becomes an array of the backend in the dtype
under test, and a result comes back as float64 NumPy. NumPy has no bfloat16, so bfloat16 goes in
as float32 and is cast inside the backend, and comes out the same way (exactly: bfloat16 is a
subset of float32). Dask arrays are made of NumPy chunks. GPU backends count as installed only
when a GPU is present.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import array_api_compat as compat
import numpy as np

__all__ = [
    "Backend",
    "BackendUnavailable",
    "LoadedBackend",
    "backends",
    "float_dtypes",
]

#: Real floating dtypes, widest first.
FLOAT_DTYPES = ("float64", "float32", "float16", "bfloat16")


class BackendUnavailable(Exception):
    """The backend's library is not installed, or its device is missing here.

    Examples
    --------
    >>> try:
    ...     Backend.CUPY.load()
    ... except BackendUnavailable as error:
    ...     print("cupy" in str(error))
    True
    """


class Backend(enum.Enum):
    """An array library (and device) that kldiv is tested on.

    :meth:`load` returns a :class:`LoadedBackend` or raises :class:`BackendUnavailable` with the
    reason.

    Examples
    --------
    >>> strict = Backend.ARRAY_API_STRICT.load()
    >>> strict.dtypes
    ('float64', 'float32')
    >>> strict.from_numpy(np.asarray([0.5, 0.25]), "float32")
    Array([0.5 , 0.25], dtype=array_api_strict.float32)
    """

    NUMPY = "numpy"
    NUMPY_READONLY = "numpy_readonly"
    ARRAY_API_STRICT = "array_api_strict"
    TORCH = "torch"
    JAX = "jax"
    DASK = "dask"
    TORCH_CUDA = "torch_cuda"
    CUPY = "cupy"

    @property
    def needs_gpu(self) -> bool:
        """Whether this backend runs on a GPU (and is skipped without one)."""
        return self in (Backend.TORCH_CUDA, Backend.CUPY)

    def load(self) -> LoadedBackend:
        """Import the library; :class:`BackendUnavailable` says why it cannot be used here."""
        return LoadedBackend(backend=self, **_LOADERS[self]())


@dataclass(frozen=True)
class LoadedBackend:
    """An installed backend: its namespace, its dtypes and its conversions.

    Attributes
    ----------
    backend : Backend
        Which backend this is; ``name`` is its value.
    xp : namespace
        The namespace tests create arrays with: ``xp.asarray`` returns the library's native
        arrays (read-only ones for ``numpy_readonly``, on the GPU for ``torch_cuda``).
    dtypes : tuple of str
        The real floating dtypes the library has, widest first.
    other_device : object or None
        A device other than the default, to prove results stay where their inputs are
        (array-api-strict ``Device("device1")``, torch ``meta``), or None.

    Examples
    --------
    >>> strict = Backend.ARRAY_API_STRICT.load()
    >>> strict.to_numpy(strict.xp.asarray([1.0, 2.0], dtype=strict.xp.float32))
    array([1., 2.])
    """

    backend: Backend
    xp: Any
    dtypes: tuple[str, ...]
    _native: Callable[[np.ndarray], Any]
    _host: Callable[[Any], Any]
    other_device: Any = None
    _dtypes_from_numpy: bool = False

    @property
    def name(self) -> str:
        """The backend's name, as in test ids and reports."""
        return self.backend.value

    def dtype(self, name: str) -> Any:
        """This library's dtype called ``name`` (``"float32"``...)."""
        return np.dtype(name) if self._dtypes_from_numpy else getattr(self.xp, name)

    def from_numpy(self, array: np.ndarray, dtype: str) -> Any:
        """``array`` (NumPy) as an array of this backend in the dtype called ``dtype``."""
        staged = np.array(array, dtype="float32" if dtype == "bfloat16" else dtype, order="C")
        native = self._native(staged)
        return self.xp.astype(native, self.dtype(dtype)) if dtype == "bfloat16" else native

    def to_numpy(self, result: Any) -> Any:
        """A result (array, number, or tuple/list of them) as float64 NumPy."""
        if isinstance(result, tuple | list):
            return type(result)(self.to_numpy(item) for item in result)
        if not compat.is_array_api_obj(result):
            return np.asarray(result, dtype=np.float64)
        if str(result.dtype).endswith("bfloat16"):
            result = self.xp.astype(result, self.dtype("float32"))
        return np.asarray(np.from_dlpack(self._host(result)), dtype=np.float64)


def backends(names: Iterable[str | Backend] | None = None) -> list[LoadedBackend]:
    """The backends installed here among ``names`` (default: every :class:`Backend`).

    Parameters
    ----------
    names : iterable of str or Backend, optional
        The backends wanted, in the order wanted; a name that is no :class:`Backend` is a
        ``ValueError``.

    Returns
    -------
    list of LoadedBackend
        Those installed here; GPU backends count only when a GPU is present.

    Examples
    --------
    >>> [backend.name for backend in backends(["numpy", "array_api_strict"])]
    ['numpy', 'array_api_strict']
    """
    loaded = []
    for name in Backend if names is None else names:
        try:
            loaded.append(Backend(name).load())
        except BackendUnavailable:
            continue
    return loaded


def float_dtypes(xp: Any) -> list[Any]:
    """The real floating dtypes of namespace ``xp``, widest first.

    Parameters
    ----------
    xp : namespace
        An array-API namespace.

    Returns
    -------
    list
        Its dtype objects among float64, float32, float16 and bfloat16.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> float_dtypes(xp)
    [array_api_strict.float64, array_api_strict.float32]
    """
    return [getattr(xp, name) for name in FLOAT_DTYPES if hasattr(xp, name)]


class _Namespace(ModuleType):
    """A library's namespace whose ``asarray`` is replaced (read-only arrays, GPU arrays)."""

    def __init__(self, name: str, base: str, asarray: Callable[..., Any]) -> None:
        super().__init__(name)
        self._base = importlib.import_module(base)
        self._asarray = asarray

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)

    def asarray(self, *args: Any, **kwargs: Any) -> Any:
        return self._asarray(self._base, *args, **kwargs)


def _read_only_asarray(numpy: Any, *args: Any, **kwargs: Any) -> np.ndarray:
    array = np.array(numpy.asarray(*args, **kwargs), copy=True)
    array.flags.writeable = False
    return array


def _cuda_asarray(torch: Any, *args: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("device", "cuda")
    return torch.asarray(*args, **kwargs)


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise BackendUnavailable(f"{name} is not installed") from error


def _numpy(readonly: bool) -> dict[str, Any]:
    def native(array: np.ndarray) -> np.ndarray:
        view = np.from_dlpack(array)
        if readonly:
            view.flags.writeable = False
        return view

    return {
        "xp": (
            _Namespace("numpy_readonly", "array_api_compat.numpy", _read_only_asarray)
            if readonly
            else _import("array_api_compat.numpy")
        ),
        "dtypes": FLOAT_DTYPES[:3],
        "_native": native,
        "_host": np.asarray,  # NumPy reductions return scalars, which have no __dlpack__
    }


def _strict() -> dict[str, Any]:
    strict = _import("array_api_strict")
    return {
        "xp": strict,
        "dtypes": FLOAT_DTYPES[:2],
        "_native": strict.from_dlpack,
        "_host": lambda array: strict.asarray(array, device=strict.Device("CPU_DEVICE")),
        "other_device": strict.Device("device1"),
    }


def _torch(cuda: bool) -> dict[str, Any]:
    torch = _import("torch")
    if cuda and not torch.cuda.is_available():
        raise BackendUnavailable("torch_cuda: no CUDA device")
    device = "cuda" if cuda else "cpu"
    return {
        "xp": (
            _Namespace("torch_cuda", "array_api_compat.torch", _cuda_asarray)
            if cuda
            else _import("array_api_compat.torch")
        ),
        "dtypes": FLOAT_DTYPES,
        "_native": lambda array: torch.from_dlpack(array).to(device),
        "_host": lambda array: array.detach().cpu(),
        "other_device": None if cuda else torch.device("meta"),
    }


def _jax() -> dict[str, Any]:
    jax = _import("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = _import("jax.numpy")
    return {"xp": jnp, "dtypes": FLOAT_DTYPES, "_native": jnp.from_dlpack, "_host": jnp.asarray}


def _dask() -> dict[str, Any]:
    dask_array = _import("dask.array")

    def native(array: np.ndarray) -> Any:
        rows = max(1, -(-array.shape[0] // 2)) if array.ndim else ()
        chunks = (rows, *array.shape[1:]) if array.ndim else ()
        return dask_array.from_array(np.from_dlpack(array), chunks=chunks)

    def host(array: Any) -> np.ndarray:
        # One thread, so that the caller's errstate holds; graph optimisation costs more than
        # the small graphs of a test take to run.
        with np.errstate(all="ignore"):
            return np.asarray(array.compute(scheduler="synchronous", optimize_graph=False))

    return {
        "xp": _import("array_api_compat.dask.array"),
        "dtypes": FLOAT_DTYPES[:3],
        "_native": native,
        "_host": host,
        "_dtypes_from_numpy": True,  # Dask's namespace lacks float16, its arrays have it
    }


def _cupy() -> dict[str, Any]:
    cupy = _import("cupy")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # cupy raises its own CUDARuntimeError without a driver
        raise BackendUnavailable(f"cupy: no CUDA device ({error})") from error
    return {
        "xp": _import("array_api_compat.cupy"),
        "dtypes": FLOAT_DTYPES[:3],
        "_native": cupy.asarray,
        "_host": cupy.asnumpy,
    }


_LOADERS: dict[Backend, Callable[[], dict[str, Any]]] = {
    Backend.NUMPY: lambda: _numpy(readonly=False),
    Backend.NUMPY_READONLY: lambda: _numpy(readonly=True),
    Backend.ARRAY_API_STRICT: _strict,
    Backend.TORCH: lambda: _torch(cuda=False),
    Backend.JAX: _jax,
    Backend.DASK: _dask,
    Backend.TORCH_CUDA: lambda: _torch(cuda=True),
    Backend.CUPY: _cupy,
}
