"""Seeded and edge-case probability pairs, and how each discrete function takes them.

The pairs are float64 NumPy arrays ``(p, q)`` of (possibly unnormalised) probabilities along the
last axis. :func:`random_pairs` draws them over several batch shapes (broadcasting included);
:func:`edge_pairs` names the hard ones: zeros in p, zeros in q, equal and near-equal rows, rows
far from summing to 1, one-hot rows, extreme logits, tiny probabilities, one and 100000 outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["BATCH_SHAPES", "LIKE_ARGUMENTS", "describe_pair", "edge_pairs", "random_pairs"]

Pair = tuple[np.ndarray, np.ndarray]

HUGE_D = 100_000
LARGE_D = 2048
SMALL_DS = (5, 12)

#: (p batch shape, q batch shape): 1 to 4 dimensions with the distribution axis, broadcasting.
BATCH_SHAPES = (
    ((), ()),
    ((4,), (4,)),
    ((3, 5), (3, 5)),
    ((2, 3, 4), (2, 3, 4)),
    ((4,), (1,)),
    ((4,), ()),
    ((3, 1), (1, 5)),
    ((2, 1, 4), (3, 1)),
)


def normalized(probs: np.ndarray) -> np.ndarray:
    """Rows scaled to sum to 1 along the last axis."""
    return probs / probs.sum(axis=-1, keepdims=True)


def log(probs: np.ndarray) -> np.ndarray:
    """``np.log`` without a warning at 0 (which gives -inf)."""
    with np.errstate(divide="ignore"):
        return np.log(probs)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax along the last axis, shifted for stability."""
    return normalized(np.exp(logits - logits.max(axis=-1, keepdims=True)))


def _random_probs(rng: np.random.Generator, shape: tuple[int, ...], style: int) -> np.ndarray:
    """Dirichlet rows (style 0), or unnormalised positive rows of scale 1, 1e3 or 1e-3."""
    if style == 0:
        return rng.dirichlet(np.full(shape[-1], rng.choice([0.3, 1.0, 5.0])), size=shape[:-1])
    scale = (1.0, 1e3, 1e-3)[style - 1]
    return scale * rng.uniform(0.01, 1.0, size=shape)


def random_pairs(rng: np.random.Generator, count: int = 36) -> Iterator[tuple[str, Pair]]:
    """``count`` seeded pairs over :data:`BATCH_SHAPES`; every fourth has a large support.

    Support sizes come from a small palette so that shapes repeat: JAX compiles every operation
    once per shape, and repeated shapes keep its run short.

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of the values.
    count : int, optional
        How many pairs.

    Yields
    ------
    tuple of (str, (numpy.ndarray, numpy.ndarray))
        The case name (rank, small or large support, index) and the pair ``(p, q)``: Dirichlet
        rows or unnormalised rows of scale 1, 1e3 or 1e-3.

    Examples
    --------
    >>> pairs = list(random_pairs(np.random.default_rng(0), count=2))
    >>> [(name, p.shape, q.shape) for name, (p, q) in pairs]
    [('random-1d-small-00', (5,), (5,)), ('random-2d-small-01', (4, 5), (4, 5))]
    """
    for index in range(count):
        p_batch, q_batch = BATCH_SHAPES[index % len(BATCH_SHAPES)]
        large = index % 4 == 3
        size = LARGE_D if large else SMALL_DS[index // len(BATCH_SHAPES) % len(SMALL_DS)]
        style = index % 4 if not large else 0
        p = _random_probs(rng, (*p_batch, size), style)
        q = _random_probs(rng, (*q_batch, size), (style + 1) % 4)
        label = f"random-{len(p_batch) + 1}d-{'large' if large else 'small'}-{index:02d}"
        yield label, (p, q)


def _one_hot(rows: int, size: int, positions: np.ndarray) -> np.ndarray:
    return np.eye(size)[positions % size][:rows]


def edge_pairs(rng: np.random.Generator) -> Iterator[tuple[str, Pair]]:
    """The named edge cases, as probability pairs (zeros become -inf in log space).

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of the values.

    Yields
    ------
    tuple of (str, (numpy.ndarray, numpy.ndarray))
        The case name and the pair ``(p, q)``.

    Examples
    --------
    >>> [name for name, _ in edge_pairs(np.random.default_rng(0))][:3]
    ['zeros-in-p', 'zeros-in-q-where-p-is-zero', 'zeros-in-q-where-p-is-positive']
    """
    base = rng.dirichlet(np.ones(8), size=4)
    other = rng.dirichlet(np.ones(8), size=4)
    holes = rng.random((4, 8)) < 0.35
    holes[:, 0] = False
    yield "zeros-in-p", (np.where(holes, 0.0, base), other)
    yield "zeros-in-q-where-p-is-zero", (np.where(holes, 0.0, base), np.where(holes, 0.0, other))
    yield "zeros-in-q-where-p-is-positive", (base, np.where(holes, 0.0, other))
    yield "p-equals-q", (base, base.copy())
    noise = 1 + 1e-9 * rng.standard_normal(base.shape)
    yield "near-equal-rows", (base, normalized(base * noise))
    yield "near-equal-rows-sums-far-from-1", (1e3 * base, 1e3 * base * noise)
    positions = rng.integers(0, 8, size=4)
    yield "one-hot-rows-equal", (_one_hot(4, 8, positions), _one_hot(4, 8, positions))
    yield "one-hot-vs-uniform", (_one_hot(4, 8, positions), np.full((4, 8), 1 / 8))
    yield "one-hot-disjoint", (_one_hot(4, 8, positions), _one_hot(4, 8, positions + 1))
    logits = rng.choice([-80.0, 80.0], size=(4, 8)) + rng.standard_normal((4, 8))
    yield "extreme-logits-80", (softmax(logits), softmax(-logits))
    yield "tiny-probabilities", (normalized(base * np.where(holes, 1e-30, 1.0)), other)
    yield "d-1", (np.ones((5, 1)), np.full((5, 1), 0.5))
    yield "d-100000", (rng.dirichlet(np.ones(HUGE_D), size=2), rng.dirichlet(np.ones(HUGE_D)))


def describe_pair(pair: Pair) -> str:
    """Shapes and row sums of a pair, for messages.

    Parameters
    ----------
    pair : (numpy.ndarray, numpy.ndarray)
        ``(p, q)``, rows along the last axis.

    Returns
    -------
    str
        Each array's shape and the range of its row sums.

    Examples
    --------
    >>> describe_pair((np.array([[0.5, 0.5]]), np.array([[2.0, 1.0]])))
    'p (1, 2) rows sum to 1, q (1, 2) rows sum to 3'
    """

    def rows(name: str, probs: np.ndarray) -> str:
        sums = probs.sum(axis=-1)
        low, high = float(np.min(sums)), float(np.max(sums))
        span = f"{low:.3g}" if np.isclose(low, high, rtol=1e-9) else f"{low:.3g} to {high:.3g}"
        return f"{name} {probs.shape} rows sum to {span}"

    return f"{rows('p', pair[0])}, {rows('q', pair[1])}"


def _probabilities(pair: Pair) -> tuple[np.ndarray, ...]:
    return pair


def _torch_order(pair: Pair) -> tuple[np.ndarray, ...]:
    """torch's ``(input, target)``: log q of the normalised q, and the normalised p."""
    p, q = pair
    return log(normalized(q)), normalized(p)


def _logits(pair: Pair) -> tuple[np.ndarray, ...]:
    """Logits of q (the student) and p (the teacher), shifted by a constant per array."""
    p, q = pair
    return log(normalized(q)) + 3.0, log(normalized(p)) - 2.0


#: How each discrete function takes a pair: its positional arguments.
LIKE_ARGUMENTS: dict[str, Callable[[Pair], tuple[Any, ...]]] = {
    "kl_divergence": _probabilities,
    "kl_div": _torch_order,
    "rel_entr": _probabilities,
    "entropy": _probabilities,
    "cross_entropy": _probabilities,
    "js_divergence": _probabilities,
    "js_distance": _probabilities,
    "jeffreys": _probabilities,
    "kl_div_logits": _logits,
}
