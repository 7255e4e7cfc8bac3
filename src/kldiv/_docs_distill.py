"""Docstring pieces of the distillation losses from logits (:mod:`kldiv.distill`).

:data:`with_logits_pieces` fills a docstring's lines ``{axis_validate}`` (the entries of
``axis`` and ``validate_args``) and ``{returns}`` (its Returns section).
"""

from __future__ import annotations

from ._docs import filled

__all__ = ["with_logits_pieces"]

_AXIS_VALIDATE = """axis : int, optional
    The vocabulary axis.
validate_args : bool, optional
    Check the values (no NaN, no ``+inf``); default off."""

_RETURNS = """Returns
-------
array
    A 0-d array, or the pointwise terms for 'none', in the inputs' dtype."""

#: Fills the lines ``{axis_validate}`` and ``{returns}`` of a docstring.
with_logits_pieces = filled(axis_validate=_AXIS_VALIDATE, returns=_RETURNS)
