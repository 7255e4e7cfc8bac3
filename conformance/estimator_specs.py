"""The estimator presets' frameworks as the tests and the conformance cases see them.

NumPy float64 transcriptions of the upstream formulas that each preset of
:func:`kldiv.kl_estimate` names (``kldiv.ESTIMATOR_PRESETS[name].source``), one per framework,
and the log-probability inputs both compare them on (:func:`log_probability_cases`).

>>> import numpy as np
>>> float(trl_grpo(np.asarray(0.0), np.asarray(0.0)))
0.0
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

import kldiv

__all__ = [
    "PRESET_FORMULAS",
    "log_probability_cases",
    "openrlhf_approx_kl",
    "slime_approx_kl",
    "trl_grpo",
    "trl_ppo",
    "verl_agg_loss",
    "verl_kl_penalty_forward",
]

Formula = Callable[[np.ndarray, np.ndarray], np.ndarray]


def verl_kl_penalty_forward(logprob: np.ndarray, ref_logprob: np.ndarray, name: str) -> np.ndarray:
    """verl ``verl/trainer/ppo/core_algos.py`` ``kl_penalty_forward`` (0.7.0-125, b178a3c)."""
    if name in ("kl", "k1"):
        return logprob - ref_logprob
    if name == "abs":
        return np.abs(logprob - ref_logprob)
    if name in ("mse", "k2"):
        return 0.5 * np.square(logprob - ref_logprob)
    kl = np.clip(ref_logprob - logprob, -20, 20)  # low_var_kl, k3
    ratio = np.exp(kl)
    return np.clip(ratio - kl - 1, -10, 10)


def trl_grpo(per_token_logps: np.ndarray, ref_per_token_logps: np.ndarray) -> np.ndarray:
    """TRL ``trl/trainer/grpo_trainer.py`` ``per_token_kl`` (1.10.0.dev0, f2cd577)."""
    log_ratio = ref_per_token_logps - per_token_logps
    return np.exp(log_ratio) - log_ratio - 1


def trl_ppo(logprobs: np.ndarray, ref_logprobs: np.ndarray, kl_estimator: str) -> np.ndarray:
    """TRL ``trl/experimental/ppo/ppo_trainer.py`` (1.10.0.dev0, f2cd577)."""
    logr = ref_logprobs - logprobs
    return -logr if kl_estimator == "k1" else (np.exp(logr) - 1) - logr


def openrlhf_approx_kl(log_probs: np.ndarray, log_probs_base: np.ndarray, est: str) -> np.ndarray:
    """OpenRLHF ``openrlhf/models/utils.py`` ``compute_approx_kl`` (v0.11.0, 3c3be62)."""
    log_ratio = log_probs - log_probs_base
    if est == "k2":
        log_ratio = log_ratio**2 / 2.0
    elif est == "k3":
        log_ratio = np.exp(-log_ratio) - 1 + log_ratio
    return np.clip(log_ratio, -10, 10)


def slime_approx_kl(
    log_probs: np.ndarray,
    log_probs_base: np.ndarray,
    kl_loss_type: str,
    importance_ratio: np.ndarray | None = None,
) -> np.ndarray:
    """slime ``slime/utils/ppo_utils.py`` ``compute_approx_kl`` (0.3.1-38, 624b824)."""
    log_ratio = log_probs - log_probs_base
    if kl_loss_type == "k1":
        kl = log_ratio
    elif kl_loss_type == "k2":
        kl = log_ratio**2 / 2.0
    else:
        kl = np.exp(-log_ratio) - 1 - (-log_ratio)
    if importance_ratio is not None:
        kl = importance_ratio * kl
    return np.clip(kl, -10, 10) if kl_loss_type == "low_var_kl" else kl


def verl_agg_loss(
    loss_mat: np.ndarray, loss_mask: np.ndarray, mode: str, count_epsilon: float = 1e-8
) -> np.ndarray:
    """verl ``core_algos.py`` ``agg_loss`` with its defaults (dp_size 1, no global sizes).

    ``count_epsilon`` is what verl adds to each token count in 'seq-mean-token-mean' (kldiv: 0).
    Masked NaN stays out of 'token-mean' only, as in verl (``masked_sum``).
    """
    if mode == "token-mean":
        return np.where(loss_mask != 0, loss_mat, 0.0).sum() / loss_mask.sum()
    if mode == "seq-mean-token-sum-norm":
        return (loss_mat * loss_mask).sum() / loss_mask.shape[-1]
    counts = loss_mask.sum(-1)
    sequence = (loss_mat * loss_mask).sum(-1)
    if mode == "seq-mean-token-mean":
        sequence = sequence / np.where(counts > 0, counts + count_epsilon, 1.0)
    seq_mask = counts > 0
    return np.asarray((sequence * seq_mask).sum() / seq_mask.sum())


def _verl(name: str) -> Formula:
    return partial(verl_kl_penalty_forward, name=name.split(":")[1].rstrip("+"))


#: Each preset's per-token formula, ``(logp, logp_ref) -> values``.
PRESET_FORMULAS: dict[str, Formula] = {
    **{name: _verl(name) for name in kldiv.ESTIMATOR_PRESETS if name.startswith("verl:")},
    "trl:grpo": trl_grpo,
    "trl:ppo": partial(trl_ppo, kl_estimator="k3"),
    "trl:ppo-k1": partial(trl_ppo, kl_estimator="k1"),
    **{f"openrlhf:{k}": partial(openrlhf_approx_kl, est=k) for k in ("k1", "k2", "k3")},
    **{
        f"slime:{k}": partial(slime_approx_kl, kl_loss_type=k)
        for k in ("k1", "k2", "k3", "low_var_kl")
    },
}


def log_probability_cases(
    rng: np.random.Generator, shape: tuple[int, int] = (4, 9)
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-probabilities with log-ratios from 1e-8 to ±50, and a 0/1 padding mask (the last
    sequence fully padded)."""
    logp_ref = -rng.gamma(2.0, size=shape)
    delta = rng.normal(scale=2.0, size=shape)
    delta.flat[:8] = [50.0, -50.0, 25.0, -25.0, 1e-8, -1e-8, 0.0, 12.0]
    lengths = rng.integers(1, shape[1] + 1, size=shape[0])
    lengths[-1] = 0
    mask = (np.arange(shape[1]) < lengths[:, None]).astype(np.float64)
    return logp_ref + delta, logp_ref, mask
