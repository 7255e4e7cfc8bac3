"""Comparing kldiv's values with expected ones: shapes, non-finite values, then the tolerance.

>>> import numpy as np
>>> from conformance.tolerances import Tolerance
>>> compare(np.array([1.0, np.inf]), np.array([1.0 + 1e-13, np.inf]), Tolerance(1e-12, 0.0)).ok
True
>>> compare(np.array([np.nan]), np.array([0.0]), Tolerance(1e-12, 0.0)).message
'non-finite mismatch at [0]: got nan, expected 0.0'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .tolerances import Tolerance

__all__ = ["Comparison", "compare", "flatten"]


@dataclass(frozen=True)
class Comparison:
    """The verdict on one case, with its largest errors.

    ``rel_error`` is taken where ``|expected| >= atol`` (the regime ``rtol`` governs); closer to
    0 only the absolute error means anything.
    """

    ok: bool
    abs_error: float
    rel_error: float
    message: str = ""


def flatten(values: Any) -> list[np.ndarray]:
    """A result (array or nested tuple/list of arrays) as a flat list of float64 arrays."""
    if isinstance(values, tuple | list):
        return [array for item in values for array in flatten(item)]
    return [np.asarray(values, dtype=np.float64)]


def _compare_one(actual: np.ndarray, expected: np.ndarray, tolerance: Tolerance) -> Comparison:
    if actual.shape != expected.shape:
        return Comparison(False, np.inf, np.inf, f"shape {actual.shape} != {expected.shape}")
    finite = np.isfinite(actual) & np.isfinite(expected)
    same_special = (actual == expected) | (np.isnan(actual) & np.isnan(expected))
    special_mismatch = ~finite & ~same_special
    if special_mismatch.any():
        index = tuple(int(i) for i in np.argwhere(special_mismatch)[0])
        return Comparison(
            False,
            np.inf,
            np.inf,
            f"non-finite mismatch at {list(index)}: got {actual[index]}, "
            f"expected {expected[index]}",
        )
    with np.errstate(invalid="ignore"):
        error = np.where(finite, np.abs(actual - expected), 0.0)
    magnitude = np.abs(np.where(finite, expected, 0.0))
    relevant = magnitude >= max(tolerance.atol, np.finfo(np.float64).tiny)
    relative = np.where(relevant, error / np.where(relevant, magnitude, 1.0), 0.0)
    abs_error = float(error.max(initial=0.0))
    rel_error = float(relative.max(initial=0.0))
    excess = error - (tolerance.atol + tolerance.rtol * magnitude)
    if (excess > 0).any():
        index = tuple(int(i) for i in np.unravel_index(np.argmax(excess), excess.shape))
        return Comparison(
            False,
            abs_error,
            rel_error,
            f"at {list(index)}: got {actual[index]!r}, expected {expected[index]!r} "
            f"(error {error[index]:.3g}, allowed {tolerance.bound(expected[index]):.3g})",
        )
    return Comparison(True, abs_error, rel_error)


def compare(actual: Any, expected: Any, tolerance: Tolerance) -> Comparison:
    """Compare two results of the same structure; the first failure is the message."""
    actual_arrays, expected_arrays = flatten(actual), flatten(expected)
    if len(actual_arrays) != len(expected_arrays):
        return Comparison(
            False, np.inf, np.inf, f"{len(actual_arrays)} outputs != {len(expected_arrays)}"
        )
    verdicts = [
        _compare_one(a, e, tolerance) for a, e in zip(actual_arrays, expected_arrays, strict=True)
    ]
    failed = [verdict for verdict in verdicts if not verdict.ok]
    return Comparison(
        ok=not failed,
        abs_error=max(verdict.abs_error for verdict in verdicts),
        rel_error=max(verdict.rel_error for verdict in verdicts),
        message=failed[0].message if failed else "",
    )
