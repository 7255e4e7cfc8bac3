"""Every place where kldiv deliberately differs from a reference, and why.

A case that carries ``deviation="<key>"`` is compared with the mpmath oracle (``oracle`` here,
else the function's registered oracle) instead of its reference; the report lists these cases
separately, with the reference's value, kldiv's and the oracle's, so the evidence of which side
is right is in every report. Any other difference from a reference fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["DEVIATIONS", "Deviation"]


@dataclass(frozen=True)
class Deviation:
    """A deliberate difference: where, what each side returns, and why kldiv is right."""

    key: str
    functions: tuple[str, ...]
    reference: str
    reference_gives: str
    kldiv_gives: str
    reason: str
    oracle: Callable[..., Any] | None = None


_ALL = (
    Deviation(
        key="torch-kl-div-zero-target-neg-inf-input",
        functions=("kl_div", "KLDivLoss"),
        reference="torch.nn.functional.kl_div / torch.nn.KLDivLoss",
        reference_gives="nan where target = 0 and input = log q = -inf",
        kldiv_gives="0 for that term (the other terms unchanged)",
        reason="KL sums over the support of p: a term with p = 0 is 0 whatever q is "
        "(torch computes xlogy(0, 0) - 0 * (-inf) = 0 - nan).",
    ),
    Deviation(
        key="torch-kl-div-log-target-neg-inf",
        functions=("kl_div", "KLDivLoss", "kl_div_logits", "js_div_logits", "reverse_kl_logits"),
        reference="torch.nn.functional.kl_div(log_target=True)",
        reference_gives="nan where log p = -inf (and so for masked teacher logits)",
        kldiv_gives="0 for that term",
        reason="exp(-inf) * (-inf - log q) is the term of an outcome with p = 0: its limit is 0.",
    ),
    Deviation(
        key="torchmetrics-log-prob-neg-inf",
        functions=("kl_divergence", "jeffreys", "js_divergence"),
        reference="torchmetrics kl_divergence / KLDivergence / JensenShannonDivergence (log_prob)",
        reference_gives="nan for a row with log p = -inf somewhere",
        kldiv_gives="the KL over the support of p (finite, or +inf where log q = -inf < log p)",
        reason="exp(log p) * (log p - log q) -> 0 as log p -> -inf: outcomes outside the support "
        "of p contribute nothing.",
    ),
    Deviation(
        key="torchmetrics-js-log-prob-float32-log2",
        functions=("js_divergence",),
        reference="torchmetrics jensen_shannon_divergence(log_prob=True)",
        reference_gives="log M = logsumexp(p, q) - log(torch.tensor(2.0)): a float32 log 2, "
        "so about 1e-9 absolute error in float64",
        kldiv_gives="log M with a float64 log 2",
        reason="log 2 rounded to float32 is off by ~2e-8 relative; the oracle at 50 digits "
        "agrees with kldiv to float64 precision.",
    ),
    Deviation(
        key="scipy-jensenshannon-negative-rounding",
        functions=("js_distance",),
        reference="scipy.spatial.distance.jensenshannon",
        reference_gives="nan for near-equal rows, where rounding makes the JS sum slightly "
        "negative before its square root",
        kldiv_gives="sqrt(max(JS, 0)): 0 or a tiny distance, within sqrt(eps) of the truth",
        reason="JS >= 0 always; a negative sum is rounding error. Near 0 the square root can "
        "only be known to sqrt(error), which is the tolerance of js_distance.",
    ),
    Deviation(
        key="normalised-quotient-underflow",
        functions=("kl_divergence", "jeffreys", "entropy", "cross_entropy"),
        reference="torchmetrics kl_divergence / KLDivergence; scipy.stats.entropy(pk, qk) "
        "(also inside the cross-entropy reference)",
        reference_gives="+inf for rows whose entries span the whole float64 range, e.g. "
        "p = [1e10, 1e-200, 1e-300, 0.5], q = [1e-300, 1e200, 1e15, 0.5]: each row is divided "
        "by its sum first, so Q = 1e-300 / 1e200 underflows to 0 where P > 0",
        kldiv_gives="the finite KL (1151.29 for that row)",
        reason="the normalisation folds into the quotient (p / q) · (Σq / Σp), with log p - log q "
        "+ log Σq - log Σp where that quotient leaves the normal range; no normalised entry is "
        "formed, so none underflows. The 50-digit oracle agrees with kldiv.",
    ),
    Deviation(
        key="dit-hellinger-sqrt-cancellation",
        functions=("hellinger[dit]",),
        reference="dit.divergences.hellinger_distance",
        reference_gives="sqrt(1 - Σ sqrt(p q)) of near-equal rows with ~1e-3 relative error "
        "(1.8504e-7 for a true 1.8519e-7): 1 - BC cancels before the square root",
        kldiv_gives="the distance to float64 precision",
        reason="1 - BC = ½ Σ (sqrt(p) - sqrt(q))², a sum of non-negative terms with no "
        "cancellation; the 50-digit oracle agrees with kldiv.",
    ),
)

#: The declared deviations by key.
DEVIATIONS: dict[str, Deviation] = {deviation.key: deviation for deviation in _ALL}

# -- kldiv.distributions: pairs with p outside the Normal family ---------------------------------
_DISTRIBUTIONS_OTHER = (
    Deviation(
        key="torch-kl-masked-broadcast",
        functions=("distributions.*",),
        reference="torch.distributions.kl_divergence (pairs that write result[mask] = inf)",
        reference_gives="IndexError when p and q have different batch shapes that broadcast, "
        "e.g. Bernoulli with batch shapes (3,) and (2, 1)",
        kldiv_gives="the KL with the broadcast batch shape (+inf where q misses p's support)",
        reason="the mask has the broadcast shape, the result of the unmasked formula does not "
        "always; kldiv masks with where. The oracle evaluates the closed form at 50 digits per "
        "element.",
    ),
    Deviation(
        key="torch-kl-cb-uniform-boundary",
        functions=(
            "distributions.ContinuousBernoulli-Uniform",
            "distributions.Uniform-ContinuousBernoulli",
        ),
        reference="torch.distributions.kl_divergence(ContinuousBernoulli, Uniform) and reverse",
        reference_gives="inf for Uniform(0, 1) (non-strict support comparisons: low >= 0, "
        "high <= 1)",
        kldiv_gives="the finite KL, e.g. -H(CB(λ)) for KL(CB(λ) ‖ Uniform(0, 1))",
        reason="both laws live on [0, 1]: q > 0 wherever p > 0, so the KL is finite; mpmath "
        "quadrature of p log(p/q) agrees with kldiv.",
    ),
    Deviation(
        key="torch-kl-float32-cancellation",
        functions=(
            "distributions.Beta-Beta",
            "distributions.Gamma-Gamma",
            "distributions.Poisson-Poisson",
            "distributions.Exponential-Exponential",
        ),
        reference="torch.distributions.kl_divergence in float32",
        reference_gives="cancellation near p ≈ q: KL(Beta(500, 500) ‖ Beta(501, 500)) = -6.9e-4 "
        "(true 5.0e-4); Gamma, Poisson, Exponential similar",
        kldiv_gives="the KL to float32 precision (computed in float64 where the library has it, "
        "as sums of Bregman divergences of lgamma and -log)",
        reason="the closed forms are differences of O(log Γ) terms whose result is "
        "O(|p - q|²); the 50-digit oracle agrees with kldiv.",
    ),
)
_ALL = (*_ALL, *_DISTRIBUTIONS_OTHER)
DEVIATIONS.update({deviation.key: deviation for deviation in _DISTRIBUTIONS_OTHER})
