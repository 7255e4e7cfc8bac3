"""kldiv._special: portable fallbacks against SciPy and mpmath, native paths on every backend."""

from __future__ import annotations

import importlib

import mpmath as mp
import numpy as np
import pytest

from kldiv import _special, _special_portable
from kldiv.testing import assert_close

sc = pytest.importorskip("scipy.special", reason="the reference values come from SciPy")

RNG = np.random.default_rng(20260)
POSITIVE = np.concatenate(
    [np.logspace(-300, 6, 400), RNG.uniform(0, 30, 2000), np.linspace(0.01, 20, 2001)]
)
NEGATIVE = -RNG.uniform(0, 40, 2000)
NEGATIVE = NEGATIVE[np.abs(NEGATIVE - np.round(NEGATIVE)) > 1e-3]  # poles: ill-conditioned
REAL = np.concatenate([RNG.uniform(-8, 8, 3000), np.linspace(-26, 26, 2001)])
BESSEL = np.concatenate([RNG.uniform(-60, 60, 3000), np.linspace(-700, 700, 2001), [0.0]])

# name -> (SciPy function, arguments, absolute floor: near a zero of the function relative
# accuracy is meaningless, the error there is a few ulps of the terms that cancel)
CASES = {
    "lgamma": (sc.gammaln, np.concatenate([POSITIVE, NEGATIVE]), 4e-16),
    "digamma": (sc.psi, np.concatenate([POSITIVE, NEGATIVE]), 2e-15),
    "erf": (sc.erf, REAL, 0.0),
    "erfc": (sc.erfc, REAL, 1e-300),
    "i0e": (sc.i0e, BESSEL, 0.0),
    "i1e": (sc.i1e, BESSEL, 0.0),
}
RTOL = 1e-13


def _strict() -> object:
    return pytest.importorskip("array_api_strict")


@pytest.mark.parametrize("name", sorted(CASES))
def test_portable_matches_scipy(name: str) -> None:
    xp = _strict()
    reference, arguments, floor = CASES[name]
    result = getattr(_special_portable, name)(xp, xp.asarray(arguments))
    assert_close(result, xp.asarray(reference(arguments)), rtol=RTOL, atol=floor)


@pytest.mark.parametrize(
    ("name", "mp_function"),
    [
        ("lgamma", lambda x: mp.log(abs(mp.gamma(x)))),
        ("digamma", mp.digamma),
        ("erf", mp.erf),
        ("erfc", mp.erfc),
        ("i0e", lambda x: mp.exp(-abs(x)) * mp.besseli(0, x)),
        ("i1e", lambda x: mp.exp(-abs(x)) * mp.besseli(1, x)),
    ],
)
def test_portable_matches_mpmath(name: str, mp_function: object) -> None:
    xp = _strict()
    arguments = np.array([0.3, 0.9, 1.7, 2.5, 4.2, 9.9, 12.9, 13.1, 19.9, 20.1, 45.0, -0.3, -3.7])
    result = getattr(_special_portable, name)(xp, xp.asarray(arguments))
    with mp.workdps(40):
        want = np.array([float(mp_function(mp.mpf(x))) for x in arguments])  # type: ignore[operator]
    assert_close(result, xp.asarray(want), rtol=RTOL, atol=1e-16)


def test_portable_edges() -> None:
    xp = _strict()
    poles = np.array([0.0, -1.0, -2.0, np.inf])
    exact = {"rtol": 0.0, "atol": 0.0}
    x = xp.asarray(poles)
    assert_close(_special_portable.lgamma(xp, x), xp.full(4, np.inf), **exact)
    assert_close(_special_portable.digamma(xp, x), xp.asarray(sc.psi(poles)), **exact)
    infinite = xp.asarray([-np.inf, np.inf])
    assert_close(_special_portable.erf(xp, infinite), xp.asarray([-1.0, 1.0]), **exact)
    assert_close(_special_portable.erfc(xp, infinite), xp.asarray([2.0, 0.0]), **exact)
    assert_close(_special_portable.i0e(xp, infinite), xp.asarray([0.0, 0.0]), **exact)
    nan = xp.asarray(np.nan)
    assert_close(_special_portable.lgamma(xp, nan), nan, **exact)


def test_portable_float32_stays_float32() -> None:
    xp = _strict()
    arguments = np.array([0.5, 3.0, 25.0])
    x = xp.asarray(arguments, dtype=xp.float32)
    for name, (reference, _, _) in CASES.items():
        result = getattr(_special_portable, name)(xp, x)
        desired = xp.asarray(reference(arguments), dtype=xp.float32)
        assert_close(result, desired, rtol=2e-6, atol=1e-38, err_msg=name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_backend(xp: object, name: str) -> None:
    reference, _, _ = CASES[name]
    arguments = np.array([[0.25, 1.5, 7.0], [12.5, 30.0, 0.75]])
    # float32: JAX's own digamma is good to ~3e-6; results below float32's range underflow to 0
    for dtype, rtol, atol in ((xp.float64, 1e-13, 0.0), (xp.float32, 1e-5, 1e-38)):  # type: ignore[attr-defined]
        x = xp.asarray(arguments, dtype=dtype)  # type: ignore[attr-defined]
        result = getattr(_special, name)(_namespace(x), x)
        desired = xp.asarray(reference(arguments), dtype=dtype)  # type: ignore[attr-defined]
        assert_close(result, desired, rtol=rtol, atol=atol)


def test_zero_dimensional_numpy_stays_an_array() -> None:
    xp = importlib.import_module("array_api_compat.numpy")
    result = _special.lgamma(xp, xp.asarray(3.0))
    assert isinstance(result, np.ndarray)
    assert result.shape == ()


def test_native_picked_per_backend(xp: object) -> None:
    namespace = _namespace(xp.asarray(1.0))  # type: ignore[attr-defined]
    native = _special.native_special(namespace, "lgamma")
    strict = importlib.util.find_spec("array_api_strict")
    if strict is not None and namespace is importlib.import_module("array_api_strict"):
        assert native is None
    else:
        assert native is not None


def test_betaln_and_softplus() -> None:
    xp = _strict()
    a, b = np.array([0.5, 2.0, 40.0]), np.array([3.0, 0.1, 60.0])
    result = _special.betaln(xp, xp.asarray(a), xp.asarray(b))
    assert_close(result, xp.asarray(sc.betaln(a, b)), rtol=1e-13)
    z = np.array([-800.0, -1.0, 0.0, 3.0, 800.0])
    result = _special.softplus(xp, xp.asarray(z))
    assert_close(result, xp.asarray(np.logaddexp(0, z)), rtol=1e-15, atol=0.0)


def _namespace(array: object) -> object:
    import array_api_compat

    return array_api_compat.array_namespace(array)
