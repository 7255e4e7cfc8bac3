"""Special functions for every array library: native where the library has them, portable otherwise.

Each function takes ``(xp, x)`` — the namespace the caller already resolved with
:func:`kldiv._array.prepare` — and returns an array of ``x``'s namespace, device and dtype.
The native implementation is picked here and only here: ``scipy.special`` for NumPy (when SciPy
is installed) and for Dask (block by block, lazily), ``torch.special``, ``jax.scipy.special``,
``cupyx.scipy.special``. Any other namespace (array-api-strict, …) gets the portable versions of
:mod:`kldiv._special_portable`, written in plain array-API calls (float64 accuracy ~1e-15).

>>> import array_api_strict as xp
>>> lgamma(xp, xp.asarray([0.5, 10.0]))
Array([ 0.57236494, 12.80182748], dtype=array_api_strict.float64)
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable

import array_api_compat as compat

from . import _special_portable as portable
from ._array import Array, Namespace

__all__ = [
    "betaln",
    "digamma",
    "erf",
    "erfc",
    "i0e",
    "i1e",
    "lgamma",
    "lgamma_bregman",
    "native_special",
    "softplus",
]

Unary = Callable[[Array], Array]

# The native name of each function, per library module (SciPy's names unless stated).
_SCIPY_NAMES = {
    "lgamma": "gammaln",
    "digamma": "psi",
    "erf": "erf",
    "erfc": "erfc",
    "i0e": "i0e",
    "i1e": "i1e",
}
_TORCH_NAMES = {**_SCIPY_NAMES, "digamma": "digamma"}
_JAX_NAMES = {**_SCIPY_NAMES, "digamma": "digamma"}


def _module(name: str) -> object | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _scipy_function(name: str) -> Callable[..., object] | None:
    module = _module("scipy.special")
    return None if module is None else getattr(module, _SCIPY_NAMES[name])


def _numpy_native(xp: Namespace, name: str) -> Unary | None:
    function = _scipy_function(name)
    if function is None:
        return None
    # SciPy returns NumPy scalars for 0-d input; asarray keeps a 0-d array (no copy otherwise).
    return lambda x: xp.asarray(function(x))


def _dask_native(name: str) -> Unary | None:
    function = _scipy_function(name)
    if function is None:
        return None
    return lambda x: x.map_blocks(function, dtype=x.dtype)


@functools.cache
def native_special(xp: Namespace, name: str) -> Unary | None:
    """The library's own implementation of special function ``name`` for ``xp``, or None."""
    if compat.is_torch_namespace(xp):
        return getattr(importlib.import_module("torch").special, _TORCH_NAMES[name])
    if compat.is_jax_namespace(xp):
        special = importlib.import_module("jax.scipy.special")
        return getattr(special, _JAX_NAMES[name])
    if compat.is_cupy_namespace(xp):
        special = importlib.import_module("cupyx.scipy.special")
        return getattr(special, _SCIPY_NAMES[name])
    if compat.is_dask_namespace(xp):
        return _dask_native(name)
    if compat.is_numpy_namespace(xp):
        return _numpy_native(xp, name)
    return None


def _dispatch(name: str, xp: Namespace, x: Array) -> Array:
    native = native_special(xp, name)
    if native is not None:
        return native(x)
    return getattr(portable, name)(xp, x)


def _special_function(name: str, doc: str) -> Callable[[Namespace, Array], Array]:
    """The function ``name(xp, x)``: the native implementation of ``xp``, else the portable one."""

    def special_function(xp: Namespace, x: Array) -> Array:
        return _dispatch(name, xp, x)

    special_function.__name__ = special_function.__qualname__ = name
    special_function.__doc__ = doc
    return special_function


lgamma = _special_function("lgamma", "log|Γ(x)|, +inf at the poles (0 and the negative integers).")
digamma = _special_function("digamma", "ψ(x) = Γ'(x)/Γ(x).")
erf = _special_function("erf", "erf(x) = 2/√π ∫₀ˣ exp(-t²) dt.")
erfc = _special_function("erfc", "erfc(x) = 1 - erf(x), accurate for large x.")
i0e = _special_function("i0e", "exp(-|x|) I₀(x), the scaled modified Bessel function of order 0.")
i1e = _special_function("i1e", "exp(-|x|) I₁(x), the scaled modified Bessel function of order 1.")


def betaln(xp: Namespace, a: Array, b: Array) -> Array:
    """log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b), for a, b > 0.

    >>> import array_api_strict as xp
    >>> betaln(xp, xp.asarray(2.0), xp.asarray(3.0))  # log(1/12)
    Array(-2.48490665, dtype=array_api_strict.float64)
    """
    return lgamma(xp, a) + lgamma(xp, b) - lgamma(xp, a + b)


def lgamma_bregman(xp: Namespace, a: Array, b: Array) -> Array:
    """lgamma(b) − lgamma(a) − (b − a)·ψ(a) ≥ 0: the Bregman divergence of lgamma.

    KL between Gamma, Beta and Dirichlet laws is a sum of these; each is ≈ ψ'(a)(b − a)²/2,
    with no cancellation of the O(lgamma) terms left to the caller.

    >>> import array_api_strict as xp
    >>> lgamma_bregman(xp, xp.asarray(1.0), xp.asarray(2.0))  # 0 − 0 − 1·ψ(1) = γ
    Array(0.57721566, dtype=array_api_strict.float64)
    """
    return lgamma(xp, b) - lgamma(xp, a) - (b - a) * digamma(xp, a)


def softplus(xp: Namespace, x: Array) -> Array:
    """log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))."""
    return xp.maximum(x, xp.zeros_like(x)) + xp.log1p(xp.exp(-xp.abs(x)))
