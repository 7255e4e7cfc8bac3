"""The backends under test, as :mod:`kldiv.testing` defines them, and why some are missing.

Arrays cross into a backend and back through :meth:`kldiv.testing.LoadedBackend.from_numpy` and
:meth:`~kldiv.testing.LoadedBackend.to_numpy`. The suite adds one thing: JAX keeps its compiled
operations on disk between runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from kldiv.testing import Backend as BackendName
from kldiv.testing import BackendUnavailable
from kldiv.testing import LoadedBackend as Backend

__all__ = ["BACKEND_NAMES", "Backend", "load_backends"]

#: Every backend's name, in :class:`kldiv.testing.Backend`'s order.
BACKEND_NAMES = tuple(name.value for name in BackendName)


def _jax_compilation_cache() -> None:
    """Keep JAX's compiled operations on disk: JAX compiles every operation per shape and dtype,
    which dominates a first run. ``KLDIV_CONFORMANCE_JAX_CACHE`` sets the folder ("" for none)."""
    import jax

    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kldiv-jax"
    folder = os.environ.get("KLDIV_CONFORMANCE_JAX_CACHE", str(default))
    if folder:
        jax.config.update("jax_compilation_cache_dir", folder)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


def load_backends(names: Iterable[str] | None = None) -> tuple[list[Backend], dict[str, str]]:
    """The available backends among ``names`` (default: all), and why the others are missing."""
    loaded, missing = [], {}
    for name in BACKEND_NAMES if names is None else names:
        if name not in BACKEND_NAMES:
            raise ValueError(f"unknown backend {name!r}; known: {', '.join(BACKEND_NAMES)}")
        try:
            loaded.append(BackendName(name).load())
        except BackendUnavailable as error:
            missing[name] = str(error)
            continue
        if name == "jax":
            _jax_compilation_cache()
    return loaded, missing
