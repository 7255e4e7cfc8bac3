"""The backends under test: how to load each, and how arrays cross into and out of it.

Backend names are those of ``tests/backends.py``. Arrays cross libraries through DLPack: NumPy
float64 → the backend in the dtype under test, and results back to float64 NumPy. NumPy has no
bfloat16, so bfloat16 goes in as float32 and is cast inside the backend, and comes out the same
way (exactly: bfloat16 ⊂ float32). Dask has no ``from_dlpack``: its chunks are NumPy arrays made
from DLPack. GPU arrays are moved to and from the host by their own library.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import array_api_compat as compat
import numpy as np

from .registry import ALL_DTYPES

__all__ = ["BACKEND_NAMES", "Backend", "Unavailable", "load_backends"]

#: The backends of ``tests/backends.py``, in its order (a test keeps the two in sync).
BACKEND_NAMES = (
    "numpy",
    "numpy_readonly",
    "array_api_strict",
    "torch",
    "jax",
    "dask",
    "torch_cuda",
    "cupy",
)


class Unavailable(Exception):
    """The backend is not installed, or has no device here."""


@dataclass(frozen=True)
class Backend:
    """A loaded backend: its namespace, its dtypes, and its two conversions."""

    name: str
    xp: Any
    dtypes: tuple[str, ...]
    _native: Callable[[np.ndarray], Any]
    _host: Callable[[Any], Any]
    _dtype: Callable[[str], Any]

    def from_numpy(self, array: np.ndarray, dtype: str) -> Any:
        """``array`` (float64 NumPy) as an array of this backend in ``dtype``."""
        staged = np.ascontiguousarray(array, dtype="float32" if dtype == "bfloat16" else dtype)
        native = self._native(staged)
        return self.xp.astype(native, self._dtype(dtype)) if dtype == "bfloat16" else native

    def to_numpy(self, result: Any) -> Any:
        """A result (array, scalar, or tuple/list of them) as float64 NumPy."""
        if isinstance(result, tuple | list):
            return type(result)(self.to_numpy(item) for item in result)
        if not compat.is_array_api_obj(result):
            return np.asarray(result, dtype=np.float64)
        if str(result.dtype).endswith("bfloat16"):
            result = self.xp.astype(result, self._dtype("float32"))
        return np.asarray(np.from_dlpack(self._host(result)), dtype=np.float64)

    def dtype(self, name: str) -> Any:
        """This backend's dtype object called ``name``."""
        return self._dtype(name)


def _numpy(readonly: bool) -> dict[str, Any]:
    def native(array: np.ndarray) -> np.ndarray:
        view = np.from_dlpack(array)
        if readonly:
            view.flags.writeable = False
        return view

    return {
        "xp": importlib.import_module("array_api_compat.numpy"),
        "dtypes": ("float64", "float32", "float16"),
        "_native": native,
        "_host": np.asarray,  # NumPy reductions return scalars, which have no __dlpack__
        "_dtype": np.dtype,
    }


def _strict() -> dict[str, Any]:
    strict = _import("array_api_strict")
    return {
        "xp": strict,
        "dtypes": ("float64", "float32"),
        "_native": strict.from_dlpack,
        "_host": lambda array: strict.asarray(array, device=strict.Device("CPU_DEVICE")),
        "_dtype": lambda name: getattr(strict, name),
    }


def _torch(cuda: bool) -> dict[str, Any]:
    torch = _import("torch")
    if cuda and not torch.cuda.is_available():
        raise Unavailable("no CUDA device")
    device = "cuda" if cuda else "cpu"
    return {
        "xp": importlib.import_module("array_api_compat.torch"),
        "dtypes": ALL_DTYPES,
        "_native": lambda array: torch.from_dlpack(array).to(device),
        "_host": lambda array: array.detach().cpu(),
        "_dtype": lambda name: getattr(torch, name),
    }


def _jax() -> dict[str, Any]:
    jax = _import("jax")
    jax.config.update("jax_enable_x64", True)
    _jax_compilation_cache(jax)
    jnp = importlib.import_module("jax.numpy")
    return {
        "xp": jnp,
        "dtypes": ALL_DTYPES,
        "_native": jnp.from_dlpack,
        "_host": lambda array: array,
        "_dtype": lambda name: getattr(jnp, name),
    }


def _jax_compilation_cache(jax: Any) -> None:
    """Keep JAX's compiled operations on disk: JAX compiles every operation per shape and dtype,
    which dominates a first run. ``KLDIV_CONFORMANCE_JAX_CACHE`` sets the folder ("" for none)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kldiv-jax"
    folder = os.environ.get("KLDIV_CONFORMANCE_JAX_CACHE", str(default))
    if folder:
        jax.config.update("jax_compilation_cache_dir", folder)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


def _dask() -> dict[str, Any]:
    dask_array = _import("dask.array")

    def native(array: np.ndarray) -> Any:
        rows = max(1, -(-array.shape[0] // 2)) if array.ndim else ()
        chunks = (rows, *array.shape[1:]) if array.ndim else ()
        return dask_array.from_array(np.from_dlpack(array), chunks=chunks)

    return {
        "xp": importlib.import_module("array_api_compat.dask.array"),
        "dtypes": ("float64", "float32", "float16"),
        "_native": native,
        # Graph optimisation costs more than the tiny graphs of a case take to run.
        "_host": lambda array: np.asarray(
            array.compute(scheduler="synchronous", optimize_graph=False)
        ),
        "_dtype": np.dtype,
    }


def _cupy() -> dict[str, Any]:
    cupy = _import("cupy")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # cupy raises its own CUDARuntimeError without a driver
        raise Unavailable(f"no CUDA device ({error})") from error
    return {
        "xp": importlib.import_module("array_api_compat.cupy"),
        "dtypes": ("float64", "float32", "float16"),
        "_native": cupy.asarray,
        "_host": cupy.asnumpy,
        "_dtype": np.dtype,
    }


_LOADERS: dict[str, Callable[[], dict[str, Any]]] = {
    "numpy": lambda: _numpy(readonly=False),
    "numpy_readonly": lambda: _numpy(readonly=True),
    "array_api_strict": _strict,
    "torch": lambda: _torch(cuda=False),
    "jax": _jax,
    "dask": _dask,
    "torch_cuda": lambda: _torch(cuda=True),
    "cupy": _cupy,
}


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise Unavailable(f"{name} is not installed") from error


def load(name: str) -> Backend:
    """The backend called ``name``, or :class:`Unavailable` with the reason."""
    if name not in _LOADERS:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(BACKEND_NAMES)}")
    return Backend(name=name, **_LOADERS[name]())


def load_backends(names: Iterable[str] | None = None) -> tuple[list[Backend], dict[str, str]]:
    """The available backends among ``names`` (default: all), and why the others are missing."""
    loaded, missing = [], {}
    for name in BACKEND_NAMES if names is None else names:
        try:
            loaded.append(load(name))
        except Unavailable as error:
            missing[name] = str(error)
    return loaded, missing
