"""Dispatch of kldiv.distributions.kl_divergence: the most specific pair, misses, users' pairs,
and the pair inventory of :mod:`conformance.specs` against torch's registry and kldiv's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from conformance.specs import EXTRA_PAIRS, FAMILIES, MPMATH_PAIRS, SUBCLASS_PAIRS, class_name

import kldiv.distributions as kd
from kldiv.distributions import _registry
from kldiv.testing import assert_close

FAMILY_CLASSES = sorted(
    name
    for name in kd.__all__
    if isinstance(getattr(kd, name), type) and getattr(kd, name) is not kd.Distribution
)


class Narrow(kd.Normal):
    """A Normal subclass with no pairs of its own."""


class Narrower(Narrow):
    """Two levels below Normal."""


@pytest.fixture
def register_pair(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """``register_pair(type_p, type_q)(function)``: ``kd.register_kl`` on a copy of the registry,
    which the test's end puts back (so no pair a test registers outlives it)."""
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    _registry._dispatch.cache_clear()
    yield kd.register_kl
    monkeypatch.undo()
    _registry._dispatch.cache_clear()


def test_subclasses_use_the_parent_pair(xp: Any) -> None:
    p = Narrower(xp.asarray([0.0, 1.0], dtype=xp.float64), 1.0)
    q = kd.Normal(xp.asarray(0.0, dtype=xp.float64), 1.0)
    assert_close(kd.kl_divergence(p, q), xp.asarray([0.0, 0.5], dtype=xp.float64))


def test_most_specific_pair_wins(register_pair: Callable[..., Any]) -> None:
    import array_api_compat.numpy as xp

    calls: list[str] = []

    @register_pair(Narrow, kd.Normal)
    def _narrow_normal(p: Any, q: Any) -> Any:
        calls.append("narrow-normal")
        return xp.zeros(p.batch_shape)

    @register_pair(Narrower, kd.Normal)
    def _narrower_normal(p: Any, q: Any) -> Any:
        calls.append("narrower-normal")
        return xp.zeros(p.batch_shape)

    p = Narrower(xp.zeros(2), 1.0)
    kd.kl_divergence(p, kd.Normal(xp.zeros(2), 1.0))
    kd.kl_divergence(Narrow(xp.zeros(2), 1.0), kd.Normal(xp.zeros(2), 1.0))
    kd.kl_divergence(p, Narrow(xp.zeros(2), 1.0))
    assert calls == ["narrower-normal", "narrow-normal", "narrower-normal"]


def test_miss_names_both_types() -> None:
    import array_api_compat.numpy as xp

    with pytest.raises(NotImplementedError) as error:
        kd.kl_divergence(kd.Cauchy(xp.zeros(2), 1.0), kd.Normal(xp.zeros(2), 1.0))
    assert str(error.value) == ("No KL(p || q) is implemented for p type Cauchy and q type Normal")


def test_register_rejects_non_families() -> None:
    with pytest.raises(TypeError, match="type_q"):
        kd.register_kl(kd.Normal, int)


def test_non_distributions_are_a_type_error() -> None:
    import array_api_compat.numpy as xp

    with pytest.raises(TypeError, match="q must be a kldiv distribution"):
        kd.kl_divergence(kd.Normal(xp.zeros(2), 1.0), object())  # type: ignore[arg-type]


def test_different_devices_are_a_value_error() -> None:
    strict = pytest.importorskip("array_api_strict")
    p = kd.Normal(strict.zeros(2), 1.0)
    q = kd.Normal(strict.zeros(2, device=strict.Device("device1")), 1.0)
    with pytest.raises(ValueError, match="different devices"):
        kd.kl_divergence(p, q)


def test_dtypes_promote() -> None:
    import array_api_compat.numpy as xp

    p = kd.Normal(xp.zeros(2, dtype=xp.float32), 1.0)
    q = kd.Normal(xp.zeros(2, dtype=xp.float64), 2.0)
    assert kd.kl_divergence(p, q).dtype == xp.float64


def test_one_hot_categorical_and_categorical_do_not_mix() -> None:
    """Their events live in different spaces: torch raises, and so do we (no subclass fallback)."""
    probs = np.array([[0.2, 0.8]])
    with pytest.raises(NotImplementedError, match="OneHotCategorical and q type Categorical"):
        kd.kl_divergence(kd.OneHotCategorical(probs=probs), kd.Categorical(probs=probs))
    with pytest.raises(NotImplementedError, match="Categorical and q type OneHotCategorical"):
        kd.kl_divergence(kd.Categorical(probs=probs), kd.OneHotCategorical(probs=probs))


# -- the pair inventory ------------------------------------------------------------------------


def test_every_family_class_has_a_spec() -> None:
    assert sorted({class_name(family) for family in FAMILIES}) == FAMILY_CLASSES


def test_every_torch_pair_is_registered() -> None:
    """Every pair torch registers between two families has a kldiv pair."""
    pytest.importorskip("torch")
    from conformance.specs import torch_pairs

    missing = [
        (p, q)
        for p, q in torch_pairs()
        if _registry._dispatch(getattr(kd, class_name(p)), getattr(kd, class_name(q))) is None
    ]
    assert not missing


def test_pairs_beyond_torch_are_the_listed_extras() -> None:
    """kldiv's pairs between public families that torch lacks are exactly :data:`EXTRA_PAIRS`."""
    pytest.importorskip("torch")
    from conformance.specs import torch_has

    beyond_torch = {
        (p, q)
        for p in FAMILY_CLASSES
        for q in FAMILY_CLASSES
        if _registry._dispatch(getattr(kd, p), getattr(kd, q)) is not None and not torch_has(p, q)
    }
    assert beyond_torch == {(class_name(p), class_name(q)) for p, q in EXTRA_PAIRS}


def test_mpmath_and_subclass_pairs_are_registered() -> None:
    for p, q in (*MPMATH_PAIRS, *SUBCLASS_PAIRS):
        assert _registry._dispatch(getattr(kd, class_name(p)), getattr(kd, class_name(q)))
