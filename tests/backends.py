"""The backends the tests know, how to load them, and how to read their arrays back.

Test-only code: converting to NumPy here is how tests compare numbers, never done by kldiv.
"""

from __future__ import annotations

import enum
import importlib
from types import ModuleType
from typing import Any

import numpy as np
import pytest


class Backend(enum.Enum):
    NUMPY = "numpy"
    NUMPY_READONLY = "numpy_readonly"
    ARRAY_API_STRICT = "array_api_strict"
    TORCH = "torch"
    JAX = "jax"
    DASK = "dask"
    TORCH_CUDA = "torch_cuda"
    CUPY = "cupy"


BACKENDS = (
    Backend.NUMPY,
    Backend.NUMPY_READONLY,
    Backend.ARRAY_API_STRICT,
    Backend.TORCH,
    Backend.JAX,
    Backend.DASK,
)
GPU_BACKENDS = (Backend.TORCH_CUDA, Backend.CUPY)


class ReadOnlyNumpy(ModuleType):
    """NumPy whose ``asarray`` returns read-only arrays: any in-place write to an input fails."""

    def __init__(self) -> None:
        super().__init__("numpy_readonly")
        self._numpy = importlib.import_module("array_api_compat.numpy")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._numpy, name)

    def asarray(self, *args: Any, **kwargs: Any) -> np.ndarray:
        array = np.array(self._numpy.asarray(*args, **kwargs), copy=True)
        array.flags.writeable = False
        return array


class TorchCuda(ModuleType):
    """torch whose ``asarray`` puts arrays on the GPU."""

    def __init__(self) -> None:
        super().__init__("torch_cuda")
        self._torch = importlib.import_module("array_api_compat.torch")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._torch, name)

    def asarray(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("device", "cuda")
        return self._torch.asarray(*args, **kwargs)


def load_backend(backend: Backend) -> Any:
    """The namespace of ``backend``, or ``pytest.skip`` with the reason it is unavailable."""
    if backend is Backend.NUMPY:
        return importlib.import_module("array_api_compat.numpy")
    if backend is Backend.NUMPY_READONLY:
        return ReadOnlyNumpy()
    if backend is Backend.ARRAY_API_STRICT:
        return pytest.importorskip("array_api_strict")
    if backend in (Backend.TORCH, Backend.TORCH_CUDA):
        torch = pytest.importorskip("torch")
        if backend is Backend.TORCH_CUDA:
            if not torch.cuda.is_available():
                pytest.skip("torch_cuda: no CUDA device")
            return TorchCuda()
        return importlib.import_module("array_api_compat.torch")
    if backend is Backend.JAX:
        jax = pytest.importorskip("jax")
        jax.config.update("jax_enable_x64", True)
        return importlib.import_module("jax.numpy")
    if backend is Backend.DASK:
        pytest.importorskip("dask.array")
        return importlib.import_module("array_api_compat.dask.array")
    cupy = pytest.importorskip("cupy")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # cupy raises its own CUDARuntimeError without a driver
        pytest.skip(f"cupy: no CUDA device ({error})")
    return importlib.import_module("array_api_compat.cupy")


def to_numpy(array: Any) -> np.ndarray:
    """A NumPy copy of any backend's array (computes Dask graphs, moves GPU arrays to host)."""
    import array_api_compat as compat

    if compat.is_dask_array(array):
        with np.errstate(all="ignore"):  # the graph runs here, outside kldiv's own errstate
            array = array.compute()
    if compat.is_torch_array(array):
        return array.detach().cpu().to(dtype=_torch_host_dtype(array)).numpy()
    if compat.is_cupy_array(array):
        return array.get()
    if compat.is_array_api_strict_namespace(compat.array_namespace(array)):
        import array_api_strict

        array = array_api_strict.asarray(array, device=array_api_strict.Device("CPU_DEVICE"))
        return np.asarray(array._array)
    return np.asarray(array)


def _torch_host_dtype(array: Any) -> Any:
    import torch

    return torch.float32 if array.dtype == torch.bfloat16 else array.dtype


def float_dtypes(xp: Any) -> list[Any]:
    """The real floating dtypes ``xp`` has: float64, float32, float16 and bfloat16 if present."""
    names = ["float64", "float32", "float16", "bfloat16"]
    return [getattr(xp, name) for name in names if hasattr(xp, name)]


def assert_same_kind(result: Any, xp: Any, *, dtype: Any = None, device: Any = None) -> None:
    """``result`` is an array of ``xp``'s library, with the given dtype and device."""
    import array_api_compat as compat

    probe = xp.asarray(0.0)
    assert compat.array_namespace(result) is compat.array_namespace(probe), (
        f"result is a {type(result).__module__}.{type(result).__name__}, not of {xp.__name__}"
    )
    if dtype is not None:
        assert result.dtype == dtype, f"dtype {result.dtype} != {dtype}"
    if device is not None:
        assert compat.device(result) == device, f"device {compat.device(result)} != {device}"
