"""The API reference, generated from ``kldiv.__all__`` and the public modules' ``__all__``.

One page per public module (``kldiv.discrete``, ``kldiv.fdiv``, ...: the top-level names it
defines, documented as ``kldiv.<name>``; ``kldiv.gaussian``, ``kldiv.distributions`` and
``kldiv.testing``: their own ``__all__``), autosummary stubs for every name. A new public name
appears without an edit here. After the build, every public name must have its page, and every
callable with parameters a "Parameters" section: a missing one is a warning (an error under
``-W``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

import kldiv

LOGGER = logging.getLogger(__name__)
API_DIR = "_generated/api"


@dataclass(frozen=True)
class ApiPage:
    """One page: ``names`` documented under ``prefix`` (``kldiv`` or a submodule)."""

    slug: str
    title: str
    prefix: str
    intro: str
    names: tuple[str, ...]

    def qualified(self) -> list[str]:
        return [f"{self.prefix}.{name}" for name in self.names]


def _public_modules() -> list[ModuleType]:
    modules = []
    for info in pkgutil.iter_modules(kldiv.__path__):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"kldiv.{info.name}")
            if hasattr(module, "__all__"):
                modules.append(module)
    return modules


def _summary(module: ModuleType) -> str:
    doc = inspect.getdoc(module) or ""
    return doc.split("\n\n")[0].replace("\n", " ")


def api_pages() -> list[ApiPage]:
    """The pages of the reference, in the order of ``kldiv.__all__``'s modules."""
    exported = [name for name in kldiv.__all__ if not inspect.ismodule(getattr(kldiv, name))]
    submodules = [name for name in kldiv.__all__ if inspect.ismodule(getattr(kldiv, name))]
    pages, placed = [], set()
    for module in _public_modules():
        short = module.__name__.split(".")[-1]
        if short in submodules:
            names = tuple(module.__all__)
            prefix = module.__name__
            placed.update(n for n in exported if getattr(module, n, None) is getattr(kldiv, n))
        else:
            names = tuple(n for n in exported if getattr(module, n, None) is getattr(kldiv, n))
            names = tuple(n for n in names if n not in placed)
            prefix = "kldiv"
        if names:
            placed.update(names)
            pages.append(ApiPage(short, module.__name__, prefix, _summary(module), names))
    rest = tuple(name for name in exported if name not in placed)
    if rest:
        pages.append(ApiPage("other", "Other top-level names", "kldiv", "", rest))
    return pages


def _aliases(page: ApiPage) -> list[str]:
    if page.prefix == "kldiv":
        return []
    module = importlib.import_module(page.prefix)
    return [
        f"``kldiv.{name}``"
        for name in kldiv.__all__
        if name in page.names and getattr(kldiv, name) is getattr(module, name)
    ]


def _page_text(page: ApiPage) -> str:
    lines = [page.title, "=" * len(page.title), ""]
    if page.intro:
        lines += [page.intro, ""]
    aliases = _aliases(page)
    if aliases:
        lines += [f"Also importable from ``kldiv`` itself: {', '.join(aliases)}.", ""]
    lines += [
        f".. currentmodule:: {page.prefix}",
        "",
        ".. autosummary::",
        "   :toctree: generated",
        "",
        *(f"   {name}" for name in page.names),
        "",
    ]
    return "\n".join(lines)


def write_api(app: Sphinx, config: Any = None) -> None:
    """Write one reST page per public module into ``_generated/api``."""
    directory = Path(app.srcdir) / API_DIR
    directory.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for page in api_pages():
        path = directory / f"{page.slug}.rst"
        wanted.add(path.name)
        _write_if_changed(path, _page_text(page))
    for stale in directory.glob("*.rst"):
        if stale.name not in wanted:
            stale.unlink()


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _has_parameters(value: Any) -> bool:
    """Whether ``value`` takes named arguments of its own (a class: its own ``__init__``)."""
    target = value.__init__ if inspect.isclass(value) else value
    if not getattr(target, "__module__", "").startswith("kldiv"):
        return False  # inherited from Python (Enum, Exception, object)
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return False
    named = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return any(p.name not in ("self", "cls") and p.kind not in named for p in parameters)


def _documents_parameters(html: str) -> bool:
    return "Parameters" in html or "Attributes" in html


def check_api(app: Sphinx, exception: Exception | None) -> None:
    """Warn for a public name without a page, or a callable without a Parameters section."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir) / API_DIR / "generated"
    for page in api_pages():
        module = importlib.import_module(page.prefix)
        for name, qualified in zip(page.names, page.qualified(), strict=True):
            html = out / f"{qualified}.html"
            if not html.exists():
                LOGGER.warning("API reference: no page for %s", qualified)
                continue
            value = getattr(module, name)
            if _has_parameters(value) and not _documents_parameters(html.read_text()):
                LOGGER.warning("API reference: %s has no Parameters section", qualified)


def setup(app: Sphinx) -> dict[str, Any]:
    # config-inited runs before autosummary reads the pages for its stubs (builder-inited).
    app.connect("config-inited", write_api)
    app.connect("build-finished", check_api)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
