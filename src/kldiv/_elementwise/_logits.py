"""KL between the softmaxes of two logit arrays, one block of rows at a time: the row values the
forward pass keeps, and the gradients recomputed from them."""

from __future__ import annotations

from .._array import Array, Namespace

__all__ = ["kl_logits_gradients", "kl_logits_rows"]


def _shifted_exp_sum(xp: Namespace, logits: Array, axis: int) -> tuple[Array, Array, Array]:
    """``exp(logits - peak)``, its sum along ``axis`` and the log-sum-exp (both kept, size 1).

    ``peak`` is the row maximum where finite (0 otherwise): all ``-inf`` rows give ``-inf``, a
    ``+inf`` logit gives ``+inf``, NaN propagates.
    """
    peak = xp.max(logits, axis=axis, keepdims=True)
    safe_peak = xp.where(xp.isfinite(peak), peak, xp.zeros_like(peak))
    shifted_exp = xp.exp(logits - safe_peak)
    total = xp.sum(shifted_exp, axis=axis, keepdims=True)
    return shifted_exp, total, xp.log(total) + safe_peak


def kl_logits_rows(
    xp: Namespace, input_logits: Array, target_logits: Array, axis: int
) -> tuple[Array, Array, Array]:
    """Per-row KL(softmax(target) ‖ softmax(input)) along ``axis``, and both log-sum-exps.

    All three keep ``axis`` (size 1). KL = Σ p (target - input) + lse(input) - lse(target), with
    p = softmax(target): two exponentials per element pair, no log-probabilities stored. A
    target logit of ``-inf`` contributes 0, even where the input logit is ``-inf``; ``+inf`` and
    NaN give NaN or +inf through the log-sum-exps, as the elementwise form does.

    >>> import array_api_strict as xp
    >>> rows, lse_input, lse_target = kl_logits_rows(
    ...     xp, xp.asarray([[0.0, 0.0]]), xp.asarray([[0.0, 2.0]]), axis=1
    ... )
    >>> rows
    Array([[0.32781333]], dtype=array_api_strict.float64)
    """
    lse_input = _shifted_exp_sum(xp, input_logits, axis)[2]
    target_exp, target_total, lse_target = _shifted_exp_sum(xp, target_logits, axis)
    weighted = target_exp * (target_logits - input_logits)
    weighted = xp.where(target_exp > 0, weighted, xp.zeros_like(weighted))
    cross = xp.sum(weighted, axis=axis, keepdims=True) / target_total
    return cross + (lse_input - lse_target), lse_input, lse_target


def kl_logits_gradients(
    xp: Namespace,
    input_logits: Array,
    target_logits: Array,
    row_values: tuple[Array, Array, Array],
    target_gradient: bool,
) -> tuple[Array, Array | None]:
    """Gradients of the summed row KL with respect to both logit arrays, from the row values.

    ``row_values`` is what :func:`kl_logits_rows` returned (KL, log-sum-exps, broadcastable to
    the logits). With q = softmax(input) and p = softmax(target): ``q - p`` for the input, and
    ``p (log p - log q - KL_row)`` for the target (0 where p = 0), or None unless
    ``target_gradient``.
    """
    rows, lse_input, lse_target = row_values
    log_q = input_logits - lse_input
    log_p = target_logits - lse_target
    probs_p = xp.exp(log_p)
    input_grad = xp.exp(log_q) - probs_p
    if not target_gradient:
        return input_grad, None
    no_mass = log_p == -xp.inf
    safe_log_ratio = xp.where(no_mass, 0.0, log_p - log_q - rows)
    return input_grad, probs_p * safe_log_ratio
