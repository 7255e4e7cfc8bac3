"""Every registered function × backend × dtype, as one test each (the report's table rows)."""

from __future__ import annotations

import pytest

from conformance.conftest import BROKEN_MODULES, TASKS
from conformance.runner import Checker, Task, case_modules, run_task


@pytest.mark.parametrize(
    "task", TASKS, ids=[f"{t.entry.name}-{t.backend.name}-{t.dtype}" for t in TASKS]
)
def test_conforms(task: Task, checker: Checker) -> None:
    group = run_task(task, checker)
    failures = "\n".join(f"{result.case}: {result.message}" for result in group.failures)
    assert group.ok, f"{len(group.failures)} of {len(group.results)} cases fail:\n{failures}"


@pytest.mark.parametrize("module", case_modules())
def test_case_module_imports(module: str) -> None:
    assert module not in BROKEN_MODULES, BROKEN_MODULES.get(module)
