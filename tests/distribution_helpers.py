"""What the tests of kldiv.distributions share: building a pair on a backend, seeds, test ids.

Families are sampled and built through :mod:`conformance.specs` (one source with the conformance
suite); this module only puts them on the backend under test.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

import numpy as np
from conformance.specs import build

import kldiv.distributions as kd

Pair = tuple[str, str]


def pair_id(pair: Pair) -> str:
    """``"P-Q"``: the test id of a pair."""
    return "-".join(pair)


def pair_ids(pairs: Iterable[Pair]) -> list[str]:
    """The test ids of ``pairs``."""
    return [pair_id(pair) for pair in pairs]


def rng_for(*names: str) -> np.random.Generator:
    """A generator seeded from ``names``: the same in every process (``hash`` is not)."""
    return np.random.default_rng(zlib.crc32("-".join(names).encode()))


def on_backend(xp: Any, family: str, arrays: Iterable[Any], dtype: Any = None) -> Any:
    """``family`` in kldiv, its parameters as ``xp`` arrays of ``dtype`` (default float64)."""
    dtype = xp.float64 if dtype is None else dtype
    return build(kd, family, tuple(xp.asarray(array, dtype=dtype) for array in arrays))


def kl_on(
    xp: Any,
    p_family: str,
    p_arrays: Iterable[Any],
    q_family: str,
    q_arrays: Iterable[Any],
    dtype: Any = None,
) -> Any:
    """kldiv's KL(p ‖ q) with both sides' parameters as ``xp`` arrays of ``dtype``."""
    return kd.kl_divergence(
        on_backend(xp, p_family, p_arrays, dtype), on_backend(xp, q_family, q_arrays, dtype)
    )
