"""Pairs with ``Independent``: sums of the base pair over the reinterpreted axes, and the
diagonal Gaussian Independent(Normal(loc, scale), 1) against the multivariate normals."""

from __future__ import annotations

from .._array import Array
from .._linalg import diag_embed, kl_mvn_from_cholesky
from ._base import Distribution
from ._families import Normal
from ._multivariate import Independent, MultivariateNormal
from ._registry import check_event_shapes, kl_divergence, register_kl

__all__: list[str] = []


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Array:
    """Σ over the reinterpreted axes of KL(p.base ‖ q.base); both must reinterpret as many."""
    ndims = p.reinterpreted_batch_ndims
    if ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError(
            "No KL(p || q) is implemented for Independent distributions with different "
            f"reinterpreted_batch_ndims ({ndims} and {q.reinterpreted_batch_ndims})"
        )
    pointwise = kl_divergence(p.base_distribution, q.base_distribution)
    xp = p.xp
    if ndims == 0:
        return pointwise
    return xp.sum(pointwise, axis=tuple(range(-ndims, 0)))


def _diagonal_gaussian(dist: Independent, other: Distribution) -> tuple[Array, Array]:
    """(loc, scale_tril) of Independent(Normal, 1), or ``NotImplementedError`` for other bases."""
    base = dist.base_distribution
    if not isinstance(base, Normal) or dist.reinterpreted_batch_ndims != 1:
        raise NotImplementedError(
            f"No KL(p || q) is implemented between Independent({type(base).__name__}, "
            f"{dist.reinterpreted_batch_ndims}) and {type(other).__name__}: only "
            "Independent(Normal, 1) pairs with a MultivariateNormal"
        )
    return base.loc, diag_embed(dist.xp, base.scale)


@register_kl(Independent, MultivariateNormal)
def _kl_diagonal_mvn(p: Independent, q: MultivariateNormal) -> Array:
    """The MVN pair with Lp = diag(σp)."""
    loc, tril = _diagonal_gaussian(p, q)
    check_event_shapes(p, q)
    return kl_mvn_from_cholesky(p.xp, loc, tril, q.loc, q.scale_tril)


@register_kl(MultivariateNormal, Independent)
def _kl_mvn_diagonal(p: MultivariateNormal, q: Independent) -> Array:
    """The MVN pair with Lq = diag(σq)."""
    loc, tril = _diagonal_gaussian(q, p)
    check_event_shapes(p, q)
    return kl_mvn_from_cholesky(p.xp, p.loc, p.scale_tril, loc, tril)
