"""Parameter containers, named and parameterised as in ``torch.distributions``.

A family is a frozen dataclass of arrays (Python scalars allowed next to at least one array). On
construction it resolves the namespace, device and dtypes of its parameters once
(:func:`kldiv._array.prepare`), broadcasts their batch parts, derives the alternative
parameterisations (``probs`` ↔ ``logits``, ``scale_tril`` …) and checks them:

* metadata (which arguments were given, event shapes, ranks) always, as a ``ValueError``;
* values (``scale > 0``, ``probs`` in [0, 1], a positive definite covariance …) when
  ``validate_args`` is on — the default for :mod:`kldiv.distributions`, as in torch;
  :func:`kldiv.set_validate_args` overrides it. Skipped on lazy arrays (Dask, JAX, torch ``meta``).

Stored arrays have the compute dtype (float32 for 16-bit inputs); :attr:`Distribution.context`
keeps the caller's dtype. No sampling, no densities: these are what pairs in
:mod:`kldiv.distributions` read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .._array import Array, Context, Namespace, broadcast_shapes, prepare
from .._elementwise import binary_logits, log_or_neg_inf, log_softmax, sigmoid
from .._linalg import cholesky, diagonal, precision_to_scale_tril, solve_triangular
from .._validate import any_value, resolve_validate_args

__all__ = [
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Cauchy",
    "Chi2",
    "ContinuousBernoulli",
    "Dirichlet",
    "Distribution",
    "Exponential",
    "Gamma",
    "Geometric",
    "Gumbel",
    "HalfNormal",
    "Independent",
    "Kumaraswamy",
    "Laplace",
    "LogNormal",
    "LowRankMultivariateNormal",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "Pareto",
    "Poisson",
    "Uniform",
    "VonMises",
    "Weibull",
]


@dataclass(frozen=True, eq=False)
class Distribution:
    """Base of every family: context, shapes and the value checks.

    Subclasses declare their parameters as fields, convert them in :meth:`_setup` (through
    :meth:`_convert`) and state their value constraints in :meth:`_check_values`.
    """

    validate_args: bool | None = field(default=None, kw_only=True, repr=False)
    _context: Context = field(init=False, repr=False, compare=False)
    _batch_shape: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._setup()
        if resolve_validate_args(self.validate_args, "distributions"):
            self._check_values()
        self._derive()

    # -- what subclasses provide --------------------------------------------------------------
    def _setup(self) -> None:
        raise NotImplementedError

    def _check_values(self) -> None:
        """Value constraints; each failure is a ``ValueError`` naming the parameter."""

    def _derive(self) -> None:
        """Alternative parameterisations, computed after the checks (so no warnings on bad data)."""

    @property
    def event_shape(self) -> tuple[int, ...]:
        return ()

    # -- shared machinery ---------------------------------------------------------------------
    @property
    def context(self) -> Context:
        """Namespace, device, caller's dtype and compute dtype of the parameters."""
        return self._context

    @property
    def xp(self) -> Namespace:
        return self._context.xp

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self._batch_shape

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def _convert(self, event_ndims: dict[str, int] | None = None, **params: Any) -> None:
        """Prepare ``params``, broadcast their batch parts, and store them under their names.

        ``event_ndims[name]`` is the number of trailing event axes of that parameter (0 if
        absent); the batch shape is the broadcast of the remaining leading axes.
        """
        event_ndims = event_ndims or {}
        context, arrays = prepare(**params)
        named = dict(zip(params, arrays, strict=True))
        for name, array in named.items():
            if array.ndim < event_ndims.get(name, 0):
                raise ValueError(
                    f"{type(self).__name__}: {name} must have at least "
                    f"{event_ndims[name]} dimension(s), got shape {tuple(array.shape)}"
                )
        batch_shapes = {
            name: tuple(array.shape)[: array.ndim - event_ndims.get(name, 0)]
            for name, array in named.items()
        }
        batch_shape = broadcast_shapes(**batch_shapes)
        for name, array in named.items():
            event = tuple(array.shape)[array.ndim - event_ndims.get(name, 0) :]
            if batch_shapes[name] != batch_shape:
                array = context.xp.broadcast_to(array, batch_shape + event)
            self._set(name, array)
        self._set("_context", context)
        self._set("_batch_shape", batch_shape)

    def _require(self, name: str, holds: Array, requirement: str) -> None:
        """``ValueError`` naming ``name`` unless ``holds`` is true everywhere (skipped if lazy)."""
        if any_value(self.xp, ~holds):
            raise ValueError(f"{type(self).__name__}: {name} must be {requirement}")

    def _require_real(self, **params: Array) -> None:
        for name, value in params.items():
            self._require(name, ~self.xp.isnan(value), "a real number (not NaN)")

    def _require_positive(self, **params: Array) -> None:
        for name, value in params.items():
            self._require(name, value > 0, "> 0")


def _exactly_one(family: str, **given: Any) -> str:
    """The name of the one argument that is not None; ``ValueError`` otherwise."""
    names = [name for name, value in given.items() if value is not None]
    if len(names) != 1:
        options = ", ".join(given)
        raise ValueError(f"{family}: give exactly one of {options}; got {names or 'none'}")
    return names[0]


class _BinaryProbs(Distribution):
    """A family parameterised by a success probability: ``probs=`` or ``logits=``.

    Subclasses declare the ``probs`` and ``logits`` fields (torch's argument order).
    """

    probs: Array
    logits: Array
    _given: str

    def _setup(self) -> None:
        given = _exactly_one(type(self).__name__, probs=self.probs, logits=self.logits)
        self._set("_given", given)
        self._convert(**{given: getattr(self, given)}, **self._extra_params())

    def _derive(self) -> None:
        if self._given == "probs":
            self._set("logits", binary_logits(self.xp, self.probs))
        else:
            self._set("probs", sigmoid(self.xp, self.logits))

    def _extra_params(self) -> dict[str, Any]:
        return {}

    def _check_probs(self, lowest_open: bool = False) -> None:
        if self._given == "logits":
            self._require_real(logits=self.logits)
        elif lowest_open:
            self._require("probs", (self.probs > 0) & (self.probs <= 1), "in (0, 1]")
        else:
            self._require("probs", (self.probs >= 0) & (self.probs <= 1), "in [0, 1]")

    def _check_values(self) -> None:
        self._check_probs()


@dataclass(frozen=True, eq=False)
class Bernoulli(_BinaryProbs):
    """Bernoulli(probs=|logits=): P(1) = probs = sigmoid(logits)."""

    probs: Array = None
    logits: Array = None
    _given: str = field(init=False, repr=False, default="")


@dataclass(frozen=True, eq=False)
class Geometric(_BinaryProbs):
    """Geometric(probs=|logits=): the number of failures before the first success."""

    probs: Array = None
    logits: Array = None
    _given: str = field(init=False, repr=False, default="")

    def _check_values(self) -> None:
        self._check_probs(lowest_open=True)


@dataclass(frozen=True, eq=False)
class ContinuousBernoulli(_BinaryProbs):
    """ContinuousBernoulli(probs=|logits=, lims): density ∝ probs^x (1 − probs)^(1 − x) on [0, 1].

    ``lims`` is torch's interval around 1/2 where its formulas switch to a Taylor expansion.
    """

    probs: Array = None
    logits: Array = None
    lims: tuple[float, float] = (0.499, 0.501)
    _given: str = field(init=False, repr=False, default="")


@dataclass(frozen=True, eq=False)
class Binomial(_BinaryProbs):
    """Binomial(total_count, probs=|logits=): successes in ``total_count`` trials."""

    total_count: Array = 1
    probs: Array = None
    logits: Array = None
    _given: str = field(init=False, repr=False, default="")

    def _extra_params(self) -> dict[str, Any]:
        if self.total_count is None:
            raise ValueError("Binomial: total_count must be given")
        return {"total_count": self.total_count}

    def _check_values(self) -> None:
        xp = self.xp
        count = self.total_count
        self._require(
            "total_count", (count >= 0) & (xp.floor(count) == count), "a non-negative integer"
        )
        self._check_probs()


class _CategoricalProbs(Distribution):
    """Probabilities over the last axis, ``probs=`` (normalised) or ``logits=`` (log-normalised).

    Subclasses declare the ``probs`` and ``logits`` fields; ``batch_shape`` is the parameter shape
    without its last axis.
    """

    probs: Array
    logits: Array
    _given: str

    def _setup(self) -> None:
        given = _exactly_one(type(self).__name__, probs=self.probs, logits=self.logits)
        self._set("_given", given)
        self._convert({given: 1}, **{given: getattr(self, given)})

    def _derive(self) -> None:
        xp = self.xp
        if self._given == "probs":
            raw = self.probs
            self._set("probs", raw / xp.sum(raw, axis=-1, keepdims=True))
            self._set("logits", log_or_neg_inf(xp, self.probs))
        else:
            self._set("logits", log_softmax(xp, self.logits, axis=-1))
            self._set("probs", xp.exp(self.logits))

    @property
    def num_categories(self) -> int:
        return int(self.probs.shape[-1])

    def _check_values(self) -> None:
        if self._given == "logits":
            self._require_real(logits=self.logits)
            return
        xp = self.xp
        total = xp.sum(self.probs, axis=-1)
        requirement = "non-negative with a positive, finite sum"
        self._require("probs", self.probs >= 0, requirement)
        self._require("probs", (total > 0) & xp.isfinite(total), requirement)


@dataclass(frozen=True, eq=False)
class Categorical(_CategoricalProbs):
    """Categorical(probs=|logits=): an index into the last axis; ``event_shape`` is ()."""

    probs: Array = None
    logits: Array = None
    _given: str = field(init=False, repr=False, default="")


@dataclass(frozen=True, eq=False)
class OneHotCategorical(_CategoricalProbs):
    """OneHotCategorical(probs=|logits=): the one-hot vector of a category.

    Not a subclass of :class:`Categorical`: its events live in another space, so KL between the
    two is undefined (torch raises too).
    """

    probs: Array = None
    logits: Array = None
    _given: str = field(init=False, repr=False, default="")

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (self.num_categories,)


@dataclass(frozen=True, eq=False)
class Poisson(Distribution):
    """Poisson(rate), rate ≥ 0."""

    rate: Array

    def _setup(self) -> None:
        self._convert(rate=self.rate)

    def _check_values(self) -> None:
        self._require("rate", self.rate >= 0, ">= 0")


@dataclass(frozen=True, eq=False)
class Exponential(Distribution):
    """Exponential(rate): density rate·e^(−rate·x) on x ≥ 0."""

    rate: Array

    def _setup(self) -> None:
        self._convert(rate=self.rate)

    def _check_values(self) -> None:
        self._require_positive(rate=self.rate)


@dataclass(frozen=True, eq=False)
class Gamma(Distribution):
    """Gamma(concentration, rate): density ∝ x^(concentration − 1) e^(−rate·x)."""

    concentration: Array
    rate: Array

    def _setup(self) -> None:
        self._convert(concentration=self.concentration, rate=self.rate)

    def _check_values(self) -> None:
        self._require_positive(concentration=self.concentration, rate=self.rate)


class Chi2(Gamma):
    """Chi2(df) = Gamma(df / 2, 1 / 2), a Gamma subclass as in torch (Gamma pairs apply)."""

    df: Array

    def __init__(self, df: Array, *, validate_args: bool | None = None) -> None:
        object.__setattr__(self, "df", df)
        super().__init__(concentration=None, rate=None, validate_args=validate_args)

    def _setup(self) -> None:
        self._convert(df=self.df)
        self._set("concentration", 0.5 * self.df)
        self._set("rate", self._context.asarray(0.5))

    def _check_values(self) -> None:
        self._require_positive(df=self.df)

    def __repr__(self) -> str:
        return f"Chi2(df={self.df!r})"


@dataclass(frozen=True, eq=False)
class _TwoShapes(Distribution):
    """A family with two positive shape parameters ``concentration1``, ``concentration0``."""

    concentration1: Array
    concentration0: Array

    def _setup(self) -> None:
        self._convert(concentration1=self.concentration1, concentration0=self.concentration0)

    def _check_values(self) -> None:
        self._require_positive(
            concentration1=self.concentration1, concentration0=self.concentration0
        )


@dataclass(frozen=True, eq=False)
class Beta(_TwoShapes):
    """Beta(concentration1, concentration0): density ∝ x^(c1 − 1) (1 − x)^(c0 − 1) on [0, 1]."""


@dataclass(frozen=True, eq=False)
class Kumaraswamy(_TwoShapes):
    """Kumaraswamy(concentration1 = a, concentration0 = b): density a·b·x^(a−1)(1 − x^a)^(b−1)."""


@dataclass(frozen=True, eq=False)
class Dirichlet(Distribution):
    """Dirichlet(concentration) over the last axis; ``event_shape`` is (K,)."""

    concentration: Array

    def _setup(self) -> None:
        self._convert({"concentration": 1}, concentration=self.concentration)

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (int(self.concentration.shape[-1]),)

    def _check_values(self) -> None:
        self._require_positive(concentration=self.concentration)


@dataclass(frozen=True, eq=False)
class _LocationScale(Distribution):
    """A family with a real ``loc`` and a positive ``scale``."""

    loc: Array
    scale: Array

    def _setup(self) -> None:
        self._convert(loc=self.loc, scale=self.scale)

    def _check_values(self) -> None:
        self._require_real(loc=self.loc)
        self._require_positive(scale=self.scale)


@dataclass(frozen=True, eq=False)
class Normal(_LocationScale):
    """Normal(loc, scale): mean ``loc``, standard deviation ``scale``."""


@dataclass(frozen=True, eq=False)
class LogNormal(_LocationScale):
    """LogNormal(loc, scale): exp of Normal(loc, scale)."""


@dataclass(frozen=True, eq=False)
class Laplace(_LocationScale):
    """Laplace(loc, scale): density e^(−|x − loc|/scale) / (2·scale)."""


@dataclass(frozen=True, eq=False)
class Cauchy(_LocationScale):
    """Cauchy(loc, scale): density 1 / (π·scale·(1 + ((x − loc)/scale)²))."""


@dataclass(frozen=True, eq=False)
class Gumbel(_LocationScale):
    """Gumbel(loc, scale): density e^(−(z + e^(−z)))/scale, z = (x − loc)/scale."""


@dataclass(frozen=True, eq=False)
class HalfNormal(Distribution):
    """HalfNormal(scale): |X| for X ~ Normal(0, scale)."""

    scale: Array

    def _setup(self) -> None:
        self._convert(scale=self.scale)

    def _check_values(self) -> None:
        self._require_positive(scale=self.scale)


@dataclass(frozen=True, eq=False)
class Pareto(Distribution):
    """Pareto(scale, alpha): density alpha·scale^alpha / x^(alpha + 1) on x ≥ scale."""

    scale: Array
    alpha: Array

    def _setup(self) -> None:
        self._convert(scale=self.scale, alpha=self.alpha)

    def _check_values(self) -> None:
        self._require_positive(scale=self.scale, alpha=self.alpha)


@dataclass(frozen=True, eq=False)
class Uniform(Distribution):
    """Uniform(low, high) on [low, high), low < high."""

    low: Array
    high: Array

    def _setup(self) -> None:
        self._convert(low=self.low, high=self.high)

    def _check_values(self) -> None:
        self._require_real(low=self.low)
        self._require("high", self.high > self.low, "> low")


@dataclass(frozen=True, eq=False)
class Weibull(Distribution):
    """Weibull(scale = λ, concentration = k): density (k/λ)(x/λ)^(k−1) e^(−(x/λ)^k)."""

    scale: Array
    concentration: Array

    def _setup(self) -> None:
        self._convert(scale=self.scale, concentration=self.concentration)

    def _check_values(self) -> None:
        self._require_positive(scale=self.scale, concentration=self.concentration)


@dataclass(frozen=True, eq=False)
class VonMises(Distribution):
    """VonMises(loc, concentration): density e^(κ cos(x − loc)) / (2π I0(κ)) on the circle."""

    loc: Array
    concentration: Array

    def _setup(self) -> None:
        self._convert(loc=self.loc, concentration=self.concentration)

    def _check_values(self) -> None:
        self._require_real(loc=self.loc)
        self._require_positive(concentration=self.concentration)


def _check_square(family: str, name: str, matrix: Array, size: int) -> None:
    shape = tuple(matrix.shape)
    if shape[-2:] != (size, size):
        raise ValueError(
            f"{family}: {name} must have shape (..., {size}, {size}) to match loc's event "
            f"shape ({size},); got {shape}"
        )


_MATRIX_NAMES = ("covariance_matrix", "precision_matrix", "scale_tril")


@dataclass(frozen=True, eq=False, init=False)
class MultivariateNormal(Distribution):
    """MultivariateNormal(loc, covariance_matrix=|precision_matrix=|scale_tril=).

    ``scale_tril`` (the lower Cholesky factor of the covariance) is computed on construction;
    ``covariance_matrix`` and ``precision_matrix`` are derived from it on first use. A
    covariance or precision that is not positive definite is a ``ValueError`` naming it.
    """

    loc: Array
    scale_tril: Array
    _given: str = field(repr=False)

    def __init__(
        self,
        loc: Array,
        covariance_matrix: Array = None,
        precision_matrix: Array = None,
        scale_tril: Array = None,
        *,
        validate_args: bool | None = None,
    ) -> None:
        given = _exactly_one(
            type(self).__name__,
            covariance_matrix=covariance_matrix,
            precision_matrix=precision_matrix,
            scale_tril=scale_tril,
        )
        matrix = {
            "covariance_matrix": covariance_matrix,
            "precision_matrix": precision_matrix,
            "scale_tril": scale_tril,
        }[given]
        self._set("loc", loc)
        self._set("_given", given)
        self._set("_" + given, matrix)
        self._set("validate_args", validate_args)
        self.__post_init__()

    def _setup(self) -> None:
        family = type(self).__name__
        given = self._given
        self._convert({"loc": 1, "matrix": 2}, loc=self.loc, matrix=self.__dict__["_" + given])
        matrix = self.__dict__.pop("matrix")
        self._set("_" + given, matrix)
        _check_square(family, given, matrix, int(self.loc.shape[-1]))
        if given == "scale_tril":
            self._set("scale_tril", matrix)
            return
        try:
            if given == "covariance_matrix":
                tril = cholesky(self.xp, matrix)
            else:
                tril = precision_to_scale_tril(self.xp, matrix)
        except Exception as error:  # each library raises its own LinAlgError
            if "LinAlgError" in type(error).__name__ or isinstance(error, RuntimeError):
                raise ValueError(f"{family}: {given} must be positive definite") from error
            raise
        self._set("scale_tril", tril)

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (int(self.loc.shape[-1]),)

    @cached_property
    def covariance_matrix(self) -> Array:
        """Σ = L·Lᵀ (the given matrix when constructed from it)."""
        if self._given == "covariance_matrix":
            return self.__dict__["_covariance_matrix"]
        return self.scale_tril @ self.xp.matrix_transpose(self.scale_tril)

    @cached_property
    def precision_matrix(self) -> Array:
        """Σ⁻¹ = L⁻ᵀ·L⁻¹ (the given matrix when constructed from it)."""
        if self._given == "precision_matrix":
            return self.__dict__["_precision_matrix"]
        xp = self.xp
        size = self.event_shape[0]
        eye = xp.eye(size, dtype=self.scale_tril.dtype, device=self._context.device)
        inverse = solve_triangular(xp, self.scale_tril, eye + xp.zeros_like(self.scale_tril))
        return xp.matrix_transpose(inverse) @ inverse

    def _check_values(self) -> None:
        xp = self.xp
        given = self._given
        self._require_real(loc=self.loc)
        if given != "scale_tril":
            matrix = self.__dict__["_" + given]
            asymmetry = xp.abs(matrix - xp.matrix_transpose(matrix))
            self._require(given, asymmetry <= 1e-6 * (1 + xp.abs(matrix)), "symmetric")
            requirement = "positive definite"
        else:
            requirement = "lower triangular with a positive diagonal"
        tril = self.scale_tril
        self._require(given, diagonal(xp, tril) > 0, requirement)
        self._require(given, xp.isfinite(tril), requirement)
        if given == "scale_tril":
            self._require(given, xp.triu(tril, k=1) == 0, requirement)


@dataclass(frozen=True, eq=False)
class LowRankMultivariateNormal(Distribution):
    """LowRankMultivariateNormal(loc, cov_factor, cov_diag): covariance W·Wᵀ + diag(D).

    ``cov_factor`` W has shape (..., d, r), ``cov_diag`` D shape (..., d), D > 0.
    ``capacitance_tril`` is the Cholesky factor of I + Wᵀ D⁻¹ W (r × r).
    """

    loc: Array
    cov_factor: Array
    cov_diag: Array

    def _setup(self) -> None:
        family = type(self).__name__
        self._convert(
            {"loc": 1, "cov_factor": 2, "cov_diag": 1},
            loc=self.loc,
            cov_factor=self.cov_factor,
            cov_diag=self.cov_diag,
        )
        size = int(self.loc.shape[-1])
        if int(self.cov_factor.shape[-2]) != size or int(self.cov_diag.shape[-1]) != size:
            raise ValueError(
                f"{family}: cov_factor (..., d, r) and cov_diag (..., d) must match loc's event "
                f"shape ({size},); got {tuple(self.cov_factor.shape)} and "
                f"{tuple(self.cov_diag.shape)}"
            )

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (int(self.loc.shape[-1]),)

    @cached_property
    def capacitance_tril(self) -> Array:
        xp = self.xp
        factor = self.cov_factor
        rank = int(factor.shape[-1])
        scaled = xp.matrix_transpose(factor) / self.cov_diag[..., None, :]
        identity = xp.eye(rank, dtype=factor.dtype, device=self._context.device)
        return cholesky(xp, identity + scaled @ factor)

    @cached_property
    def covariance_matrix(self) -> Array:
        xp = self.xp
        factor = self.cov_factor
        eye = xp.eye(int(factor.shape[-2]), dtype=factor.dtype, device=self._context.device)
        return factor @ xp.matrix_transpose(factor) + eye * self.cov_diag[..., None, :]

    @cached_property
    def scale_tril(self) -> Array:
        return cholesky(self.xp, self.covariance_matrix)

    def _check_values(self) -> None:
        self._require_real(loc=self.loc, cov_factor=self.cov_factor)
        self._require_positive(cov_diag=self.cov_diag)


@dataclass(frozen=True, eq=False)
class Independent(Distribution):
    """Independent(base_distribution, reinterpreted_batch_ndims): the rightmost batch axes of the
    base become event axes (KL sums over them)."""

    base_distribution: Distribution
    reinterpreted_batch_ndims: int

    def _setup(self) -> None:
        base = self.base_distribution
        ndims = self.reinterpreted_batch_ndims
        if not isinstance(base, Distribution):
            raise TypeError(
                f"Independent: base_distribution must be a kldiv distribution, got "
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
        self._set("_context", base.context)
        self._set("_batch_shape", base.batch_shape[: len(base.batch_shape) - ndims])

    @property
    def event_shape(self) -> tuple[int, ...]:
        base = self.base_distribution
        kept = len(base.batch_shape) - self.reinterpreted_batch_ndims
        return base.batch_shape[kept:] + base.event_shape
