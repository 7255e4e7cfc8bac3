"""The command line: ``python -m conformance [--backends ...] [--dtypes ...] [--functions ...]``.

Exit status 0 when every case passes, 1 on any failure, 2 on a bad option.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .backends import BACKEND_NAMES, load_backends
from .parallel import PlanOptions, run_in_processes
from .progress import Progress
from .registry import ALL_DTYPES
from .report import Report
from .runner import Checker, Task, case_modules, load_cases, plan, run_task

__all__ = ["main"]

_VERSIONED = ("kldiv", "numpy", "torch", "torchmetrics", "scipy", "jax", "dask", "array-api-strict")


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance",
        description="Compare kldiv with its references on every backend and dtype.",
    )
    parser.add_argument(
        "--backends", type=_names, help=f"comma-separated, of: {', '.join(BACKEND_NAMES)}"
    )
    parser.add_argument(
        "--dtypes", type=_names, help=f"comma-separated, of: {', '.join(ALL_DTYPES)}"
    )
    parser.add_argument("--functions", type=_names, help="comma-separated registered names")
    parser.add_argument(
        "--cases", type=_names, help="comma-separated modules of conformance/cases (default: all)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random cases (default 0)")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path(__file__).parent,
        help="where report.md and report.json go (default: the conformance package)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: one per CPU; 1 runs in this process)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--list", action="store_true", help="list functions and backends, and exit")
    return parser


def _versions() -> dict[str, str]:
    found = {}
    for name in _VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def _check_names(kind: str, wanted: Sequence[str] | None, known: Sequence[str]) -> None:
    unknown = sorted(set(wanted or ()) - set(known))
    if unknown:
        raise SystemExit(f"error: unknown {kind} {', '.join(unknown)}; known: {', '.join(known)}")


def _label(task: Task) -> str:
    return f"{task.entry.name} {task.backend.name} {task.dtype}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; print the table; write the reports; return the exit status."""
    options = _parser().parse_args(argv)
    try:
        _check_names("case modules", options.cases, case_modules())
        registry, broken = load_cases(options.cases)
        _check_names("functions", options.functions, list(registry))
        _check_names("backends", options.backends, BACKEND_NAMES)
        _check_names("dtypes", options.dtypes, ALL_DTYPES)
    except SystemExit as error:
        print(error, file=sys.stderr)
        return 2
    backends, unavailable = load_backends(options.backends)
    if options.list:
        print("case modules:", ", ".join(case_modules()))
        print("functions:", ", ".join(registry))
        print("backends:", ", ".join(backend.name for backend in backends))
        print("unavailable:", ", ".join(f"{n} ({why})" for n, why in unavailable.items()) or "-")
        return 0
    started = time.perf_counter()
    tasks = plan(registry, backends, options.dtypes, options.functions, options.seed)
    progress = Progress(sum(len(task.cases) for task in tasks), enabled=not options.no_progress)
    if options.jobs > 1:
        selection = PlanOptions(
            options.cases, options.backends, options.dtypes, options.functions, options.seed
        )
        groups = run_in_processes(
            selection,
            tasks,
            options.jobs,
            lambda task: progress.advance(len(task.cases), _label(task)),
        )
    else:
        checker, groups = Checker(), []
        for task in tasks:
            advance = lambda task=task: progress.advance(1, _label(task))  # noqa: E731
            groups.append(run_task(task, checker, advance))
    progress.close()
    report = Report(groups, unavailable, time.perf_counter() - started, _versions(), broken)
    markdown, data = report.write(options.output_dir)
    print(report.table())
    for group in report.failed_groups:
        first = group.failures[0]
        print(
            f"FAIL {group.function} {group.backend} {group.dtype}: {len(group.failures)} "
            f"case(s), e.g. {first.case}: {first.message}"
        )
    print(
        f"{'all passed' if report.ok else 'FAILED'} in {report.seconds:.1f} s; "
        f"wrote {markdown} and {data}"
    )
    return 0 if report.ok else 1
