"""Families with vector events: Categorical, OneHotCategorical, Dirichlet, the multivariate normals
(full and low-rank covariance) and Independent, as in ``torch.distributions``.

A parameter's trailing event axes are declared with it (``event_ndim``); only the leading axes
broadcast into the batch shape.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from .._array import Array, Namespace
from .._elementwise import log_or_neg_inf, log_softmax
from .._linalg import (
    cholesky,
    diagonal,
    not_positive_definite_as_value_error,
    precision_from_scale_tril,
    precision_to_scale_tril,
)
from ._base import Constraint, Distribution, Option, Param, positive, real

__all__ = [
    "Categorical",
    "Dirichlet",
    "Independent",
    "LowRankMultivariateNormal",
    "MultivariateNormal",
    "OneHotCategorical",
]


def _normalizable(xp: Namespace, probs: Array, dist: Any) -> Array:
    total = xp.sum(probs, axis=-1, keepdims=True)
    return (probs >= 0) & (total > 0) & xp.isfinite(total)


class _CategoryProbabilities(Distribution):
    """Probabilities over the last axis: ``probs=`` (normalised here) or ``logits=``."""

    probs = Param(
        Constraint("non-negative with a positive, finite sum", _normalizable),
        event_ndim=1,
        alternative=True,
        doc="Non-negative weights (..., K), normalised over the last axis.",
    )
    logits = Param(
        real,
        event_ndim=1,
        alternative=True,
        doc=(
            "Unnormalised log-probabilities (..., K); give exactly one of ``probs`` and ``logits``."
        ),
    )

    def _finish(self) -> None:
        xp = self.xp
        name = self._given_names()[0]
        if getattr(self, name).shape[-1] == 0:
            shape = tuple(getattr(self, name).shape)
            raise ValueError(f"{name} needs at least one category on its last axis, got {shape}")
        if name == "probs":
            self._store(probs=self.probs / xp.sum(self.probs, axis=-1, keepdims=True))
        else:
            self._store(logits=log_softmax(xp, self.logits, axis=-1))

    def _derive(self, name: str) -> Array:
        if name == "logits":
            return log_or_neg_inf(self.xp, self.probs)
        if name == "probs":
            return self.xp.exp(self.logits)
        return super()._derive(name)

    @property
    def num_categories(self) -> int:
        """The number of categories K (the size of the last parameter axis)."""
        name = self._given_names()[0]
        return int(getattr(self, name).shape[-1])


class Categorical(_CategoryProbabilities):
    """Categorical(probs=|logits=): an index into the last axis of the parameter.

    >>> kl_divergence(Categorical(xp.asarray([1.0, 1.0])), Categorical(xp.asarray([0.25, 0.75])))
    Array(0.14384104, dtype=array_api_strict.float64)
    """


class OneHotCategorical(_CategoryProbabilities):
    """OneHotCategorical(probs=|logits=): the one-hot vector of a category; event shape (K,).

    Not a subclass of :class:`Categorical`: its events live in another space, so KL between the
    two is undefined (torch raises too).

    >>> OneHotCategorical(logits=xp.zeros((2, 3))).event_shape
    (3,)
    """

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (self.num_categories,)


class Dirichlet(Distribution):
    """Dirichlet(concentration): density ∝ Π_k x_k^(α_k − 1) on the simplex; event shape (K,).

    >>> kl_divergence(Dirichlet(xp.asarray([1.0, 1.0])), Dirichlet(xp.asarray([2.0, 2.0])))
    Array(0.20824053, dtype=array_api_strict.float64)
    """

    concentration = Param(positive, event_ndim=1, doc="α (..., K), > 0.")

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (int(self.concentration.shape[-1]),)


def _is_cholesky_factor(xp: Namespace, tril: Array) -> Array:
    """Per matrix: a finite factor with a positive diagonal."""
    finite = xp.all(xp.all(xp.isfinite(tril), axis=-1), axis=-1)
    return finite & xp.all(diagonal(xp, tril) > 0, axis=-1)


def _positive_definite(xp: Namespace, matrix: Array, dist: Any) -> Array:
    asymmetry = xp.abs(matrix - xp.matrix_transpose(matrix))
    symmetric = xp.all(xp.all(asymmetry <= 1e-6 * (1 + xp.abs(matrix)), axis=-1), axis=-1)
    return symmetric & _is_cholesky_factor(xp, dist.scale_tril)


def _lower_cholesky(xp: Namespace, tril: Array, dist: Any) -> Array:
    upper_zero = xp.all(xp.all(xp.triu(tril, k=1) == 0, axis=-1), axis=-1)
    return upper_zero & _is_cholesky_factor(xp, tril)


_POSITIVE_DEFINITE = Constraint("symmetric positive definite", _positive_definite)
_LOWER_CHOLESKY = Constraint("lower triangular with a positive diagonal", _lower_cholesky)


def _alternative_matrix(constraint: Constraint, doc: str) -> Param:
    """One of the alternative (..., d, d) matrices of :class:`MultivariateNormal`."""
    return Param(constraint, event_ndim=2, alternative=True, doc=doc)


class MultivariateNormal(Distribution):
    """MultivariateNormal(loc, covariance_matrix=|precision_matrix=|scale_tril=).

    Density ∝ exp(−½ (x − μ)ᵀ Σ⁻¹ (x − μ)); event shape (d,). ``scale_tril`` L (Σ = L·Lᵀ) is
    computed on construction, a covariance or precision that is not positive definite is a
    ``ValueError`` naming it; the other matrices are derived from L on first read.

    >>> p = MultivariateNormal(xp.asarray([1.0, 0.0]), scale_tril=xp.eye(2))
    >>> kl_divergence(p, MultivariateNormal(xp.zeros(2), covariance_matrix=4 * xp.eye(2)))
    Array(0.76129436, dtype=array_api_strict.float64)
    """

    loc = Param(real, event_ndim=1, doc="Mean μ (..., d).")
    covariance_matrix = _alternative_matrix(
        _POSITIVE_DEFINITE, "Σ (..., d, d), symmetric positive definite."
    )
    precision_matrix = _alternative_matrix(
        _POSITIVE_DEFINITE, "Σ⁻¹ (..., d, d), symmetric positive definite."
    )
    scale_tril = _alternative_matrix(
        _LOWER_CHOLESKY,
        "Lower Cholesky factor L (..., d, d) with a positive diagonal; give exactly one matrix.",
    )

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (int(self.loc.shape[-1]),)

    def _check_shapes(self) -> None:
        (given,) = (name for name in self._given_names() if name != "loc")
        size = self.event_shape[0]
        shape = tuple(getattr(self, given).shape)
        if shape[-2:] != (size, size):
            raise ValueError(
                f"{type(self).__name__}: {given} must have shape (..., {size}, {size}) to match "
                f"loc's event shape ({size},); got {shape}"
            )

    def _finish(self) -> None:
        """Factorise on construction, as torch does (a non-positive-definite matrix raises)."""
        if "scale_tril" not in self._given_names():
            self._store(scale_tril=self._derive("scale_tril"))

    def _derive(self, name: str) -> Array:
        xp = self.xp
        if name == "scale_tril":
            given = (
                "covariance_matrix"
                if "covariance_matrix" in self._given_names()
                else "precision_matrix"
            )
            message = f"{type(self).__name__}: {given} must be positive definite"
            with not_positive_definite_as_value_error(message):
                if given == "covariance_matrix":
                    return cholesky(xp, self.covariance_matrix)
                return precision_to_scale_tril(xp, self.precision_matrix)
        if name == "covariance_matrix":
            return self.scale_tril @ xp.matrix_transpose(self.scale_tril)
        if name == "precision_matrix":
            return precision_from_scale_tril(xp, self.scale_tril)
        return super()._derive(name)


class LowRankMultivariateNormal(Distribution):
    """LowRankMultivariateNormal(loc, cov_factor, cov_diag): covariance Σ = W·Wᵀ + diag(D).

    >>> p = LowRankMultivariateNormal(xp.zeros(2), xp.zeros((2, 1)), xp.ones(2))
    >>> kl_divergence(p, LowRankMultivariateNormal(xp.zeros(2), xp.zeros((2, 1)), 4 * xp.ones(2)))
    Array(0.63629436, dtype=array_api_strict.float64)
    """

    loc = Param(real, event_ndim=1, doc="Mean (..., d).")
    cov_factor = Param(real, event_ndim=2, doc="W (..., d, r).")
    cov_diag = Param(positive, event_ndim=1, doc="D (..., d), > 0.")

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (int(self.loc.shape[-1]),)

    def _check_shapes(self) -> None:
        size = self.event_shape[0]
        if int(self.cov_factor.shape[-2]) != size or int(self.cov_diag.shape[-1]) != size:
            raise ValueError(
                f"{type(self).__name__}: cov_factor (..., d, r) and cov_diag (..., d) must match "
                f"loc's event shape ({size},); got {tuple(self.cov_factor.shape)} and "
                f"{tuple(self.cov_diag.shape)}"
            )

    @cached_property
    def capacitance_tril(self) -> Array:
        """Lower Cholesky factor of the capacitance I + Wᵀ·D⁻¹·W (..., r, r)."""
        xp = self.xp
        factor = self.cov_factor
        scaled = xp.matrix_transpose(factor) / self.cov_diag[..., None, :]
        identity = xp.eye(int(factor.shape[-1]), dtype=factor.dtype, device=self.context.device)
        return cholesky(xp, identity + scaled @ factor)

    @cached_property
    def covariance_matrix(self) -> Array:
        """Σ = W·Wᵀ + diag(D) (..., d, d)."""
        xp = self.xp
        factor = self.cov_factor
        eye = xp.eye(int(factor.shape[-2]), dtype=factor.dtype, device=self.context.device)
        return factor @ xp.matrix_transpose(factor) + eye * self.cov_diag[..., None, :]

    @cached_property
    def scale_tril(self) -> Array:
        """Lower Cholesky factor of Σ (..., d, d)."""
        return cholesky(self.xp, self.covariance_matrix)


class Independent(Distribution):
    """Independent(base_distribution, reinterpreted_batch_ndims): the rightmost batch axes of the
    base become event axes, so KL sums over them.

    >>> p = Independent(Normal(xp.zeros(3), 1.0), 1)
    >>> kl_divergence(p, Independent(Normal(xp.ones(3), 1.0), 1))
    Array(1.5, dtype=array_api_strict.float64)
    """

    base_distribution = Option(doc="Any family of :mod:`kldiv.distributions`.", kind="Distribution")
    reinterpreted_batch_ndims = Option(
        doc="How many trailing batch axes of the base become event axes.", kind="int"
    )

    def _assemble(self, params: dict[str, Any], validate: bool) -> None:
        base = self.base_distribution
        ndims = self.reinterpreted_batch_ndims
        if not isinstance(base, Distribution):
            raise TypeError(
                "Independent: base_distribution must be a kldiv distribution, got "
                f"{type(base).__name__}"
            )
        if isinstance(ndims, bool) or not isinstance(ndims, int):
            raise TypeError(
                f"Independent: reinterpreted_batch_ndims must be an int, got {type(ndims).__name__}"
            )
        if not 0 <= ndims <= len(base.batch_shape):
            raise ValueError(
                f"Independent: reinterpreted_batch_ndims={ndims} must be in [0, "
                f"{len(base.batch_shape)}] for a base batch shape {base.batch_shape}"
            )
        batch_shape = base.batch_shape[: len(base.batch_shape) - ndims]
        self._store(_context=base.context, _batch_shape=batch_shape, _given=())

    def _with_dtype(self, dtype: Any) -> Distribution:
        base = self.base_distribution._with_dtype(dtype)
        if base is self.base_distribution:
            return self
        return Independent(base, self.reinterpreted_batch_ndims, validate_args=False)

    @property
    def event_shape(self) -> tuple[int, ...]:
        base = self.base_distribution
        kept = len(base.batch_shape) - self.reinterpreted_batch_ndims
        return base.batch_shape[kept:] + base.event_shape
