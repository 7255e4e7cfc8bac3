"""The suite itself: it covers the contract, it can fail, and its deviations are evidenced."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import kldiv
import kldiv._kl_div
import kldiv._rows
from conformance.backends import load_backends
from conformance.cli import main
from conformance.conftest import BACKENDS, REGISTRY, TASKS
from conformance.deviations import DEVIATIONS
from conformance.runner import Checker, plan, run_task

DISCRETE = (
    "rel_entr",
    "kl_div",
    "KLDivLoss",
    "kl_divergence",
    "entropy",
    "cross_entropy",
    "js_divergence",
    "js_distance",
    "jeffreys",
    "kl_div_logits",
)


@pytest.mark.parametrize("name", DISCRETE)
def test_every_discrete_function_runs_everywhere_with_50_cases(name: str) -> None:
    runs = {(t.backend.name, t.dtype): len(t.cases) for t in TASKS if t.entry.name == name}
    expected = {(b.name, dtype) for b in BACKENDS for dtype in b.dtypes}
    assert set(runs) == expected
    assert min(runs.values()) >= 50, runs


def _run(tmp_path: Path, function: str) -> tuple[int, dict]:
    status = main(
        [
            "--cases=discrete",
            f"--functions={function}",
            "--backends=numpy",
            "--dtypes=float64",
            "--no-progress",
            "--jobs=1",  # the injected fault lives in this process only
            f"--output-dir={tmp_path}",
        ]
    )
    return status, json.loads((tmp_path / "report.json").read_text())


def _failed_functions(report: dict) -> set[str]:
    return {group["function"] for group in report["groups"] if group["status"] == "fail"}


def test_the_runner_passes_kldiv(tmp_path: Path) -> None:
    status, report = _run(tmp_path, "kl_divergence")
    assert status == 0
    assert report["ok"]


def test_a_sign_flip_fails_and_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = kldiv.kl_divergence
    monkeypatch.setattr(kldiv, "kl_divergence", lambda *a, **k: -real(*a, **k))
    status, report = _run(tmp_path, "kl_divergence")
    assert status == 1
    assert _failed_functions(report) == {"kl_divergence"}
    assert "kl_divergence" in (tmp_path / "report.md").read_text().split("## Failures")[1]


def test_a_dropped_normalisation_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kldiv._rows, "_normalized", lambda xp, probs, axis: probs)
    status, report = _run(tmp_path, "entropy")
    assert status == 1
    assert _failed_functions(report) == {"entropy"}


def test_a_lost_zero_convention_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def naive(xp, x, log_y):
        return x * (xp.log(x) - log_y)

    monkeypatch.setattr(kldiv._kl_div, "xlog_ratio_mixed", naive)
    status, report = _run(tmp_path, "kl_div")
    assert status == 1
    messages = [f["message"] for g in report["groups"] for f in g["failures"]]
    assert any("non-finite mismatch" in message for message in messages)


def test_every_deviation_is_exercised_and_the_oracle_sides_with_kldiv() -> None:
    numpy_backend = load_backends(["numpy"])[0]
    checker = Checker()
    registered = set(REGISTRY)
    evidence: dict[str, list[dict]] = {
        key: [] for key, deviation in DEVIATIONS.items() if registered & set(deviation.functions)
    }
    for task in plan(REGISTRY, numpy_backend):
        for result in run_task(task, checker).deviations:
            assert result.ok, f"{task.entry.name}/{result.case}: {result.message}"
            evidence.setdefault(result.deviation, []).append(result.evidence)
    for key, items in evidence.items():
        assert items, f"no case exercises deviation {key}"
        assert all(item["kldiv_matches_oracle"] for item in items), key
        assert any(not item["reference_matches_oracle"] for item in items), (
            f"{key}: the reference never differs from the oracle: the deviation is stale"
        )


def test_an_undeclared_deviation_key_is_an_error() -> None:
    from conformance.registry import Case, Registry
    from conformance.runner import Task

    registry = Registry()
    entry = registry.register(
        name="identity",
        kldiv=lambda x: x,
        reference=lambda x: x,
        cases=lambda rng: [Case("one", (np.ones(2),), deviation="no-such-key")],
    )
    backend = load_backends(["numpy"])[0][0]
    group = run_task(Task(entry, backend, "float64", tuple(entry.make_cases(None))))
    assert not group.ok
    assert "undeclared deviation" in group.failures[0].message


def test_worker_processes_give_the_same_report_as_one_process(tmp_path: Path) -> None:
    def groups(jobs: int) -> list[tuple]:
        folder = tmp_path / str(jobs)
        arguments = ["--cases=discrete", "--functions=kl_div,entropy", "--backends=numpy,torch"]
        status = main([*arguments, "--no-progress", f"--jobs={jobs}", f"--output-dir={folder}"])
        assert status == 0
        report = json.loads((folder / "report.json").read_text())
        return [(g["function"], g["backend"], g["dtype"], g["cases"]) for g in report["groups"]]

    assert groups(2) == groups(1)
