"""Docstring text that several public objects share, written once and filled in where it is used.

A docstring names a shared piece by a line holding only ``{name}``; :func:`fill_doc` replaces
that line by the piece, indented as the line, so the rendered ``__doc__`` (``help()``, Sphinx,
doctests) is a complete numpydoc docstring. :func:`parameters_section` builds a numpydoc
Parameters section from entries. :data:`ROW_DIVERGENCE` holds the entries of the discrete
functions (``p, q``, ``log_prob``, ``reduction``, ``axis``, ``validate_args``, ``base``, ...)
and :data:`ROW_RETURNS` the row divergences' Returns section, :data:`KL_DIV` the entries of
torch's pointwise form (``kl_div``), :data:`METRIC` those of the metric classes' constructors
(:func:`with_parameter_docs`).

>>> print(fill_doc("Title.\\n\\n    {parameters}\\n", parameters=parameters_section(["x : int"])))
Title.
<BLANKLINE>
    Parameters
    ----------
    x : int
<BLANKLINE>
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

__all__ = [
    "KL_DIV",
    "METRIC",
    "METRIC_PARAMETERS",
    "ROW_DIVERGENCE",
    "ROW_RETURNS",
    "fill_doc",
    "filled",
    "parameters_section",
    "with_parameter_docs",
]

Documented = TypeVar("Documented")

_PLACEHOLDER = re.compile(r"^([ \t]*)\{(\w+)\}[ \t]*$", re.MULTILINE)

#: The numpydoc entries of the metric classes' constructor parameters.
METRIC = {
    "log_prob": """log_prob : bool, optional
    The inputs are log-probabilities (used as they are); otherwise probabilities, each row
    renormalised.""",
    "reduction": """reduction : {'mean', 'sum', 'none', None}, optional
    What ``compute()`` returns: the mean over every row seen, their sum, or the rows.""",
    "axis": """axis : int, optional
    The axis holding each distribution; every other axis is a batch axis.""",
    "validate_args": """validate_args : bool or None, optional
    Check values (negative probabilities) on each update; None: the global setting
    (:func:`kldiv.set_validate_args`), else True. Value checks are skipped on lazy arrays.""",
}

#: The parameters of the metric classes of :mod:`kldiv.metrics`, in their order.
METRIC_PARAMETERS = ("log_prob", "reduction", "axis", "validate_args")

#: The numpydoc entries of the discrete functions' shared parameters.
ROW_DIVERGENCE = {
    "p_q": """p, q : array
    Probabilities (any scale: each row is renormalised), or log-probabilities with
    ``log_prob``; broadcast together.""",
    "weights": """p, q : array
    Probabilities (any non-negative weights: each row is renormalised) along ``axis``;
    batch axes broadcast. Lists and numbers are accepted.""",
    "log_prob": """log_prob : bool, optional
    Take ``p`` and ``q`` as log-probabilities, used as they are.""",
    "reduction": """reduction : {'mean', 'sum', 'none', None}, optional
    Over the rows: their mean, their sum, or one value per row.""",
    "axis": """axis : int, optional
    The distribution axis.""",
    "validate_args": """validate_args : bool, optional
    Check the values (a ``ValueError`` naming the argument); default off (see
    :func:`kldiv.set_validate_args`). Skipped on lazy arrays.""",
    "base": """base : float, optional
    The logarithm's base (None: natural logarithm, nats).""",
}

#: The numpydoc Returns section of the row divergences.
ROW_RETURNS = """Returns
-------
array
    The rows' values, reduced: a 0-d array (their mean or sum), or one value per row for
    'none'/None."""

#: The numpydoc entries of ``kl_div``'s parameters that :class:`kldiv.KLDivLoss` shares.
KL_DIV = {
    "reduction": """reduction : {'mean', 'batchmean', 'sum', 'none'}, optional
    Of the pointwise terms: 'mean' over every element, 'batchmean' the sum divided by the
    size of the first axis, 'sum', or 'none' to keep them.""",
    "log_target": """log_target : bool, optional
    Whether ``target`` is log p.""",
    "validate_args": ROW_DIVERGENCE["validate_args"],
}


def fill_doc(docstring: str, **pieces: str) -> str:
    """``docstring`` with every line ``{name}`` replaced by ``pieces[name]``, indented as it
    (a ``ValueError`` for a placeholder without a piece, so none reaches a rendered page)."""

    def piece(match: re.Match[str]) -> str:
        indent, name = match.groups()
        if name not in pieces:
            raise ValueError(
                f"docstring placeholder {{{name}}} has no text; known: {sorted(pieces)}"
            )
        return textwrap.indent(pieces[name], indent, lambda line: bool(line.strip()))

    return _PLACEHOLDER.sub(piece, docstring)


def parameters_section(entries: Iterable[str]) -> str:
    """A numpydoc Parameters section of ``entries`` (each ``name : type`` and its description)."""
    return "\n".join(["Parameters", "----------", *entries])


def filled(**pieces: str) -> Callable[[Documented], Documented]:
    """A decorator: :func:`fill_doc` of the function's or class's docstring with ``pieces``."""

    def decorate(documented_object: Any) -> Any:
        documented_object.__doc__ = fill_doc(documented_object.__doc__ or "", **pieces)
        return documented_object

    return decorate


def with_parameter_docs(*names: str, extra: str = "") -> Callable[[type], type]:
    """A class decorator: the line ``{parameters}`` of the docstring becomes a numpydoc
    Parameters section of ``METRIC[name]`` for each of ``names``, then ``extra``."""
    entries = [METRIC[name] for name in names] + ([extra] if extra else [])
    return filled(parameters=parameters_section(entries))
