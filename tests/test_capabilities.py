"""The capability declarations (``kldiv._capabilities``) against behaviour.

Every public name has a declaration; every declared library runs each entry of
:mod:`tests.test_lazy_modes` eagerly, and torch autograd differentiates it where ``grad`` is
declared (a name declared without ``grad`` must fail there: a strict xfail). ``jit`` and lazy
Dask are checked by :mod:`tests.test_lazy_modes`, which reads the same declarations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kldiv._capabilities import BACKENDS, CAPABILITIES, capability
from kldiv.testing import Backend, assert_close, assert_same_kind, to_numpy

from .conftest import load_backend
from .test_lazy_modes import ENTRIES, public_names

#: Libraries whose eager run is checked here (Dask runs in test_lazy_modes' lazy mode); the GPU
#: ones are skipped without a GPU.
EAGER = (
    Backend.NUMPY,
    Backend.ARRAY_API_STRICT,
    Backend.TORCH,
    Backend.JAX,
    Backend.TORCH_CUDA,
    Backend.CUPY,
)


def _library(backend: Backend) -> str:
    """The declared library a backend tests (torch on CUDA is torch)."""
    return "torch" if backend is Backend.TORCH_CUDA else backend.value


def _arrays(result: Any) -> list[Any]:
    if isinstance(result, tuple | list):
        return [array for item in result for array in _arrays(item)]
    return [result]


def test_every_public_name_is_declared() -> None:
    missing = [name for name in public_names() if capability(name) is None]
    assert not missing, (
        f"public names without a capability declaration: {missing}; add an entry to "
        "CAPABILITIES in src/kldiv/_capabilities.py (backends, jit, lazy, grad, notes)"
    )


def test_no_declaration_for_a_name_that_is_not_public() -> None:
    names = set(public_names())
    modules = {name.split(".")[0] for name in names if "." in name}
    stale = [
        key
        for key in CAPABILITIES
        if key not in names and not (key.endswith(".*") and key[:-2] in modules)
    ]
    assert not stale, f"declarations for names that are not public: {stale}"


def test_declared_backends_are_known() -> None:
    unknown = {
        key: c.backends for key, c in CAPABILITIES.items() if set(c.backends) - set(BACKENDS)
    }
    assert not unknown, f"unknown backends declared: {unknown}"


def _eager_cases() -> list[Any]:
    cases = []
    for name in sorted(ENTRIES):
        declared = capability(name)
        for backend in EAGER:
            if declared is not None and _library(backend) in declared.backends:
                cases.append(pytest.param(name, backend, id=f"{name}-{backend.value}"))
    return cases


@pytest.mark.parametrize(("name", "backend"), _eager_cases())
def test_runs_on_each_declared_backend(name: str, backend: Backend) -> None:
    entry = ENTRIES[name]
    loaded = load_backend(backend)
    inputs = entry.inputs(np.random.default_rng(1))
    expected = _arrays(entry.run(*inputs))
    actual = _arrays(entry.run(*(loaded.from_numpy(array, "float64") for array in inputs)))
    for result, desired in zip(actual, expected, strict=True):
        assert_same_kind(result, loaded.xp, err_msg=name)
        assert_close(result, np.asarray(desired), rtol=1e-10, atol=1e-12, err_msg=name)


def _grad_cases() -> list[Any]:
    cases = []
    for name in sorted(ENTRIES):
        declared = capability(name)
        if declared is None or "torch" not in declared.backends:
            continue
        marks = []
        if not declared.supports("grad"):
            marks = [pytest.mark.xfail(reason=declared.notes, strict=True)]
        cases.append(pytest.param(name, marks=marks, id=name))
    return cases


@pytest.mark.parametrize("name", _grad_cases())
def test_torch_autograd_where_declared(name: str) -> None:
    torch = pytest.importorskip("torch")
    entry = ENTRIES[name]
    inputs = [
        torch.tensor(array, dtype=torch.float64, requires_grad=True)
        for array in entry.inputs(np.random.default_rng(2))
    ]
    outputs = [out for out in _arrays(entry.run(*inputs)) if out.requires_grad]
    assert outputs, f"{name}: no result depends on its inputs through autograd"
    torch.stack([out.sum() for out in outputs]).sum().backward()
    grads = [tensor.grad for tensor in inputs if tensor.grad is not None]
    assert grads, f"{name}: backward reached none of the inputs"
    for grad in grads:
        assert np.all(np.isfinite(to_numpy(grad))), f"{name}: non-finite gradient"
