"""kldiv.distributions, the pairs whose p is not in the Normal family: against torch and mpmath.

One registration per (p, q) pair torch registers with p among Bernoulli, Binomial, Categorical,
OneHotCategorical, Geometric, Poisson, Exponential, Gamma, Beta, Dirichlet, Uniform, Pareto,
ContinuousBernoulli, on seeded random valid parameters whose batch shapes broadcast; plus the
pairs torch lacks (Chi2, Weibull, VonMises, Kumaraswamy–Beta) against mpmath quadrature.

The reference is torch as users call it. Where torch is wrong the case names a deviation and is
judged by the mpmath oracle (:data:`ORACLES`, 50 digits):

* ``torch-kl-masked-broadcast``: pairs that write ``result[mask] = inf`` raise IndexError when
  the batch shapes differ (e.g. Bernoulli (3,) against (2, 1));
* ``torch-kl-cb-uniform-boundary``: ContinuousBernoulli ↔ Uniform(0, 1) is finite, torch: inf;
* ``torch-kl-float32-cancellation``: near p ≈ q torch's float32 closed forms lose every digit
  (Beta(500, 500) ‖ Beta(501, 500): torch -6.9e-4, true 5.0e-4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath as mp
import numpy as np

import kldiv.distributions as kd
from conformance.registry import DASK_FLOAT64_ONLY, Case, register

DIGITS = 50
BATCHES = (((), ()), ((4,), (4,)), ((2, 3), (3,)))
MASKED_BATCH = ((3,), (2, 1))
CASES_PER_BATCH = 2
CATEGORIES = 4

Sampler = Callable[[np.random.Generator, tuple[int, ...]], tuple[np.ndarray, ...]]


def _unit(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return (rng.uniform(0.05, 0.95, size=batch),)


def _positive(count: int, low: float = 0.5, high: float = 4.0) -> Sampler:
    return lambda rng, batch: tuple(rng.uniform(low, high, size=batch) for _ in range(count))


SAMPLERS: dict[str, Sampler] = {
    "Bernoulli": _unit,
    "Geometric": _unit,
    "ContinuousBernoulli": _unit,
    "Binomial": lambda rng, batch: (np.full(batch, 10.0), *_unit(rng, batch)),
    "Categorical": lambda rng, batch: (rng.dirichlet(np.ones(CATEGORIES), size=batch),),
    "OneHotCategorical": lambda rng, batch: (rng.dirichlet(np.ones(CATEGORIES), size=batch),),
    "Poisson": _positive(1, 0.2, 5.0),
    "Exponential": _positive(1),
    "Gamma": _positive(2),
    "Chi2": _positive(1, 0.5, 8.0),
    "Beta": _positive(2),
    "Dirichlet": lambda rng, batch: (rng.uniform(0.5, 4.0, size=(*batch, CATEGORIES)),),
    "Pareto": lambda rng, batch: (
        rng.uniform(0.5, 2.0, size=batch),
        rng.uniform(0.5, 4.0, size=batch),
    ),
    "Uniform": lambda rng, batch: (lambda low: (low, low + rng.uniform(0.1, 0.9, size=batch)))(
        rng.uniform(-0.3, 0.6, size=batch)
    ),
    "Normal": lambda rng, batch: (rng.normal(size=batch), rng.uniform(0.5, 2.0, size=batch)),
    "Gumbel": lambda rng, batch: (rng.normal(size=batch), rng.uniform(0.5, 2.0, size=batch)),
    "Weibull": _positive(2),
    "VonMises": lambda rng, batch: (
        rng.uniform(-3, 3, size=batch),
        rng.uniform(0.2, 5, size=batch),
    ),
    "Kumaraswamy": _positive(2),
}
EVENT_NDIM = {"Categorical": 1, "OneHotCategorical": 1, "Dirichlet": 1}

P_FAMILIES = (
    "Bernoulli", "Beta", "Binomial", "Categorical", "ContinuousBernoulli", "Dirichlet",
    "Exponential", "Gamma", "Geometric", "OneHotCategorical", "Pareto", "Poisson", "Uniform",
)  # fmt: skip
#: pairs that write ``result[mask] = inf`` in torch (IndexError on different batch shapes)
MASKED = {
    ("Bernoulli", "Bernoulli"), ("Binomial", "Binomial"), ("Categorical", "Categorical"),
    ("OneHotCategorical", "OneHotCategorical"), ("Uniform", "Uniform"), ("Uniform", "Beta"),
    ("Uniform", "Exponential"), ("Uniform", "Gamma"), ("Uniform", "Pareto"),
    ("Pareto", "Pareto"), ("Pareto", "Exponential"), ("Pareto", "Gamma"), ("Pareto", "Normal"),
    ("Beta", "Uniform"),
}  # fmt: skip
#: pairs torch lacks, judged by mpmath only
EXTRA_PAIRS = (("Chi2", "Chi2"), ("Weibull", "Weibull"), ("VonMises", "VonMises"),
               ("Kumaraswamy", "Beta"))  # fmt: skip


def torch_pairs() -> list[tuple[str, str]]:
    import torch.distributions.kl as torch_kl

    return sorted(
        (p.__name__, q.__name__) for p, q in torch_kl._KL_REGISTRY if p.__name__ in P_FAMILIES
    )


def _batch_shape(family: str, arrays: tuple[np.ndarray, ...]) -> tuple[int, ...]:
    shape = np.shape(arrays[0])
    return tuple(shape[: len(shape) - EVENT_NDIM.get(family, 0)])


def _count(family: str) -> int:
    return len(SAMPLERS[family](np.random.default_rng(0), ()))


def _kldiv(p_family: str, q_family: str) -> Callable[..., Any]:
    count = _count(p_family)

    def call(*arrays: Any, reference_dtype: str = "float64") -> Any:
        p = getattr(kd, p_family)(*arrays[:count])
        q = getattr(kd, q_family)(*arrays[count:])
        return kd.kl_divergence(p, q)

    return call


def _reference(p_family: str, q_family: str) -> Callable[..., np.ndarray]:
    count = _count(p_family)

    def call(*arrays: np.ndarray, reference_dtype: str = "float64") -> np.ndarray:
        """torch as users call it; ``reference_dtype`` runs it in that dtype (float32 cases)."""
        import torch

        dtype = getattr(torch, reference_dtype)
        tensors = tuple(torch.as_tensor(a, dtype=dtype) for a in arrays)
        p = getattr(torch.distributions, p_family)(*tensors[:count])
        q = getattr(torch.distributions, q_family)(*tensors[count:])
        result = torch.distributions.kl_divergence(p, q).double().numpy()
        joint = np.broadcast_shapes(
            _batch_shape(p_family, arrays[:count]), _batch_shape(q_family, arrays[count:])
        )
        return np.broadcast_to(result, joint).copy()

    return call


# -- mpmath oracles: KL at 50 digits, one scalar parameter set at a time ------------------------


def _lbeta(a: Any, b: Any) -> Any:
    return mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)


def _cb_density(probs: Any) -> Callable[[Any], Any]:
    lam = mp.mpf(probs)
    norm = 2 if lam == 0.5 else 2 * mp.atanh(1 - 2 * lam) / (1 - 2 * lam)
    return lambda x: norm * lam**x * (1 - lam) ** (1 - x)


def _quad_kl(p_density: Callable, q_density: Callable, support: list) -> Any:
    return mp.quad(lambda x: p_density(x) * mp.log(p_density(x) / q_density(x)), support)


def _uniform_density(low: Any, high: Any) -> Callable[[Any], Any]:
    low, high = mp.mpf(low), mp.mpf(high)
    return lambda x: 1 / (high - low) if low <= x <= high else mp.mpf(0)


def _bernoulli(p: Any, q: Any) -> Any:
    p, q = mp.mpf(p), mp.mpf(q)
    terms = [(p, q), (1 - p, 1 - q)]
    return sum((a * mp.log(a / b) if b > 0 else mp.inf) if a > 0 else 0 for a, b in terms)


def _kumaraswamy_beta(a: Any, b: Any, alpha: Any, beta: Any) -> Any:
    a, b, alpha, beta = (mp.mpf(v) for v in (a, b, alpha, beta))

    def log_complement(v: Any) -> Any:  # log(1 - X), X = (1 - v^(1/b))^(1/a)
        return mp.log(-mp.expm1(mp.log1p(-(v ** (1 / b))) / a))

    mean_log_complement = mp.quad(log_complement, [0, 0.5, 1])
    mean_log_y = -mp.euler - mp.digamma(b) - 1 / b
    return (
        (a - alpha) / a * mean_log_y + mp.log(a * b) + _lbeta(alpha, beta) - (b - 1) / b
        - (beta - 1) * mean_log_complement
    )  # fmt: skip


def _vonmises(loc_p: Any, kappa_p: Any, loc_q: Any, kappa_q: Any) -> Any:
    def density(loc: Any, kappa: Any) -> Callable[[Any], Any]:
        return lambda x: mp.exp(kappa * mp.cos(x - loc)) / (2 * mp.pi * mp.besseli(0, kappa))

    return _quad_kl(density(loc_p, kappa_p), density(loc_q, kappa_q), [-mp.pi, 0, mp.pi])


def _weibull(scale_p: Any, shape_p: Any, scale_q: Any, shape_q: Any) -> Any:
    def log_density(scale: Any, shape: Any) -> Callable[[Any], Any]:
        return lambda x: (
            mp.log(shape / scale) + (shape - 1) * mp.log(x / scale) - (x / scale) ** shape
        )

    log_p, log_q = log_density(scale_p, shape_p), log_density(scale_q, shape_q)
    return mp.quad(lambda x: mp.exp(log_p(x)) * (log_p(x) - log_q(x)), [0, scale_p, mp.inf])


def _chi2(df_p: Any, df_q: Any) -> Any:
    return _gamma(mp.mpf(df_p) / 2, 0.5, mp.mpf(df_q) / 2, 0.5)


def _gamma(ap: Any, bp: Any, aq: Any, bq: Any) -> Any:
    ap, bp, aq, bq = (mp.mpf(v) for v in (ap, bp, aq, bq))
    return (
        (ap - aq) * mp.digamma(ap) - mp.loggamma(ap) + mp.loggamma(aq)
        + aq * (mp.log(bp) - mp.log(bq)) + ap * (bq - bp) / bp
    )  # fmt: skip


def _beta(a1: Any, b1: Any, a2: Any, b2: Any) -> Any:
    a1, b1, a2, b2 = (mp.mpf(v) for v in (a1, b1, a2, b2))
    return (
        _lbeta(a2, b2) - _lbeta(a1, b1) + (a1 - a2) * mp.digamma(a1) + (b1 - b2) * mp.digamma(b1)
        + (a2 - a1 + b2 - b1) * mp.digamma(a1 + b1)
    )  # fmt: skip


def _poisson(rate_p: Any, rate_q: Any) -> Any:
    rate_p, rate_q = mp.mpf(rate_p), mp.mpf(rate_q)
    return rate_p * mp.log(rate_p / rate_q) - rate_p + rate_q


def _exponential(rate_p: Any, rate_q: Any) -> Any:
    ratio = mp.mpf(rate_q) / mp.mpf(rate_p)
    return ratio - 1 - mp.log(ratio)


def _cb_uniform(probs: Any, low: Any, high: Any) -> Any:
    if low > 0 or high < 1:
        return mp.inf
    return _quad_kl(_cb_density(probs), _uniform_density(low, high), [0, 1])


def _uniform_cb(low: Any, high: Any, probs: Any) -> Any:
    if low < 0 or high > 1:
        return mp.inf
    return _quad_kl(_uniform_density(low, high), _cb_density(probs), [low, high])


#: scalar mpmath KL per pair (p's parameters then q's, in constructor order)
ORACLES: dict[tuple[str, str], Callable[..., Any]] = {
    ("Bernoulli", "Bernoulli"): _bernoulli,
    ("Beta", "Beta"): _beta,
    ("Gamma", "Gamma"): _gamma,
    ("Exponential", "Exponential"): _exponential,
    ("Poisson", "Poisson"): _poisson,
    ("Chi2", "Chi2"): _chi2,
    ("Weibull", "Weibull"): _weibull,
    ("VonMises", "VonMises"): _vonmises,
    ("Kumaraswamy", "Beta"): _kumaraswamy_beta,
    ("ContinuousBernoulli", "Uniform"): _cb_uniform,
    ("Uniform", "ContinuousBernoulli"): _uniform_cb,
}


def dirichlet_oracle(alpha: np.ndarray, beta: np.ndarray) -> float:
    """KL(Dirichlet(alpha) ‖ Dirichlet(beta)) for one pair of concentration vectors (50 digits)."""
    with mp.workdps(DIGITS):
        a = [mp.mpf(v) for v in alpha]
        b = [mp.mpf(v) for v in beta]
        total_a, total_b = mp.fsum(a), mp.fsum(b)
        value = mp.loggamma(total_a) - mp.loggamma(total_b)
        value -= mp.fsum(mp.loggamma(x) - mp.loggamma(y) for x, y in zip(a, b, strict=True))
        value += mp.fsum(
            (x - y) * (mp.digamma(x) - mp.digamma(total_a)) for x, y in zip(a, b, strict=True)
        )
        return float(value)


def oracle(p_family: str, q_family: str) -> Callable[..., np.ndarray]:
    """The elementwise mpmath oracle of a pair, broadcasting its float64 parameter arrays."""
    scalar = ORACLES[p_family, q_family]

    def call(*arrays: np.ndarray, **_options: Any) -> np.ndarray:
        broadcast = np.broadcast_arrays(*arrays)
        out = np.empty(broadcast[0].shape)
        with mp.workdps(DIGITS):
            for index in np.ndindex(out.shape):
                out[index] = float(scalar(*(float(array[index]) for array in broadcast)))
        return out

    return call


# -- registration -------------------------------------------------------------------------------


def _cases(p_family: str, q_family: str) -> Callable[[np.random.Generator], list[Case]]:
    def cases(rng: np.random.Generator) -> list[Case]:
        made = []
        masked = (p_family, q_family) in MASKED
        for index, (p_batch, q_batch) in enumerate(BATCHES):
            if masked and p_batch != q_batch:
                p_batch = q_batch = np.broadcast_shapes(p_batch, q_batch)  # see MASKED_BATCH
            for repeat in range(CASES_PER_BATCH):
                arrays = SAMPLERS[p_family](rng, p_batch) + SAMPLERS[q_family](rng, q_batch)
                made.append(Case(f"batch-{index}-{repeat}", arrays))
        if masked and (p_family, q_family) in ORACLES:
            p_batch, q_batch = MASKED_BATCH
            arrays = SAMPLERS[p_family](rng, p_batch) + SAMPLERS[q_family](rng, q_batch)
            made.append(Case("masked-broadcast", arrays, deviation="torch-kl-masked-broadcast"))
        made.extend(_special_cases(p_family, q_family))
        return made

    return cases


def _special_cases(p_family: str, q_family: str) -> list[Case]:
    pair = (p_family, q_family)
    if pair == ("ContinuousBernoulli", "Uniform"):
        arrays = (np.array([0.2, 0.7, 0.9]), np.array(0.0), np.array(1.0))
        return [Case("uniform-0-1", arrays, deviation="torch-kl-cb-uniform-boundary")]
    if pair == ("Uniform", "ContinuousBernoulli"):
        arrays = (np.array(0.0), np.array(1.0), np.array([0.2, 0.7, 0.9]))
        return [Case("uniform-0-1", arrays, deviation="torch-kl-cb-uniform-boundary")]
    near_equal = {
        ("Beta", "Beta"): (np.array(500.0), np.array(500.0), np.array(501.0), np.array(500.0)),
        ("Gamma", "Gamma"): (np.array(300.0), np.array(2.0), np.array(301.0), np.array(2.0)),
        ("Poisson", "Poisson"): (np.array(1000.0), np.array(1001.0)),
        ("Exponential", "Exponential"): (np.array(1.0), np.array(1.001)),
    }
    if pair in near_equal:
        return [
            Case(
                "near-equal",
                near_equal[pair],
                kwargs={"reference_dtype": "float32"},
                deviation="torch-kl-float32-cancellation",
                dtypes=("float32",),
            )
        ]
    return []


for _p, _q in torch_pairs():
    register(
        name=f"distributions.{_p}-{_q}",
        kldiv=_kldiv(_p, _q),
        reference=_reference(_p, _q),
        cases=_cases(_p, _q),
        dtypes=("float64", "float32"),
        tags=("distributions",),
        dtypes_on=DASK_FLOAT64_ONLY,
        oracle=oracle(_p, _q) if (_p, _q) in ORACLES else None,
    )

for _p, _q in EXTRA_PAIRS:
    register(
        name=f"distributions.{_p}-{_q}",
        kldiv=_kldiv(_p, _q),
        reference=oracle(_p, _q),
        cases=(
            lambda p, q: (
                lambda rng: [
                    Case(f"random-{index}", SAMPLERS[p](rng, (3,)) + SAMPLERS[q](rng, (3,)))
                    for index in range(2)
                ]
            )
        )(_p, _q),
        dtypes=("float64", "float32"),
        tags=("distributions", "mpmath"),
        dtypes_on=DASK_FLOAT64_ONLY,
        oracle=oracle(_p, _q),
    )
