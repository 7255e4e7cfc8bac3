"""Open the built site in headless Chromium: screenshots, and the pages must look whole.

``python docs/render_check.py HTML_DIR SCREENSHOT_DIR`` loads the home page, an API page and a
page with math, saves a screenshot of each, and fails when a page lacks its title or the
navigation, shows an unresolved cross-reference, or leaves its math unrendered (MathJax is served
from the site itself, so this also proves the math needs no network). Without Chromium it says
so and exits 0: the check is skipped, not passed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

#: (page, what its title must contain, whether it has math)
PAGES = (
    ("index.html", "kldiv", False),
    ("_generated/api/generated/kldiv.kl_divergence.html", "kl_divergence", False),
    ("guide/discrete.html", "Discrete divergences", True),
)
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    "--virtual-time-budget=10000",  # lets MathJax typeset before the DOM is read
)


def _browser() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def _chromium(browser: str, *arguments: str) -> str:
    result = subprocess.run(
        [browser, *FLAGS, *arguments], capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout


def unresolved_references(dom: str) -> list[str]:
    """Cross-references Sphinx or MyST could not resolve (an ``xref`` outside a link)."""
    found = []
    for match in re.finditer(r'<(code|span) class="xref[^"]*"[^>]*>(.*?)</\1>', dom, re.S):
        before = dom[max(0, match.start() - 400) : match.start()]
        if not re.search(r'<a [^>]*class="reference[^"]*"[^>]*>\s*$', before):
            found.append(re.sub(r"<[^>]+>", "", match.group(2)).strip())
    return found


def problems(dom: str, title: str, has_math: bool) -> list[str]:
    """What is wrong with one rendered page (empty when nothing)."""
    found = []
    page_title = re.search(r"<title>([^<]*)</title>\s*(?:<|$)", dom.split("</head>")[0])
    if not page_title or title not in page_title.group(1):
        found.append(f"title {page_title.group(1) if page_title else None!r} lacks {title!r}")
    if 'class="sidebar-tree"' not in dom or dom.count('class="reference internal"') < 10:
        found.append("no navigation (furo's sidebar tree with its links)")
    missing = unresolved_references(dom)
    if missing:
        found.append(f"unresolved references: {missing[:5]}")
    if has_math and "<mjx-container" not in dom:
        found.append("math not rendered by MathJax")
    return found


def main(html_dir: Path, screenshot_dir: Path) -> int:
    browser = _browser()
    if browser is None:
        print("render check SKIPPED: no Chromium here (Debian: apt-get install chromium)")
        return 0
    screenshot_dir.mkdir(parents=True, exist_ok=True)
    failures = []
    for page, title, has_math in PAGES:
        url = (html_dir / page).resolve().as_uri()
        shot = screenshot_dir / (Path(page).stem + ".png")
        _chromium(browser, f"--screenshot={shot}", url)
        if not shot.exists() or shot.stat().st_size < 10_000:
            failures.append(f"{page}: no screenshot")
        failures += [
            f"{page}: {problem}"
            for problem in problems(_chromium(browser, "--dump-dom", url), title, has_math)
        ]
        print(f"rendered {page} -> {shot}")
    for failure in failures:
        print(f"render check FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
