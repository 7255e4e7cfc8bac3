"""Tolerances per dtype, in one place: kldiv in that dtype against a float64 reference.

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

from dataclasses import dataclass

__all__ = ["TOLERANCES", "Tolerance", "sqrt_of"]


@dataclass(frozen=True)
class Tolerance:
    """``|actual - expected| <= atol + rtol * |expected|``."""

    rtol: float
    atol: float

    def bound(self, expected: float) -> float:
        """The largest error allowed around ``expected``."""
        return self.atol + self.rtol * abs(expected)

    def scaled(self, scale: float) -> Tolerance:
        """This tolerance with ``atol`` multiplied by ``max(scale, 1)``."""
        return Tolerance(self.rtol, self.atol * max(scale, 1.0))


TOLERANCES: dict[str, Tolerance] = {
    "float64": Tolerance(rtol=1e-12, atol=1e-14),
    "float32": Tolerance(rtol=1e-5, atol=1e-6),
    "float16": Tolerance(rtol=2e-3, atol=1e-4),
    "bfloat16": Tolerance(rtol=1.6e-2, atol=1e-3),
}


def sqrt_of(tolerances: dict[str, Tolerance]) -> dict[str, Tolerance]:
    """Tolerances for sqrt(D) given those of D: an error e in D near 0 is sqrt(e) in sqrt(D)."""
    return {
        dtype: Tolerance(rtol=tolerance.rtol, atol=tolerance.atol**0.5)
        for dtype, tolerance in tolerances.items()
    }
