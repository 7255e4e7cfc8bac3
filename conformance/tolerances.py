"""Tolerances per dtype: :data:`kldiv.testing.TOLERANCES`, and those of a square root.

The reference sees the case inputs rounded to the dtype under test, so a tolerance bounds
kldiv's own error: its arithmetic (16-bit inputs compute in float32) and the rounding of its
result. A value passes when ``|kldiv - expected| <= atol * scale + rtol * |expected|``: ``rtol``
for ordinary values, ``atol`` for values near 0 (KL of near-equal rows, terms that cancel), where
any relative criterion is meaningless. ``scale`` is the largest finite input magnitude (at least
1): a term p·log(p/q) carries a rounding error proportional to p (or to log p in log space),
however small the term. Non-finite values must match exactly.

A function may override these per dtype (``register(tolerances=...)``); :func:`sqrt_of` gives
the tolerances of a square root of a divergence (sqrt is ill-conditioned at 0).
"""

from __future__ import annotations

from kldiv.testing import TOLERANCES, Tolerance

__all__ = ["TOLERANCES", "Tolerance", "sqrt_of"]


def sqrt_of(tolerances: dict[str, Tolerance]) -> dict[str, Tolerance]:
    """Tolerances for sqrt(D) given those of D: an error e in D near 0 is sqrt(e) in sqrt(D)."""
    return {dtype: tolerance.for_sqrt() for dtype, tolerance in tolerances.items()}
