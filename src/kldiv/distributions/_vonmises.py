"""KL(VonMises ‖ VonMises), a pair torch lacks.

KL = log(I₀(κ_q) / I₀(κ_p)) + A(κ_p)·(κ_p - κ_q cos(μ_p - μ_q)), A = I₁/I₀, written with the
exponentially scaled Bessel functions (log I₀(κ) = log i0e(κ) + κ) so that no term overflows
for large concentrations.

>>> import array_api_strict as xp
>>> from kldiv.distributions import VonMises, kl_divergence
>>> kl_divergence(VonMises(xp.asarray(0.0), 2.0), VonMises(xp.asarray(0.0), 2.0))
Array(0., dtype=array_api_strict.float64)
"""

from __future__ import annotations

from .._array import Array
from .._special import i0e, i1e
from ._families import VonMises
from ._registry import register_kl

__all__: list[str] = []


@register_kl(VonMises, VonMises)
def _kl_vonmises_vonmises(p: VonMises, q: VonMises) -> Array:
    xp = p.xp
    loc_p, kappa_p, loc_q, kappa_q = p.loc, p.concentration, q.loc, q.concentration
    scaled_p = i0e(xp, kappa_p)
    mean_resultant = i1e(xp, kappa_p) / scaled_p  # A(κ_p) = I₁(κ_p) / I₀(κ_p)
    log_ratio = xp.log(i0e(xp, kappa_q) / scaled_p) + (kappa_q - kappa_p)
    return log_ratio + mean_resultant * (kappa_p - kappa_q * xp.cos(loc_p - loc_q))
