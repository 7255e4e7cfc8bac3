"""Lazy test modes: tagged functions run under ``jax.jit`` and under a Dask that never computes.

A test module tags the functions it tests with :func:`lazy_xp_function`; the ``xp`` fixture
wraps the test in :func:`patch_lazy_xp_functions`, which, for the duration of the test, replaces
each tagged function found in the test module's globals (and in the modules listed in its
``lazy_xp_modules``) by a jitted version when ``xp`` is JAX, and by a version that runs under a
Dask scheduler that raises on any computation when ``xp`` is Dask. Ordinary tests thereby prove
that the functions trace and stay lazy, without being written twice.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import array_api_compat as compat

__all__ = ["lazy_xp_function", "patch_lazy_xp_functions"]

_TAG = "_kldiv_lazy_modes"


@dataclass(frozen=True)
class _Tags:
    jax_jit: bool
    allow_dask_compute: int


def lazy_xp_function(
    func: Callable[..., Any], *, jax_jit: bool = True, allow_dask_compute: bool | int = False
) -> None:
    """Tag ``func`` to run lazily in tests (as ``array_api_extra.testing.lazy_xp_function``).

    Under :func:`patch_lazy_xp_functions` with ``xp`` JAX, ``func`` is replaced by a jitted
    version: its array arguments (anywhere in nested tuples, lists and dicts) are traced, every
    other argument is static, as when a user calls ``func`` inside their own jitted code. With
    ``xp`` Dask, ``func`` runs under a scheduler that raises ``AssertionError`` when anything is
    computed (``bool()``, ``float()``, ``.compute()``, NumPy conversion of a Dask array).

    Parameters
    ----------
    func : callable
        A function; the tag is an attribute of it, so tag a module-level function (or a
        function of the test module) rather than a bound method.
    jax_jit : bool, optional
        False for a function that only works eagerly in JAX (it is then called as it is).
    allow_dask_compute : bool or int, optional
        How many computations one call may run (True: any number). Default: none.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import kldiv
    >>> def row_kl(p, q):
    ...     return kldiv.kl_divergence(p, q, reduction="none")
    >>> lazy_xp_function(row_kl)
    >>> row_kl(xp.asarray([[0.5, 0.5]]), xp.asarray([[0.25, 0.75]]))  # unchanged outside tests
    Array([0.14384104], dtype=array_api_strict.float64)
    """
    if not inspect.isfunction(func):
        raise TypeError(f"cannot tag {func!r}: tag a Python function that calls it")
    allowed = 10**9 if allow_dask_compute is True else int(allow_dask_compute)
    setattr(func, _TAG, _Tags(bool(jax_jit), allowed))


@contextlib.contextmanager
def patch_lazy_xp_functions(request: Any, *, xp: Any) -> Iterator[None]:
    """Run the tagged functions of a test module lazily while the context lasts.

    Parameters
    ----------
    request : pytest.FixtureRequest or module
        The test's request (its ``module`` is searched) or the module itself. Tagged functions
        among its globals, and among the globals of the modules in its ``lazy_xp_modules``
        list, are replaced until the context exits.
    xp : namespace
        The namespace of the test: JAX jits, Dask refuses to compute, any other changes nothing.

    Examples
    --------
    >>> import types
    >>> import array_api_strict as xp
    >>> def double(x):
    ...     return 2 * x
    >>> lazy_xp_function(double)
    >>> test_module = types.ModuleType("test_double")
    >>> test_module.double = double
    >>> with patch_lazy_xp_functions(test_module, xp=xp):  # array-api-strict: nothing to patch
    ...     test_module.double(xp.asarray(1.0))
    Array(2., dtype=array_api_strict.float64)
    """
    module = getattr(request, "module", request)
    targets = [module, *getattr(module, "lazy_xp_modules", ())]
    replaced: list[tuple[Any, str, Any]] = []
    try:
        for target in targets:
            for name, value in list(vars(target).items()):
                tags = getattr(value, _TAG, None) if inspect.isfunction(value) else None
                wrapped = _lazy_version(value, tags, xp) if tags else None
                if wrapped is not None:
                    replaced.append((target, name, value))
                    setattr(target, name, wrapped)
        yield
    finally:
        for target, name, value in reversed(replaced):
            setattr(target, name, value)


def _lazy_version(func: Callable[..., Any], tags: _Tags, xp: Any) -> Callable[..., Any] | None:
    if compat.is_jax_namespace(xp):
        return _jitted(func) if tags.jax_jit else None
    if compat.is_dask_namespace(xp):
        return _refusing_to_compute(func, tags.allow_dask_compute)
    return None


def _jitted(func: Callable[..., Any]) -> Callable[..., Any]:
    """``jax.jit(func)`` with every argument that is not a JAX array static."""
    import jax

    compiled: dict[Any, Callable[..., Any]] = {}

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        leaves, tree = jax.tree.flatten((args, kwargs))
        traced = tuple(isinstance(leaf, jax.Array) for leaf in leaves)
        arrays = [leaf for leaf, is_traced in zip(leaves, traced, strict=True) if is_traced]
        static = tuple(
            leaf for leaf, is_traced in zip(leaves, traced, strict=True) if not is_traced
        )

        def call(*traced_arrays: Any) -> Any:
            supply = iter(traced_arrays)
            filled = [next(supply) if t else leaf for leaf, t in zip(leaves, traced, strict=True)]
            call_args, call_kwargs = jax.tree.unflatten(tree, filled)
            return func(*call_args, **call_kwargs)

        key = (tree, traced, static)
        try:
            hash(key)
        except TypeError:  # an unhashable static argument: compile for this call only
            return jax.jit(call)(*arrays)
        if key not in compiled:
            compiled[key] = jax.jit(call)
        return compiled[key](*arrays)

    return wrapper


class _RefusingScheduler:
    """A Dask scheduler that computes at most ``allowed`` times, then raises AssertionError."""

    def __init__(self, allowed: int, name: str) -> None:
        self.allowed = allowed
        self.name = name
        self.count = 0

    def __call__(self, graph: Any, keys: Sequence[Any], **kwargs: Any) -> Any:
        import dask

        self.count += 1
        if self.count > self.allowed:
            raise AssertionError(
                f"{self.name} computed a Dask graph ({self.count} computations, "
                f"{self.allowed} allowed): it must stay lazy"
            )
        return dask.get(graph, keys, **kwargs)


def _refusing_to_compute(func: Callable[..., Any], allowed: int) -> Callable[..., Any]:
    import dask

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scheduler = _RefusingScheduler(allowed, getattr(func, "__qualname__", repr(func)))
        with dask.config.set(scheduler=scheduler):
            return func(*args, **kwargs)

    return wrapper
