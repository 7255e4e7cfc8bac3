"""Inputs as users hold them: lists, tuples and Python numbers wherever an array goes, and
``torch.distributions`` objects wherever a kldiv family goes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conformance.specs import FAMILIES, build, sample, torch_kl, torch_pairs

import kldiv
import kldiv.distributions as kd
from kldiv.testing import assert_close, to_numpy

from .distribution_helpers import pair_ids, rng_for

torch = pytest.importorskip("torch")

P = [[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]]
Q = [[0.3, 0.3, 0.4], [0.25, 0.25, 0.5]]

#: Every discrete function and a couple of f-divergences, as ``call(p, q)``.
DISCRETE: dict[str, Callable[[Any, Any], Any]] = {
    "kl_divergence": kldiv.kl_divergence,
    "kl_div": lambda p, q: kldiv.kl_div(q, p),
    "rel_entr": kldiv.rel_entr,
    "entropy": kldiv.entropy,
    "entropy_of_p": lambda p, q: kldiv.entropy(p),
    "cross_entropy": kldiv.cross_entropy,
    "js_divergence": kldiv.js_divergence,
    "js_distance": kldiv.js_distance,
    "jeffreys": kldiv.jeffreys,
    "kl_div_logits": kldiv.kl_div_logits,
    "total_variation": kldiv.fdiv.total_variation,
    "chi2": kldiv.fdiv.chi2,
}


#: Families whose kldiv parameters are computed from torch's, not torch's tensors themselves:
#: torch's Chi2 holds ``concentration`` (``df`` is twice it); kldiv normalises ``probs`` (as torch).
COMPUTED_ON_CONVERSION = ("Chi2", "Categorical", "OneHotCategorical")


def _tuples(rows: list[list[float]]) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(row) for row in rows)


# --- array-likes and numbers ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(DISCRETE))
def test_lists_give_the_numbers_of_float64_numpy_arrays(name):
    call = DISCRETE[name]
    expected = call(np.asarray(P), np.asarray(Q))
    assert_close(call(P, Q), expected, rtol=0, atol=0)
    assert_close(call(_tuples(P), Q), expected, rtol=0, atol=0)


@pytest.mark.parametrize("name", [name for name in DISCRETE if name != "entropy_of_p"])
def test_a_list_takes_the_namespace_device_and_dtype_of_the_array(name):
    call = DISCRETE[name]
    p = torch.tensor(P, dtype=torch.float32)
    expected = call(p, torch.tensor(Q, dtype=torch.float32))
    assert_close(call(p, Q), expected, rtol=0, atol=0)
    assert_close(call(P, torch.tensor(Q, dtype=torch.float32)), expected, rtol=0, atol=0)


def test_lists_of_ints_are_float64_alone_and_the_arrays_dtype_with_an_array():
    counts_p, counts_q = [[1, 2, 1]], [[2, 1, 1]]
    expected = kldiv.kl_divergence(np.asarray(counts_p, float), np.asarray(counts_q, float))
    assert_close(kldiv.kl_divergence(counts_p, counts_q), expected)
    with_tensor = kldiv.kl_divergence(torch.tensor(counts_p, dtype=torch.float32), counts_q)
    assert_close(with_tensor, to_numpy(expected).astype(np.float32), rtol=1e-6)


def test_python_numbers_alone_are_float64_numpy():
    assert_close(kldiv.rel_entr(0.5, 0.25), np.float64(0.5 * np.log(2.0)))
    assert_close(kldiv.rel_entr(1, 2), np.float64(np.log(0.5)))


@pytest.mark.parametrize(
    ("q", "error", "message"),
    [
        ("uniform", TypeError, "q must be an array.*q is a str"),
        ({"a": 1.0}, TypeError, "q is a dict"),
        (["a", "b", "c"], TypeError, "q is a list that is not numeric"),
        ([[0.5, 0.5], [1.0]], ValueError, "q is a ragged list"),
        ([1j, 1.0, 0.0], TypeError, "q is a list of complex numbers"),
    ],
)
def test_bad_array_likes_name_the_argument_and_say_what_they_are(q, error, message):
    with pytest.raises(error, match=message):
        kldiv.kl_divergence(np.asarray([0.2, 0.3, 0.5]), q)
    with pytest.raises(error, match=message):
        kldiv.kl_divergence([0.2, 0.3, 0.5], q)


def test_lists_do_not_change():
    p = [[0.2, 0.8]]
    kldiv.kl_divergence(p, [[0.5, 0.5]])
    assert p == [[0.2, 0.8]]


def test_distribution_parameters_may_be_python_numbers_and_lists():
    normal = kd.Normal(0.0, 1.0)
    assert_close(normal.loc, np.float64(0.0))
    assert_close(kd.Normal([0.0, 1.0], 2).scale, np.asarray([2.0, 2.0]))
    scale = torch.tensor([1.0, 2.0], dtype=torch.float32)
    assert_close(kd.Normal([0, 1], scale).loc, torch.tensor([0.0, 1.0]))
    assert_close(
        kd.kl_divergence(kd.Normal(0.0, 1.0), kd.Normal(1.0, 1.0)), np.float64(0.5), rtol=1e-15
    )


@pytest.mark.parametrize(
    ("loc", "error", "message"),
    [
        ("zero", TypeError, "Normal: loc must be an array.*loc is a str"),
        ([[0.0], [1.0, 2.0]], ValueError, "Normal: loc is a ragged list"),
    ],
)
def test_bad_distribution_parameters_name_the_family_and_the_parameter(loc, error, message):
    with pytest.raises(error, match=message):
        kd.Normal(loc, 1.0)


# --- torch.distributions objects ------------------------------------------------------------


def _tensors(arrays: tuple[np.ndarray, ...]) -> tuple[Any, ...]:
    return tuple(torch.as_tensor(array) for array in arrays)


def _shared_families() -> list[str]:
    return [name for name in FAMILIES if hasattr(torch.distributions, FAMILIES[name].class_name
                                                   or name)]  # fmt: skip


@pytest.mark.parametrize("family", _shared_families())
def test_every_shared_family_converts_with_the_same_tensors(family):
    arrays = _tensors(sample(family, rng_for("from_torch", family), (2,)))
    theirs = build(torch.distributions, family, arrays)
    ours = kd.from_torch(theirs)
    reference = build(kd, family, arrays)
    assert type(ours) is type(reference)
    assert ours.batch_shape == reference.batch_shape
    assert ours.event_shape == reference.event_shape
    base, reference_base = ours, reference
    if isinstance(ours, kd.Independent):
        base, reference_base = ours.base_distribution, reference.base_distribution
    for name in base._given_names():
        assert_close(getattr(base, name), getattr(reference_base, name), rtol=1e-15)
    if family not in COMPUTED_ON_CONVERSION:
        held = _storages(theirs)
        for name in base._given_names():
            assert getattr(base, name).untyped_storage().data_ptr() in held, name


def _storages(dist: Any) -> set[int]:
    """The storages of the tensors a torch distribution holds, and those it wraps hold."""
    pointers = set()
    for value in vars(dist).values():
        if isinstance(value, torch.Tensor):
            pointers.add(value.untyped_storage().data_ptr())
        elif isinstance(value, torch.distributions.Distribution):
            pointers |= _storages(value)
    return pointers


@pytest.mark.parametrize(
    "parameterisation", ["covariance_matrix", "precision_matrix", "scale_tril"]
)
def test_multivariate_normal_keeps_the_parameterisation_it_was_built_with(parameterisation):
    loc, covariance = _tensors(sample("MultivariateNormal", rng_for("mvn", parameterisation), (2,)))
    tril = torch.linalg.cholesky(covariance)
    matrix = {
        "covariance_matrix": tril @ tril.mT,
        "precision_matrix": torch.linalg.inv(tril @ tril.mT),
        "scale_tril": tril,
    }[parameterisation]
    theirs = torch.distributions.MultivariateNormal(loc, **{parameterisation: matrix})
    ours = kd.from_torch(theirs)
    assert ours._given_names() == ("loc", parameterisation)
    assert getattr(ours, parameterisation).untyped_storage().data_ptr() == (
        matrix.untyped_storage().data_ptr()
    )
    assert_close(ours.scale_tril, tril, rtol=1e-10, atol=1e-12)


def test_the_given_alternative_is_kept_after_torch_computed_the_others():
    logits = torch.tensor([-40.0, 0.0, 3.0], dtype=torch.float64)
    bernoulli = torch.distributions.Bernoulli(logits=logits)
    bernoulli.probs  # torch computes and keeps probs
    assert kd.from_torch(bernoulli)._given_names() == ("logits",)
    loc, covariance = _tensors(sample("MultivariateNormal", rng_for("mvn-read"), (2,)))
    normal = torch.distributions.MultivariateNormal(loc, covariance_matrix=covariance)
    normal.scale_tril  # torch computes and keeps scale_tril
    assert kd.from_torch(normal)._given_names() == ("loc", "scale_tril")


def _pairs() -> list[tuple[str, str]]:
    """torch's pairs between shared families: every family against itself, and a spread of the
    pairs between two families."""
    shared = set(_shared_families())
    pairs = [pair for pair in torch_pairs() if set(pair) <= shared]
    across = [pair for pair in pairs if pair[0] != pair[1]]
    return [pair for pair in pairs if pair[0] == pair[1]] + across[::6]


@pytest.mark.parametrize("pair", _pairs(), ids=pair_ids(_pairs()))
def test_kl_of_torch_objects_is_ours_and_torchs(pair):
    p_family, q_family = pair
    rng = rng_for("kl_torch", *pair)
    p_arrays, q_arrays = sample(p_family, rng, (3,)), sample(q_family, rng, (3,))
    theirs = [
        build(torch.distributions, family, _tensors(arrays))
        for family, arrays in ((p_family, p_arrays), (q_family, q_arrays))
    ]
    result = kd.kl_divergence(*theirs)
    ours = kd.kl_divergence(build(kd, p_family, p_arrays), build(kd, q_family, q_arrays))
    assert_close(result, torch.as_tensor(to_numpy(ours)), rtol=1e-12, atol=1e-14)
    reference = torch_kl(p_family, p_arrays, q_family, q_arrays)
    assert_close(result, torch.as_tensor(reference), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    "pair",
    [("IndependentNormal", "MultivariateNormal"), ("LogNormal", "LogNormal")],
    ids=pair_ids([("IndependentNormal", "MultivariateNormal"), ("LogNormal", "LogNormal")]),
)
def test_kl_of_torch_objects_torch_has_no_pair_for(pair):
    p_family, q_family = pair
    rng = rng_for("kl_torch_lacks", *pair)
    p_arrays, q_arrays = sample(p_family, rng, (3,)), sample(q_family, rng, (3,))
    p = build(torch.distributions, p_family, _tensors(p_arrays))
    q = build(torch.distributions, q_family, _tensors(q_arrays))
    mixed = kd.kl_divergence(p, build(kd, q_family, _tensors(q_arrays)))
    result = kd.kl_divergence(p, q)
    assert_close(result, mixed, rtol=0, atol=0)
    reference = torch_kl(p_family, p_arrays, q_family, q_arrays)  # the same laws torch can pair
    assert_close(result, torch.as_tensor(reference), rtol=1e-10, atol=1e-12)


def test_unsupported_torch_families_are_named():
    with pytest.raises(NotImplementedError, match="StudentT"):
        kd.from_torch(torch.distributions.StudentT(torch.tensor(3.0)))
    with pytest.raises(NotImplementedError, match="StudentT"):
        kd.kl_divergence(
            torch.distributions.StudentT(torch.tensor(3.0)), torch.distributions.Normal(0.0, 1.0)
        )
    with pytest.raises(TypeError, match="torch.distributions object"):
        kd.from_torch(kd.Normal(0.0, 1.0))


def test_torch_objects_keep_torchs_validate_args_setting():
    normal = torch.distributions.Normal(torch.tensor(0.0), torch.tensor(1.0), validate_args=False)
    assert kd.from_torch(normal).validate_args is False


def test_import_kldiv_imports_no_torch():
    code = "import sys, kldiv, kldiv.distributions; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
