"""The report: the function × backend × dtype table, the deviations with their evidence, the
failures; as Markdown (``report.md``) and JSON (``report.json``)."""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .deviations import DEVIATIONS
from .runner import CaseResult, Group

__all__ = ["Report"]

_DTYPE_ORDER = ("float64", "float32", "float16", "bfloat16")


def _number(value: float) -> str:
    return "—" if math.isnan(value) else ("inf" if math.isinf(value) else f"{value:.2e}")


def _json_number(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


@dataclass
class Report:
    """The results of one run, and what it could not run."""

    groups: Sequence[Group]
    unavailable: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)
    broken_modules: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every case file imported and every case of every group passed."""
        return not self.broken_modules and all(group.ok for group in self.groups)

    @property
    def failed_groups(self) -> list[Group]:
        return [group for group in self.groups if not group.ok]

    def evidence(self) -> dict[str, list[tuple[Group, CaseResult]]]:
        """Per declared deviation, one result per (function, case): float64 where it ran."""
        chosen: dict[tuple[str, str, str], tuple[Group, CaseResult]] = {}
        for group in self.groups:
            for result in group.deviations:
                key = (result.deviation or "", group.function, result.case)
                rank = _DTYPE_ORDER.index(group.dtype) if group.dtype in _DTYPE_ORDER else 9
                current = chosen.get(key)
                if current is None or rank < _DTYPE_ORDER.index(current[0].dtype):
                    chosen[key] = (group, result)
        by_deviation: dict[str, list[tuple[Group, CaseResult]]] = {key: [] for key in DEVIATIONS}
        for (deviation, _, _), item in chosen.items():
            by_deviation.setdefault(deviation, []).append(item)
        return by_deviation

    # --- Markdown ------------------------------------------------------------------------

    def table(self) -> str:
        """The summary table as Markdown."""
        lines = [
            "| function | backend | dtype | cases | deviations | max abs error "
            "| max rel error | status | seconds |",
            "|---|---|---|---:|---:|---:|---:|---|---:|",
        ]
        for group in self.groups:
            status = "pass" if group.ok else f"**FAIL** ({len(group.failures)})"
            lines.append(
                f"| {group.function} | {group.backend} | {group.dtype} | {len(group.results)} "
                f"| {len(group.deviations)} | {_number(group.max_error('abs_error'))} "
                f"| {_number(group.max_error('rel_error'))} | {status} | {group.seconds:.1f} |"
            )
        return "\n".join(lines)

    def _deviations_markdown(self) -> list[str]:
        lines = ["## Declared deviations", ""]
        for key, items in self.evidence().items():
            deviation = DEVIATIONS.get(key)
            lines.append(f"### `{key}`")
            if deviation is None:
                lines += ["", "**Undeclared key** (not in `conformance/deviations.json`).", ""]
            else:
                lines += [
                    "",
                    f"- functions: {', '.join(deviation.functions)}",
                    f"- reference: {deviation.reference} gives {deviation.reference_gives}",
                    f"- kldiv gives {deviation.kldiv_gives}",
                    f"- why: {deviation.reason}",
                    "",
                ]
            if not items:
                lines += ["No case exercises this deviation in this run.", ""]
                continue
            lines += [
                "| function | case | dtype | reference | kldiv | mpmath oracle | "
                "kldiv = oracle | reference = oracle |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for group, result in items:
                evidence = result.evidence or {}
                lines.append(
                    f"| {group.function} | {result.case} | {group.dtype} "
                    f"| {_values(evidence.get('reference'))} | {_values(evidence.get('kldiv'))} "
                    f"| {_values(evidence.get('oracle'))} "
                    f"| {_yes(evidence.get('kldiv_matches_oracle'))} "
                    f"| {_yes(evidence.get('reference_matches_oracle'))} |"
                )
            lines.append("")
        return lines

    def _failures_markdown(self, limit: int = 200) -> list[str]:
        lines = ["## Failures", ""]
        failures = [(group, result) for group in self.groups for result in group.failures]
        if not failures:
            return [*lines, "None.", ""]
        for group, result in failures[:limit]:
            lines.append(
                f"- {group.function} / {group.backend} / {group.dtype} / {result.case}: "
                f"{result.message}"
            )
        if len(failures) > limit:
            lines.append(f"- … and {len(failures) - limit} more (see report.json)")
        return [*lines, ""]

    def markdown(self) -> str:
        """The whole report as Markdown."""
        cases = sum(len(group.results) for group in self.groups)
        verdict = "all passed" if self.ok else f"{len(self.failed_groups)} groups FAILED"
        lines = [
            "# kldiv conformance report",
            "",
            f"{len(self.groups)} groups (function × backend × dtype), {cases} cases: {verdict}. "
            f"Run time {self.seconds:.1f} s.",
            "",
            "Versions: " + ", ".join(f"{name} {v}" for name, v in self.versions.items()),
            "",
        ]
        if self.unavailable:
            lines += [
                "Not run: "
                + ", ".join(f"{name} ({why})" for name, why in self.unavailable.items()),
                "",
            ]
        lines += [
            f"**Case module `{name}` did not import**: {error}"
            for name, error in self.broken_modules.items()
        ]
        lines += ["## Summary", "", self.table(), ""]
        lines += self._deviations_markdown()
        lines += self._failures_markdown()
        return "\n".join(lines)

    # --- JSON ----------------------------------------------------------------------------

    def as_json(self) -> dict[str, Any]:
        """The whole report as JSON-ready data."""
        return {
            "ok": self.ok,
            "seconds": self.seconds,
            "versions": self.versions,
            "platform": platform.platform(),
            "unavailable": self.unavailable,
            "broken_modules": self.broken_modules,
            "groups": [_group_json(group) for group in self.groups],
            "deviations": {
                key: [
                    {
                        "function": group.function,
                        "backend": group.backend,
                        "dtype": group.dtype,
                        "case": result.case,
                        **(result.evidence or {}),
                    }
                    for group, result in items
                ]
                for key, items in self.evidence().items()
            },
        }

    def write(self, directory: Path) -> tuple[Path, Path]:
        """Write ``report.md`` and ``report.json`` into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        markdown, data = directory / "report.md", directory / "report.json"
        markdown.write_text(self.markdown() + "\n")
        data.write_text(json.dumps(self.as_json(), indent=1) + "\n")
        return markdown, data


def _group_json(group: Group) -> dict[str, Any]:
    return {
        "function": group.function,
        "backend": group.backend,
        "dtype": group.dtype,
        "cases": len(group.results),
        "deviations": len(group.deviations),
        "max_abs_error": _json_number(group.max_error("abs_error")),
        "max_rel_error": _json_number(group.max_error("rel_error")),
        "status": "pass" if group.ok else "fail",
        "seconds": round(group.seconds, 3),
        "failures": [{"case": r.case, "message": r.message} for r in group.failures],
    }


def _values(values: Any) -> str:
    if values is None:
        return "—"
    if isinstance(values, str):
        return values
    shown = ", ".join(f"{value:.17g}" for value in values[:3])
    return f"[{shown}{', …' if len(values) > 3 else ''}]"


def _yes(flag: Any) -> str:
    return "yes" if flag else "no"
