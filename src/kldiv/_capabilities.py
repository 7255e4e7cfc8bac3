"""What each public name supports: array libraries, ``jax.jit``, lazy Dask, torch autograd.

One declaration per public name of :mod:`kldiv` (its submodules expanded to their ``__all__``; a
class's methods share the class's entry; ``"<module>.*"`` covers a whole module). The support
matrix of the documentation is generated from :data:`CAPABILITIES`, and the test suite reads it
for its skips and checks every claim against behaviour, so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BACKENDS", "CAPABILITIES", "Capability", "capability"]

#: The array libraries kldiv is tested on, by :class:`kldiv.testing.Backend` value.
BACKENDS = ("numpy", "array_api_strict", "torch", "jax", "dask", "cupy")


@dataclass(frozen=True)
class Capability:
    """What one public name supports.

    Attributes
    ----------
    backends : tuple of str
        The array libraries it accepts (values of :data:`BACKENDS`).
    jit : bool
        Runs under ``jax.jit`` (traced arrays, no value read on the host).
    lazy : bool
        Builds a Dask graph without computing it.
    grad : bool
        torch autograd differentiates its result with respect to its array inputs.
    notes : str
        What a user should know (how a library is served, why a mode is unsupported).
    array_free : str
        Non-empty when the name runs no array code of its own: the reason (a table, a flag, a
        base class); ``jit``, ``lazy`` and ``grad`` then do not apply.
    """

    backends: tuple[str, ...] = BACKENDS
    jit: bool = True
    lazy: bool = True
    grad: bool = True
    notes: str = ""
    array_free: str = ""

    def supports(self, mode: str) -> bool:
        """Whether the name runs in ``mode``: ``"jit"``, ``"lazy-dask"`` or ``"grad"``."""
        if self.array_free:
            return False
        if mode == "jit":
            return self.jit and "jax" in self.backends
        if mode == "lazy-dask":
            return self.lazy and "dask" in self.backends
        if mode == "grad":
            return self.grad and "torch" in self.backends
        raise ValueError(f"mode must be 'jit', 'lazy-dask' or 'grad', not {mode!r}")


_ARRAYS = Capability()
_SPECIAL = Capability(
    notes="lgamma / digamma / betaln: native per library (SciPy on NumPy, torch.special, "
    "jax.scipy.special, cupyx), block by block on Dask, portable elsewhere"
)
_CHOLESKY = Capability(
    notes="Cholesky and triangular solves: native per library; Dask runs the Cholesky per "
    "batch block (its own linalg is 2-D only)"
)
_METRIC = Capability(
    notes="state (sum, count) kept as arrays of the inputs' library and device; sync() "
    "all-reduces over torch.distributed when a process group is initialised"
)
_LOGITS = Capability(
    notes="streams over the vocabulary on eager libraries; custom backward on torch and JAX "
    "saves only the logits"
)
_DISCRETE_FAMILY = Capability(notes="logits parameterisations through a stable softplus")

_TOP_LEVEL: dict[str, Capability] = {
    **dict.fromkeys(
        (
            "kl_divergence",
            "kl_div",
            "KLDivLoss",
            "rel_entr",
            "entropy",
            "cross_entropy",
            "js_divergence",
            "js_distance",
            "jeffreys",
            "kl_estimate",
            "hellinger",
            "hellinger_squared",
            "total_variation",
            "chi2",
            "renyi_divergence",
            "alpha_divergence",
            "bhattacharyya_coefficient",
            "bhattacharyya_distance",
            "tsallis_divergence",
            "power_divergence",
            "psi",
            "f_divergence",
        ),
        _ARRAYS,
    ),
    "kl_div_logits": _LOGITS,
    "reverse_kl_logits": _LOGITS,
    "js_div_logits": _LOGITS,
    "kl_topk": Capability(
        notes="gathers the student's logits at the teacher's top-k indices; streams the "
        "log-normaliser over the vocabulary on eager libraries; custom backward on torch and JAX"
    ),
    "wasserstein_1d": Capability(notes="sorts the samples and merges the two quantile functions"),
    **dict.fromkeys(
        (
            "KLDivergence",
            "JensenShannonDivergence",
            "HellingerDistance",
            "TotalVariationDistance",
            "MetricState",
        ),
        _METRIC,
    ),
    "ESTIMATOR_PRESETS": Capability(array_free="a read-only table of settings"),
    "EstimatorPreset": Capability(array_free="a frozen record of settings, read by kl_estimate"),
    "set_validate_args": Capability(array_free="sets a global flag"),
}

_GAUSSIAN: dict[str, Capability] = {
    "kl_standard_normal": _ARRAYS,
    "kl_normal": _ARRAYS,
    "kl_mvn": _CHOLESKY,
    **dict.fromkeys(
        ("renyi_normal", "bhattacharyya_normal", "hellinger_normal", "wasserstein2_normal"),
        _ARRAYS,
    ),
    **dict.fromkeys(("renyi_mvn", "bhattacharyya_mvn", "hellinger_mvn"), _CHOLESKY),
    "wasserstein2_mvn": Capability(
        notes="the cross trace from the eigenvalues of L_pᵀ Σ_q L_p (eigvalsh, native per "
        "library); Dask runs it per batch block"
    ),
}

_SCALAR_FAMILIES = (
    "Cauchy",
    "Exponential",
    "Gumbel",
    "HalfNormal",
    "Laplace",
    "LogNormal",
    "Normal",
    "Pareto",
    "Uniform",
)
_SPECIAL_FAMILIES = (
    "Beta",
    "Binomial",
    "Chi2",
    "ContinuousBernoulli",
    "Dirichlet",
    "Gamma",
    "Kumaraswamy",
    "Poisson",
    "VonMises",
    "Weibull",
)

_DISTRIBUTIONS: dict[str, Capability] = {
    **dict.fromkeys(_SCALAR_FAMILIES, _ARRAYS),
    **dict.fromkeys(_SPECIAL_FAMILIES, _SPECIAL),
    **dict.fromkeys(
        ("Bernoulli", "Categorical", "Geometric", "OneHotCategorical"), _DISCRETE_FAMILY
    ),
    **dict.fromkeys(("MultivariateNormal", "LowRankMultivariateNormal", "Independent"), _CHOLESKY),
    "kl_divergence": Capability(
        notes="dispatch by the pair of families (most specific registration wins); each pair "
        "computes in float64 where the library has it"
    ),
    "Distribution": Capability(array_free="the base class: every family exercises it"),
    "register_kl": Capability(array_free="registers a Python function"),
    "from_torch": Capability(
        backends=("torch",),
        jit=False,
        lazy=False,
        notes="reads torch.distributions objects, sharing their tensors (gradients flow)",
    ),
    "from_numpyro": Capability(
        backends=("jax",),
        jit=False,
        lazy=False,
        grad=False,
        notes="reads numpyro.distributions objects (concrete JAX arrays)",
    ),
}

#: Every public name's capability.
CAPABILITIES: dict[str, Capability] = {
    **_TOP_LEVEL,
    **{name: _GAUSSIAN[name] for name in ("kl_standard_normal", "kl_normal", "kl_mvn")},
    **{f"gaussian.{name}": value for name, value in _GAUSSIAN.items()},
    **{f"distributions.{name}": value for name, value in _DISTRIBUTIONS.items()},
    "testing.*": Capability(array_free="test helpers: they read values back to the host"),
}


def capability(name: str) -> Capability | None:
    """The declaration for a public ``name`` (``"kl_div"``, ``"distributions.Normal"``, or a
    method such as ``"KLDivergence.update"``, which shares its class's), or ``None``.

    Parameters
    ----------
    name : str
        A public name relative to :mod:`kldiv`.

    Returns
    -------
    Capability or None
        The declaration, or ``None`` when the name has none.

    Examples
    --------
    >>> capability("KLDivergence.update") is capability("KLDivergence")
    True
    >>> capability("testing.check").array_free != ""
    True
    """
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        found = CAPABILITIES.get(".".join(parts[:end]))
        if found is not None:
            return found
    return CAPABILITIES.get(f"{parts[0]}.*")
