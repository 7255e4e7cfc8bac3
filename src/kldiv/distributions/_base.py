"""The frozen parameter container of every family and its declarative parameters.

A family declares each argument once, in torch's order: ``loc = Param(real)``,
``scale = Param(positive)``, ``concentration = Param(positive, event_ndim=1)``, alternatives such
as ``probs = Param(unit_interval, alternative=True)`` and ``logits = Param(real,
alternative=True)``, and non-array settings as ``lims = Option((0.499, 0.501))``. That one
declaration drives, on construction:

* conversion: one :func:`kldiv._array.prepare` call for all given parameters (namespace, device,
  compute dtype: float32 for 16-bit inputs); Python numbers and lists take the namespace of the
  array parameters, or are float64 NumPy arrays when none is an array;
* shapes: the batch shape is the broadcast of each parameter without its ``event_ndim`` trailing
  axes, and every parameter is broadcast to it (always checked, ``ValueError`` naming them);
* values: each given parameter must satisfy its constraint when ``validate_args`` is on (the
  default of :mod:`kldiv.distributions`, as in torch; :func:`kldiv.set_validate_args` overrides
  it); skipped on lazy arrays (Dask, traced JAX, torch ``meta``).

Of a family's alternatives exactly one is given; the others are derived from it on first read
(:meth:`Distribution._derive`) and cached, as torch's ``lazy_property``.

The docstring of a family of this package is a summary and one doctest example; its Parameters
section (from the declarations' ``doc`` and ``kind``) and the Examples heading and imports are
written by :func:`._docstrings.family_docstring`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from .._array import Array, Context, Namespace, broadcast_shapes, ignore_fp_warnings, prepare
from .._validate import any_value, resolve_validate_args
from ._docstrings import family_docstring

__all__ = [
    "Constraint",
    "Distribution",
    "Option",
    "Param",
    "greater_than",
    "nonnegative",
    "nonnegative_integer",
    "positive",
    "real",
    "unit_interval",
]


@dataclass(frozen=True)
class Constraint:
    """A value constraint: ``holds(xp, value, dist)`` is true where ``value`` satisfies it."""

    requirement: str
    holds: Callable[[Namespace, Array, Any], Array]


real = Constraint("a real number (not NaN)", lambda xp, value, dist: ~xp.isnan(value))
positive = Constraint("> 0", lambda xp, value, dist: value > 0)
nonnegative = Constraint(">= 0", lambda xp, value, dist: value >= 0)
unit_interval = Constraint("in [0, 1]", lambda xp, value, dist: (value >= 0) & (value <= 1))
nonnegative_integer = Constraint(
    "a non-negative integer", lambda xp, value, dist: (value >= 0) & (xp.floor(value) == value)
)


def greater_than(other: str) -> Constraint:
    """The constraint ``value > dist.<other>`` (Uniform's ``high > low``)."""
    return Constraint(f"> {other}", lambda xp, value, dist: value > getattr(dist, other))


_REQUIRED = inspect.Parameter.empty


class _Argument:
    """A declared constructor argument; read-only on instances.

    ``doc`` describes it and ``kind`` names its type in the Parameters section of the family's
    docstring (:func:`~kldiv.distributions._docstrings.family_docstring`).
    """

    name: str

    def __init__(self, default: Any = _REQUIRED, *, doc: str = "", kind: str = "") -> None:
        self.default = default
        self.doc = doc
        self.kind = kind

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return instance.__dict__[self.name]

    def __set__(self, instance: Any, value: Any) -> None:
        raise AttributeError(f"{type(instance).__name__}.{self.name} cannot be assigned")


class Option(_Argument):
    """A constructor argument that is not an array (stored as given)."""


class Param(_Argument):
    """An array parameter: its value constraint and its number of trailing event axes.

    ``alternative=True`` marks one of several parameterisations (default ``None``): exactly one
    is given, the others are derived from it by the family's :meth:`Distribution._derive`.
    Its ``kind`` defaults to "array or float" ("array" with event axes), optional when it has a
    default or is an alternative.
    """

    def __init__(
        self,
        constraint: Constraint,
        *,
        event_ndim: int = 0,
        alternative: bool = False,
        default: Any = _REQUIRED,
        doc: str = "",
        kind: str = "",
    ) -> None:
        optional = ", optional" if alternative or default is not _REQUIRED else ""
        kind = kind or ("array" if event_ndim else "array or float") + optional
        super().__init__(None if alternative else default, doc=doc, kind=kind)
        self.constraint = constraint
        self.event_ndim = event_ndim
        self.alternative = alternative

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        values = instance.__dict__
        if self.name not in values:
            values[self.name] = instance._derive(self.name)
        return values[self.name]


class Distribution:
    """Base of every family: arguments, context, shapes and value checks.

    Subclasses declare their arguments as :class:`Param` and :class:`Option` class attributes
    (the constructor takes them in that order, then the keyword ``validate_args``), and may
    override :meth:`_derive` (alternative parameterisations), :meth:`_check_shapes` and
    :meth:`_finish`. Instances are read-only.

    Parameters
    ----------
    *args, **kwargs
        The family's declared arguments, arrays of any array-API library or Python numbers.
    validate_args : bool, optional
        Check parameter values (``ValueError`` naming the parameter). ``None`` follows
        :func:`kldiv.set_validate_args`, whose default for the distributions is on.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from kldiv.distributions import Normal
    >>> Normal(xp.asarray([0.0, 1.0]), 2.0).batch_shape
    (2,)
    """

    _arguments: ClassVar[tuple[_Argument, ...]] = ()
    validate_args: bool | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = tuple(value for value in vars(cls).values() if isinstance(value, _Argument))
        if own:
            cls._arguments = own
        keyword = inspect.Parameter.KEYWORD_ONLY
        parameters = [
            inspect.Parameter(
                argument.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=argument.default
            )
            for argument in cls._arguments
        ]
        parameters.append(inspect.Parameter("validate_args", keyword, default=None))
        cls.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        if cls.__doc__ and cls.__module__.startswith(f"{__package__}."):
            cls.__doc__ = family_docstring(cls.__doc__, cls._arguments)

    @ignore_fp_warnings
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        bound = self.__signature__.bind(*args, **kwargs)  # type: ignore[attr-defined]
        bound.apply_defaults()
        values = dict(bound.arguments)
        self._store(validate_args=values.pop("validate_args"))
        params = {}
        for argument in self._arguments:
            if isinstance(argument, Param):
                params[argument.name] = values[argument.name]
            else:
                self._store(**{argument.name: values[argument.name]})
        self._assemble(params, resolve_validate_args(self.validate_args, "distributions"))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only; build a new one instead")

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{argument.name}={getattr(self, argument.name)!r}"
            for argument in self._arguments
            if isinstance(argument, Option) or argument.name in self._given_names()
        )
        return f"{type(self).__name__}({shown})"

    # -- what families may provide ---------------------------------------------------------
    def _derive(self, name: str) -> Array:
        """The parameter ``name`` computed from the given ones (alternatives, cached)."""
        raise AttributeError(f"{type(self).__name__} has no parameter {name!r}")

    def _check_shapes(self) -> None:
        """Metadata checks beyond broadcasting (matrix sizes), always run."""

    def _finish(self) -> None:
        """Work done once after the value checks (normalisation, factorisation)."""

    @property
    def event_shape(self) -> tuple[int, ...]:
        """The shape of one event: the trailing axes a density integrates over."""
        return ()

    # -- shared machinery ------------------------------------------------------------------
    @property
    def context(self) -> Context:
        """Namespace, device, caller's dtype and compute dtype of the parameters."""
        return self.__dict__["_context"]

    @property
    def xp(self) -> Namespace:
        """The array namespace of the parameters."""
        return self.context.xp

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The broadcast shape of the parameters without their event axes."""
        return self.__dict__["_batch_shape"]

    def _given_names(self) -> tuple[str, ...]:
        """The parameters given to the constructor (the others are derived)."""
        return self.__dict__["_given"]

    def _store(self, **values: Any) -> None:
        """Set attributes of a read-only instance: only while it is being built."""
        self.__dict__.update(values)

    def _params(self) -> dict[str, Param]:
        return {arg.name: arg for arg in self._arguments if isinstance(arg, Param)}

    def _assemble(self, params: dict[str, Any], validate: bool) -> None:
        """Convert, broadcast and check the given ``params``, then store them."""
        given = self._given_arguments(params)
        try:
            context, arrays = prepare(**{name: params[name] for name in given})
        except (TypeError, ValueError) as error:
            raise type(error)(f"{type(self).__name__}: {error}") from error
        self._store(_context=context, _given=tuple(given))
        self._broadcast(dict(zip(given, arrays, strict=True)))
        self._check_shapes()
        if validate:
            self._check_values()
        self._finish()

    def _given_arguments(self, params: dict[str, Any]) -> list[str]:
        """The names of the given parameters: every required one and one alternative."""
        family = type(self).__name__
        declared = self._params()
        given = [name for name in declared if params.get(name) is not None]
        alternatives = [name for name, param in declared.items() if param.alternative]
        missing = [name for name in declared if name not in given and name not in alternatives]
        if missing:
            raise ValueError(f"{family}: {', '.join(missing)} must be given")
        chosen = [name for name in alternatives if name in given]
        if alternatives and len(chosen) != 1:
            raise ValueError(
                f"{family}: give exactly one of {', '.join(alternatives)}; got {chosen or 'none'}"
            )
        return given

    def _broadcast(self, arrays: dict[str, Array]) -> None:
        """Store ``arrays`` broadcast to their joint batch shape (event axes kept)."""
        declared = self._params()
        event_ndims = {name: declared[name].event_ndim for name in arrays}
        for name, array in arrays.items():
            if array.ndim < event_ndims[name]:
                raise ValueError(
                    f"{type(self).__name__}: {name} must have at least {event_ndims[name]} "
                    f"dimension(s), got shape {tuple(array.shape)}"
                )
        batch_shapes = {
            name: tuple(array.shape)[: array.ndim - event_ndims[name]]
            for name, array in arrays.items()
        }
        batch_shape = broadcast_shapes(**batch_shapes)
        for name, array in arrays.items():
            event = tuple(array.shape)[array.ndim - event_ndims[name] :]
            if batch_shapes[name] != batch_shape:
                array = self.xp.broadcast_to(array, batch_shape + event)
            self._store(**{name: array})
        self._store(_batch_shape=batch_shape)

    def _check_values(self) -> None:
        """``ValueError`` naming the first given parameter that breaks its constraint."""
        xp = self.xp
        declared = self._params()
        for name in self._given_names():
            constraint = declared[name].constraint
            if any_value(xp, ~constraint.holds(xp, getattr(self, name), self)):
                raise ValueError(f"{type(self).__name__}: {name} must be {constraint.requirement}")

    def _with_dtype(self, dtype: Any) -> Distribution:
        """A copy whose given parameters are converted to ``dtype`` (floating) and whose derived
        ones are recomputed from them; no value checks. ``self`` when nothing changes."""
        if self.context.compute_dtype == dtype:
            return self
        xp = self.xp
        clone = object.__new__(type(self))
        kept = {argument.name for argument in self._arguments if isinstance(argument, Option)}
        clone._store(**{name: getattr(self, name) for name in kept | {"validate_args"}})
        given = {name: xp.astype(getattr(self, name), dtype) for name in self._given_names()}
        clone._assemble(given, validate=False)
        return clone
