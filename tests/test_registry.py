"""Dispatch of kldiv.distributions.kl_divergence: most specific pair, misses, user pairs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import kldiv.distributions as kd
from kldiv.distributions import _registry

from .backends import to_numpy


class Narrow(kd.Normal):
    """A Normal subclass with no pairs of its own."""


class Narrower(Narrow):
    """Two levels below Normal."""


def test_subclasses_use_the_parent_pair(xp: Any) -> None:
    p = Narrower(xp.asarray([0.0, 1.0], dtype=xp.float64), 1.0)
    q = kd.Normal(xp.asarray(0.0, dtype=xp.float64), 1.0)
    assert to_numpy(kd.kl_divergence(p, q)).tolist() == [0.0, 0.5]


def test_most_specific_pair_wins() -> None:
    import array_api_compat.numpy as xp

    calls: list[str] = []

    @kd.register_kl(Narrow, kd.Normal)
    def _narrow_normal(p: Any, q: Any) -> Any:
        calls.append("narrow-normal")
        return xp.zeros(p.batch_shape)

    @kd.register_kl(Narrower, kd.Normal)
    def _narrower_normal(p: Any, q: Any) -> Any:
        calls.append("narrower-normal")
        return xp.zeros(p.batch_shape)

    try:
        p = Narrower(xp.zeros(2), 1.0)
        kd.kl_divergence(p, kd.Normal(xp.zeros(2), 1.0))
        kd.kl_divergence(Narrow(xp.zeros(2), 1.0), kd.Normal(xp.zeros(2), 1.0))
        kd.kl_divergence(p, Narrow(xp.zeros(2), 1.0))
        assert calls == ["narrower-normal", "narrow-normal", "narrower-normal"]
    finally:
        del _registry._REGISTRY[Narrow, kd.Normal]
        del _registry._REGISTRY[Narrower, kd.Normal]
        _registry._dispatch.cache_clear()


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


def test_every_torch_pair_is_registered() -> None:
    """Every concrete pair torch registers has a kldiv pair (abstract bases excepted)."""
    torch = pytest.importorskip("torch")
    abstract = {"ExponentialFamily", "TransformedDistribution"}
    missing = []
    for torch_p, torch_q in torch.distributions.kl._KL_REGISTRY:
        if {torch_p.__name__, torch_q.__name__} & abstract:
            continue
        ours_p, ours_q = getattr(kd, torch_p.__name__), getattr(kd, torch_q.__name__)
        if _registry._dispatch(ours_p, ours_q) is None:
            missing.append(f"{torch_p.__name__} -> {torch_q.__name__}")
    assert not missing, missing


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


def test_one_hot_categorical_and_categorical_do_not_mix():
    """Their events live in different spaces: torch raises, and so do we (no subclass fallback)."""
    from kldiv.distributions import Categorical, OneHotCategorical, kl_divergence

    probs = np.array([[0.2, 0.8]])
    with pytest.raises(NotImplementedError, match="OneHotCategorical and q type Categorical"):
        kl_divergence(OneHotCategorical(probs=probs), Categorical(probs=probs))
    with pytest.raises(NotImplementedError, match="Categorical and q type OneHotCategorical"):
        kl_divergence(Categorical(probs=probs), OneHotCategorical(probs=probs))
