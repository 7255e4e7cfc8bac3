"""Collect the conformance groups once: ``pytest conformance`` runs the same cases as the report."""

from __future__ import annotations

import pytest

from conformance.backends import load_backends
from conformance.runner import Checker, load_cases, plan

REGISTRY, BROKEN_MODULES = load_cases()
BACKENDS, UNAVAILABLE = load_backends()
TASKS = plan(REGISTRY, BACKENDS)


@pytest.fixture(scope="session")
def checker() -> Checker:
    """One checker for the session: references and oracle values are shared between groups."""
    return Checker()
