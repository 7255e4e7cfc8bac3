"""Memory-lean gradients, on the libraries that let us define them: the one place for them.

``kl_div`` (torch): :func:`kl_div_total` saves only the inputs; its backward pass is elementwise.

``kl_div_logits``: the generic pass (:class:`kldiv._logits.LogitBlocks`) keeps per-row scalars
only; differentiating through it would still record every block's temporaries. Here the
gradient is defined directly: the forward pass saves the inputs and the per-row values (KL,
both log-sum-exps), and the backward pass recomputes both softmaxes block by block:

* d/d input_j  = (q_j - p_j) / T,
* d/d target_j = p_j (log p_j - log q_j - KL_row) / T,

with q = softmax(input / T), p = softmax(target / T), each times the upstream gradient. Nothing as
large as the logits is saved. The same rule serves every :class:`~kldiv._logits.LogitBlocks`
(the generalised JSD of :func:`kldiv.js_div_logits` brings its own per-block kernels).

``kl_topk``: the row KL depends on the logits only through the row's log-normaliser and the k
gathered logits, so the gradient is ``d_lse · softmax / T`` (written block by block) plus the k
derivatives scattered at the indices; the forward pass saves the student and k-sized values.

torch gets a ``torch.autograd.Function``, JAX a ``jax.custom_vjp``; every other library (or an
array temperature) takes the generic pass. torch and JAX are imported only when their arrays
arrive.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from array_api_compat import is_jax_namespace, is_torch_namespace

from ._array import Array, Namespace

if TYPE_CHECKING:
    from ._logits import LogitBlocks
    from ._topk import TopkKL

__all__ = [
    "kl_div_total",
    "stop_gradient",
    "summed_row_kl",
    "topk_rows",
    "torch_needs_gradient",
]


def summed_row_kl(
    xp: Namespace,
    student: Array,
    teacher: Array,
    temperature: float | Array,
    blocks: LogitBlocks,
) -> Array:
    """Σ over rows of KL(softmax(teacher / T) ‖ softmax(student / T)) along ``blocks.axis``.

    On torch (when a gradient is needed) and JAX, with the gradient defined above; otherwise
    the generic pass, differentiated (if at all) by the library itself.
    """
    if isinstance(temperature, int | float) and not isinstance(temperature, bool):
        if is_torch_namespace(xp) and torch_needs_gradient(student, teacher):
            return _torch_summed_row_kl().apply(student, teacher, float(temperature), blocks)
        if is_jax_namespace(xp):
            return _jax_summed_row_kl()(student, teacher, float(temperature), blocks)
    return blocks.total(xp, student, teacher, temperature)


def torch_needs_gradient(*arrays: Array) -> bool:
    """Whether torch autograd records an operation on ``arrays`` (torch tensors)."""
    import torch

    return torch.is_grad_enabled() and any(array.requires_grad for array in arrays)


@functools.cache
def _torch_summed_row_kl() -> Any:
    """The ``torch.autograd.Function`` (built on first use, so that torch loads only then)."""
    import array_api_compat.torch as torch_xp
    import torch
    from torch.autograd.function import once_differentiable

    class SummedRowKL(torch.autograd.Function):
        @staticmethod
        def forward(
            ctx: Any, student: Array, teacher: Array, temperature: float, blocks: LogitBlocks
        ) -> Array:
            row_shape = list(student.shape)
            row_shape[blocks.axis] = 1
            row_values = [student.new_empty(row_shape) for _ in range(3)]
            for index in blocks.indices(student.ndim):  # written in place: no per-block pieces
                values = blocks.block_values(torch_xp, student, teacher, temperature, index)
                for saved, value in zip(row_values, values, strict=True):
                    saved[index] = value
            ctx.save_for_backward(student, teacher, *row_values)
            ctx.temperature, ctx.blocks = temperature, blocks
            return torch.sum(row_values[0])

        @staticmethod
        @once_differentiable
        def backward(ctx: Any, grad_output: Array) -> tuple[Array | None, ...]:
            student, teacher, *row_values = ctx.saved_tensors
            input_needed, target_needed = ctx.needs_input_grad[:2]
            factor = grad_output / ctx.temperature
            input_grad = torch.empty_like(student) if input_needed else None
            target_grad = torch.empty_like(teacher) if target_needed else None
            for index in ctx.blocks.indices(student.ndim):
                block_input, block_target = ctx.blocks.gradients(
                    torch_xp, student, teacher, ctx.temperature, row_values, index, target_needed
                )
                if input_grad is not None:
                    torch.mul(block_input, factor, out=input_grad[index])
                if target_grad is not None:
                    torch.mul(block_target, factor, out=target_grad[index])
            return input_grad, target_grad, None, None

    return SummedRowKL


@functools.cache
def _jax_summed_row_kl() -> Any:
    """The ``jax.custom_vjp`` function (built on first use, so that JAX loads only then)."""
    import jax
    import jax.numpy as jnp

    def summed(student: Array, teacher: Array, temperature: float, blocks: LogitBlocks) -> Array:
        return blocks.total(jnp, student, teacher, temperature)

    def forward(
        student: Array, teacher: Array, temperature: float, blocks: LogitBlocks
    ) -> tuple[Array, tuple[Array, ...]]:
        row_values = blocks.row_values(jnp, student, teacher, temperature)
        return jnp.sum(row_values[0]), (student, teacher, *row_values)

    def backward(
        temperature: float, blocks: LogitBlocks, saved: tuple[Array, ...], grad_output: Array
    ) -> tuple[Array, Array]:
        student, teacher, *row_values = saved
        whole = (slice(None),) * student.ndim  # one block: XLA fuses the elementwise work
        input_grad, target_grad = blocks.gradients(
            jnp, student, teacher, temperature, row_values, whole, True
        )
        factor = grad_output / temperature
        return input_grad * factor, target_grad * factor

    differentiable = jax.custom_vjp(summed, nondiff_argnums=(2, 3))
    differentiable.defvjp(forward, backward)
    return differentiable


# --- kl_topk ------------------------------------------------------------------------------


def topk_rows(xp: Namespace, student: Array, teacher: Array, indices: Array, op: TopkKL) -> Array:
    """The per-row KL of :func:`kldiv.kl_topk` (``op.axis`` kept), differentiable.

    The forward pass saves the student (no copy), the indices and per-row or k-sized values;
    the backward pass writes ``d_lse · softmax(student / T) / T`` block by block into the one
    gradient array and adds the k derivatives at the indices (torch ``scatter_add_``, JAX
    ``.at[].add``). Elsewhere, or with an array temperature, the library differentiates the
    generic pass itself, if at all.
    """
    if isinstance(op.temperature, int | float) and not isinstance(op.temperature, bool):
        if is_torch_namespace(xp) and torch_needs_gradient(student, teacher):
            return _torch_topk_rows().apply(student, teacher, indices, op)
        if is_jax_namespace(xp):
            return _jax_topk_rows()(student, teacher, indices, op)
    return op.row_terms(xp, student, teacher, indices)[0]


@functools.cache
def _torch_topk_rows() -> Any:
    import array_api_compat.torch as torch_xp
    import torch
    from torch.autograd.function import once_differentiable

    class TopkRows(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, student: Array, teacher: Array, indices: Array, op: TopkKL) -> Array:
            rows, lse, *derivatives = op.row_terms(torch_xp, student, teacher, indices)
            ctx.save_for_backward(student, indices, lse, *derivatives)
            ctx.op = op
            return rows

        @staticmethod
        @once_differentiable
        def backward(ctx: Any, grad_rows: Array) -> tuple[Array | None, ...]:
            student, indices, lse, d_lse, d_student, d_teacher = ctx.saved_tensors
            op, (student_needed, teacher_needed) = ctx.op, ctx.needs_input_grad[:2]
            student_grad = teacher_grad = None
            if student_needed:
                allocate = torch.zeros if lse is None else torch.empty
                student_grad = allocate(student.shape, dtype=student.dtype, device=student.device)
                if lse is not None:
                    laid_shape, blocks = op.laid_out_blocks(tuple(student.shape))
                    row_shape = list(laid_shape)
                    row_shape[1] = 1
                    laid_student, laid_grad = (
                        student.reshape(laid_shape),
                        student_grad.view(laid_shape),
                    )
                    laid_lse = lse.reshape(row_shape)
                    factor = (grad_rows * d_lse / op.temperature).reshape(row_shape)
                    for index in blocks.indices(len(laid_shape)):
                        softmax = op.softmax_block(torch_xp, laid_student, laid_lse, index)
                        torch.mul(softmax, factor[index], out=laid_grad[index])
                student_grad.scatter_add_(op.axis, indices, grad_rows * d_student / op.temperature)
            if teacher_needed:
                teacher_grad = grad_rows * d_teacher
            return student_grad, teacher_grad, None, None

    return TopkRows


@functools.cache
def _jax_topk_rows() -> Any:
    import jax
    import jax.numpy as jnp
    import numpy as np

    def rows(student: Array, teacher: Array, indices: Array, op: TopkKL) -> Array:
        return op.row_terms(jnp, student, teacher, indices)[0]

    def forward(
        student: Array, teacher: Array, indices: Array, op: TopkKL
    ) -> tuple[Array, tuple[Any, ...]]:
        values, lse, *derivatives = op.row_terms(jnp, student, teacher, indices)
        return values, (student, indices, lse, *derivatives)

    def backward(op: TopkKL, saved: tuple[Any, ...], grad_rows: Array) -> tuple[Array, ...]:
        student, indices, lse, d_lse, d_student, d_teacher = saved
        whole = (slice(None),) * student.ndim  # one block: XLA fuses the elementwise work
        if lse is None:
            student_grad = jnp.zeros_like(student)
        else:
            student_grad = op.softmax_block(jnp, student, lse, whole) * (
                grad_rows * d_lse / op.temperature
            )
        positions = tuple(
            indices
            if dim == op.axis
            else jax.lax.broadcasted_iota(indices.dtype, indices.shape, dim)
            for dim in range(indices.ndim)
        )
        student_grad = student_grad.at[positions].add(grad_rows * d_student / op.temperature)
        no_gradient = np.zeros(indices.shape, dtype=jax.dtypes.float0)
        return student_grad, grad_rows * d_teacher, no_gradient

    differentiable = jax.custom_vjp(rows, nondiff_argnums=(3,))
    differentiable.defvjp(forward, backward)
    return differentiable


# --- kl_div -------------------------------------------------------------------------------


def kl_div_total(
    xp: Namespace,
    total: Callable[[Array, Array], Array],
    log_q: Array,
    p: Array,
    log_target: bool,
) -> Array:
    """``total(log_q, p)``: the sum of ``kl_div``'s terms, differentiable.

    On torch with autograd, through :func:`_kl_div_function`, which saves nothing but the
    inputs: d/d input = -p (or -exp(log p)); d/d target = log p - input + 1 where p > 0, else 0
    (or, with ``log_target``, exp(log p) · (log p - input + 1), 0 where log p = -inf).
    Elsewhere the library differentiates ``total`` itself, if at all.
    """
    if is_torch_namespace(xp) and torch_needs_gradient(log_q, p):
        return _kl_div_function().apply(log_q, p, log_target, total)
    return total(log_q, p)


@functools.cache
def _kl_div_function() -> Any:
    import torch

    class KLDivFunction(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, log_q: Any, p: Any, log_target: bool, total: Any) -> Any:
            ctx.save_for_backward(log_q, p)
            ctx.log_target = log_target
            with torch.no_grad():
                return total(log_q, p)

        @staticmethod
        def backward(ctx: Any, grad_output: Any) -> Any:
            log_q, p = ctx.saved_tensors
            grad_input = grad_target = None
            if ctx.log_target:
                probs = torch.exp(p)
                if ctx.needs_input_grad[0]:
                    grad_input = probs.neg().mul_(grad_output)
                if ctx.needs_input_grad[1]:
                    has_mass = p != -torch.inf
                    slope = torch.where(has_mass, p - log_q + 1, 0.0).mul_(probs)
                    grad_target = slope.mul_(grad_output)
            else:
                if ctx.needs_input_grad[0]:
                    grad_input = p.neg().mul_(grad_output)
                if ctx.needs_input_grad[1]:
                    has_mass = p > 0
                    log_p = torch.log(torch.where(has_mass, p, 1.0))
                    slope = torch.where(has_mass, log_p.sub_(log_q).add_(1), 0.0)
                    grad_target = slope.mul_(grad_output)
            return grad_input, grad_target, None, None

    return KLDivFunction


# --- straight-through estimators ----------------------------------------------------------


def stop_gradient(xp: Namespace, array: Array) -> Array:
    """``array`` with its value kept and no gradient flowing back through it.

    torch: ``detach()``; JAX: ``jax.lax.stop_gradient``; libraries without automatic
    differentiation: the array itself.
    """
    if is_torch_namespace(xp):
        return array.detach()
    if is_jax_namespace(xp):
        import jax

        return jax.lax.stop_gradient(array)
    return array
