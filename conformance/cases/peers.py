"""The optional peers dit, pyitlib and POT as second references, converted by the README table.

Each entry is named ``<function>[<peer>]`` and is registered only when the peer imports, so the
suite runs without them. The rows are positive everywhere (dit drops zero-probability outcomes,
see :mod:`conformance.peer_references`); batches of rows of 2 to 40 outcomes, the reduction
cycling, ``base=2`` where kldiv has a base (the peers' own unit). The oracle is the mpmath one.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np

from conformance import oracle, oracle_fdiv, oracle_gaussian, peer_references
from conformance.cases.discrete import _call
from conformance.cases.fdiv import pearson
from conformance.cases.gaussian import call_gaussian
from conformance.cases.gaussian_fdiv import _mvn_cases
from conformance.registry import DASK_FLOAT64_ONLY, Case, register

Arrays = tuple[np.ndarray, ...]

SIZES = (2, 3, 7, 40)
REDUCTIONS = ("none", "mean", "sum")

#: Functions without a ``reduction`` (one value per row) and those with a ``base``.
NO_REDUCTION = ("entropy", "cross_entropy")
WITH_BASE = ("entropy", "cross_entropy", "js_divergence")

#: kldiv function → the options its peer cases cycle through.
PARAMETERS: dict[str, list[dict[str, Any]]] = {
    "renyi_divergence": [{"alpha": alpha} for alpha in (0.5, 2.0, 3.5)],
    "tsallis_divergence": [{"q_index": index} for index in (0.5, 2.0, 3.0)],
    "alpha_divergence": [{"alpha": alpha} for alpha in (-2.0, -0.5, 0.5, 3.0)],
    "f_divergence": [{"f": pearson}],
}


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _options(name: str, index: int) -> dict[str, Any]:
    choices = PARAMETERS.get(name, [{}])
    kwargs = dict(choices[index % len(choices)])
    if name not in NO_REDUCTION:
        kwargs["reduction"] = REDUCTIONS[index % len(REDUCTIONS)]
    if name in WITH_BASE:
        kwargs["base"] = 2.0
    return kwargs


#: Declared deviations of the near-equal case, by entry name.
NEAR_EQUAL_DEVIATIONS = {"hellinger[dit]": "dit-hellinger-sqrt-cancellation"}


def _row_cases(
    name: str, single: bool = False, near_equal_deviation: str | None = None
) -> Callable[[np.random.Generator], list[Case]]:
    """Batches of positive rows (weights in [0.05, 1), renormalised by both sides), and a
    near-equal batch, each with the next options."""

    def cases(rng: np.random.Generator) -> list[Case]:
        made = []
        for index, size in enumerate(SIZES):
            p, q = rng.uniform(0.05, 1.0, (2, 3, size))
            made.append(Case(f"rows-{size}", (p,) if single else (p, q), _options(name, index)))
        p = rng.uniform(0.05, 1.0, (2, 5))
        near = p * (1 + 1e-6 * rng.uniform(-1, 1, p.shape))
        arrays = (p,) if single else (p, near)
        options = _options(name, len(SIZES))
        made.append(Case("near-equal", arrays, options, deviation=near_equal_deviation))
        return made

    return cases


def _oracle_of(name: str) -> Callable[..., Any]:
    return oracle_fdiv.oracle(name) if name in oracle_fdiv.ROWS else getattr(oracle, name)


def _register_rows(peer: str, name: str, reference: Callable[..., Any]) -> None:
    register(
        name=f"{name}[{peer}]",
        kldiv=_call(name),
        reference=reference,
        oracle=_oracle_of(name),
        cases=_row_cases(name, name == "entropy", NEAR_EQUAL_DEVIATIONS.get(f"{name}[{peer}]")),
        dtypes=("float64", "float32"),
        dtypes_on=DASK_FLOAT64_ONLY,
        tags=("fdiv", "peers", peer),
    )


def _wasserstein_cases(rng: np.random.Generator) -> list[Case]:
    """Batched histograms: shared positions with per-row weights, per-row samples, broadcast."""
    positions = np.linspace(0.0, 1.0, 9)
    weights = rng.uniform(0.0, 1.0, (2, 3, 9))
    samples = rng.normal(size=(2, 4, 15)), rng.normal(1.0, 2.0, size=(2, 4, 11))
    equal = (np.ones(15), np.ones(11))
    return [
        Case("histograms-p1", (positions, positions + 0.05, *weights), {"p": 1}),
        Case("histograms-p2", (positions, positions[::-1].copy(), *weights), {"p": 2}),
        Case("samples-p3", (*samples, *equal), {"p": 3}),
        Case("samples-broadcast-p2", (samples[0][0], samples[1], equal[0], equal[1]), {"p": 2}),
    ]


def _wasserstein_oracle(*arrays: np.ndarray, p: float = 1) -> np.ndarray:
    """The mpmath W_p of each row (:func:`conformance.oracle_fdiv.wasserstein_rows`)."""

    def one(*rows: np.ndarray) -> float:
        return float(oracle_fdiv.oracle_call(oracle_fdiv.wasserstein_rows, *rows, p=p))

    return peer_references.row_by_row(one, *arrays)


if _installed("dit"):
    for _name in peer_references.DIT_MEASURES:
        _register_rows("dit", _name, peer_references.dit_measure(_name))

if _installed("pyitlib"):
    for _name, _reference in (
        ("kl_divergence", peer_references.pyitlib_kl_divergence),
        ("js_divergence", peer_references.pyitlib_js_divergence),
        ("jeffreys", peer_references.pyitlib_jeffreys),
        ("cross_entropy", peer_references.pyitlib_cross_entropy),
        ("entropy", peer_references.pyitlib_entropy),
    ):
        _register_rows("pyitlib", _name, _reference)

if _installed("ot"):
    register(
        name="wasserstein_1d[POT]",
        kldiv=_call("wasserstein_1d"),
        reference=peer_references.pot_wasserstein_1d,
        oracle=_wasserstein_oracle,
        cases=_wasserstein_cases,
        dtypes=("float64", "float32"),
        dtypes_on=DASK_FLOAT64_ONLY,
        tags=("fdiv", "peers", "POT"),
    )
    register(
        name="gaussian.wasserstein2_mvn[POT]",
        kldiv=call_gaussian("wasserstein2_mvn"),
        reference=peer_references.pot_bures_wasserstein,
        oracle=oracle_gaussian.wasserstein2_mvn,
        cases=_mvn_cases([{}, {"squared": True}]),
        dtypes=("float64", "float32"),
        dtypes_on=DASK_FLOAT64_ONLY,
        tags=("gaussian", "peers", "POT"),
    )
