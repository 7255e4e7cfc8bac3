"""Memory-lean gradients for the streamed logits KL, on the libraries that let us define them.

The generic pass (:class:`kldiv._logits.LogitBlocks`) keeps per-row scalars only; differentiating
through it would still record every block's temporaries. Here the gradient is defined directly:
the forward pass saves the inputs and the per-row values (KL, both log-sum-exps), and the
backward pass recomputes both softmaxes block by block:

* d/d input_j  = (q_j - p_j) / T,
* d/d target_j = p_j (log p_j - log q_j - KL_row) / T,

with q = softmax(input / T), p = softmax(target / T), each times the upstream gradient. Nothing as
large as the logits is saved. torch gets a ``torch.autograd.Function``, JAX a ``jax.custom_vjp``;
every other library (or an array temperature) takes the generic pass. torch and JAX are imported
only when their arrays arrive.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from array_api_compat import is_jax_namespace, is_torch_namespace

from ._array import Array, Namespace

if TYPE_CHECKING:
    from ._logits import LogitBlocks

__all__ = ["summed_row_kl"]


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
        if is_torch_namespace(xp) and _torch_needs_gradient(student, teacher):
            return _torch_summed_row_kl().apply(student, teacher, float(temperature), blocks)
        if is_jax_namespace(xp):
            return _jax_summed_row_kl()(student, teacher, float(temperature), blocks)
    return blocks.total(xp, student, teacher, temperature)


def _torch_needs_gradient(student: Array, teacher: Array) -> bool:
    import torch

    return torch.is_grad_enabled() and (student.requires_grad or teacher.requires_grad)


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
