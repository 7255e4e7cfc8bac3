"""Stable elementwise kernels and the constants they use, written once for every module.

Each kernel takes the namespace ``xp`` first and arrays already prepared by
:func:`kldiv._array.prepare`. The conventions at zeros hold in every kernel: a term without mass
(``x = 0``, or ``log x = -inf``) is 0 even where the other argument is 0 or ``-inf``, NaN
propagates, and gradients stay finite where a term has no mass.
"""

from __future__ import annotations

from ._core import (
    expm1_minus_identity,
    log_midpoint,
    log_ratio,
    log_softmax,
    logsumexp,
    sqrt_at_least_zero,
    xlog_ratio,
    xlog_ratio_log,
    xlog_ratio_mixed,
    xlogy,
    zero_unless_nan,
)
from ._distill import (
    TOPK_TAILS,
    js_logits_gradients,
    js_logits_rows,
    js_logits_terms,
    topk_kl_rows,
)
from ._estimators import K3_FORMS, KL_ESTIMATOR_TERMS, k3_term
from ._families import (
    EULER_GAMMA,
    HALF_LOG_2PI,
    binary_logits,
    identity_minus_log1p,
    kl_normal_log_ratio,
    log1mexp,
    log1mexp_from_log,
    log_or_neg_inf,
    replace_where,
    sigmoid,
    where_inf,
)
from ._gaussian import (
    renyi_normal_log_det,
    renyi_normal_mixed_variance,
    wasserstein2_normal_squared,
)
from ._logits import kl_logits_gradients, kl_logits_rows
from ._power import log_power_sum, power_sum_near_one

__all__ = [
    "EULER_GAMMA",
    "HALF_LOG_2PI",
    "K3_FORMS",
    "KL_ESTIMATOR_TERMS",
    "TOPK_TAILS",
    "binary_logits",
    "expm1_minus_identity",
    "identity_minus_log1p",
    "js_logits_gradients",
    "js_logits_rows",
    "js_logits_terms",
    "k3_term",
    "kl_logits_gradients",
    "kl_logits_rows",
    "kl_normal_log_ratio",
    "log1mexp",
    "log1mexp_from_log",
    "log_midpoint",
    "log_or_neg_inf",
    "log_power_sum",
    "log_ratio",
    "log_softmax",
    "logsumexp",
    "power_sum_near_one",
    "renyi_normal_log_det",
    "renyi_normal_mixed_variance",
    "replace_where",
    "sigmoid",
    "sqrt_at_least_zero",
    "topk_kl_rows",
    "wasserstein2_normal_squared",
    "where_inf",
    "xlog_ratio",
    "xlog_ratio_log",
    "xlog_ratio_mixed",
    "xlogy",
    "zero_unless_nan",
]
