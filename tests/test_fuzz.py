"""Malformed calls of every public function, from one declaration of their arguments.

:data:`SIGNATURES` declares each public callable's arguments (:mod:`tests.fuzz_calls` builds
valid calls from it and mutates them). For every generated call:

- a call that holds a mutation which must be refused (a wrong type, a complex dtype, an unknown
  reduction, an axis out of range, a non-finite temperature, a lone shape that does not
  broadcast, a lone array of another library or device) raises;
- whatever is raised is ``TypeError``, ``ValueError`` or ``NotImplementedError`` (documented
  ``RuntimeError`` for metric methods), and its message names a mutated argument;
- no input changes (read-only NumPy arrays, and a checksum of every array before and after);
- a metric whose update fails holds the state it had before.

The default run makes :data:`FAST_EXAMPLES` calls per function; ``pytest -m slow
tests/test_fuzz.py -s`` (``nox -s fuzz``) makes :data:`SLOW_EXAMPLES` and prints the counts.
"""

from __future__ import annotations

import collections
import inspect
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import kldiv
import kldiv.distributions as dist
from kldiv.estimators import AGGREGATES, ESTIMATORS

# The calls mix libraries and devices (array-api-strict's second device): the full environment.
pytest.importorskip("array_api_strict")

from .fuzz_calls import (
    ARRAY_KINDS,
    Arg,
    Call,
    Option,
    Signature,
    add_option_kind,
    draw_call,
    fingerprint,
    fingerprints,
    names_argument,
    to_library,
)

FAST_EXAMPLES = 30
RANK_CHANGES = ("zero_d", "number", "huge_rank", "list")
DOCUMENTED_OR_STATE = (TypeError, ValueError, NotImplementedError)
SLOW_EXAMPLES = 10_000

add_option_kind("estimator", Option(ESTIMATORS, refused=("k4", "", "K3", 3, None)))
add_option_kind("aggregate", Option(AGGREGATES, refused=("mean", "", 0, None)))
add_option_kind(
    "tail", Option(("bucket", "renormalize", "ignore"), refused=("Bucket", "", 1, None))
)
add_option_kind("last_axis", Option((-1, 1), refused=(64, -65, 1.5, "-1", None)))
add_option_kind(
    "preset", Option((None, "verl:low_var_kl", "trl:grpo"), refused=("verl:k9", "k3", "", 1))
)
add_option_kind("straight_through", Option((None, "k2"), refused=("k9", "", 2)))
add_option_kind("chi2_kind", Option(("pearson", "neyman"), refused=("gauss", "", None, 1)))
add_option_kind("lambda", Option((2 / 3, 1.0, 0.0, "cressie-read"), refused=("nope", "x", None)))
add_option_kind("p_order", Option((1, 2, 1.5), refused=(0, -1.0, "1", None, float("nan"))))
add_option_kind("epsilon", Option((1e-4, 1e-2), refused=(-1.0, float("nan"), "x")))
add_option_kind("unit_number", Option((0.5, 0.1, 0.9), refused=("x", None), odd=(0.0, 1.0, -1.0)))
add_option_kind("value", Option((True, False, None), refused=("yes", 1, 0.0)))
add_option_kind("reinterpreted", Option((1,), refused=(-1, 1.5, "1", 5)))


def arrays(*names: str, kind: str = "probs") -> tuple[Arg, ...]:
    return tuple(Arg(name, kind) for name in names)


def keywords(**kinds: str) -> tuple[Arg, ...]:
    return tuple(Arg(name, kind, keyword=True) for name, kind in kinds.items())


ROW_OPTIONS = keywords(log_prob="bool", reduction="rowwise", axis="axis", validate_args="validate")
PAIR = arrays("p", "q")


def function(fn: Callable[..., Any]) -> Callable[[Call, str], Any]:
    """Call ``fn`` with the call's arguments."""
    return lambda call, library: fn(*call.positional.values(), **call.keyword)


def row_function(name: str, *extra: Arg) -> Signature:
    """A divergence with kl_divergence's signature (p, q, log_prob, reduction, axis, ...)."""
    return Signature(name, function(getattr(kldiv, name)), PAIR + ROW_OPTIONS + extra)


def family(name: str, *params: tuple[str, str]) -> Signature:
    """A distribution constructor: parameters by keyword, validate_args."""
    args = tuple(Arg(param, kind, keyword=True) for param, kind in params)
    cls = getattr(dist, name)
    return Signature(
        f"distributions.{name}({', '.join(p for p, _ in params)})",
        function(cls),
        (*args, Arg("validate_args", "validate", keyword=True)),
    )


def metric_update(cls: type) -> Signature:
    """``cls(**options).update(p, q)`` after a valid update; the state must survive a failure."""

    def call(call: Call, library: str) -> Any:
        metric = cls(**call.keyword)
        batch = ARRAY_KINDS["probs"](np.random.default_rng(0), (2, 3))
        if metric.axis in (-1, 1):
            metric.update(to_library(batch, library), to_library(batch, library))
        before = _state_print(metric)
        try:
            metric.update(*call.positional.values())
        except BaseException:
            STATS.states_changed += before != _state_print(metric)
            STATS.states_checked += 1
            raise

    return Signature(f"{cls.__name__}.update", call, PAIR + ROW_OPTIONS)


def _state_print(metric: Any) -> tuple[Any, ...]:
    """The metric's state object and a checksum of each of its arrays."""
    state = metric.state
    return (
        id(state),
        fingerprint(state.sum),
        fingerprint(state.count),
        *map(fingerprint, state.rows),
    )


def mvn_pair(call: Call, library: str) -> Any:
    """``distributions.kl_divergence`` of two MultivariateNormal built from the arrays."""
    a = call.positional
    p = dist.MultivariateNormal(a["loc_p"], scale_tril=a["scale_tril_p"], **call.keyword)
    q = dist.MultivariateNormal(a["loc_q"], scale_tril=a["scale_tril_q"], **call.keyword)
    return dist.kl_divergence(p, q)


def normal_gamma_pair(call: Call, library: str) -> Any:
    """``distributions.kl_divergence`` of Normal against Gamma: no closed form registered."""
    a = call.positional
    return dist.kl_divergence(dist.Normal(a["loc"], a["scale"]), dist.Gamma(a["scale"], a["scale"]))


MVN = (
    Arg("loc_p", "vector"),
    Arg("scale_tril_p", "tril"),
    Arg("loc_q", "vector"),
    Arg("scale_tril_q", "tril"),
)

NORMAL_PAIR = arrays("mu_p", "log_var_p", "mu_q", "log_var_q", kind="real")
NORMAL_OPTIONS = keywords(
    reduction="pointwise", clamp_min="clamp_min", clamp_max="clamp_max", validate_args="validate"
)


def gaussian_pair(name: str, *extra: Arg) -> Signature:
    """A function of :mod:`kldiv.gaussian`: diagonal (``*_normal``) or Cholesky (``*_mvn``)."""
    args = (
        NORMAL_PAIR + NORMAL_OPTIONS
        if name.endswith("_normal")
        else (
            *MVN,
            *keywords(validate_args="validate"),
        )
    )
    return Signature(name, function(getattr(kldiv.gaussian, name)), (*args, *extra))


def logits_pair(name: str, *extra: Arg) -> Signature:
    """A divergence from logits with kl_div_logits' signature."""
    return Signature(
        name,
        function(getattr(kldiv, name)),
        arrays("input_logits", "target_logits", kind="logits")
        + keywords(
            temperature="positive_number",
            reduction="pointwise",
            axis="axis",
            validate_args="validate",
        )
        + extra,
    )


SIGNATURES: list[Signature] = [
    Signature("rel_entr", function(kldiv.rel_entr), (*PAIR, *keywords(validate_args="validate"))),
    Signature(
        "kl_div",
        function(kldiv.kl_div),
        (
            *arrays("input", kind="logprobs"),
            *arrays("target"),
            *keywords(reduction="pointwise", log_target="bool", validate_args="validate"),
        ),
    ),
    Signature(
        "KLDivLoss",
        lambda call, library: kldiv.KLDivLoss(**call.keyword)(*call.positional.values()),
        (
            *arrays("input", kind="logprobs"),
            *arrays("target"),
            *keywords(reduction="pointwise", log_target="bool", validate_args="validate"),
        ),
    ),
    row_function("kl_divergence"),
    Signature(
        "entropy",
        function(kldiv.entropy),
        (
            Arg("p", "probs"),
            Arg("q", "probs", optional=True),
            *keywords(base="log_base", axis="axis", validate_args="validate"),
        ),
    ),
    Signature(
        "cross_entropy",
        function(kldiv.cross_entropy),
        PAIR + keywords(base="log_base", axis="axis", validate_args="validate"),
    ),
    row_function("js_divergence", *keywords(base="log_base")),
    Signature(
        "js_distance",
        function(kldiv.js_distance),
        PAIR + keywords(base="log_base", axis="axis", validate_args="validate"),
    ),
    row_function("jeffreys"),
    logits_pair("kl_div_logits"),
    Signature(
        "kl_topk",
        function(kldiv.kl_topk),
        (
            Arg("student_logits", "logits"),
            Arg("teacher_topk_logprobs", "topk_logprobs"),
            Arg("teacher_topk_indices", "topk_indices"),
            Arg("mask", "row_mask", keyword=True, optional=True),
            *keywords(tail="tail", temperature="positive_number", reduction="pointwise"),
            *keywords(axis="last_axis", validate_args="validate"),
        ),
    ),
    row_function("hellinger"),
    row_function("hellinger_squared"),
    row_function("total_variation"),
    row_function("bhattacharyya_coefficient"),
    row_function("bhattacharyya_distance", *keywords(base="log_base")),
    row_function("chi2", *keywords(kind="chi2_kind")),
    row_function("renyi_divergence", *keywords(alpha="real_number", base="log_base")),
    row_function("alpha_divergence", *keywords(alpha="real_number")),
    row_function("tsallis_divergence", *keywords(q_index="real_number")),
    row_function("power_divergence", *keywords(lambda_="lambda")),
    row_function("psi", *keywords(epsilon="epsilon", base="log_base")),
    Signature(
        "f_divergence",
        lambda call, library: kldiv.f_divergence(
            call.positional["p"], call.positional["q"], lambda t: (t - 1) ** 2, **call.keyword
        ),
        PAIR + ROW_OPTIONS,
    ),
    Signature(
        "wasserstein_1d",
        function(kldiv.wasserstein_1d),
        (
            Arg("u_values", "values1d", group="u"),
            Arg("v_values", "values1d", group="v"),
            Arg("u_weights", "weights1d", optional=True, group="u"),
            Arg("v_weights", "weights1d", optional=True, group="v"),
            *keywords(p="p_order", validate_args="validate"),
        ),
    ),
    Signature(
        "kl_estimate",
        function(kldiv.kl_estimate),
        (
            *arrays("logp", "logp_ref", kind="logprobs"),
            Arg("mask", "mask", keyword=True, optional=True),
            *keywords(
                estimator="estimator",
                aggregate="aggregate",
                clamp="bounds",
                log_ratio_clamp="bounds",
                straight_through="straight_through",
                validate_args="validate",
            ),
        ),
    ),
    Signature(
        "kl_estimate(preset)",
        function(kldiv.kl_estimate),
        arrays("logp", "logp_ref", kind="logprobs") + keywords(preset="preset"),
    ),
    Signature(
        "kl_standard_normal",
        function(kldiv.kl_standard_normal),
        arrays("mu", "log_var", kind="real") + NORMAL_OPTIONS,
    ),
    gaussian_pair("kl_normal"),
    gaussian_pair("kl_mvn"),
    logits_pair("reverse_kl_logits"),
    logits_pair("js_div_logits", *keywords(beta="unit_number")),
    gaussian_pair("bhattacharyya_normal", *keywords(coefficient="bool")),
    gaussian_pair("hellinger_normal", *keywords(squared="bool")),
    gaussian_pair("wasserstein2_normal", *keywords(squared="bool")),
    gaussian_pair("renyi_normal", *keywords(alpha="real_number")),
    gaussian_pair("bhattacharyya_mvn", *keywords(coefficient="bool")),
    gaussian_pair("hellinger_mvn", *keywords(squared="bool")),
    gaussian_pair("wasserstein2_mvn", *keywords(squared="bool")),
    gaussian_pair("renyi_mvn", *keywords(alpha="real_number")),
    Signature("set_validate_args", function(kldiv.set_validate_args), (Arg("value", "value"),)),
    Signature(
        "EstimatorPreset",
        lambda call, library: kldiv.EstimatorPreset("k3", "source", **call.keyword),
        keywords(clamp="bounds", log_ratio_clamp="bounds", straight_through="straight_through"),
    ),
    Signature(
        "MetricState.from_arrays",
        lambda call, library: kldiv.MetricState.from_arrays(*call.positional.values(), (), None),
        (Arg("sum", "positive", group="sum"), Arg("count", "positive", group="count")),
    ),
    # Arrays of two libraries make p and q of two libraries: the message names the distributions.
    Signature("distributions.kl_divergence(MVN)", mvn_pair, (*MVN,), also_named=("p", "q")),
    Signature(
        "distributions.kl_divergence(Normal, Gamma)",
        normal_gamma_pair,
        (Arg("loc", "real"), Arg("scale", "positive")),
        also_named=("p", "q", "concentration", "rate"),  # Gamma(scale, scale)
    ),
    *(
        metric_update(cls)
        for cls in (
            kldiv.KLDivergence,
            kldiv.JensenShannonDivergence,
            kldiv.HellingerDistance,
            kldiv.TotalVariationDistance,
        )
    ),
    *(
        family(name, ("loc", "real"), ("scale", "positive"))
        for name in ("Normal", "Cauchy", "Laplace", "Gumbel", "LogNormal")
    ),
    family("HalfNormal", ("scale", "positive")),
    *(family(name, ("rate", "positive")) for name in ("Exponential", "Poisson")),
    family("Chi2", ("df", "positive")),
    family("Gamma", ("concentration", "positive"), ("rate", "positive")),
    *(
        family(name, ("concentration1", "positive"), ("concentration0", "positive"))
        for name in ("Beta", "Kumaraswamy")
    ),
    family("Weibull", ("scale", "positive"), ("concentration", "positive")),
    family("Pareto", ("scale", "positive"), ("alpha", "positive")),
    family("VonMises", ("loc", "real"), ("concentration", "positive")),
    family("Uniform", ("low", "unit"), ("high", "above_one")),
    family("Dirichlet", ("concentration", "positive")),
    *(
        family(name, ("probs", "unit"))
        for name in ("Bernoulli", "Binomial", "Geometric", "ContinuousBernoulli")
    ),
    family("Bernoulli", ("logits", "real")),
    *(family(name, ("probs", "probs")) for name in ("Categorical", "OneHotCategorical")),
    family("Categorical", ("logits", "logits")),
    *(
        family("MultivariateNormal", ("loc", "vector"), (factor, kind))
        for factor, kind in (
            ("scale_tril", "tril"),
            ("covariance_matrix", "spd"),
            ("precision_matrix", "spd"),
        )
    ),
    family(
        "LowRankMultivariateNormal",
        ("loc", "vector"),
        ("cov_factor", "low_rank"),
        ("cov_diag", "positive"),
    ),
]

#: Public callables fuzzed elsewhere in this module (objects of other libraries, not arrays).
FUZZED_BY_HAND = {
    "merge",
    "compute",
    "Independent",
    "from_torch",
    "from_numpyro",
    "register_kl",
    "Distribution",
}


class Stats:
    """What the generated calls did, per function (printed by the slow profile)."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.raised: collections.Counter[tuple[str, str]] = collections.Counter()
        self.mutated_inputs = 0
        self.states_changed = 0
        self.states_checked = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "raised": [[name, kind, n] for (name, kind), n in self.raised.items()],
            "mutated_inputs": self.mutated_inputs,
            "states_changed": self.states_changed,
            "states_checked": self.states_checked,
        }

    def report(self) -> str:
        lines = [f"{'function':52} {'calls':>7}  exceptions by type"]
        for name, calls in sorted(self.calls.items()):
            raised = {kind: n for (fn, kind), n in self.raised.items() if fn == name}
            shown = ", ".join(f"{kind} {n}" for kind, n in sorted(raised.items()))
            lines.append(f"{name:52} {calls:>7}  {shown}")
        totals = collections.Counter()
        for (_, kind), n in self.raised.items():
            totals[kind] += n
        lines.append(f"total calls {sum(self.calls.values())}; exceptions {dict(totals)}")
        lines.append(
            f"mutated inputs {self.mutated_inputs}; metric states changed by a failed update "
            f"{self.states_changed} (of {self.states_checked} failed updates)"
        )
        return "\n".join(lines)


STATS = Stats()


@pytest.fixture(scope="module", autouse=True)
def print_counts() -> Iterator[None]:
    yield
    if STATS.calls:
        print("\n" + STATS.report())


def save_counts() -> None:
    """With ``KLDIV_FUZZ_COUNTS`` naming a folder, save the counts so far there (one JSON file
    per process: xdist workers print nowhere)."""
    folder = os.environ.get("KLDIV_FUZZ_COUNTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        Path(folder, f"counts-{os.getpid()}.json").write_text(json.dumps(STATS.as_dict()))


def outcome(action: Callable[[], Any], documented: tuple[type[BaseException], ...]) -> Any:
    """What ``action`` raised among ``documented`` (None if nothing); anything else is a
    failure that names the exception."""
    try:
        action()
    except documented as error:
        return error
    except BaseException as error:
        raise AssertionError(f"raised {error!r}, not one of {documented}") from error
    return None


def check_call(signature: Signature, call: Call, library: str) -> None:
    """Make ``call`` and assert what every malformed call must respect."""
    before = fingerprints(call)
    STATS.calls[signature.name] += 1
    try:
        error = outcome(lambda: signature.call(call, library), signature.errors)
    except AssertionError as undocumented:
        STATS.raised[signature.name, type(undocumented.__cause__).__name__] += 1
        raise AssertionError(f"{signature.name}{call.describe()}: {undocumented}") from None
    finally:
        kldiv.set_validate_args(None)
        changed = fingerprints(call) != before
        STATS.mutated_inputs += changed
    assert not changed, f"{signature.name} changed an input of {call.describe()}"
    if error is None:
        assert not call.must_raise, f"{signature.name}{call.describe()} was accepted"
        return
    STATS.raised[signature.name, type(error).__name__] += 1
    names = [m.arg for m in call.mutations] + list(signature.also_named)
    if any(m.kind in RANK_CHANGES for m in call.mutations):
        names.append("axis")  # an axis valid before the rank changed may be the one at fault
    assert call.mutations, f"{signature.name} refused a valid call {call.describe()}: {error!r}"
    assert "read-only" not in str(error), f"{signature.name} wrote into {call.describe()}"
    assert names_argument(error, names), (
        f"{signature.name}{call.describe()}: the message names none of {names}: {error!r}"
    )


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # the message describes the call: no shrinking
    )


def run(signature: Signature, calls: int, calls_per_example: int = 1) -> None:
    """``calls`` generated calls of ``signature``, ``calls_per_example`` per Hypothesis example
    (several per example spread Hypothesis' own cost over more calls)."""

    @fuzz_settings(calls // calls_per_example)
    @given(data=st.data())
    def generated(data: Any) -> None:
        for _ in range(calls_per_example):
            call, library = draw_call(data, signature)
            check_call(signature, call, library)

    start = STATS.calls[signature.name]
    generated()
    assert STATS.calls[signature.name] - start >= calls
    save_counts()


IDS = [signature.name for signature in SIGNATURES]


@pytest.mark.parametrize("signature", SIGNATURES, ids=IDS)
def test_malformed_calls(signature: Signature) -> None:
    run(signature, FAST_EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("signature", SIGNATURES, ids=IDS)
def test_malformed_calls_many(signature: Signature) -> None:
    run(signature, SLOW_EXAMPLES, calls_per_example=10)


def test_every_public_callable_is_declared() -> None:
    declared = {signature.name.split("(")[0].split(".")[-1] for signature in SIGNATURES}
    declared |= {signature.name.split(".")[0] for signature in SIGNATURES}
    public = {
        name
        for module in (kldiv, kldiv.gaussian, kldiv.estimators, dist)
        for name in module.__all__
        if callable(getattr(module, name)) and not inspect.ismodule(getattr(module, name))
    }
    assert public - declared - FUZZED_BY_HAND == set()


METRICS = (
    kldiv.KLDivergence,
    kldiv.JensenShannonDivergence,
    kldiv.HellingerDistance,
    kldiv.TotalVariationDistance,
)


def other_metrics(cls: type, library: str) -> dict[str, Any]:
    """Metrics (and non-metrics) to merge into a ``cls`` metric holding ``library`` arrays:
    name -> (other, whether the merge must be refused)."""
    batch = ARRAY_KINDS["probs"](np.random.default_rng(1), (2, 3))

    def fed(metric: Any, where: str = library, device: Any = None) -> Any:
        arrays = [to_library(batch, where) for _ in range(2)]
        if device is not None:
            arrays = [array.to(device) if where == "torch" else array for array in arrays]
        metric.update(*arrays)
        return metric

    other_class = next(other for other in METRICS if other is not cls)
    elsewhere = "torch" if library != "torch" else "array_api_strict"
    return {
        "alike": (fed(cls()), False),
        "empty": (cls(), False),
        "other class": (fed(other_class()), True),
        "other reduction": (fed(cls(reduction="sum")), True),
        "other log_prob": (cls(log_prob=True), True),
        "other library": (fed(cls(), elsewhere), True),
        "not a metric": (object(), True),
        "None": (None, True),
        "an array": (to_library(batch, library), True),
    }


@pytest.mark.parametrize("cls", METRICS, ids=lambda cls: cls.__name__)
@fuzz_settings(FAST_EXAMPLES)
@given(data=st.data())
def test_failed_merge_and_compute_keep_the_state(cls: type, data: Any) -> None:
    library = data.draw(st.sampled_from(("numpy_readonly", "torch", "array_api_strict")))
    metric = cls()
    if data.draw(st.booleans(), label="fed"):
        batch = ARRAY_KINDS["probs"](np.random.default_rng(2), (2, 3))
        metric.update(to_library(batch, library), to_library(batch, library))
    others = other_metrics(cls, library)
    case = data.draw(st.sampled_from(sorted(others)), label="other")
    other, refused = others[case]
    refused = refused and (case != "other library" or not metric.state.empty)
    before = _state_print(metric)
    name = f"{cls.__name__}.merge"
    STATS.calls[name] += 1
    error = outcome(lambda: metric.merge(other), DOCUMENTED_OR_STATE)
    if error is not None:
        STATS.raised[name, type(error).__name__] += 1
        STATS.states_checked += 1
        STATS.states_changed += before != _state_print(metric)
    assert (error is not None) == refused, f"merging {case} into {metric!r}: {error!r}"
    assert before == _state_print(metric) or not refused
    failed = outcome(metric.compute, (RuntimeError,))  # documented: compute() before update()
    assert failed is None or metric.state.empty, repr(failed)


P = [[0.5, 0.5], [0.25, 0.75]]
REFUSALS = [
    (lambda: kldiv.kl_divergence(P, P, validate_args="yes"), TypeError, "validate_args"),
    (lambda: kldiv.kl_divergence(P, P, log_prob="yes"), TypeError, "log_prob"),
    (lambda: kldiv.kl_divergence(*[np.asarray(P)] * 2, log_prob=None), TypeError, "log_prob"),
    (lambda: kldiv.js_divergence(P, P, log_prob=1), TypeError, "log_prob"),
    (lambda: kldiv.kl_div(P, P, log_target=None), TypeError, "log_target"),
    (lambda: kldiv.kl_div_logits(P, P, temperature="2"), TypeError, "temperature"),
    (lambda: kldiv.entropy(P, base="e"), TypeError, "base"),
    (lambda: kldiv.kl_normal(P, P, P, P, clamp_min="x"), TypeError, "clamp_min"),
    (lambda: kldiv.kl_standard_normal(P, P, clamp_max=None), TypeError, "clamp_max"),
    (lambda: kldiv.EstimatorPreset("k3", "source", clamp=3.0), TypeError, "clamp"),
    (lambda: kldiv.EstimatorPreset("k9", "source"), ValueError, "estimator"),
    (lambda: kldiv.EstimatorPreset("k3", "s", straight_through=""), ValueError, "straight_through"),
    (lambda: kldiv.kl_estimate(P, P, clamp=(float("nan"), 1.0)), ValueError, "clamp"),
    (lambda: kldiv.set_validate_args("yes"), TypeError, "value"),
    (lambda: kldiv.kl_div_logits(np.zeros((3, 0)), np.zeros((3, 1))), ValueError, "input_logits"),
    *(
        (
            lambda f=f: f(np.zeros((3, 0)), np.zeros((3, 0)), validate_args=True),
            ValueError,
            "no classes",
        )
        for f in (kldiv.reverse_kl_logits, kldiv.js_div_logits)
    ),
    (lambda: kldiv.gaussian.hellinger_mvn(*[np.eye(2)] * 4, squared="yes"), TypeError, "squared"),
    (
        lambda: kldiv.gaussian.bhattacharyya_mvn(*[np.eye(2)] * 4, coefficient=1),
        TypeError,
        "coefficient",
    ),
    (lambda: kldiv.gaussian.wasserstein2_mvn(*[np.eye(2)] * 4, squared=None), TypeError, "squared"),
]


def test_renyi_of_infinite_order_on_empty_rows_is_nan() -> None:
    empty = np.zeros((2, 0))
    result = kldiv.renyi_divergence(empty, empty, alpha=float("inf"), reduction="none")
    assert np.isnan(result).all()


@pytest.mark.parametrize(("call", "error", "name"), REFUSALS)
def test_bad_options_are_refused_by_name(call: Callable[[], Any], error: type, name: str) -> None:
    with pytest.raises(error, match=rf"\b{name}\b"):
        call()


def test_non_finite_parameters_raise_no_floating_point_warning() -> None:
    import array_api_strict as strict

    eye = np.eye(2)[None]
    tril = np.array(eye, copy=True)
    tril[0, 0, 0] = -np.inf
    result = kldiv.kl_mvn(np.zeros((1, 2)), tril, np.zeros((1, 2)), eye)  # warnings are errors
    assert np.isnan(result).all() or not np.isfinite(result).all()
    logits = strict.asarray([[np.inf, np.inf, 0.0]])
    assert dist.Categorical(logits=logits, validate_args=False).batch_shape == (1,)
