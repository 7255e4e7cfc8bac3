"""Sessions: lint, tests, tests_minimal, conformance; ``bench`` on request only.

Every session installs with pip under ``constraints.txt`` (torch pinned to the CPU build on this
machine's disk; an open ``torch`` would pull a CUDA build of several GB).
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests", "tests_minimal", "conformance"]

CONSTRAINTS = ("-c", "constraints.txt")
ALL_BACKENDS = ".[test,torch,jax,dask,torchmetrics,peers]"
# pytest exits 5 when a selection (posargs) matches no test: not a failure of the code.
PYTEST_OK = [0, 5]


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
    """Every CPU backend in one environment: unit, property, doctest and conformance tests."""
    _install(session, "-e", ALL_BACKENDS, "dask[distributed]", "pytest-xdist")
    session.run(
        "python",
        "-m",
        "pytest",
        "-n",
        "2",
        "tests",
        "conformance",
        "src/kldiv",
        *session.posargs,
        success_codes=PYTEST_OK,
    )


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
        "addopts=-ra --strict-markers --strict-config",
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
