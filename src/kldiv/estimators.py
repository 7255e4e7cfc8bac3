"""Sample-based KL estimators for RL fine-tuning, and the presets of the frameworks that use them.

With tokens x sampled from the policy pi and ``delta = log pi(x) - log pi_ref(x)``, each estimator
is a per-token value whose expectation over x ~ pi approximates KL(pi ‖ pi_ref)
(J. Schulman, "Approximating KL divergence", 2020):

=========  =================================  ===============================================
name       per-token value                    properties
=========  =================================  ===============================================
``k1``     delta                              unbiased; high variance; can be negative
``k2``     delta² / 2                         biased; its gradient is the gradient of KL
``k3``     exp(-delta) - 1 + delta            unbiased, ≥ 0, low variance near pi = pi_ref
``abs``    abs(delta)                         biased; ≥ 0
=========  =================================  ===============================================

kldiv computes k3 as ``expm1(-delta) + delta`` through a series near 0 (exact to rounding; the
naive ``exp(-delta) - 1 + delta`` returns 0 or noise for abs(delta) below ~1e-8 in float64).
``low_var_kl`` (verl's name) is k3 with the log-ratio clamped to [-20, 20] and the value to
[-10, 10], unless ``log_ratio_clamp``/``clamp`` say otherwise.

Each call runs, per token: clamp delta (``log_ratio_clamp``), the estimator, times the importance
weight ``exp(logp - is_ratio)`` (``is_ratio``, gradient through ``logp`` as in TRL and slime),
clamp the value (``clamp``), then ``straight_through``: the value so far with the gradient of
another estimator of the raw delta (verl's ``+`` suffix; the importance weight and the clamps
then shape the value only). Then the masked ``aggregate``.

Presets reproduce a framework by name, rounding included (:data:`ESTIMATOR_PRESETS`):

=============================  =========================================  ==========
preset                         what the framework computes (r = -delta)   source
=============================  =========================================  ==========
``verl:kl``, ``verl:k1``       delta                                      verl
``verl:abs``                   abs(delta)                                 verl
``verl:mse``, ``verl:k2``      0.5 · delta²                               verl
``verl:low_var_kl``, ``k3``    clip((e^r' - r') - 1, -10, 10),            verl
                               r' = clip(r, -20, 20)
``verl:<name>+``               the value of <name>, the gradient of k2    verl
``trl:grpo``                   (e^r - r) - 1, no clamp                    TRL GRPO
``trl:ppo``                    (e^r - 1) - r (kl_estimator "k3")          TRL PPO
``trl:ppo-k1``                 -r = delta (TRL's default kl_estimator)    TRL PPO
``openrlhf:k1``, ``k2``        clip(delta, ±10), clip(delta²/2, ±10)      OpenRLHF
``openrlhf:k3``                clip((e^r - 1) - r, -10, 10)               OpenRLHF
``slime:k1``, ``k2``, ``k3``   delta, delta²/2, (e^r - 1) - r             slime
``slime:low_var_kl``           clip(k3 · IS weight, -10, 10)              slime
=============================  =========================================  ==========

Sources (each preset's ``source`` names its file):

* verl: ``verl/trainer/ppo/core_algos.py``, ``kl_penalty`` and ``kl_penalty_forward``
  (0.7.0-125, commit b178a3c);
* TRL GRPO: ``trl/trainer/grpo_trainer.py``; TRL PPO: ``trl/experimental/ppo/ppo_trainer.py``
  (1.10.0.dev0, commit f2cd577);
* OpenRLHF: ``openrlhf/models/utils.py``, ``compute_approx_kl`` (v0.11.0, commit 3c3be62);
* slime: ``slime/utils/ppo_utils.py``, ``compute_approx_kl`` (0.3.1-38, commit 624b824).

Quirks the presets keep, next to our default (``estimator="k3"``: expm1 form, no clamp):

* every framework writes k3 with ``exp`` and no ``expm1``: for abs(delta) ≲ 1e-8 (float64) or
  1e-4 (float32) the value is 0, noise or of the wrong sign; the order of operations differs
  (TRL GRPO and verl ``(e^r - r) - 1``; TRL PPO, OpenRLHF, slime ``(e^r - 1) - r``).
* OpenRLHF clamps every estimator's value to [-10, 10], k1 included (a log-ratio beyond ±10 is
  cut); verl clamps only ``low_var_kl``/``k3``, slime only ``low_var_kl`` (after the IS weight).
* OpenRLHF and slime cast to float32 first; kldiv keeps the input dtype (float64 stays float64).
* verl's ``+`` suffix makes even ``k1+`` and ``abs+`` carry k2's gradient (``k2+`` is ``k2``).
  The suffix is verl's documented behaviour (``docs/algo/grpo.md``); its ``kl_penalty`` at the
  commit above passes the suffixed name on to ``kl_penalty_forward``, which raises
  ``NotImplementedError``: the presets follow the documentation.

A preset fixes the estimator: ``estimator`` must then be left at its default or name the same
one (else ``ValueError``). ``clamp``, ``log_ratio_clamp``, ``straight_through`` and ``is_ratio``
passed explicitly override the preset's settings.

Aggregates follow verl's ``agg_loss`` (``core_algos.py``, same version); the sequence axis is the
last one, every other axis indexes sequences; masked tokens count nowhere (NaN there included):

* ``'none'``: per-token values, 0 where masked;
* ``'token-mean'``: Σ mask·v / Σ mask;
* ``'seq-mean-token-sum'``: the mean over sequences with at least one token of Σ_t mask·v;
* ``'seq-mean-token-mean'``: the mean over those sequences of their masked means (verl adds 1e-8
  to each token count; kldiv divides exactly);
* ``'seq-mean-token-sum-norm'``: Σ mask·v / horizon (the last axis' length; verl's default
  ``loss_scale_factor``). As in verl, there is no division by the number of sequences.
"""

from __future__ import annotations

from ._array import Array, Context, Namespace, broadcast_shapes, ignore_fp_warnings, prepare
from ._custom_grad import stop_gradient
from ._elementwise import K3_FORMS, KL_ESTIMATOR_TERMS
from ._estimator_presets import (
    ESTIMATOR_PRESETS,
    ESTIMATORS,
    LOW_VAR_KL,
    Bounds,
    EstimatorPreset,
    check_bounds,
    check_name,
)
from ._reduce import reduce_pointwise
from ._validate import any_value, check_finite_or_neg_inf, resolve_validate_args

__all__ = ["ESTIMATOR_PRESETS", "EstimatorPreset", "kl_estimate"]

AGGREGATES = (
    "none",
    "token-mean",
    "seq-mean-token-sum",
    "seq-mean-token-mean",
    "seq-mean-token-sum-norm",
)


@ignore_fp_warnings
def kl_estimate(
    logp: Array,
    logp_ref: Array,
    *,
    estimator: str = "k3",
    preset: str | None = None,
    clamp: Bounds | None = None,
    log_ratio_clamp: Bounds | None = None,
    straight_through: str | None = None,
    is_ratio: Array | None = None,
    mask: Array | None = None,
    aggregate: str = "token-mean",
    validate_args: bool | None = None,
) -> Array:
    """Sample-based estimate of KL(pi ‖ pi_ref) from per-token log-probabilities of x ~ pi.

    Parameters
    ----------
    logp, logp_ref : array
        Log-probabilities of the sampled tokens under the policy and the reference, any batch
        shape (typically ``(batch, sequence)``), broadcast together.
    estimator : {'k3', 'k1', 'k2', 'abs', 'low_var_kl'}
        The per-token estimator of ``delta = logp - logp_ref`` (see the module docstring).
    preset : str, optional
        A framework's settings by name, a key of :data:`ESTIMATOR_PRESETS` (``"verl:k3+"``,
        ``"trl:grpo"``, ``"openrlhf:k1"``, ...). Explicit options below override it.
    clamp : (float, float), optional
        Bounds of the per-token value (after the importance weight).
    log_ratio_clamp : (float, float), optional
        Bounds of ``delta`` before the estimator.
    straight_through : str, optional
        An estimator whose gradient (of the raw delta) replaces the value's: ``"k2"`` gives the
        gradient of KL itself.
    is_ratio : array, optional
        ``logp_old``: the value is multiplied by ``exp(logp - logp_old)`` (importance correction
        for tokens sampled from an older policy; the weight carries gradient through ``logp``).
    mask : array, optional
        Which tokens count (bool or 0/1, broadcast to the values' shape).
    aggregate : str
        'none', 'token-mean', 'seq-mean-token-sum', 'seq-mean-token-mean' or
        'seq-mean-token-sum-norm'; the sequence axis is the last one.
    validate_args : bool, optional
        Check values (NaN or +inf log-probabilities, a mask other than 0/1); off by default.

    Returns
    -------
    array
        The per-token values (``'none'``) or their aggregate (0-d), in the inputs' library,
        device and dtype.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import kldiv
    >>> logp = xp.asarray([[-1.0, -2.0, -0.5], [-0.3, -1.2, -9.0]])
    >>> logp_ref = xp.asarray([[-1.1, -1.9, -0.5], [-0.2, -1.0, -1.0]])
    >>> mask = xp.asarray([[1, 1, 1], [1, 1, 0]])
    >>> kldiv.kl_estimate(logp, logp_ref, mask=mask)
    Array(0.0073164, dtype=array_api_strict.float64)
    >>> kldiv.kl_estimate(logp, logp_ref, preset="openrlhf:k1", aggregate="none")
    Array([[ 0.1, -0.1,  0. ],
           [-0.1, -0.2, -8. ]], dtype=array_api_strict.float64)
    """
    settings = _settings(estimator, preset, clamp, log_ratio_clamp, straight_through)
    check_name("aggregate", aggregate, AGGREGATES)
    context, arrays, mask_values = _prepare(logp, logp_ref, is_ratio, mask)
    xp = context.xp
    if resolve_validate_args(validate_args, "estimators"):
        _check_values(xp, arrays, mask_values)
    values = _per_token(xp, settings, *arrays)
    kept = None if mask_values is None else mask_values != 0
    return context.finish(_aggregate(xp, values, kept, aggregate))


def _settings(
    estimator: str,
    preset: str | None,
    clamp: Bounds | None,
    log_ratio_clamp: Bounds | None,
    straight_through: str | None,
) -> EstimatorPreset:
    """The preset's settings (or the estimator's own), overridden by the explicit options."""
    check_name("estimator", estimator, ESTIMATORS)
    if straight_through is not None:
        check_name("straight_through", straight_through, ESTIMATORS[:-1])
    base = _base_settings(estimator, preset)
    return EstimatorPreset(
        base.estimator,
        base.source,
        check_bounds("log_ratio_clamp", log_ratio_clamp, base.log_ratio_clamp),
        check_bounds("clamp", clamp, base.clamp),
        straight_through if straight_through is not None else base.straight_through,
        base.k3_form,
    )


def _base_settings(estimator: str, preset: str | None) -> EstimatorPreset:
    if preset is None:
        return LOW_VAR_KL if estimator == "low_var_kl" else EstimatorPreset(estimator, "kldiv")
    check_name("preset", preset, tuple(ESTIMATOR_PRESETS))
    chosen = ESTIMATOR_PRESETS[preset]
    if estimator not in ("k3", chosen.estimator):
        raise ValueError(
            f"estimator={estimator!r} conflicts with preset={preset!r}, which uses "
            f"{chosen.estimator!r}; leave estimator at its default with a preset"
        )
    return chosen


def _prepare(
    logp: Array, logp_ref: Array, is_ratio: Array | None, mask: Array | None
) -> tuple[Context, list[Array], Array | None]:
    """The context, the log-probability arrays in the compute dtype, and the mask as numbers.

    The mask joins the library and device checks but not the dtype: a bool mask does not
    promote float32 log-probabilities.
    """
    named = {"logp": logp, "logp_ref": logp_ref}
    if is_ratio is not None:
        named["is_ratio"] = is_ratio
    context, arrays = prepare(**named)
    shapes = {name: tuple(array.shape) for name, array in zip(named, arrays, strict=True)}
    if mask is None:
        broadcast_shapes(**shapes)
        return context, arrays, None
    _, (mask_values, *_) = prepare(mask=mask, **named)  # a number adopts the arrays' library
    broadcast_shapes(**shapes, mask=tuple(mask_values.shape))
    return context, arrays, mask_values


def _check_values(xp: Namespace, arrays: list[Array], mask: Array | None) -> None:
    """``ValueError`` naming the argument with NaN or +inf log-probabilities or a non-0/1 mask."""
    names = ("logp", "logp_ref", "is_ratio")
    check_finite_or_neg_inf(xp, **dict(zip(names, arrays, strict=False)))
    if mask is not None and any_value(xp, (mask != 0) & (mask != 1)):
        raise ValueError("mask must hold only 0 and 1 (or booleans)")


def _per_token(
    xp: Namespace, settings: EstimatorPreset, logp: Array, logp_ref: Array, *old: Array
) -> Array:
    """The per-token values: clamp delta, estimate, weight, clamp, straight-through."""
    delta = logp - logp_ref
    clamped = delta
    if settings.log_ratio_clamp is not None:
        clamped = xp.clip(delta, min=settings.log_ratio_clamp[0], max=settings.log_ratio_clamp[1])
    if settings.estimator == "k3":
        values = K3_FORMS[settings.k3_form](xp, clamped)
    else:
        values = KL_ESTIMATOR_TERMS[settings.estimator](xp, clamped)
    if old:
        values = values * xp.exp(logp - old[0])
    if settings.clamp is not None:
        values = xp.clip(values, min=settings.clamp[0], max=settings.clamp[1])
    if settings.straight_through is not None:
        surrogate = KL_ESTIMATOR_TERMS[settings.straight_through](xp, delta)
        values = (surrogate - stop_gradient(xp, surrogate)) + stop_gradient(xp, values)
    return values


def _aggregate(xp: Namespace, values: Array, kept: Array | None, aggregate: str) -> Array:
    """Reduce the per-token values as ``aggregate`` says; masked tokens count nowhere."""
    if kept is not None:
        shape = broadcast_shapes(values=tuple(values.shape), mask=tuple(kept.shape))
        values = xp.broadcast_to(values, shape)
        kept = xp.broadcast_to(kept, shape)
        values = xp.where(kept, values, xp.zeros_like(values))
    if aggregate == "none":
        return values
    if aggregate != "token-mean" and values.ndim == 0:
        raise ValueError(
            f"aggregate={aggregate!r} needs a sequence axis (the last one); the values are 0-d"
        )
    counts = xp.ones_like(values) if kept is None else xp.astype(kept, values.dtype)
    if aggregate == "token-mean":
        return reduce_pointwise(xp, values, "sum") / reduce_pointwise(xp, counts, "sum")
    if aggregate == "seq-mean-token-sum-norm":
        return xp.sum(values) / values.shape[-1]
    sequence_sums = xp.sum(values, axis=-1)
    sequence_counts = xp.sum(counts, axis=-1)
    nonempty = sequence_counts > 0
    if aggregate == "seq-mean-token-mean":
        safe_counts = xp.where(nonempty, sequence_counts, xp.ones_like(sequence_counts))
        sequence_sums = sequence_sums / safe_counts
    return xp.sum(sequence_sums) / xp.sum(xp.astype(nonempty, values.dtype))
