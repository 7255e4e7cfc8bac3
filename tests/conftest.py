"""The ``xp`` and ``device`` fixtures: every test runs on every installed backend.

Backends that are not installed are skipped with a reason; GPU backends are skipped when no GPU
is present. ``xp`` is the namespace tests create arrays with (``xp.asarray`` returns that
library's native arrays).
"""

from __future__ import annotations

import pytest

from .backends import BACKENDS, GPU_BACKENDS, Backend, load_backend


def _params(backends: tuple[Backend, ...]) -> list[object]:
    return [pytest.param(backend, id=backend.value) for backend in backends]


@pytest.fixture(params=_params(BACKENDS + GPU_BACKENDS))
def backend(request: pytest.FixtureRequest) -> Backend:
    """The backend under test (skipped when not installed or no GPU)."""
    load_backend(request.param)
    return request.param


@pytest.fixture
def xp(backend: Backend) -> object:
    """The array namespace of the backend under test."""
    return load_backend(backend)


@pytest.fixture(params=["array_api_strict", "torch"])
def device(request: pytest.FixtureRequest) -> tuple[object, object]:
    """``(xp, device)``: a non-default device, to prove results stay where their inputs are."""
    if request.param == "array_api_strict":
        strict = pytest.importorskip("array_api_strict")
        return strict, strict.Device("device1")
    torch_xp = pytest.importorskip("array_api_compat.torch")
    pytest.importorskip("torch")
    import torch

    return torch_xp, torch.device("meta")
