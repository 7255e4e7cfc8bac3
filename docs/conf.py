"""Sphinx configuration: furo, MyST, autosummary + numpydoc, offline MathJax, generated tables.

The build reads and renders offline. Math is rendered by the MathJax copy that
``sphinx-mathjax-offline`` ships (no CDN). Cross-references to NumPy, SciPy and torch
(intersphinx) need their inventories from the network, so they are used only when
``KLDIV_DOCS_INTERSPHINX=1`` is set; the default (CI, offline machines) has none, and without
``nitpicky`` an unresolved outside reference is plain text, not a warning.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(DOCS / "_ext"), str(ROOT / "src"), str(ROOT)]

import kldiv  # noqa: E402

project = "kldiv"
author = "the kldiv developers"
copyright = "the kldiv developers"
release = version = kldiv.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",
    "numpydoc",
    "myst_parser",
    "kldiv_api",
    "kldiv_tables",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated/*.md"]
templates_path = ["_templates"]

html_theme = "furo"
html_title = f"kldiv {release}"
html_static_path = ["_static"]
html_css_files = ["tables.css"]

myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False

intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
if os.environ.get("KLDIV_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "torch": ("https://pytorch.org/docs/stable", None),
    }
