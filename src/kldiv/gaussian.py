"""KL divergences between Gaussians in the forms models produce: log-variances, Cholesky factors.

``kl_standard_normal`` and ``kl_normal`` are elementwise (diagonal Gaussians, the VAE case) and
take the same reductions as :func:`kldiv.kl_div`: 'none', 'sum', 'mean', 'batchmean' (sum over
all elements divided by the size of axis 0). ``kl_mvn`` takes full covariances through their lower
Cholesky factors, batched with broadcasting. Value checks (NaN parameters, non-positive Cholesky
diagonals) run only with ``validate_args=True`` (default off, as in ``torch.nn.functional``).
"""

from __future__ import annotations

import numbers

from ._array import Array, Context, broadcast_shapes, ignore_fp_warnings, prepare
from ._elementwise import expm1_minus_identity, kl_normal_log_ratio
from ._linalg import diagonal, kl_mvn_from_cholesky
from ._reduce import reduce_pointwise
from ._validate import any_value, resolve_validate_args

__all__ = ["kl_mvn", "kl_normal", "kl_standard_normal"]


def _check_clamp(clamp_min: float, clamp_max: float) -> None:
    for name, value in (("clamp_min", clamp_min), ("clamp_max", clamp_max)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a real number, got {value!r}")
    if not clamp_min <= clamp_max:
        raise ValueError(f"clamp_min={clamp_min!r} must be <= clamp_max={clamp_max!r}")


def _check_not_nan(context: Context, validate_args: bool | None, **arrays: Array) -> None:
    if not resolve_validate_args(validate_args, "gaussian"):
        return
    xp = context.xp
    for name, array in arrays.items():
        if any_value(xp, xp.isnan(array)):
            raise ValueError(f"{name} contains NaN")


def kl_standard_normal(
    mu: Array,
    log_var: Array,
    *,
    reduction: str = "none",
    clamp_min: float = -30.0,
    clamp_max: float = 20.0,
    validate_args: bool | None = None,
) -> Array:
    """KL(N(mu, e^log_var) ‖ N(0, 1)) = ½(mu² + e^lv − lv − 1), lv = clip(log_var), elementwise.

    The VAE prior term; the same numbers as ml-starter's ``kl_div_single_loss`` (which clamps
    ``log_var`` to [clamp_min, clamp_max] the same way, zeroing its gradient outside), computed
    as ½(mu² + (expm1(lv) − lv)) so that it stays accurate near lv = 0.

    Parameters
    ----------
    mu, log_var : array
        Mean and log-variance of the diagonal Gaussian; shapes broadcast.
    reduction : {'none', 'sum', 'mean', 'batchmean'}, default 'none'
        'batchmean' divides the sum over all elements by the size of axis 0.
    clamp_min, clamp_max : float, default -30.0, 20.0
        Log-variances are clipped to [clamp_min, clamp_max] (gradient 0 outside).
    validate_args : bool, optional
        Raise ``ValueError`` on NaN inputs (default off, see :func:`kldiv.set_validate_args`).

    Returns
    -------
    array
        The KL per element (broadcast shape of the inputs), or its reduction; the inputs'
        common dtype.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> kl_standard_normal(xp.asarray([0.0, 1.0]), xp.asarray([0.0, 0.0]))
    Array([0. , 0.5], dtype=array_api_strict.float64)
    """
    _check_clamp(clamp_min, clamp_max)
    context, (mu, log_var) = prepare(mu=mu, log_var=log_var)
    shape = broadcast_shapes(mu=tuple(mu.shape), log_var=tuple(log_var.shape))
    _check_not_nan(context, validate_args, mu=mu, log_var=log_var)
    xp = context.xp
    clamped = xp.clip(log_var, min=clamp_min, max=clamp_max)
    terms = 0.5 * (mu * mu + expm1_minus_identity(xp, clamped))
    if tuple(terms.shape) != shape:
        terms = xp.broadcast_to(terms, shape)
    return context.finish(reduce_pointwise(xp, terms, reduction))


def kl_normal(
    mu_p: Array,
    log_var_p: Array,
    mu_q: Array,
    log_var_q: Array,
    *,
    reduction: str = "none",
    clamp_min: float = -30.0,
    clamp_max: float = 20.0,
    validate_args: bool | None = None,
) -> Array:
    """KL(N(mu_p, e^lv_p) ‖ N(mu_q, e^lv_q)) elementwise, log-variances clipped to [min, max].

    Stable form ½(expm1(d) − d + (mu_p − mu_q)²·e^(−lv_q)), d = lv_p − lv_q: exact to rounding
    when p ≈ q. Note: ml-starter's ``kl_div_pair_loss`` computes
    (lv_q − lv_p) + (e^lv_p + (mu_p − mu_q)²)/e^lv_q − ½, which is 2·KL + ½ (½ when p = q),
    not the KL its docstring claims; ``2 * kl_normal(...) + 0.5`` reproduces it.

    Parameters
    ----------
    mu_p, log_var_p, mu_q, log_var_q : array
        Means and log-variances of p and q; shapes broadcast.
    reduction, clamp_min, clamp_max, validate_args
        As for :func:`kl_standard_normal`.

    Returns
    -------
    array
        As for :func:`kl_standard_normal`.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> kl_normal(xp.asarray([1.0]), xp.asarray([0.0]), xp.asarray([0.0]), xp.asarray([0.0]))
    Array([0.5], dtype=array_api_strict.float64)
    """
    _check_clamp(clamp_min, clamp_max)
    named = {"mu_p": mu_p, "log_var_p": log_var_p, "mu_q": mu_q, "log_var_q": log_var_q}
    context, arrays = prepare(**named)
    shape = broadcast_shapes(
        **{name: tuple(a.shape) for name, a in zip(named, arrays, strict=True)}
    )
    _check_not_nan(context, validate_args, **dict(zip(named, arrays, strict=True)))
    xp = context.xp
    mu_p, log_var_p, mu_q, log_var_q = arrays
    log_var_p = xp.clip(log_var_p, min=clamp_min, max=clamp_max)
    log_var_q = xp.clip(log_var_q, min=clamp_min, max=clamp_max)
    distance = mu_p - mu_q
    terms = kl_normal_log_ratio(xp, log_var_p - log_var_q, distance * distance * xp.exp(-log_var_q))
    if tuple(terms.shape) != shape:
        terms = xp.broadcast_to(terms, shape)
    return context.finish(reduce_pointwise(xp, terms, reduction))


def _check_mvn_shapes(**arrays: Array) -> None:
    size = int(arrays["loc_p"].shape[-1]) if arrays["loc_p"].ndim else None
    for name, array in arrays.items():
        matrix = name.startswith("scale_tril")
        ndim = 2 if matrix else 1
        expected = (size, size) if matrix else (size,)
        if array.ndim < ndim or tuple(array.shape[array.ndim - ndim :]) != expected:
            shapes = ", ".join(f"{n} {tuple(a.shape)}" for n, a in arrays.items())
            raise ValueError(
                "kl_mvn needs locs of shape (..., d) and scale_trils of shape (..., d, d) with "
                f"one d; got {shapes}"
            )


@ignore_fp_warnings
def kl_mvn(
    loc_p: Array,
    scale_tril_p: Array,
    loc_q: Array,
    scale_tril_q: Array,
    *,
    validate_args: bool | None = None,
) -> Array:
    """KL(N(loc_p, L_p L_pᵀ) ‖ N(loc_q, L_q L_qᵀ)) from lower Cholesky factors, shape (...).

    = Σ log diag L_q − Σ log diag L_p + ½(‖L_q⁻¹L_p‖²_F + ‖L_q⁻¹(loc_q − loc_p)‖² − d).
    Batch axes broadcast. Only the lower triangles are read by the solve; with
    ``validate_args=True`` a non-positive diagonal is a ``ValueError``. For covariance or
    precision matrices use :class:`kldiv.distributions.MultivariateNormal`.

    Parameters
    ----------
    loc_p, loc_q : array
        Means (..., d).
    scale_tril_p, scale_tril_q : array
        Lower Cholesky factors L (..., d, d) of the covariances L·Lᵀ.
    validate_args : bool, optional
        Raise ``ValueError`` on NaN means or a non-positive diagonal (default off).

    Returns
    -------
    array
        KL(p ‖ q) with the broadcast batch shape (...), in the inputs' common dtype.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> eye = xp.eye(2)
    >>> kl_mvn(xp.asarray([1.0, 0.0]), eye, xp.zeros(2), 2 * eye)
    Array(0.76129436, dtype=array_api_strict.float64)
    """
    named = {
        "loc_p": loc_p,
        "scale_tril_p": scale_tril_p,
        "loc_q": loc_q,
        "scale_tril_q": scale_tril_q,
    }
    context, arrays = prepare(**named)
    by_name = dict(zip(named, arrays, strict=True))
    _check_mvn_shapes(**by_name)
    broadcast_shapes(
        loc_p=tuple(arrays[0].shape[:-1]),
        scale_tril_p=tuple(arrays[1].shape[:-2]),
        loc_q=tuple(arrays[2].shape[:-1]),
        scale_tril_q=tuple(arrays[3].shape[:-2]),
    )
    xp = context.xp
    if resolve_validate_args(validate_args, "gaussian"):
        _check_not_nan(context, True, loc_p=arrays[0], loc_q=arrays[2])
        for name in ("scale_tril_p", "scale_tril_q"):
            diag = diagonal(xp, by_name[name])
            if any_value(xp, ~(diag > 0)):
                raise ValueError(f"{name} must have a positive diagonal")
    return context.finish(kl_mvn_from_cholesky(xp, *arrays))
