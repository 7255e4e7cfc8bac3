"""Docstring pieces of the Gaussian closed forms (:mod:`kldiv.gaussian`).

A closed form's docstring holds a line ``{sections}``; :func:`normal_docs` and :func:`mvn_docs`
fill it (:func:`kldiv._docs.fill_doc`) with the Parameters and Returns sections: the arguments
every form of the family shares, the form's own option, and what it returns. A docstring that
writes its sections itself takes the entries of the shared arguments from
:data:`with_gaussian_pieces` (lines ``{normal_pair}``, ``{mvn_pair}``, ``{mvn_validate}``).
"""

from __future__ import annotations

from collections.abc import Callable

from ._docs import Documented, filled, parameters_section

__all__ = [
    "COEFFICIENT",
    "mvn_docs",
    "normal_docs",
    "squared_option",
    "with_gaussian_pieces",
]

#: The means and log-variances of the ``*_normal`` forms.
_NORMAL_PAIR = """mu_p, log_var_p, mu_q, log_var_q : array
    Means and log-variances of p and q; shapes broadcast."""

#: The means and Cholesky factors of the ``*_mvn`` forms.
_MVN_PAIR = """loc_p, loc_q : array
    Means (..., d).
scale_tril_p, scale_tril_q : array
    Lower Cholesky factors L (..., d, d) of the covariances L·Lᵀ; batch axes broadcast."""

#: The value checks of the ``*_mvn`` forms.
_MVN_VALIDATE = """validate_args : bool, optional
    Raise ``ValueError`` on NaN means or a non-positive diagonal (default off)."""

#: The option of the Bhattacharyya forms.
COEFFICIENT = """coefficient : bool, default False
    Return BC instead of D_B."""

_NORMAL_REST = """event_ndims, reduction, clamp_min, clamp_max, validate_args
    As for :func:`renyi_normal`."""

_MVN_REST = """loc_p, scale_tril_p, loc_q, scale_tril_q, validate_args
    As for :func:`renyi_mvn`."""


#: Fills the lines ``{normal_pair}``, ``{mvn_pair}`` and ``{mvn_validate}`` of a docstring.
with_gaussian_pieces = filled(
    normal_pair=_NORMAL_PAIR, mvn_pair=_MVN_PAIR, mvn_validate=_MVN_VALIDATE
)


def squared_option(distance: str, squared: str) -> str:
    """The entry of a ``squared`` option: return ``squared`` instead of ``distance``."""
    return f"squared : bool, default False\n    Return {squared} instead of {distance}."


def _sections(entries: list[str], returns: str) -> str:
    """Numpydoc Parameters (``entries``) and Returns (one array, ``returns``) sections."""
    return f"{parameters_section(entries)}\n\nReturns\n-------\narray\n    {returns}"


def normal_docs(option: str, value: str) -> Callable[[Documented], Documented]:
    """Fills ``{sections}`` of a ``*_normal`` form taking ``option`` besides the shared
    arguments (those of :func:`kldiv.gaussian.renyi_normal`) and returning ``value`` per
    Gaussian."""
    entries = [_NORMAL_PAIR, option, _NORMAL_REST]
    return filled(sections=_sections(entries, f"{value} per Gaussian, or its reduction."))


def mvn_docs(option: str, value: str) -> Callable[[Documented], Documented]:
    """Fills ``{sections}`` of a ``*_mvn`` form taking ``option`` besides the shared arguments
    (those of :func:`kldiv.gaussian.renyi_mvn`) and returning ``value`` per batch entry."""
    entries = [_MVN_REST, option]
    return filled(sections=_sections(entries, f"{value} with the broadcast batch shape (...)."))
