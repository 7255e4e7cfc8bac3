"""``check(fn, like=...)``: a user's own divergence against kldiv's, on every backend and dtype."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import discrete
from ._assert import TOLERANCES, assert_close
from ._backends import LoadedBackend
from ._backends import backends as installed_backends
from ._cases import LIKE_ARGUMENTS, Pair, describe_pair, edge_pairs, random_pairs

__all__ = ["CheckFailure", "CheckReport", "CheckRow", "check"]

#: Seeded pairs per check: one per batch shape.
RANDOM_CASES = 8


@dataclass(frozen=True)
class CheckRow:
    """One case on one backend in one dtype: ``status`` is 'ok', 'differs' or 'raises'.

    Attributes
    ----------
    case, backend, dtype : str
        Where it ran.
    status : str
        'ok', 'differs' or 'raises'.
    max_error : float
        The largest absolute difference from kldiv (inf where a value is non-finite on one
        side only).
    message : str
        What differs.

    Examples
    --------
    >>> CheckRow("d-1", "array_api_strict", "float32", "ok", 0.0).status
    'ok'
    """

    case: str
    backend: str
    dtype: str
    status: str
    max_error: float
    message: str = ""


@dataclass
class CheckReport:
    """The table of :func:`check`: one :class:`CheckRow` per case × backend × dtype.

    ``str(report)`` is a readable table; ``report.failures`` the rows that did not pass.

    Attributes
    ----------
    like : str
        The kldiv function compared with.
    rows : list of CheckRow
        One per case × backend × dtype.

    Examples
    --------
    >>> report = CheckReport("kl_divergence", [CheckRow("d-1", "numpy", "float64", "ok", 0.0)])
    >>> print(report)
    kldiv.testing.check against kldiv.kl_divergence: 1 of 1 checks pass
    case  backend  dtype    status  max error
    d-1   numpy    float64  ok      0
    """

    like: str
    rows: list[CheckRow] = field(default_factory=list)

    @property
    def failures(self) -> list[CheckRow]:
        """The rows whose status is not 'ok'."""
        return [row for row in self.rows if row.status != "ok"]

    @property
    def ok(self) -> bool:
        """Whether every row passes."""
        return not self.failures

    def __str__(self) -> str:
        passed = len(self.rows) - len(self.failures)
        lines = [
            ("case", "backend", "dtype", "status", "max error"),
            *((r.case, r.backend, r.dtype, r.status, f"{r.max_error:.3g}") for r in self.rows),
        ]
        widths = [max(len(line[column]) for line in lines) for column in range(5)]
        title = (
            f"kldiv.testing.check against kldiv.{self.like}: "
            f"{passed} of {len(self.rows)} checks pass"
        )
        table = [
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
            for line in lines
        ]
        return "\n".join([title, *table])


class CheckFailure(AssertionError):
    """Raised by :func:`check`; ``report`` holds the whole :class:`CheckReport`.

    Parameters
    ----------
    message : str
        The first difference, as a sentence.
    report : CheckReport
        Every row of the check.

    Examples
    --------
    >>> import kldiv
    >>> try:
    ...     check(lambda p, q: 2 * kldiv.kl_divergence(p, q), backends=["array_api_strict"])
    ... except CheckFailure as failure:
    ...     print(len(failure.report.failures) > 0)
    True
    """

    def __init__(self, message: str, report: CheckReport) -> None:
        super().__init__(message)
        self.report = report


for _public in (CheckFailure, CheckReport, CheckRow):
    _public.__module__ = "kldiv.testing"


def check(
    fn: Callable[..., Any],
    like: str = "kl_divergence",
    backends: Iterable[str] | None = None,
    dtypes: Iterable[str] | None = None,
    *,
    kwargs: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> CheckReport:
    """Check a divergence of your own against kldiv's, on every backend and dtype.

    ``fn`` is called as kldiv's function named ``like`` (same positional arguments, same
    defaults) on seeded pairs over several batch shapes (broadcasting included) and on the edge
    cases: zeros in p, zeros in q, equal and near-equal rows, rows far from summing to 1,
    one-hot rows, extreme logits, tiny probabilities, one and 100000 outcomes. Each result
    must be an array of the inputs' library, device and dtype, with values within
    :data:`TOLERANCES` of kldiv's in float64 on the same (rounded) inputs.

    Parameters
    ----------
    fn : callable
        Your function, taking the arrays of one backend.
    like : str, optional
        The kldiv function ``fn`` should equal: ``kl_divergence``, ``kl_div``, ``rel_entr``,
        ``entropy``, ``cross_entropy``, ``js_divergence``, ``js_distance``, ``jeffreys`` or
        ``kl_div_logits``.
    backends : iterable of str, optional
        Backend names (see :class:`Backend`); default: every backend installed here.
    dtypes : iterable of str, optional
        Dtype names; default: every real floating dtype of each backend.
    kwargs : mapping, optional
        Keyword arguments given to both ``fn`` and kldiv's function.
    seed : int, optional
        Seed of the random cases.

    Returns
    -------
    CheckReport
        The table: case × backend × dtype → status, max error.

    Raises
    ------
    CheckFailure
        An ``AssertionError`` naming the first difference (case, backend, dtype, position, both
        values); its ``report`` attribute holds the table.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> def my_kl(p, q):
    ...     p = p / xp.sum(p, axis=-1, keepdims=True)
    ...     q = q / xp.sum(q, axis=-1, keepdims=True)
    ...     terms = xp.where(p > 0, p * xp.log(xp.where(p > 0, p, 1.0) / q), 0.0)
    ...     return xp.mean(xp.sum(terms, axis=-1))
    >>> check(my_kl, backends=["array_api_strict"], dtypes=["float64"]).ok
    True
    """
    if like not in LIKE_ARGUMENTS:
        raise ValueError(f"like={like!r} is not supported; use one of {sorted(LIKE_ARGUMENTS)}")
    reference = getattr(discrete, like)
    options = dict(kwargs or {})
    report = CheckReport(like)
    loaded = installed_backends(backends)
    wanted = None if dtypes is None else set(dtypes)
    rng = np.random.default_rng(seed)
    pairs = [*edge_pairs(rng), *random_pairs(rng, RANDOM_CASES)]
    for name, pair in pairs:
        arrays = LIKE_ARGUMENTS[like](pair)
        for backend in loaded:
            for dtype in backend.dtypes:
                if wanted is None or dtype in wanted:
                    row = _check_one(fn, reference, options, (name, pair, arrays), backend, dtype)
                    report.rows.append(row)
    if not report.rows:
        raise ValueError("no backend and dtype to check: see kldiv.testing.backends()")
    failures = report.failures
    if failures:
        name = getattr(fn, "__name__", repr(fn))
        raise CheckFailure(
            f"{name} differs from kldiv.{like} in {len(failures)} of {len(report.rows)} "
            f"checks; first: {failures[0].message}",
            report,
        )
    return report


def _check_one(
    fn: Callable[..., Any],
    reference: Callable[..., Any],
    options: dict[str, Any],
    case: tuple[str, Pair, tuple[np.ndarray, ...]],
    backend: LoadedBackend,
    dtype: str,
) -> CheckRow:
    name, pair, arrays = case
    where = f"case {name!r} ({describe_pair(pair)}) on {backend.name} {dtype}"
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # a naive function warns where it gives NaN: that is data
        inputs = tuple(backend.from_numpy(array, dtype) for array in arrays)
        rounded = tuple(backend.to_numpy(array) for array in inputs)
        expected = np.asarray(reference(*rounded, **options), dtype=np.float64)
        try:
            actual = fn(*inputs, **options)
        except Exception as error:
            return CheckRow(name, backend.name, dtype, "raises", np.inf, f"{where}: {error!r}")
        tolerance = TOLERANCES[dtype].scaled(_scale(rounded))
        if reference is discrete.js_distance:
            tolerance = tolerance.for_sqrt()
        try:
            assert_close(
                actual,
                backend.from_numpy(expected, dtype),
                rtol=tolerance.rtol,
                atol=tolerance.atol,
                err_msg=where,
            )
        except AssertionError as error:
            hint = _swapped_hint(actual, reference, rounded, options, backend, tolerance.rtol)
            error_size = _max_error(actual, expected, backend)
            return CheckRow(name, backend.name, dtype, "differs", error_size, f"{error}{hint}")
        return CheckRow(name, backend.name, dtype, "ok", _max_error(actual, expected, backend))


def _scale(inputs: tuple[np.ndarray, ...]) -> float:
    """The largest finite input magnitude: the scale of every term's rounding error."""
    finite = [np.abs(array[np.isfinite(array)]).max(initial=0.0) for array in inputs]
    return float(max(finite, default=0.0))


def _max_error(actual: Any, expected: np.ndarray, backend: LoadedBackend) -> float:
    """The largest absolute difference; inf where a value is non-finite on one side only."""
    try:
        values = backend.to_numpy(actual)
        values, expected = np.broadcast_arrays(values, expected)
    except Exception:
        return np.inf
    same = (values == expected) | (np.isnan(values) & np.isnan(expected))
    errors = np.where(same, 0.0, np.abs(values - expected))
    return float(np.nan_to_num(errors, nan=np.inf).max(initial=0.0))


def _swapped_hint(
    actual: Any,
    reference: Callable[..., Any],
    rounded: tuple[np.ndarray, ...],
    options: dict[str, Any],
    backend: LoadedBackend,
    rtol: float,
) -> str:
    """A note when ``actual`` equals the reference with its two arguments swapped."""
    if len(rounded) != 2:
        return ""
    try:
        expected = np.asarray(reference(*rounded, **options), dtype=np.float64)
        swapped = np.asarray(reference(rounded[1], rounded[0], **options), dtype=np.float64)
        values = backend.to_numpy(actual)
        rtol = max(rtol, 1e-9)
        matches = (
            values.shape == swapped.shape
            and np.allclose(values, swapped, rtol=rtol, equal_nan=True)
            and not np.allclose(expected, swapped, rtol=rtol, equal_nan=True)
        )
    except Exception:
        return ""
    return " (the values match with the two arguments swapped)" if matches else ""
