"""kldiv: Kullback–Leibler and related divergences for every array-API library.

One implementation, written against the Python array API standard, that runs on NumPy, PyTorch,
CuPy, JAX, Dask, array-api-strict and any other compliant library, and returns arrays of the
caller's library, on the caller's device, in the caller's dtype.
"""

from . import distributions, gaussian, testing
from ._fdiv_metrics import HellingerDistance, TotalVariationDistance
from ._validate import set_validate_args
from .discrete import (
    KLDivLoss,
    cross_entropy,
    entropy,
    jeffreys,
    js_distance,
    js_divergence,
    kl_div,
    kl_div_logits,
    kl_divergence,
    rel_entr,
)
from .distill import js_div_logits, kl_topk, reverse_kl_logits
from .estimators import ESTIMATOR_PRESETS, EstimatorPreset, kl_estimate
from .fdiv import (
    alpha_divergence,
    bhattacharyya_coefficient,
    bhattacharyya_distance,
    chi2,
    f_divergence,
    hellinger,
    hellinger_squared,
    power_divergence,
    psi,
    renyi_divergence,
    total_variation,
    tsallis_divergence,
    wasserstein_1d,
)
from .gaussian import kl_mvn, kl_normal, kl_standard_normal
from .metrics import JensenShannonDivergence, KLDivergence, MetricState

__all__ = [
    "ESTIMATOR_PRESETS",
    "EstimatorPreset",
    "HellingerDistance",
    "JensenShannonDivergence",
    "KLDivLoss",
    "KLDivergence",
    "MetricState",
    "TotalVariationDistance",
    "alpha_divergence",
    "bhattacharyya_coefficient",
    "bhattacharyya_distance",
    "chi2",
    "cross_entropy",
    "distributions",
    "entropy",
    "f_divergence",
    "gaussian",
    "hellinger",
    "hellinger_squared",
    "jeffreys",
    "js_distance",
    "js_div_logits",
    "js_divergence",
    "kl_div",
    "kl_div_logits",
    "kl_divergence",
    "kl_estimate",
    "kl_mvn",
    "kl_normal",
    "kl_standard_normal",
    "kl_topk",
    "power_divergence",
    "psi",
    "rel_entr",
    "renyi_divergence",
    "reverse_kl_logits",
    "set_validate_args",
    "testing",
    "total_variation",
    "tsallis_divergence",
    "wasserstein_1d",
]

__version__ = "0.1.0"
