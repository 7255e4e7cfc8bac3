"""Sessions: lint, tests, tests_minimal, gpu_surface, conformance, docs; ``slow``, ``bench`` on
request.

Every session installs with pip under ``constraints.txt`` (torch pinned to the CPU build on this
machine's disk; an open ``torch`` would pull a CUDA build of several GB).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests", "tests_minimal", "gpu_surface", "conformance", "docs"]

CONSTRAINTS = ("-c", "constraints.txt")
ALL_BACKENDS = ".[test,torch,jax,dask,torchmetrics,peers]"
# pytest exits 5 when a selection (posargs) matches no test: not a failure of the code.
PYTEST_OK = [0, 5]
# Where ``tests`` records the namespace names kldiv uses, for ``gpu_surface`` to check.
NAMESPACE_RECORD = ".nox/namespace-record"


def _install(session: nox.Session, *requirements: str) -> None:
    session.install(*CONSTRAINTS, *requirements)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff format --check, ruff check, mypy."""
    _install(session, "-e", ".[lint,torch,jax,dask,torchmetrics]")  # mypy sees the real types
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")
    session.run("mypy")


@nox.session
def tests(session: nox.Session) -> None:
    """Every CPU backend in one environment: unit, property, doctest and conformance tests.

    The run records the namespace names kldiv uses (for ``gpu_surface``).
    """
    _install(session, "-e", ALL_BACKENDS, "dask[distributed]", "pytest-xdist")
    _run_recording(session, *session.posargs)


def _run_recording(session: nox.Session, *args: str) -> None:
    shutil.rmtree(NAMESPACE_RECORD, ignore_errors=True)
    session.run(
        "python",
        "-m",
        "pytest",
        "-n",
        "2",
        "tests",
        "conformance",
        "src/kldiv",
        *args,
        env={"KLDIV_RECORD_NAMESPACE": NAMESPACE_RECORD},
        success_codes=PYTEST_OK,
    )


@nox.session
def gpu_surface(session: nox.Session) -> None:
    """The namespace names, special functions and linear algebra kldiv used in ``tests`` (run
    first, else here) exist in CuPy and torch: no GPU needed (``import cupy`` needs none)."""
    _install(session, "-e", ALL_BACKENDS, "dask[distributed]", "pytest-xdist", "cupy-cuda12x")
    if not any(Path(NAMESPACE_RECORD).glob("names-*.json")):
        _run_recording(session)
    session.run("python", "-m", "tests.gpu_surface", NAMESPACE_RECORD)


@nox.session
def slow(session: nox.Session) -> None:
    """The slow profile: 10,000 malformed calls per public function (the counts are printed),
    out of core at 4x the workers' memory, the largest cases."""
    _install(session, "-e", ALL_BACKENDS, "dask[distributed]", "pytest-xdist")
    session.run("python", "-m", "pytest", "-m", "slow", "-s", "tests", *session.posargs)


@nox.session
def tests_minimal(session: nox.Session) -> None:
    """NumPy only: every other dependency is optional, and ``import kldiv`` needs no torch."""
    _install(session, "-e", ".", "pytest", "hypothesis", "mpmath")
    session.run("python", "-c", "import kldiv, sys; assert 'torch' not in sys.modules")
    session.run(
        "python",
        "-m",
        "pytest",
        "tests",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=-ra --strict-markers --strict-config -m 'not slow'",
        *session.posargs,
        success_codes=PYTEST_OK,
    )


@nox.session
def conformance(session: nox.Session) -> None:
    """The main job: the conformance report over every installed backend."""
    _install(session, "-e", ALL_BACKENDS)
    session.run("python", "-m", "conformance", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Timings and peak memory against the peers (minutes; ``-- --quick`` for a smoke run)."""
    _install(session, "-e", ".[torch,torchmetrics]", "scipy", "matplotlib")
    session.run("python", "-m", "benchmarks", *session.posargs)


DOCS_TOOLS = ("sphinx>=8", "furo", "myst-parser>=4", "numpydoc>=1.8", "sphinx-mathjax-offline")


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation: built with warnings as errors, its examples run, its pages rendered.

    Without ``conformance/report.json`` (``nox -s conformance``) a quick report (NumPy, float64
    and float32, under a minute) gives the conformance and deviation pages their data.
    """
    _install(session, "-e", ".[test,torch,jax,dask,torchmetrics]", *DOCS_TOOLS)
    if not Path("conformance/report.json").exists():
        quick = ("--backends", "numpy", "--dtypes", "float64,float32", "--no-progress")
        output = ("--output-dir", "docs/_build/conformance")
        session.run("python", "-m", "conformance", *quick, *output, silent=True)
    html = "docs/_build/html"
    session.run("sphinx-build", "-b", "html", "-E", "-W", "--keep-going", "docs", html)
    session.run(
        "python",
        "-m",
        "pytest",
        "docs",
        "--doctest-glob=*.md",
        "--ignore=docs/_build",
        "--ignore=docs/_generated",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=-ra --strict-markers --strict-config",
    )
    session.run("python", "docs/render_check.py", html, "docs/_build/screenshots")
