"""Testing divergences across array libraries (as :mod:`numpy.testing`).

- :func:`assert_close` compares two arrays of any library: library, device, shape and dtype
  first, then the values, with per-dtype default :data:`TOLERANCES`; :func:`to_numpy` reads
  any array back.
- :func:`backends` lists the array libraries installed here (:class:`Backend`), each with its
  namespace, its real floating dtypes and conversions from and to NumPy.
- :func:`check` runs a divergence of your own against kldiv's on seeded and edge cases, on every
  backend and dtype, and names the first difference.
- :func:`lazy_xp_function` and :func:`patch_lazy_xp_functions` run tagged functions of a test
  under ``jax.jit`` and under a Dask scheduler that refuses to compute.

Importing this module imports none of torch, JAX, Dask or pytest: each loads when used.
"""

from ._assert import TOLERANCES, Tolerance, assert_close, assert_same_kind, to_numpy
from ._backends import Backend, BackendUnavailable, LoadedBackend, backends, float_dtypes
from ._cases import BATCH_SHAPES, LIKE_ARGUMENTS, describe_pair, edge_pairs, random_pairs
from ._check import CheckFailure, CheckReport, CheckRow, check
from ._lazy import lazy_xp_function, patch_lazy_xp_functions

__all__ = [
    "BATCH_SHAPES",
    "LIKE_ARGUMENTS",
    "TOLERANCES",
    "Backend",
    "BackendUnavailable",
    "CheckFailure",
    "CheckReport",
    "CheckRow",
    "LoadedBackend",
    "Tolerance",
    "assert_close",
    "assert_same_kind",
    "backends",
    "check",
    "describe_pair",
    "edge_pairs",
    "float_dtypes",
    "lazy_xp_function",
    "patch_lazy_xp_functions",
    "random_pairs",
    "to_numpy",
]
