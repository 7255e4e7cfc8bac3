"""Running the registered cases: function × backend × dtype → one :class:`Group` of results.

For each case the runner converts the inputs to the backend and dtype (DLPack), reads them back
as the rounded float64 inputs both sides see, calls kldiv and the reference (or, for a declared
deviation, the oracle) and compares with the dtype's tolerance.
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
import time
import warnings
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import array_api_compat as compat
import numpy as np

from . import cases as cases_package
from .backends import Backend
from .compare import compare, flatten
from .deviations import DEVIATIONS
from .registry import REGISTRY, Case, Entry, Registry
from .tolerances import TOLERANCES, Tolerance

__all__ = ["CaseResult", "Group", "Task", "load_cases", "plan", "run_task"]

#: Oracle verdicts on failures are computed only up to this many input elements (mpmath is slow).
ORACLE_LIMIT = 20_000


def case_modules() -> list[str]:
    """The modules of ``conformance/cases/``, by short name."""
    return sorted(module.name for module in pkgutil.iter_modules(cases_package.__path__))


def load_cases(modules: Iterable[str] | None = None) -> tuple[Registry, dict[str, str]]:
    """Import the modules of ``conformance/cases/`` (all by default): each registers its functions.

    Returns the registry and, per module that failed to import, the error (a run with a broken
    case file fails, but the other files still run).
    """
    errors = {}
    for name in case_modules() if modules is None else modules:
        try:
            importlib.import_module(f"{cases_package.__name__}.{name}")
        except Exception as error:
            errors[name] = _describe(error)
    return REGISTRY, errors


@dataclass(frozen=True)
class CaseResult:
    """One case on one backend and dtype. ``evidence`` holds the values of deviation cases."""

    case: str
    ok: bool
    abs_error: float
    rel_error: float
    message: str = ""
    deviation: str | None = None
    evidence: dict[str, Any] | None = None


@dataclass
class Group:
    """The results of one function on one backend in one dtype."""

    function: str
    backend: str
    dtype: str
    results: list[CaseResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def failures(self) -> list[CaseResult]:
        return [result for result in self.results if not result.ok]

    @property
    def deviations(self) -> list[CaseResult]:
        return [result for result in self.results if result.deviation]

    def max_error(self, kind: str) -> float:
        """The largest ``abs_error`` or ``rel_error`` over the cases."""
        return max((getattr(result, kind) for result in self.results), default=0.0)


@dataclass(frozen=True)
class Task:
    """The cases of one function to run on one backend in one dtype."""

    entry: Entry
    backend: Backend
    dtype: str
    cases: tuple[Case, ...]


def _rng(seed: int, name: str) -> np.random.Generator:
    """A generator per function, stable across runs and independent of the other functions."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def plan(
    registry: Registry,
    backends: Sequence[Backend],
    dtypes: Iterable[str] | None = None,
    functions: Iterable[str] | None = None,
    seed: int = 0,
) -> list[Task]:
    """The tasks for the selected functions, backends and dtypes, in registry order."""
    wanted_dtypes = set(TOLERANCES if dtypes is None else dtypes)
    names = list(registry) if functions is None else list(functions)
    tasks = []
    for name in names:
        entry = registry[name]
        cases = entry.make_cases(_rng(seed, name))
        for backend in backends:
            for dtype in backend.dtypes:
                if dtype not in wanted_dtypes or not entry.runs_on(backend.name, dtype):
                    continue
                selected = tuple(case for case in cases if case.runs_on(backend.name, dtype))
                if selected:
                    tasks.append(Task(entry, backend, dtype, selected))
    return tasks


class _Expected:
    """Reference and oracle values, computed once per function, case and rounded inputs."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, ...], Any] = {}

    def get(self, kind: str, entry: Entry, case: Case, inputs: tuple[np.ndarray, ...]) -> Any:
        digest = hashlib.blake2b(digest_size=16)
        for array in inputs:
            digest.update(repr(array.shape).encode() + array.tobytes())
        key = (kind, entry.name, case.name, digest.hexdigest())
        if key not in self._values:
            self._values[key] = _quietly(_expected_function(kind, entry, case), inputs, case)
        return self._values[key]


def _expected_function(kind: str, entry: Entry, case: Case) -> Callable[..., Any]:
    if kind == "reference":
        return entry.reference
    deviation = DEVIATIONS[case.deviation] if case.deviation else None
    oracle = deviation.oracle if deviation and deviation.oracle else entry.oracle
    if oracle is None:
        raise LookupError(f"{entry.name} has no oracle (register(oracle=...)) for {case.name}")
    return oracle


def _quietly(function: Callable[..., Any], inputs: tuple[Any, ...], case: Case) -> Any:
    """Call ``function`` as references are called: as they are, their warnings ignored."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*inputs, **case.kwargs)


def _kind_mismatch(result: Any, backend: Backend, dtype: str, probe: Any) -> str:
    """Why ``result`` is not of the backend's library in ``dtype`` ('' when it is)."""
    for array in flatten_native(result):
        if not compat.is_array_api_obj(array):
            return f"result is a {type(array).__name__}, not a {backend.name} array"
        if compat.array_namespace(array) is not compat.array_namespace(probe):
            return f"result is a {type(array).__module__}.{type(array).__name__}"
        if array.dtype != backend.dtype(dtype):
            return f"result dtype {array.dtype} != {dtype}"
    return ""


def flatten_native(result: Any) -> list[Any]:
    """The arrays of a result that may be a nested tuple/list."""
    if isinstance(result, tuple | list):
        return [array for item in result for array in flatten_native(item)]
    return [result]


def _within(actual: Any, expected: Any, tolerance: Tolerance) -> bool:
    return expected is not None and compare(actual, expected, tolerance).ok


def _overflowed(expected: Any, dtype: str) -> Any:
    """``expected`` with values beyond the largest finite value of ``dtype`` made ±inf."""
    largest = float(np.finfo(np.float32 if dtype == "bfloat16" else dtype).max)
    if isinstance(expected, tuple | list):
        return type(expected)(_overflowed(item, dtype) for item in expected)
    values = np.asarray(expected, dtype=np.float64)
    return np.where(np.abs(values) > largest, np.copysign(np.inf, values), values)


def _scale(inputs: tuple[np.ndarray, ...]) -> float:
    """The largest finite input magnitude: the scale of every term's rounding error."""
    finite = [np.abs(array[np.isfinite(array)]).max(initial=0.0) for array in inputs]
    return float(max(finite, default=0.0))


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def _flat(values: Any) -> np.ndarray:
    return np.concatenate([array.ravel() for array in flatten(values)])


def _summary(values: Any, positions: Any = slice(0, 6)) -> list[float]:
    """A few values of a result (at ``positions`` of its flattened form)."""
    return [] if values is None else [float(value) for value in _flat(values)[positions]]


def _differing(reference: Any, oracle: Any, tolerance: Tolerance, count: int = 3) -> Any:
    """The first flattened positions where ``reference`` and ``oracle`` differ (else the first)."""
    try:
        first, second = _flat(reference), _flat(oracle)
        same = (first == second) | (np.isnan(first) & np.isnan(second))
        with np.errstate(invalid="ignore"):
            close = np.abs(first - second) <= tolerance.atol + tolerance.rtol * np.abs(second)
        positions = np.flatnonzero(~(same | close))[:count]
    except (TypeError, ValueError):
        positions = np.array([], dtype=int)
    return positions if positions.size else slice(0, count)


class Checker:
    """Runs cases, sharing reference and oracle values between backends."""

    def __init__(self) -> None:
        self.expected = _Expected()

    def check(self, entry: Entry, case: Case, backend: Backend, dtype: str) -> CaseResult:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                inputs = tuple(backend.from_numpy(array, dtype) for array in case.arrays)
                rounded = tuple(backend.to_numpy(array) for array in inputs)
        except Exception as error:
            return CaseResult(case.name, False, np.inf, np.inf, f"conversion: {_describe(error)}")
        kind = "oracle" if case.deviation else "reference"
        try:
            if case.deviation and case.deviation not in DEVIATIONS:
                raise LookupError(f"undeclared deviation {case.deviation!r}")
            expected = self.expected.get(kind, entry, case, rounded)
        except Exception as error:
            return CaseResult(case.name, False, np.inf, np.inf, f"{kind}: {_describe(error)}")
        try:
            with warnings.catch_warnings():  # lazy backends warn when computed, in to_numpy
                warnings.simplefilter("ignore")
                result = entry.kldiv(*inputs, **case.kwargs)
                mismatch = _kind_mismatch(result, backend, dtype, inputs[0] if inputs else None)
                actual = backend.to_numpy(result)
        except Exception as error:
            return CaseResult(case.name, False, np.inf, np.inf, f"kldiv: {_describe(error)}")
        expected = _overflowed(expected, dtype)
        tolerance = entry.tolerance(dtype).scaled(_scale(rounded))
        verdict = compare(actual, expected, tolerance)
        message = mismatch or verdict.message
        if not verdict.ok and not case.deviation:
            message += self._oracle_verdict(entry, case, rounded, actual, expected, tolerance)
        evidence = self._evidence(entry, case, rounded, actual, expected, tolerance)
        return CaseResult(
            case.name,
            verdict.ok and not mismatch,
            verdict.abs_error,
            verdict.rel_error,
            message,
            case.deviation,
            evidence,
        )

    def _oracle_verdict(
        self,
        entry: Entry,
        case: Case,
        rounded: tuple[np.ndarray, ...],
        actual: Any,
        reference: Any,
        tolerance: Tolerance,
    ) -> str:
        """Which side the oracle supports, for a failure (when one is cheap to compute)."""
        if entry.oracle is None or sum(array.size for array in rounded) > ORACLE_LIMIT:
            return ""
        try:
            oracle = self.expected.get("oracle", entry, case, rounded)
        except Exception as error:
            return f" [oracle: {_describe(error)}]"
        sides = [
            name
            for name, value in (("kldiv", actual), ("reference", reference))
            if _within(value, oracle, tolerance)
        ]
        return f" [oracle {_summary(oracle)} agrees with: {', '.join(sides) or 'neither'}]"

    def _evidence(
        self,
        entry: Entry,
        case: Case,
        rounded: tuple[np.ndarray, ...],
        actual: Any,
        oracle: Any,
        tolerance: Tolerance,
    ) -> dict[str, Any] | None:
        """For a deviation case: the reference's value next to kldiv's and the oracle's."""
        if not case.deviation:
            return None
        try:
            reference = self.expected.get("reference", entry, case, rounded)
        except Exception as error:
            reference = error
        positions = _differing(reference, oracle, tolerance)
        if isinstance(reference, Exception):
            reference, reference_text = None, _describe(reference)
        else:
            reference_text = _summary(reference, positions)
        return {
            "positions": positions.tolist() if isinstance(positions, np.ndarray) else "first",
            "reference": reference_text,
            "kldiv": _summary(actual, positions),
            "oracle": _summary(oracle, positions),
            "kldiv_matches_oracle": _within(actual, oracle, tolerance),
            "reference_matches_oracle": _within(reference, oracle, tolerance),
        }


def run_task(
    task: Task, checker: Checker | None = None, on_case: Callable[[], None] = lambda: None
) -> Group:
    """Run one task's cases; ``on_case`` is called after each (progress)."""
    checker = checker or Checker()
    group = Group(task.entry.name, task.backend.name, task.dtype)
    started = time.perf_counter()
    for case in task.cases:
        group.results.append(checker.check(task.entry, case, task.backend, task.dtype))
        on_case()
    group.seconds = time.perf_counter() - started
    return group


def run(tasks: Sequence[Task], on_case: Callable[[], None] = lambda: None) -> list[Group]:
    """Run every task, sharing reference and oracle values between them."""
    checker = Checker()
    return [run_task(task, checker, on_case) for task in tasks]
