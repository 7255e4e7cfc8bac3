"""kldiv: Kullback–Leibler and related divergences for every array-API library.

One implementation, written against the Python array API standard, that runs on NumPy, PyTorch,
CuPy, JAX, Dask, array-api-strict and any other compliant library, and returns arrays of the
caller's library, on the caller's device, in the caller's dtype.
"""

from . import distributions, gaussian, testing
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
from .estimators import ESTIMATOR_PRESETS, EstimatorPreset, kl_estimate
from .gaussian import kl_mvn, kl_normal, kl_standard_normal
from .metrics import JensenShannonDivergence, KLDivergence, MetricState

__all__ = [
    "ESTIMATOR_PRESETS",
    "EstimatorPreset",
    "JensenShannonDivergence",
    "KLDivLoss",
    "KLDivergence",
    "MetricState",
    "cross_entropy",
    "distributions",
    "entropy",
    "gaussian",
    "jeffreys",
    "js_distance",
    "js_divergence",
    "kl_div",
    "kl_div_logits",
    "kl_divergence",
    "kl_estimate",
    "kl_mvn",
    "kl_normal",
    "kl_standard_normal",
    "rel_entr",
    "set_validate_args",
    "testing",
]

__version__ = "0.1.0"
