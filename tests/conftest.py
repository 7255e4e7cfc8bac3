"""The ``backend``, ``xp`` and ``device`` fixtures: every test runs on every installed backend.

Backends come from :mod:`kldiv.testing`. Those not installed are skipped with the reason; GPU
backends are skipped when no GPU is present. ``xp`` is the namespace tests create arrays with
(``xp.asarray`` returns that library's native arrays); while a test runs, the functions its
module tags with :func:`kldiv.testing.lazy_xp_function` run under ``jax.jit`` when ``xp`` is
JAX and under a Dask scheduler that refuses to compute when ``xp`` is Dask.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import kldiv
from kldiv.testing import Backend, BackendUnavailable, LoadedBackend, patch_lazy_xp_functions

from .gpu_surface import start_recording, write_record


def load_backend(backend: Backend) -> LoadedBackend:
    """``backend`` loaded, or ``pytest.skip`` with the reason it is unavailable."""
    try:
        return backend.load()
    except BackendUnavailable as error:
        pytest.skip(str(error))


@pytest.fixture(params=[pytest.param(backend, id=backend.value) for backend in Backend])
def backend(request: pytest.FixtureRequest) -> LoadedBackend:
    """The backend under test (skipped when not installed or no GPU)."""
    return load_backend(request.param)


@pytest.fixture
def xp(backend: LoadedBackend, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The array namespace of the backend under test; tagged functions run lazily."""
    with patch_lazy_xp_functions(request, xp=backend.xp):
        yield backend.xp


@pytest.fixture(params=[Backend.ARRAY_API_STRICT, Backend.TORCH], ids=lambda b: b.value)
def device(request: pytest.FixtureRequest) -> tuple[Any, Any]:
    """``(xp, device)``: a non-default device, to prove results stay where their inputs are."""
    loaded = load_backend(request.param)
    return loaded.xp, loaded.other_device


@pytest.fixture
def validate_args() -> Iterator[None]:
    """Turn value checks on globally for one test (``kldiv.set_validate_args``), then back."""
    kldiv.set_validate_args(True)
    try:
        yield
    finally:
        kldiv.set_validate_args(None)


@pytest.fixture
def jax() -> Any:
    """JAX with float64 enabled (skipped where it is not installed)."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def pytest_configure(config: pytest.Config) -> None:
    """With ``KLDIV_RECORD_NAMESPACE`` set, record the namespace names kldiv uses."""
    start_recording()


def pytest_unconfigure(config: pytest.Config) -> None:
    write_record()
