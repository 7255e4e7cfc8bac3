"""The registration API: one :func:`register` call puts a function in the suite.

>>> import numpy as np
>>> from conformance.registry import Case, Registry
>>> registry = Registry()
>>> entry = registry.register(
...     name="double",
...     kldiv=lambda x: 2 * x,
...     reference=lambda x: 2 * x,
...     cases=lambda rng: [Case("one", (np.ones(3),))],
... )
>>> [case.name for case in entry.make_cases(np.random.default_rng(0))]
['one']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .tolerances import TOLERANCES, Tolerance

__all__ = ["ALL_DTYPES", "REGISTRY", "Case", "Entry", "Registry", "register"]

ALL_DTYPES = ("float64", "float32", "float16", "bfloat16")


@dataclass(frozen=True)
class Case:
    """One set of inputs: float64 NumPy ``arrays`` (rounded to the dtype under test by the runner).

    ``kwargs`` go to both sides unchanged. ``deviation`` names an entry of
    ``conformance/deviations.py``: the reference is known to differ here, so kldiv is compared
    with the oracle instead. ``dtypes``/``backends`` restrict this case (None: the function's).
    """

    name: str
    arrays: tuple[np.ndarray, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    deviation: str | None = None
    dtypes: tuple[str, ...] | None = None
    backends: tuple[str, ...] | None = None
    tags: tuple[str, ...] = ()

    def runs_on(self, backend: str, dtype: str) -> bool:
        """Whether this case applies to ``backend`` and ``dtype``."""
        return (self.dtypes is None or dtype in self.dtypes) and (
            self.backends is None or backend in self.backends
        )


@dataclass(frozen=True)
class Entry:
    """A registered function: how to call kldiv, its reference, its oracle and its cases.

    ``kldiv`` takes backend arrays and returns backend arrays (or a tuple/list of them);
    ``reference`` and ``oracle`` take float64 NumPy arrays and return float64 NumPy values of the
    same structure (``reference`` may return None, meaning "raises", only in a declared
    deviation). ``oracle`` is the high-precision (mpmath) value used for deviation cases.
    ``tolerances`` overrides ``conformance/tolerances.py`` per dtype for this function.
    ``dtypes_on`` narrows ``dtypes`` on some backends (e.g. ``{"dask": ("float64",)}``, where each
    call costs a graph and the unit tests already cover the other dtypes).
    """

    name: str
    kldiv: Callable[..., Any]
    reference: Callable[..., Any]
    cases: Callable[[np.random.Generator], Iterable[Case]]
    dtypes: tuple[str, ...] = ALL_DTYPES
    backends: tuple[str, ...] | None = None
    tags: tuple[str, ...] = ()
    oracle: Callable[..., Any] | None = None
    tolerances: Mapping[str, Tolerance] | None = None
    dtypes_on: Mapping[str, tuple[str, ...]] | None = None

    def tolerance(self, dtype: str) -> Tolerance:
        """The tolerance of ``dtype``: this function's override, else ``TOLERANCES``."""
        return (self.tolerances or TOLERANCES)[dtype]

    def make_cases(self, rng: np.random.Generator) -> list[Case]:
        """The cases, generated from ``rng`` (names must be unique within the function)."""
        cases = list(self.cases(rng))
        names = [case.name for case in cases]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"{self.name}: duplicate case names {duplicates}")
        return cases

    def runs_on(self, backend: str, dtype: str) -> bool:
        """Whether this function is checked on ``backend`` and ``dtype``."""
        dtypes = (self.dtypes_on or {}).get(backend, self.dtypes)
        return dtype in dtypes and (self.backends is None or backend in self.backends)


class Registry(Mapping[str, Entry]):
    """Registered functions by name, in registration order."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}

    def __getitem__(self, name: str) -> Entry:
        return self._entries[name]

    def __iter__(self) -> Any:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def register(
        self,
        name: str,
        kldiv: Callable[..., Any],
        reference: Callable[..., Any],
        cases: Callable[[np.random.Generator], Iterable[Case]],
        dtypes: Iterable[str] = ALL_DTYPES,
        backends: Iterable[str] | None = None,
        tags: Iterable[str] = (),
        oracle: Callable[..., Any] | None = None,
        tolerances: Mapping[str, Tolerance] | None = None,
        dtypes_on: Mapping[str, Iterable[str]] | None = None,
    ) -> Entry:
        """Add a function to the suite (see :class:`Entry`); a name registers once."""
        if name in self._entries:
            raise ValueError(f"function {name!r} is already registered")
        unknown = set(dtypes) - set(ALL_DTYPES)
        if unknown:
            raise ValueError(f"{name}: unknown dtypes {sorted(unknown)}; known: {ALL_DTYPES}")
        entry = Entry(
            name=name,
            kldiv=kldiv,
            reference=reference,
            cases=cases,
            dtypes=tuple(dtypes),
            backends=None if backends is None else tuple(backends),
            tags=tuple(tags),
            oracle=oracle,
            tolerances=tolerances,
            dtypes_on={key: tuple(value) for key, value in (dtypes_on or {}).items()},
        )
        self._entries[name] = entry
        return entry


REGISTRY = Registry()

#: ``dtypes_on`` for functions whose Dask coverage is float64 only (each Dask call builds and
#: runs a graph: ~10-30 ms of overhead a case).
DASK_FLOAT64_ONLY = {"dask": ("float64",)}


#: Register a function in the suite's :data:`REGISTRY` (see :meth:`Registry.register`).
register = REGISTRY.register
