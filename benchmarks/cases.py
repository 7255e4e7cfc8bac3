"""What is timed: the inputs, each implementation, the pairs compared and their targets."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.special
import torch
import torch.nn.functional as F
import torchmetrics.functional

import kldiv

warnings.simplefilter("ignore")
torch.set_num_threads(1)

Call = Callable[[], object]
MATRIX_SHAPES = ((1, 10), (64, 1000), (1024, 4096), (4096, 4096))
QUICK_SHAPES = ((1, 10), (64, 1000))
LOGITS_SHAPE = (2048, 128000)
DTYPES = ("float32", "float64")
TEMPERATURE = 2.0
TOPK = 64  # teacher log-probabilities stored per token for the top-k distillation calls


def shape_name(shape: tuple[int, int]) -> str:
    """``(4096, 4096)`` -> ``'4096x4096'``."""
    return f"{shape[0]}x{shape[1]}"


@dataclass
class MatrixInputs:
    """Probability rows ``p``, ``q`` (no zeros) and ``log q``, and the same as torch tensors.

    On the CPU the tensors share the arrays' memory; on another ``device`` they are copies.
    """

    p: np.ndarray
    q: np.ndarray
    log_q: np.ndarray
    device: str = "cpu"
    torch_views: dict[str, torch.Tensor] = field(init=False)

    def __post_init__(self) -> None:
        self.torch_views = {
            name: torch.from_numpy(getattr(self, name)).to(self.device)
            for name in ("p", "q", "log_q")
        }


@dataclass
class LogitsInputs:
    """Student (model) and teacher logits, standard normal times 4."""

    student: torch.Tensor
    teacher: torch.Tensor


def matrix_inputs(shape: tuple[int, int], dtype: str, device: str = "cpu") -> MatrixInputs:
    """Rows drawn uniformly in (0, 1] and normalised, in ``dtype`` (torch's on ``device``)."""
    rng = np.random.default_rng(0)
    p, q = (1 - rng.random(shape, dtype=dtype) for _ in range(2))
    p /= p.sum(-1, keepdims=True)
    q /= q.sum(-1, keepdims=True)
    return MatrixInputs(p, q, np.log(q), device)


def logits_inputs(shape: tuple[int, int] = LOGITS_SHAPE, device: str = "cpu") -> LogitsInputs:
    """Two float32 logit matrices (vocabulary along the last axis) on ``device``."""
    generator = torch.Generator().manual_seed(0)
    student, teacher = (torch.randn(shape, generator=generator).to(device) * 4 for _ in range(2))
    return LogitsInputs(student, teacher)


def input_bytes(shape: tuple[int, int], dtype: str) -> int:
    """Every call reads two arrays of ``shape``."""
    return 2 * shape[0] * shape[1] * np.dtype(dtype).itemsize


def topk_input_bytes(shape: tuple[int, int], dtype: str) -> int:
    """A top-k call reads the student's logits and, per row, the teacher's k float32
    log-probabilities and k int64 indices."""
    return shape[0] * (shape[1] * np.dtype(dtype).itemsize + TOPK * (4 + 8))


def _forward_backward(loss: Callable[..., torch.Tensor], *inputs: torch.Tensor) -> Call:
    """``loss(*leaves).backward()`` with leaf copies of ``inputs`` that require grad."""
    leaves = [tensor.detach().clone().requires_grad_(True) for tensor in inputs]

    def call() -> None:
        for leaf in leaves:
            leaf.grad = None
        loss(*leaves).backward()

    return call


def _logits_composite(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    return F.kl_div(
        F.log_softmax(student / TEMPERATURE, dim=-1),
        F.log_softmax(teacher / TEMPERATURE, dim=-1),
        log_target=True,
        reduction="batchmean",
    )


def _logits_kldiv(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    return kldiv.kl_div_logits(student, teacher, temperature=TEMPERATURE)


def _js_kldiv(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    return kldiv.js_div_logits(student, teacher, beta=0.5, temperature=TEMPERATURE)


def _torch_kl_div(log_q: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    return F.kl_div(log_q, p, reduction="batchmean")


def _kldiv_kl_div(log_q: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    return kldiv.kl_div(log_q, p, reduction="batchmean")


def _teacher_logits(teacher: torch.Tensor) -> tuple[torch.Tensor]:
    """The teacher's side of a logits call: its logits."""
    return (teacher,)


def _teacher_topk(teacher: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The teacher's top-k log-probabilities and their indices, as an offline store holds them."""
    values, indices = torch.topk(teacher, TOPK, dim=-1)
    return values - torch.logsumexp(teacher, dim=-1, keepdim=True), indices


def _topk_kldiv(student: torch.Tensor, logprobs: torch.Tensor, indices: torch.Tensor) -> Any:
    return kldiv.kl_topk(student, logprobs, indices, temperature=TEMPERATURE)


def _topk_composite(student: torch.Tensor, logprobs: torch.Tensor, indices: torch.Tensor) -> Any:
    """The same 'bucket' KL as usually written: a full log-softmax of the student, gathered at
    the indices, the student's rest mass as 1 - Σ s_i."""
    log_s = F.log_softmax(student / TEMPERATURE, dim=-1).gather(-1, indices)
    teacher_mass = logprobs.exp()
    missing = (1 - teacher_mass.sum(-1)).clamp_min(0)
    rest = (1 - log_s.exp().sum(-1)).clamp_min(torch.finfo(student.dtype).tiny)
    rows = (teacher_mass * (logprobs - log_s)).sum(-1) + torch.xlogy(missing, missing / rest)
    return rows.sum() / student.shape[0]


def _student_call(
    loss: Callable[..., Any],
    inputs: LogitsInputs,
    teacher_side: Callable[[torch.Tensor], tuple[torch.Tensor, ...]],
    gradient: bool,
) -> Call:
    """``loss`` of the student against ``teacher_side(teacher)`` (formed before the call); with
    ``gradient``, forward and backward with respect to the student only, as in distillation."""
    teacher = teacher_side(inputs.teacher)
    if not gradient:
        return lambda: loss(inputs.student, *teacher)
    student = inputs.student.detach().clone().requires_grad_(True)

    def call() -> None:
        student.grad = None
        loss(student, *teacher).backward()

    return call


@dataclass(frozen=True)
class Implementation:
    """One timed call: ``key`` names it everywhere, ``panel`` is the library of its plot panel."""

    key: str
    panel: str
    build: Callable[[Any], Call]
    logits: bool = False
    input_bytes: Callable[[tuple[int, int], str], int] = input_bytes


IMPLEMENTATIONS = (
    Implementation("numpy log(p) floor", "numpy", lambda i: lambda: np.log(i.p)),
    Implementation("numpy naive", "numpy", lambda i: lambda: (i.p * np.log(i.p / i.q)).sum(-1)),
    Implementation(
        "scipy rel_entr", "numpy", lambda i: lambda: scipy.special.rel_entr(i.p, i.q).sum(-1)
    ),
    Implementation(
        "kldiv.kl_divergence numpy", "numpy", lambda i: lambda: kldiv.kl_divergence(i.p, i.q)
    ),
    Implementation("torch log(p) floor", "torch", lambda i: lambda: torch.log(i.torch_views["p"])),
    Implementation(
        "F.kl_div",
        "torch",
        lambda i: lambda: _torch_kl_div(i.torch_views["log_q"], i.torch_views["p"]),
    ),
    Implementation(
        "kldiv.kl_div torch",
        "torch",
        lambda i: lambda: _kldiv_kl_div(i.torch_views["log_q"], i.torch_views["p"]),
    ),
    Implementation(
        "torchmetrics kl_divergence",
        "torch",
        lambda i: (
            lambda: torchmetrics.functional.kl_divergence(i.torch_views["p"], i.torch_views["q"])
        ),
    ),
    Implementation(
        "kldiv.kl_divergence torch",
        "torch",
        lambda i: lambda: kldiv.kl_divergence(i.torch_views["p"], i.torch_views["q"]),
    ),
    Implementation(
        "F.kl_div fwd+bwd",
        "torch",
        lambda i: _forward_backward(_torch_kl_div, i.torch_views["log_q"], i.torch_views["p"]),
    ),
    Implementation(
        "kldiv.kl_div fwd+bwd",
        "torch",
        lambda i: _forward_backward(_kldiv_kl_div, i.torch_views["log_q"], i.torch_views["p"]),
    ),
    *(
        Implementation(
            f"{name}{suffix}",
            "logits",
            lambda i, loss=loss, side=side, gradient=bool(suffix): _student_call(
                loss, i, side, gradient
            ),
            logits=True,
            input_bytes=read,
        )
        for name, loss, side, read in (
            ("F.kl_div(log_softmax) logits", _logits_composite, _teacher_logits, input_bytes),
            ("kldiv.kl_div_logits", _logits_kldiv, _teacher_logits, input_bytes),
            ("kldiv.js_div_logits", _js_kldiv, _teacher_logits, input_bytes),
            ("F.log_softmax+gather topk", _topk_composite, _teacher_topk, topk_input_bytes),
            ("kldiv.kl_topk", _topk_kldiv, _teacher_topk, topk_input_bytes),
        )
        for suffix in ("", " fwd+bwd")
    ),
)
BY_KEY = {implementation.key: implementation for implementation in IMPLEMENTATIONS}


@dataclass(frozen=True)
class Target:
    """Acceptance: ``ours / peer <= max_ratio`` at ``shape`` (a name such as ``'4096x4096'``)."""

    shape: str
    max_ratio: float


@dataclass(frozen=True)
class Comparison:
    """A kldiv call and its peer, timed on the same inputs; the ratio is ours / peer."""

    ours: str
    peer: str
    targets: tuple[Target, ...] = ()


LARGE = shape_name(MATRIX_SHAPES[-1])
SMALL = shape_name(MATRIX_SHAPES[0])
COMPARISONS = (
    Comparison(
        "kldiv.kl_divergence numpy", "numpy naive", (Target(SMALL, 10.0), Target(LARGE, 1.1))
    ),
    Comparison("kldiv.kl_divergence numpy", "scipy rel_entr", (Target(LARGE, 1 / 3),)),
    Comparison("kldiv.kl_div torch", "F.kl_div", (Target(SMALL, 1.5), Target(LARGE, 0.6))),
    Comparison("kldiv.kl_divergence torch", "torchmetrics kl_divergence", (Target(LARGE, 0.5),)),
    Comparison("kldiv.kl_divergence torch", "F.kl_div", (Target(SMALL, 1.5),)),
    Comparison("kldiv.kl_div fwd+bwd", "F.kl_div fwd+bwd", (Target(LARGE, 0.8),)),
    Comparison("kldiv.kl_div_logits", "F.kl_div(log_softmax) logits"),
    Comparison("kldiv.kl_div_logits fwd+bwd", "F.kl_div(log_softmax) logits fwd+bwd"),
    Comparison("kldiv.kl_topk", "F.log_softmax+gather topk"),
    Comparison("kldiv.kl_topk fwd+bwd", "F.log_softmax+gather topk fwd+bwd"),
)


@dataclass(frozen=True)
class MemoryCase:
    """One peak-memory measurement; ``max_percent`` (of the inputs) is the target, if any."""

    key: str
    shape: tuple[int, int]
    dtype: str
    max_percent: float | None = None


_REDUCED = (
    ("numpy naive", None),
    ("scipy rel_entr", None),
    ("kldiv.kl_divergence numpy", 10.0),
    ("F.kl_div", None),
    ("kldiv.kl_div torch", 10.0),
    ("torchmetrics kl_divergence", None),
    ("kldiv.kl_divergence torch", 10.0),
)
# With grad the student's gradient is one logits-sized buffer: half of the two inputs.
_LOGITS = (
    ("F.kl_div(log_softmax) logits", None),
    ("kldiv.kl_div_logits", 10.0),
    ("F.kl_div(log_softmax) logits fwd+bwd", None),
    ("kldiv.kl_div_logits fwd+bwd", 50.0 + 10.0),
    ("kldiv.js_div_logits", 10.0),
    ("kldiv.js_div_logits fwd+bwd", 50.0 + 10.0),
    ("F.log_softmax+gather topk", None),
    ("kldiv.kl_topk", 10.0),
    ("F.log_softmax+gather topk fwd+bwd", None),
    # With grad the student's gradient is one logits-sized buffer: about all of the inputs.
    ("kldiv.kl_topk fwd+bwd", 100.0 + 10.0),
)
MEMORY_CASES = tuple(
    MemoryCase(key, MATRIX_SHAPES[-1], "float64", target) for key, target in _REDUCED
) + tuple(MemoryCase(key, LOGITS_SHAPE, "float32", target) for key, target in _LOGITS)
