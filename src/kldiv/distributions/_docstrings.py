"""The numpydoc docstring of a family, completed from its declarations.

A family's docstring holds only what is its own: a summary (and any further paragraphs), then
one doctest example, as the docstring below builds.

:func:`family_docstring` writes the rest, the same for every family: the Parameters section of
the declared arguments (consecutive ones with the same ``doc`` share one entry, as ``probs,
logits``) and the Examples heading with the imports the example needs (``array_api_strict as
xp`` and the names of :mod:`kldiv.distributions` it calls). The result becomes the class's
``__doc__``, so ``help()``, Sphinx and the doctests read the complete docstring.

>>> family_docstring("Half(x).\\n\\n>>> Half(xp.asarray(2.0)).x\\n1.0", ()).splitlines()
['Half(x).', '', 'Examples', '--------', '>>> import array_api_strict as xp',
 '>>> from kldiv.distributions import Half', '>>> Half(xp.asarray(2.0)).x', '1.0']
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from typing import Protocol

from .._docs import parameters_section

__all__ = ["Documented", "family_docstring"]

#: A name the example calls that :mod:`kldiv.distributions` exports: a family or the dispatcher.
_CALLED_NAME = re.compile(r"(?<![\w.])([A-Z]\w*|kl_divergence)\(")


class Documented(Protocol):
    """A declared constructor argument, as the docstring describes it."""

    name: str
    doc: str
    kind: str


def _parameter_entries(arguments: Iterable[Documented]) -> list[str]:
    """The numpydoc entries of the documented ``arguments``, consecutive alike ones together."""
    groups: list[list[Documented]] = []
    for argument in (argument for argument in arguments if argument.doc):
        if groups and groups[-1][0].doc == argument.doc:
            groups[-1].append(argument)
        else:
            groups.append([argument])
    return [
        f"{', '.join(arg.name for arg in group)} : {group[0].kind}\n    {group[0].doc}"
        for group in groups
    ]


def _example_imports(example: list[str]) -> list[str]:
    """The doctest lines importing what the ``example`` lines use."""
    code = "\n".join(line[4:] for line in example if line.startswith((">>> ", "... ")))
    imports = [">>> import array_api_strict as xp"] if "xp." in code else []
    names = sorted(set(_CALLED_NAME.findall(code)))
    if names:
        imports.append(f">>> from kldiv.distributions import {', '.join(names)}")
    return imports


def family_docstring(docstring: str, arguments: Iterable[Documented]) -> str:
    """``docstring`` (a summary, then one doctest example) as a complete numpydoc docstring:
    the Parameters section of the documented ``arguments``, then the Examples section with the
    example's imports. A docstring without an example is returned as it is."""
    lines = inspect.cleandoc(docstring).splitlines()
    start = next((index for index, line in enumerate(lines) if line.startswith(">>>")), None)
    if start is None:
        return docstring
    sections = ["\n".join(lines[:start]).rstrip()]
    entries = _parameter_entries(arguments)
    if entries:
        sections.append(parameters_section(entries))
    example = lines[start:]
    sections.append("\n".join(["Examples", "--------", *_example_imports(example), *example]))
    return "\n\n".join(sections) + "\n"
