"""Every public function and method of kldiv runs under ``jax.jit`` and on Dask without computing.

The names come from ``kldiv.__all__`` (modules expanded to their own ``__all__``, classes to their
public methods): a public name without an entry in :data:`ENTRIES` fails
:func:`test_every_public_name_has_an_entry`, so a new function cannot be forgotten, unless its
declaration in ``kldiv._capabilities.CAPABILITIES`` says why it does not run lazily (it is then
skipped with that reason; a name declared unsupported in a mode where it has an entry must fail
there: a strict xfail). Each entry runs a small call on NumPy (eagerly: the expected values) and
then through :func:`kldiv.testing.lazy_xp_function` in each mode; the lazy result must be an
array of the mode's library with the same values.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import array_api_compat as compat
import numpy as np
import pytest
from conformance.specs import FAMILIES, build, parameter_count, sample

import kldiv
from kldiv import distributions as dist
from kldiv import gaussian
from kldiv._capabilities import capability
from kldiv.testing import (
    Backend,
    assert_close,
    assert_same_kind,
    lazy_xp_function,
    patch_lazy_xp_functions,
)

from .conftest import load_backend

MODES = {"jit": Backend.JAX, "lazy-dask": Backend.DASK}

Arrays = tuple[np.ndarray, ...]


@dataclass(frozen=True)
class Entry:
    """``run(*arrays)`` exercises the name; ``inputs(rng)`` makes its NumPy arrays."""

    run: Callable[..., Any]
    inputs: Callable[[np.random.Generator], Arrays]


# --- inputs -----------------------------------------------------------------------------------


def _rows(count: int, shape: tuple[int, ...] = (3, 5)) -> Callable[[np.random.Generator], Arrays]:
    """``count`` arrays of probability rows (Dirichlet, so no zeros) of ``shape``."""
    return lambda rng: tuple(
        rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]) for _ in range(count)
    )


def _normals(count: int) -> Callable[[np.random.Generator], Arrays]:
    return lambda rng: tuple(rng.normal(size=(4, 3)) for _ in range(count))


def _scale_trils(rng: np.random.Generator, size: int = 3) -> np.ndarray:
    lower = np.tril(rng.normal(size=(2, size, size)), -1)
    return lower + np.eye(size) * rng.uniform(0.5, 2.0, size=(2, 1, size))


def _mvn_pair(rng: np.random.Generator) -> Arrays:
    return rng.normal(size=(2, 3)), _scale_trils(rng), rng.normal(size=(2, 3)), _scale_trils(rng)


def _low_rank_pair(rng: np.random.Generator) -> Arrays:
    def one() -> Arrays:
        return rng.normal(size=(2, 3)), rng.normal(size=(2, 3, 2)), rng.uniform(0.5, 2, (2, 3))

    return (*one(), *one())


# --- discrete functions and classes -----------------------------------------------------------


def _log(xp_array: Any) -> Any:
    return compat.array_namespace(xp_array).log(xp_array)


def _metric_runs(cls: type) -> dict[str, Entry]:
    """The public methods of a metric class, each in a short stream of updates."""

    def fed(p: Any, q: Any) -> Any:
        metric = cls()
        metric.update(p, q)
        return metric

    def merged(p: Any, q: Any) -> Any:
        first, second = fed(p, q), fed(q, p)
        return first.merge(second).compute()

    def reset(p: Any, q: Any) -> Any:
        metric = fed(p, q)
        metric.reset()
        metric.update(q, p)
        return metric.compute()

    def synced(p: Any, q: Any) -> Any:  # no process group: sync and unsync keep the state
        return fed(p, q).sync().unsync().compute()

    def saved(p: Any, q: Any) -> Any:
        state = fed(p, q).state_dict()
        return state["sum"], state["count"]

    def restored(p: Any, q: Any) -> Any:
        metric = cls()
        metric.load_state_dict(fed(p, q).state_dict())
        return metric.compute()

    name = cls.__name__
    return {
        name: Entry(lambda p, q: cls()(p, q), _rows(2)),
        f"{name}.update": Entry(
            lambda p, q: (fed(p, q).state.sum, fed(p, q).state.count), _rows(2)
        ),
        f"{name}.compute": Entry(lambda p, q: fed(p, q).compute(), _rows(2)),
        f"{name}.forward": Entry(lambda p, q: cls(reduction="none").forward(p, q), _rows(2)),
        f"{name}.merge": Entry(merged, _rows(2)),
        f"{name}.reset": Entry(reset, _rows(2)),
        f"{name}.sync": Entry(synced, _rows(2)),
        f"{name}.unsync": Entry(synced, _rows(2)),
        f"{name}.state_dict": Entry(saved, _rows(2)),
        f"{name}.load_state_dict": Entry(restored, _rows(2)),
    }


def _state_of_a_metric(p: Any, q: Any) -> Any:
    state = kldiv.KLDivergence(reduction="none")
    state.update(p, q)
    return state.state.rows


def _finished_state(p: Any, q: Any) -> Any:
    metric = kldiv.KLDivergence()
    metric.update(p, q)
    return metric.state.finish(metric.state.sum)


def _log_probabilities(rng: np.random.Generator) -> Arrays:
    """Per-token log-probabilities (policy, reference, old policy) and a padding mask."""
    logp_ref = -rng.gamma(2.0, size=(3, 5))
    logp = logp_ref + rng.normal(scale=3.0, size=(3, 5))
    mask = (np.arange(5) < np.asarray([[5], [2], [0]])).astype(np.float64)
    return logp, logp_ref, logp + rng.normal(size=(3, 5)), mask


def _kl_estimates(logp: Any, logp_ref: Any, logp_old: Any, mask: Any) -> Any:
    return (
        kldiv.kl_estimate(logp, logp_ref, preset="verl:low_var_kl+", mask=mask, aggregate="none"),
        kldiv.kl_estimate(logp, logp_ref, is_ratio=logp_old, mask=mask),
        kldiv.kl_estimate(logp, logp_ref, preset="openrlhf:k1", aggregate="seq-mean-token-mean"),
        kldiv.kl_estimate(logp, logp_ref, estimator="k2", aggregate="seq-mean-token-sum-norm"),
    )


def _topk_inputs(rng: np.random.Generator) -> Arrays:
    """Student logits, the teacher's top-3 log-probabilities and indices (floats), a row mask."""
    teacher = rng.normal(size=(4, 6))
    log_t = teacher - np.log(np.exp(teacher).sum(-1, keepdims=True))
    indices = np.argsort(-log_t, axis=-1)[:, :3]
    logprobs = np.take_along_axis(log_t, indices, -1)
    return rng.normal(size=(4, 6)), logprobs, indices.astype(np.float64), np.asarray([1, 1, 0, 1.0])


def _kl_topk(student: Any, logprobs: Any, indices: Any, mask: Any) -> Any:
    xp = compat.array_namespace(indices)
    index_dtype = xp.__array_namespace_info__().default_dtypes()["indexing"]
    positions = xp.astype(indices, index_dtype)
    return (
        kldiv.kl_topk(student, logprobs, positions, temperature=2.0, mask=mask),
        kldiv.kl_topk(student, logprobs, positions, tail="renormalize", reduction="none"),
        kldiv.kl_topk(student, logprobs, positions, tail="ignore", reduction="sum"),
    )


DISCRETE: dict[str, Entry] = {
    "kl_divergence": Entry(lambda p, q: kldiv.kl_divergence(p, q, reduction="none"), _rows(2)),
    "kl_div": Entry(lambda p, q: kldiv.kl_div(_log(q), p, reduction="batchmean"), _rows(2)),
    "KLDivLoss": Entry(lambda p, q: kldiv.KLDivLoss(reduction="sum")(_log(q), p), _rows(2)),
    "rel_entr": Entry(kldiv.rel_entr, _rows(2)),
    "entropy": Entry(lambda p: kldiv.entropy(p, base=2), _rows(1)),
    "cross_entropy": Entry(kldiv.cross_entropy, _rows(2)),
    "js_divergence": Entry(lambda p, q: kldiv.js_divergence(p, q, reduction="sum"), _rows(2)),
    "js_distance": Entry(kldiv.js_distance, _rows(2)),
    "jeffreys": Entry(lambda p, q: kldiv.jeffreys(p, q, reduction="none"), _rows(2)),
    "kl_div_logits": Entry(lambda s, t: kldiv.kl_div_logits(s, t, temperature=2.0), _normals(2)),
    "MetricState": Entry(_state_of_a_metric, _rows(2)),
    "MetricState.finish": Entry(_finished_state, _rows(2)),
    "kl_estimate": Entry(_kl_estimates, _log_probabilities),
    "kl_topk": Entry(_kl_topk, _topk_inputs),
    "reverse_kl_logits": Entry(
        lambda s, t: kldiv.reverse_kl_logits(s, t, temperature=2.0), _normals(2)
    ),
    "js_div_logits": Entry(
        lambda s, t: (
            kldiv.js_div_logits(s, t, beta=0.3, reduction="sum"),
            kldiv.js_div_logits(s, t, reduction="none"),
        ),
        _normals(2),
    ),
    **_metric_runs(kldiv.KLDivergence),
    **_metric_runs(kldiv.JensenShannonDivergence),
}

# --- the f-divergence family -------------------------------------------------------------------


def _samples(rng: np.random.Generator) -> Arrays:
    return rng.normal(size=7), rng.normal(size=5), rng.uniform(size=7), rng.uniform(size=5)


def _pearson_f(t: Any) -> Any:
    return (t - 1) ** 2


FDIV: dict[str, Entry] = {
    "hellinger": Entry(lambda p, q: kldiv.hellinger(p, q, reduction="none"), _rows(2)),
    "hellinger_squared": Entry(kldiv.hellinger_squared, _rows(2)),
    "total_variation": Entry(lambda p, q: kldiv.total_variation(p, q, reduction="sum"), _rows(2)),
    "chi2": Entry(lambda p, q: kldiv.chi2(p, q, kind="neyman"), _rows(2)),
    "renyi_divergence": Entry(
        lambda p, q: (
            kldiv.renyi_divergence(p, q, alpha=2.0, reduction="none"),
            kldiv.renyi_divergence(p, q, alpha=float("inf")),
        ),
        _rows(2),
    ),
    "alpha_divergence": Entry(lambda p, q: kldiv.alpha_divergence(p, q, alpha=0.5), _rows(2)),
    "bhattacharyya_coefficient": Entry(kldiv.bhattacharyya_coefficient, _rows(2)),
    "bhattacharyya_distance": Entry(kldiv.bhattacharyya_distance, _rows(2)),
    "tsallis_divergence": Entry(lambda p, q: kldiv.tsallis_divergence(p, q, q_index=2.0), _rows(2)),
    "power_divergence": Entry(lambda p, q: kldiv.power_divergence(p, q, lambda_=-0.5), _rows(2)),
    "psi": Entry(lambda p, q: kldiv.psi(p, q, base=2), _rows(2)),
    "f_divergence": Entry(lambda p, q: kldiv.f_divergence(p, q, _pearson_f), _rows(2)),
    "wasserstein_1d": Entry(
        lambda u, v, u_weights, v_weights: (
            kldiv.wasserstein_1d(u, v, u_weights, v_weights),
            kldiv.wasserstein_1d(u, v, p=2),
            kldiv.wasserstein_1d(u, v[None, :] * u_weights[:3, None], p=3),
        ),
        _samples,
    ),
}
DISCRETE.update(FDIV)
DISCRETE.update(_metric_runs(kldiv.HellingerDistance))
DISCRETE.update(_metric_runs(kldiv.TotalVariationDistance))

# --- kldiv.gaussian ---------------------------------------------------------------------------

GAUSSIAN: dict[str, Entry] = {
    "kl_standard_normal": Entry(
        lambda mu, log_var: gaussian.kl_standard_normal(mu, log_var, reduction="batchmean"),
        _normals(2),
    ),
    "kl_normal": Entry(gaussian.kl_normal, _normals(4)),
    "kl_mvn": Entry(gaussian.kl_mvn, _mvn_pair),
    "renyi_normal": Entry(
        lambda *arrays: (
            gaussian.renyi_normal(*arrays, alpha=0.5, reduction="sum"),
            gaussian.renyi_normal(*arrays, alpha=3.0, event_ndims=1),
        ),
        _normals(4),
    ),
    "bhattacharyya_normal": Entry(
        lambda *arrays: gaussian.bhattacharyya_normal(*arrays, coefficient=True, event_ndims=1),
        _normals(4),
    ),
    "hellinger_normal": Entry(gaussian.hellinger_normal, _normals(4)),
    "wasserstein2_normal": Entry(
        lambda *arrays: gaussian.wasserstein2_normal(*arrays, reduction="batchmean"), _normals(4)
    ),
    "renyi_mvn": Entry(
        lambda *arrays: (
            gaussian.renyi_mvn(*arrays, alpha=0.3),
            gaussian.renyi_mvn(*arrays, alpha=4.0),
        ),
        _mvn_pair,
    ),
    "bhattacharyya_mvn": Entry(gaussian.bhattacharyya_mvn, _mvn_pair),
    "hellinger_mvn": Entry(
        lambda *arrays: gaussian.hellinger_mvn(*arrays, squared=True), _mvn_pair
    ),
    "wasserstein2_mvn": Entry(gaussian.wasserstein2_mvn, _mvn_pair),
}
for _name in ("kl_mvn", "kl_normal", "kl_standard_normal"):
    DISCRETE[_name] = GAUSSIAN[_name]

# --- kldiv.distributions: each family as p in a registered pair -------------------------------


#: The families built from their parameters alone (the matrix ones have entries of their own).
SCALAR_FAMILIES = tuple(
    family
    for family in FAMILIES
    if family not in ("IndependentNormal", "MultivariateNormal", "LowRankMultivariateNormal")
)


#: The q family of each p family's pair (its own family where not said).
Q_FAMILY = {"Kumaraswamy": "Beta", "Chi2": "Gamma"}


def _family_entry(p_family: str) -> Entry:
    q_family = Q_FAMILY.get(p_family, p_family)
    p_count = parameter_count(p_family)

    def inputs(rng: np.random.Generator) -> Arrays:
        return (*sample(p_family, rng, (3,)), *sample(q_family, rng, (3,)))

    def run(*arrays: Any) -> Any:
        p = build(dist, p_family, arrays[:p_count])
        return dist.kl_divergence(p, build(dist, q_family, arrays[p_count:]))

    return Entry(run, inputs)


def _several_pairs(loc: Any, scale: Any, rate: Any, low: Any, width: Any) -> Any:
    return (
        dist.kl_divergence(dist.Normal(loc, scale), dist.Gumbel(loc + 1, scale)),
        dist.kl_divergence(dist.Gamma(rate, rate), dist.Exponential(rate)),
        dist.kl_divergence(dist.Uniform(low, low + width), dist.Normal(loc, scale)),
    )


def _independent(loc_p: Any, scale_p: Any, loc_q: Any, scale_q: Any) -> Any:
    p = dist.Independent(dist.Normal(loc_p, scale_p), 1)
    return dist.kl_divergence(p, dist.Independent(dist.Normal(loc_q, scale_q), 1))


def _mvn(loc_p: Any, tril_p: Any, loc_q: Any, tril_q: Any) -> Any:
    p = dist.MultivariateNormal(loc_p, scale_tril=tril_p)
    return dist.kl_divergence(p, dist.MultivariateNormal(loc_q, scale_tril=tril_q))


def _low_rank(*arrays: Any) -> Any:
    p = dist.LowRankMultivariateNormal(*arrays[:3])
    return dist.kl_divergence(p, dist.LowRankMultivariateNormal(*arrays[3:]))


DISTRIBUTIONS: dict[str, Entry] = {
    **{family: _family_entry(family) for family in SCALAR_FAMILIES},
    "kl_divergence": Entry(
        _several_pairs,
        lambda rng: (
            rng.normal(size=3),
            rng.uniform(0.5, 2, 3),
            rng.uniform(0.5, 3, 3),
            rng.normal(size=3),
            rng.uniform(0.5, 2, 3),
        ),
    ),
    "Independent": Entry(
        _independent, lambda rng: (*sample("Normal", rng, (2, 3)), *sample("Normal", rng, (2, 3)))
    ),
    "MultivariateNormal": Entry(_mvn, _mvn_pair),
    "LowRankMultivariateNormal": Entry(_low_rank, _low_rank_pair),
}

ENTRIES: dict[str, Entry] = {
    **DISCRETE,
    **{f"gaussian.{name}": entry for name, entry in GAUSSIAN.items()},
    **{f"distributions.{name}": entry for name, entry in DISTRIBUTIONS.items()},
}


def public_names() -> list[str]:
    """``kldiv.__all__`` with modules expanded to their ``__all__`` and classes to methods."""
    names = []
    for name in kldiv.__all__:
        value = getattr(kldiv, name)
        if inspect.ismodule(value):
            names += [f"{name}.{member}" for member in value.__all__]
        else:
            names.append(name)
    methods = []
    for name in names:
        value = _resolve(name)
        if inspect.isclass(value) and "." not in name:
            methods += [
                f"{name}.{method}"
                for method, member in {**_inherited(value), **vars(value)}.items()
                if not method.startswith("_") and inspect.isfunction(member)
            ]
    return sorted(set(names + methods))


def _inherited(cls: type) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for base in reversed(cls.__mro__[1:-1]):
        members.update(vars(base))
    return members


def _resolve(name: str) -> Any:
    value: Any = kldiv
    for part in name.split("."):
        value = getattr(value, part)
    return value


def _not_lazy_reason(name: str, mode: str) -> str | None:
    """Why ``name`` does not run in ``mode``, as declared; ``None`` where it is declared to."""
    declared = capability(name)
    if declared is None or declared.supports(mode):
        return None
    return declared.array_free or declared.notes or f"declared not to support {mode}"


def test_every_public_name_has_an_entry() -> None:
    missing = [
        name
        for name in public_names()
        if name not in ENTRIES and not all(_not_lazy_reason(name, mode) for mode in MODES)
    ]
    assert not missing, f"public names with no lazy-mode entry (add one to ENTRIES): {missing}"
    stale = sorted(set(ENTRIES) - set(public_names()))
    assert not stale, f"entries for names that are not public: {stale}"


def _cases() -> list[Any]:
    cases = []
    for name in public_names():
        for mode in MODES:
            reason = _not_lazy_reason(name, mode)
            marks: list[Any] = []
            if reason and name in ENTRIES:  # declared unsupported: it must fail
                marks = [pytest.mark.xfail(reason=reason, strict=True)]
            elif reason:
                marks = [pytest.mark.skip(reason=reason)]
            cases.append(pytest.param(name, mode, marks=marks, id=f"{name}-{mode}"))
    return cases


def _arrays(result: Any) -> list[Any]:
    if isinstance(result, tuple | list):
        return [array for item in result for array in _arrays(item)]
    return [result]


@pytest.mark.parametrize(("name", "mode"), _cases())
def test_runs_lazily(name: str, mode: str) -> None:
    entry = ENTRIES[name]
    backend = load_backend(MODES[mode])
    inputs = entry.inputs(np.random.default_rng(0))
    expected = _arrays(entry.run(*inputs))
    test_module = types.ModuleType("lazy_entry")
    test_module.run = lambda *arrays: entry.run(*arrays)
    lazy_xp_function(test_module.run)
    with patch_lazy_xp_functions(test_module, xp=backend.xp):
        result = _arrays(test_module.run(*(backend.from_numpy(a, "float64") for a in inputs)))
    assert len(result) == len(expected)
    for actual, desired in zip(result, expected, strict=True):
        assert_same_kind(actual, backend.xp, err_msg=name)
        assert_close(actual, np.asarray(desired), rtol=1e-10, atol=1e-12, err_msg=name)
