"""The GPU surface, checked without a GPU: which namespace names kldiv uses, and whether CuPy and
torch have them.

Recording: with ``KLDIV_RECORD_NAMESPACE=<folder>`` set, the test suite (``tests/conftest.py``
calls :func:`start_recording` and
:func:`write_record`) records every attribute that kldiv's own code looks up on the
array-api-strict and NumPy namespaces (and their ``linalg``), and every special function it
dispatches (:func:`kldiv._special._dispatch`); each process writes ``names-<pid>.json`` there
at exit. Lookups made by tests and by :mod:`kldiv.testing` are not recorded.

Checking: ``python -m tests.gpu_surface <folder>`` merges the records and looks each name up in
``array_api_compat.cupy`` and ``array_api_compat.torch`` (the namespace of torch on CUDA as on
CPU), and each special function in ``cupyx.scipy.special`` and ``torch.special`` under the
native name :mod:`kldiv._special` dispatches to. It prints the count of names checked and exits
non-zero, listing them, when a library lacks one. ``import cupy`` works without a GPU (only
allocation needs one).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENV = "KLDIV_RECORD_NAMESPACE"
RECORDED_NAMESPACES = ("array_api_strict", "array_api_compat.numpy")
TARGETS = ("array_api_compat.cupy", "array_api_compat.torch")
RECORDED: set[str] = set()


def _from_kldiv(frame: Any) -> bool:
    module = frame.f_globals.get("__name__", "")
    return module.startswith("kldiv") and not module.startswith("kldiv.testing")


class _RecordingModule(types.ModuleType):
    """A module class that records the names kldiv's code reads from it."""

    def __getattribute__(self, name: str) -> Any:
        value = types.ModuleType.__getattribute__(self, name)  # a probe that fails: not recorded
        public = not name.startswith("__") or name == "__array_namespace_info__"
        if public and _from_kldiv(sys._getframe(1)):
            prefix = types.ModuleType.__getattribute__(self, "_surface_prefix")
            RECORDED.add(prefix + name)
        return value


def _record(module: types.ModuleType, prefix: str) -> None:
    module._surface_prefix = prefix  # type: ignore[attr-defined]
    module.__class__ = _RecordingModule


def _recording_dispatch(dispatch: Callable[..., Any]) -> Callable[..., Any]:
    def dispatch_and_record(name: str, *args: Any) -> Any:
        RECORDED.add(f"special.{name}")
        return dispatch(name, *args)

    return dispatch_and_record


def start_recording() -> None:
    """Record from now on when :data:`ENV` names a folder; write the record at exit."""
    folder = os.environ.get(ENV)
    if not folder:
        return
    for name in RECORDED_NAMESPACES:
        namespace = importlib.import_module(name)
        _record(namespace, "")
        _record(namespace.linalg, "linalg.")
    special = importlib.import_module("kldiv._special")
    special._dispatch = _recording_dispatch(special._dispatch)  # type: ignore[attr-defined]


def write_record() -> None:
    """Write this process's record into the folder :data:`ENV` names (if recording)."""
    folder = os.environ.get(ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        Path(folder, f"names-{os.getpid()}.json").write_text(json.dumps(sorted(RECORDED)))


def recorded_names(folder: Path) -> list[str]:
    """Every name recorded in ``folder`` by any process."""
    names: set[str] = set()
    for path in folder.glob("names-*.json"):
        names.update(json.loads(path.read_text()))
    return sorted(names)


def _has(module: Any, dotted: str) -> bool:
    for part in dotted.split("."):
        if not hasattr(module, part):
            return False
        module = getattr(module, part)
    return True


def missing(names: list[str]) -> dict[str, list[str]]:
    """For each target library, the recorded names it lacks."""
    special = importlib.import_module("kldiv._special")
    libraries = {target: importlib.import_module(target) for target in TARGETS}
    natives = {
        "cupyx.scipy.special": (
            importlib.import_module("cupyx.scipy.special"),
            special._SCIPY_NAMES,
        ),
        "torch.special": (importlib.import_module("torch").special, special._TORCH_NAMES),
    }
    result: dict[str, list[str]] = {}
    for name in names:
        if name.startswith("special."):
            function = name.removeprefix("special.")
            for where, (module, native_names) in natives.items():
                if function not in native_names or not hasattr(module, native_names[function]):
                    result.setdefault(where, []).append(function)
            continue
        for target, module in libraries.items():
            if not _has(module, name):
                result.setdefault(target, []).append(name)
    return result


def main(argv: list[str]) -> int:
    names = recorded_names(Path(argv[0]))
    if not names:
        print(f"no names recorded in {argv[0]}: run the tests with {ENV}={argv[0]}")
        return 1
    lacking = missing(names)
    functions = [name for name in names if name.startswith("special.")]
    print(
        f"{len(names)} names checked ({len(names) - len(functions)} namespace names, "
        f"{len(functions)} special functions) against {', '.join(TARGETS)}, "
        "cupyx.scipy.special and torch.special"
    )
    for where, lacked in lacking.items():
        print(f"{where} lacks: {', '.join(lacked)}")
    return 1 if lacking else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
