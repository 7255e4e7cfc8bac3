"""The families of :mod:`kldiv.distributions` as the tests and the conformance cases see them.

One source for three things:

* how to sample valid parameters of a family (:func:`sample`): seeded NumPy float64 arrays in
  constructor order, every range stated once in :data:`RANGES`;
* how to build a family in kldiv or in torch (:func:`build`, :func:`torch_kl`);
* the pair inventory: the (p, q) pairs torch registers (:func:`torch_pairs`), those it reaches
  through base classes (:data:`SUBCLASS_PAIRS`), the pairs kldiv adds (:data:`EXTRA_PAIRS`) and
  those only mpmath judges (:data:`MPMATH_PAIRS`, with :data:`ORACLES`).

torch is imported only inside the functions that call it: this module loads with NumPy and mpmath.

>>> import numpy as np
>>> loc, scale = sample("Normal", np.random.default_rng(0), (2, 3))
>>> loc.shape, bool(np.all(scale >= RANGES["scale"][0]))
((2, 3), True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .mpmath_pairs import ORACLES, dirichlet_oracle, oracle

__all__ = [
    "CATEGORIES",
    "CONTINUOUS",
    "EVENT_SIZE",
    "EXTRA_PAIRS",
    "FAMILIES",
    "MPMATH_PAIRS",
    "NEAR_EQUAL",
    "NORMAL_FAMILIES",
    "ORACLES",
    "OTHER_FAMILIES",
    "RANGES",
    "SUBCLASS_PAIRS",
    "TORCH_ABSTRACT",
    "TORCH_INFINITE",
    "Family",
    "batch_shape",
    "build",
    "class_name",
    "dirichlet_oracle",
    "oracle",
    "parameter_count",
    "sample",
    "scale_tril",
    "torch_has",
    "torch_kl",
    "torch_pairs",
    "torch_reference_pairs",
]

Sampler = Callable[[np.random.Generator, tuple[int, ...]], tuple[np.ndarray, ...]]

#: The interval each kind of parameter is drawn from, uniformly. Uniform intervals start in
#: ``uniform_low`` and are ``uniform_width`` long: some lie inside [0, 1] (the support of Beta
#: and ContinuousBernoulli), some do not, so the masked pairs meet both branches.
RANGES: dict[str, tuple[float, float]] = {
    "location": (-2.0, 2.0),
    "scale": (0.5, 2.0),
    "positive": (0.5, 4.0),
    "probability": (0.05, 0.95),
    "poisson_rate": (0.2, 5.0),
    "degrees_of_freedom": (0.5, 8.0),
    "pareto_scale": (0.5, 2.0),
    "uniform_low": (-0.3, 0.6),
    "uniform_width": (0.1, 0.9),
    "angle": (-3.0, 3.0),
    "von_mises_concentration": (0.2, 5.0),
    "cov_factor": (-1.0, 1.0),
    "off_diagonal": (-0.3, 0.3),
}
TOTAL_COUNT = 10.0  # Binomial: one count, so that every Binomial pair is finite
CATEGORIES = 4  # event size of Categorical, OneHotCategorical and Dirichlet
EVENT_SIZE = 3  # event size of the multivariate normals and IndependentNormal
LOW_RANK = 2  # columns of LowRankMultivariateNormal's cov_factor


def _draw(rng: np.random.Generator, kind: str, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(*RANGES[kind], size=shape)


def _uniform(*kinds: str, event: tuple[int, ...] = ()) -> Sampler:
    """Independent parameters, each drawn from its range of :data:`RANGES`."""
    return lambda rng, batch: tuple(_draw(rng, kind, (*batch, *event)) for kind in kinds)


def _interval(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    low = _draw(rng, "uniform_low", batch)
    return low, low + _draw(rng, "uniform_width", batch)


def _binomial(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return np.full(batch, TOTAL_COUNT), _draw(rng, "probability", batch)


def _simplex(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return (rng.dirichlet(np.ones(CATEGORIES), size=batch),)


def scale_tril(rng: np.random.Generator, batch: tuple[int, ...], size: int) -> np.ndarray:
    """Lower-triangular factors: ``scale`` on the diagonal, ``off_diagonal / √size`` below it
    (so that their conditioning does not grow with ``size``)."""
    below = np.tril(_draw(rng, "off_diagonal", (*batch, size, size)), -1) / np.sqrt(size)
    return below + np.eye(size) * _draw(rng, "scale", (*batch, size))[..., None]


def _multivariate(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    tril = scale_tril(rng, batch, EVENT_SIZE)
    return _draw(rng, "location", (*batch, EVENT_SIZE)), tril @ np.swapaxes(tril, -1, -2)


def _low_rank(rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    return (
        _draw(rng, "location", (*batch, EVENT_SIZE)),
        _draw(rng, "cov_factor", (*batch, EVENT_SIZE, LOW_RANK)),
        _draw(rng, "scale", (*batch, EVENT_SIZE)),
    )


def _independent_normal(module: Any, arrays: tuple[Any, ...]) -> Any:
    return module.Independent(module.Normal(*arrays), 1)


@dataclass(frozen=True)
class Family:
    """How to sample and build one family.

    ``sample(rng, batch)`` returns the parameters in constructor order; the last ``event_ndim``
    axes of the first one are the event. ``constructor(module, arrays)`` builds the distribution
    from ``module`` (``kldiv.distributions`` or ``torch.distributions``); by default
    ``module.<class_name>(*arrays)``.
    """

    sample: Sampler
    event_ndim: int = 0
    class_name: str | None = None
    constructor: Callable[[Any, tuple[Any, ...]], Any] | None = None


#: Every family, by name: the class name, except IndependentNormal (``Independent(Normal, 1)``).
FAMILIES: dict[str, Family] = {
    "Normal": Family(_uniform("location", "scale")),
    "Gumbel": Family(_uniform("location", "scale")),
    "Laplace": Family(_uniform("location", "scale")),
    "Cauchy": Family(_uniform("location", "scale")),
    "LogNormal": Family(_uniform("location", "scale")),
    "HalfNormal": Family(_uniform("scale")),
    "Exponential": Family(_uniform("positive")),
    "Gamma": Family(_uniform("positive", "positive")),
    "Chi2": Family(_uniform("degrees_of_freedom")),
    "Beta": Family(_uniform("positive", "positive")),
    "Kumaraswamy": Family(_uniform("positive", "positive")),
    "Weibull": Family(_uniform("positive", "positive")),
    "Pareto": Family(_uniform("pareto_scale", "positive")),
    "VonMises": Family(_uniform("angle", "von_mises_concentration")),
    "Uniform": Family(_interval),
    "ContinuousBernoulli": Family(_uniform("probability")),
    "Bernoulli": Family(_uniform("probability")),
    "Geometric": Family(_uniform("probability")),
    "Binomial": Family(_binomial),
    "Poisson": Family(_uniform("poisson_rate")),
    "Categorical": Family(_simplex, event_ndim=1),
    "OneHotCategorical": Family(_simplex, event_ndim=1),
    "Dirichlet": Family(_uniform("positive", event=(CATEGORIES,)), event_ndim=1),
    "MultivariateNormal": Family(_multivariate, event_ndim=1),
    "LowRankMultivariateNormal": Family(_low_rank, event_ndim=1),
    "IndependentNormal": Family(
        _uniform("location", "scale", event=(EVENT_SIZE,)),
        event_ndim=1,
        class_name="Independent",
        constructor=_independent_normal,
    ),
}

#: Families whose parameters are all real with a density in x: their KLs have gradients.
CONTINUOUS = frozenset(
    name
    for name in FAMILIES
    if name not in ("Bernoulli", "Geometric", "Binomial", "Poisson", "Categorical",
                    "OneHotCategorical", "Dirichlet")
)  # fmt: skip
#: The p families of the Normal-family pairs and of the others (by family name).
NORMAL_FAMILIES = (
    "Normal", "Gumbel", "Laplace", "Cauchy", "HalfNormal", "LogNormal", "MultivariateNormal",
    "LowRankMultivariateNormal", "IndependentNormal",
)  # fmt: skip
OTHER_FAMILIES = (
    "Bernoulli", "Beta", "Binomial", "Categorical", "ContinuousBernoulli", "Dirichlet",
    "Exponential", "Gamma", "Geometric", "OneHotCategorical", "Pareto", "Poisson", "Uniform",
)  # fmt: skip

#: Pairs kldiv has and torch's registry lacks (torch reaches LogNormal only through its abstract
#: TransformedDistribution pair). IndependentNormal ↔ MultivariateNormal is checked against torch
#: with the Independent written as the diagonal MultivariateNormal it is; the rest by mpmath.
EXTRA_PAIRS = (
    ("IndependentNormal", "MultivariateNormal"),
    ("MultivariateNormal", "IndependentNormal"),
    ("LogNormal", "LogNormal"),
    ("Weibull", "Weibull"),
    ("VonMises", "VonMises"),
    ("Kumaraswamy", "Beta"),
)
#: Pairs torch reaches only through a pair of base classes (its Chi2 is a Gamma).
SUBCLASS_PAIRS = (("Chi2", "Chi2"),)
#: Pairs torch lacks altogether: mpmath is their only reference.
MPMATH_PAIRS = (("Weibull", "Weibull"), ("VonMises", "VonMises"), ("Kumaraswamy", "Beta"))
#: Parameters (p's then q's) where p ≈ q: torch's float32 closed forms lose every digit there.
NEAR_EQUAL: dict[tuple[str, str], tuple[float, ...]] = {
    ("Beta", "Beta"): (500.0, 500.0, 501.0, 500.0),
    ("Gamma", "Gamma"): (300.0, 2.0, 301.0, 2.0),
    ("Poisson", "Poisson"): (1000.0, 1001.0),
    ("Exponential", "Exponential"): (1.0, 1.001),
}
#: Parameters (p's then q's) where the KL is finite and torch returns +inf: ContinuousBernoulli
#: against Uniform(0, 1), its own support, both ways.
TORCH_INFINITE: dict[tuple[str, str], tuple[Any, ...]] = {
    ("ContinuousBernoulli", "Uniform"): ([0.2, 0.7, 0.9], 0.0, 1.0),
    ("Uniform", "ContinuousBernoulli"): (0.0, 1.0, [0.2, 0.7, 0.9]),
}
#: torch's abstract bases: their pairs are fallbacks, not closed forms of two families.
TORCH_ABSTRACT = ("ExponentialFamily", "TransformedDistribution")


def class_name(family: str) -> str:
    """The class of ``family`` in kldiv and torch (``IndependentNormal`` → ``Independent``)."""
    return FAMILIES[family].class_name or family


def _family_of(name: str) -> str:
    return next((key for key, spec in FAMILIES.items() if spec.class_name == name), name)


def sample(family: str, rng: np.random.Generator, batch: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """Valid parameters of ``family`` with batch shape ``batch`` (float64, constructor order)."""
    return FAMILIES[family].sample(rng, batch)


def parameter_count(family: str) -> int:
    """How many parameters :func:`sample` returns for ``family``."""
    return len(sample(family, np.random.default_rng(0), ()))


def build(module: Any, family: str, arrays: Iterable[Any]) -> Any:
    """``family`` built from ``module`` (``kldiv.distributions`` or ``torch.distributions``)."""
    spec = FAMILIES[family]
    if spec.constructor is not None:
        return spec.constructor(module, tuple(arrays))
    return getattr(module, class_name(family))(*arrays)


def batch_shape(family: str, arrays: tuple[np.ndarray, ...]) -> tuple[int, ...]:
    """The batch shape of ``family`` with parameters ``arrays``."""
    shape = np.shape(arrays[0])
    return tuple(shape[: len(shape) - FAMILIES[family].event_ndim])


def _torch_build(family: str, tensors: tuple[Any, ...], paired_with: str) -> Any:
    import torch

    if family == "IndependentNormal" and paired_with == "MultivariateNormal":
        loc, scale = tensors  # torch has no such pair: the same law as a diagonal MVN
        return torch.distributions.MultivariateNormal(loc, scale_tril=torch.diag_embed(scale))
    return build(torch.distributions, family, tensors)


def torch_kl(
    p_family: str,
    p_arrays: tuple[np.ndarray, ...],
    q_family: str,
    q_arrays: tuple[np.ndarray, ...],
    *,
    dtype: str = "float64",
    expand: bool = False,
) -> np.ndarray:
    """torch's KL(p ‖ q) in ``dtype``, as float64 NumPy with the joint batch shape.

    torch's +inf pairs return p's batch shape only (``torch.full_like(p.loc, inf)``): the result
    is broadcast. ``expand=True`` first expands both sides to the joint batch shape (torch's
    pairs that write ``result[mask]`` raise IndexError on different batch shapes otherwise).
    """
    import torch

    joint = np.broadcast_shapes(batch_shape(p_family, p_arrays), batch_shape(q_family, q_arrays))

    def tensors(family: str, arrays: tuple[np.ndarray, ...]) -> tuple[Any, ...]:
        if expand:  # every parameter has the batch shape of the first, then its own axes
            batch_ndim = len(batch_shape(family, arrays))
            arrays = tuple(np.broadcast_to(a, joint + np.shape(a)[batch_ndim:]) for a in arrays)
        return tuple(torch.as_tensor(np.array(a), dtype=getattr(torch, dtype)) for a in arrays)

    p = _torch_build(p_family, tensors(p_family, p_arrays), q_family)
    q = _torch_build(q_family, tensors(q_family, q_arrays), p_family)
    result = torch.distributions.kl_divergence(p, q).double().numpy()
    return np.broadcast_to(result, joint).copy()


def torch_pairs(p_families: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """The (p, q) pairs torch registers between two families, by family name, sorted.

    Only pairs whose p is one of ``p_families`` (default: all); torch's abstract fallbacks
    (:data:`TORCH_ABSTRACT`) are not pairs of two families.
    """
    from torch.distributions.kl import _KL_REGISTRY

    wanted = None if p_families is None else set(p_families)
    pairs = {
        (_family_of(p.__name__), _family_of(q.__name__))
        for p, q in _KL_REGISTRY
        if not {p.__name__, q.__name__} & set(TORCH_ABSTRACT)
    }
    return sorted(pair for pair in pairs if wanted is None or pair[0] in wanted)


def torch_reference_pairs(p_families: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """The pairs :func:`torch_kl` computes: torch's own, :data:`SUBCLASS_PAIRS` and the
    :data:`EXTRA_PAIRS` outside :data:`MPMATH_PAIRS` (p among ``p_families``, default: all)."""
    added = [pair for pair in (*SUBCLASS_PAIRS, *EXTRA_PAIRS) if pair not in MPMATH_PAIRS]
    wanted = set(FAMILIES if p_families is None else p_families)
    return torch_pairs(p_families) + [pair for pair in added if pair[0] in wanted]


def torch_has(p_class: str, q_class: str) -> bool:
    """Whether torch registers a pair for classes ``p_class``, ``q_class`` or their bases."""
    import torch.distributions
    from torch.distributions.kl import _KL_REGISTRY

    p = getattr(torch.distributions, p_class, None)
    q = getattr(torch.distributions, q_class, None)
    if p is None or q is None:
        return False
    return any(
        issubclass(p, base_p) and issubclass(q, base_q)
        for base_p, base_q in _KL_REGISTRY
        if not {base_p.__name__, base_q.__name__} & set(TORCH_ABSTRACT)
    )
