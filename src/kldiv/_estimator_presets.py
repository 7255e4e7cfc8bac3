"""The settings of :func:`kldiv.kl_estimate`: :class:`EstimatorPreset`, and the presets that
reproduce each framework's KL estimate by name (:data:`ESTIMATOR_PRESETS`; the frameworks, their
files and versions are listed in :mod:`kldiv.estimators`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ._elementwise import K3_FORMS

__all__ = [
    "ESTIMATORS",
    "ESTIMATOR_PRESETS",
    "LOW_VAR_KL",
    "Bounds",
    "EstimatorPreset",
    "check_bounds",
    "check_name",
]

ESTIMATORS = ("k1", "k2", "k3", "abs", "low_var_kl")

Bounds = tuple[float, float]


def check_name(argument: str, value: Any, allowed: tuple[str, ...]) -> None:
    """A ``ValueError`` naming ``argument`` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        names = ", ".join(repr(name) for name in allowed)
        raise ValueError(f"{argument}={value!r} is not supported; use one of {names}")


def check_bounds(argument: str, value: Any, default: Bounds | None) -> Bounds | None:
    """``value`` as (low, high) floats, ``default`` when None; a clear error otherwise."""
    if value is None:
        return default
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise TypeError(f"{argument} must be a pair (low, high), got {value!r}")
    low, high = value
    for bound in (low, high):
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            raise TypeError(f"{argument} bounds must be real numbers, got {value!r}")
        if math.isnan(bound):
            raise ValueError(f"{argument} bounds must not be NaN, got {value!r}")
    if not low <= high:
        raise ValueError(f"{argument} must have low <= high, got {value!r}")
    return float(low), float(high)


@dataclass(frozen=True)
class EstimatorPreset:
    """How one framework computes its KL estimate: the settings :func:`kl_estimate` applies.

    Attributes
    ----------
    estimator : str
        'k1', 'k2', 'k3' or 'abs'.
    source : str
        The upstream framework, file and version the preset reproduces.
    log_ratio_clamp, clamp : tuple of float, optional
        Bounds of the log-ratio before the estimator, and of the value after it.
    straight_through : str, optional
        The estimator whose gradient the value carries (verl's ``+`` suffix), if any.
    k3_form : str
        The formula the framework writes for k3 (r = -delta), a key of
        ``kldiv._elementwise.K3_FORMS``.

    Examples
    --------
    >>> from kldiv import ESTIMATOR_PRESETS
    >>> ESTIMATOR_PRESETS["openrlhf:k3"].clamp
    (-10.0, 10.0)
    """

    estimator: str
    source: str
    log_ratio_clamp: Bounds | None = None
    clamp: Bounds | None = None
    straight_through: str | None = None
    k3_form: str = "expm1"

    def __post_init__(self) -> None:
        """Refuse settings :func:`kl_estimate` could not apply, naming the field."""
        check_name("estimator", self.estimator, ESTIMATORS)
        check_bounds("log_ratio_clamp", self.log_ratio_clamp, None)
        check_bounds("clamp", self.clamp, None)
        if self.straight_through is not None:
            check_name("straight_through", self.straight_through, ESTIMATORS[:-1])
        check_name("k3_form", self.k3_form, tuple(K3_FORMS))


_VERL = "verl verl/trainer/ppo/core_algos.py kl_penalty (0.7.0-125, b178a3c)"
_TRL_GRPO = "TRL trl/trainer/grpo_trainer.py (1.10.0.dev0, f2cd577)"
_TRL_PPO = "TRL trl/experimental/ppo/ppo_trainer.py (1.10.0.dev0, f2cd577)"
_OPENRLHF = "OpenRLHF openrlhf/models/utils.py compute_approx_kl (v0.11.0, 3c3be62)"
_SLIME = "slime slime/utils/ppo_utils.py compute_approx_kl (0.3.1-38, 624b824)"
_NAIVE_RATIO_FIRST, _NAIVE_ONE_FIRST = "(exp(r) - r) - 1", "(exp(r) - 1) - r"
_TEN = (-10.0, 10.0)


def _verl_presets() -> dict[str, EstimatorPreset]:
    low_var = EstimatorPreset("k3", _VERL, (-20.0, 20.0), _TEN, k3_form=_NAIVE_RATIO_FIRST)
    plain = {
        "kl": EstimatorPreset("k1", _VERL),
        "k1": EstimatorPreset("k1", _VERL),
        "abs": EstimatorPreset("abs", _VERL),
        "mse": EstimatorPreset("k2", _VERL),
        "k2": EstimatorPreset("k2", _VERL),
        "low_var_kl": low_var,
        "k3": low_var,
    }
    presets = {f"verl:{name}": preset for name, preset in plain.items()}
    for name, preset in plain.items():
        with_k2_gradient = EstimatorPreset(
            preset.estimator,
            preset.source,
            preset.log_ratio_clamp,
            preset.clamp,
            straight_through="k2",
            k3_form=preset.k3_form,
        )
        presets[f"verl:{name}+"] = with_k2_gradient
    return presets


#: Every preset by name, ``"<framework>:<name>"`` (read-only).
ESTIMATOR_PRESETS: Mapping[str, EstimatorPreset] = MappingProxyType(
    {
        **_verl_presets(),
        "trl:grpo": EstimatorPreset("k3", _TRL_GRPO, k3_form=_NAIVE_RATIO_FIRST),
        "trl:ppo": EstimatorPreset("k3", _TRL_PPO, k3_form=_NAIVE_ONE_FIRST),
        "trl:ppo-k1": EstimatorPreset("k1", _TRL_PPO),
        "openrlhf:k1": EstimatorPreset("k1", _OPENRLHF, clamp=_TEN),
        "openrlhf:k2": EstimatorPreset("k2", _OPENRLHF, clamp=_TEN),
        "openrlhf:k3": EstimatorPreset("k3", _OPENRLHF, clamp=_TEN, k3_form=_NAIVE_ONE_FIRST),
        "slime:k1": EstimatorPreset("k1", _SLIME),
        "slime:k2": EstimatorPreset("k2", _SLIME),
        "slime:k3": EstimatorPreset("k3", _SLIME, k3_form=_NAIVE_ONE_FIRST),
        "slime:low_var_kl": EstimatorPreset("k3", _SLIME, clamp=_TEN, k3_form=_NAIVE_ONE_FIRST),
    }
)

#: ``estimator='low_var_kl'`` without a preset: k3 with verl's clamps, in the expm1 form.
LOW_VAR_KL = EstimatorPreset("k3", "kldiv", (-20.0, 20.0), _TEN)
