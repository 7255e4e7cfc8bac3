"""Tables generated at build time, so that no page can disagree with the code or the last run.

- ``support.md``: the function × library support matrix, from ``kldiv._capabilities``;
- ``pairs.md``: every registered pair of :mod:`kldiv.distributions`, marked against torch's;
- ``conformance.md`` and ``deviations.md``: the last conformance report (``report.json``) and
  the declared deviations of ``conformance/deviations.json`` with their mpmath evidence;
- ``benchmarks.md``: the last ``nox -s bench`` results (``benchmarks/results.json`` and its plot).

Each is written into ``docs/_generated/`` when the build starts and included by a page. A missing
report or result is said on the page ("not generated"), never a build error.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

from kldiv_api import api_pages
from sphinx.application import Sphinx

from kldiv._capabilities import BACKENDS, capability

GENERATED = "_generated"
YES, NO = "✓", "—"
LIBRARY_NAMES = {
    "numpy": "NumPy",
    "array_api_strict": "array-api-strict",
    "torch": "torch",
    "jax": "JAX",
    "dask": "Dask",
    "cupy": "CuPy",
}


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    escaped = [[cell.replace("|", "\\|") for cell in row] for row in rows]
    return [
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
        *("| " + " | ".join(row) + " |" for row in escaped),
        "",
    ]


# --- the support matrix ------------------------------------------------------------------------


def support_matrix() -> str:
    headers = ["name", *LIBRARY_NAMES.values(), "jax.jit", "lazy Dask", "torch grad", "note"]
    lines = [
        "Generated from `src/kldiv/_capabilities.py`, the declaration the test suite checks "
        "(`tests/test_capabilities.py`, `tests/test_lazy_modes.py`). "
        f"{YES} supported and tested, {NO} not supported, n/a: runs no array code of its own. "
        "CuPy (and torch on CUDA) are tested where a GPU is present. The notes are numbered "
        "below each table.",
        "",
    ]
    for page in api_pages():
        rows, notes = [], []
        for name in page.names:
            link = f"{{py:obj}}`~{page.prefix}.{name}`"
            declared = capability(f"{page.prefix}.{name}".removeprefix("kldiv."))
            if declared is None:
                rows.append([link, *["?"] * 9, "**undeclared**"])
                continue
            libraries = [YES if lib in declared.backends else NO for lib in BACKENDS]
            modes = [
                "n/a" if declared.array_free else (YES if declared.supports(mode) else NO)
                for mode in ("jit", "lazy-dask", "grad")
            ]
            note = declared.array_free or declared.notes
            if note and note not in notes:
                notes.append(note)
            rows.append([link, *libraries, *modes, str(notes.index(note) + 1) if note else ""])
        lines += [f"## `{page.title}`", "", *_table(headers, rows)]
        lines += [*(f"{number}. {note}" for number, note in enumerate(notes, 1)), ""]
    return "\n".join(lines)


# --- the pair table ----------------------------------------------------------------------------


def _torch_pairs() -> set[tuple[str, str]] | None:
    try:
        from torch.distributions.kl import _KL_REGISTRY
    except ImportError:
        return None
    return {(p.__name__, q.__name__) for p, q in _KL_REGISTRY}


def pair_table() -> str:
    from kldiv.distributions._registry import _REGISTRY, infinite_pair

    torch_pairs = _torch_pairs()
    ours = {(p.__name__, q.__name__): function for (p, q), function in _REGISTRY.items()}
    rows, extras = [], 0
    for (p_name, q_name), function in sorted(ours.items()):
        kind = "+∞ (q misses part of p's support)" if function is infinite_pair else "closed form"
        if torch_pairs is None:
            in_torch = "?"
        elif (p_name, q_name) in torch_pairs:
            in_torch = "torch"
        else:
            in_torch, extras = "**kldiv only**", extras + 1
        rows.append([f"`{p_name}`", f"`{q_name}`", kind, in_torch])
    lines = [f"{len(ours)} registered pairs, generated from the registry of `kldiv.distributions`."]
    if torch_pairs is None:
        lines += ["", "torch is not installed in this build: its column is not generated.", ""]
    else:
        missing = sorted(torch_pairs - set(ours))
        lines += [
            f" {len(ours) - extras} are pairs of `torch.distributions.kl` (marked torch), "
            f"{extras} are kldiv's own (marked **kldiv only**). torch pairs without a kldiv "
            f"pair: {', '.join(f'`{p}`–`{q}`' for p, q in missing) or 'none'} (abstract bases "
            "that kldiv resolves through its concrete families).",
            "",
        ]
    return "\n".join([*lines, *_table(["p", "q", "KL(p ‖ q)", "registered by"], rows)])


# --- the conformance report and the deviations -------------------------------------------------


def _load_report(paths: list[Path]) -> tuple[dict[str, Any] | None, Path | None]:
    for path in paths:
        if path.exists():
            return json.loads(path.read_text()), path
    return None, None


def _error(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "—" if value is None or math.isnan(value) else f"{value:.1e}"


def _report_header(report: dict[str, Any], path: Path, root: Path) -> list[str]:
    backends = sorted({group["backend"] for group in report["groups"]})
    dtypes = sorted({group["dtype"] for group in report["groups"]})
    verdict = "every case passed" if report["ok"] else "**some cases FAILED**"
    versions = ", ".join(f"{name} {version}" for name, version in report["versions"].items())
    lines = [
        f"From `{path.relative_to(root)}`: {len(report['groups'])} groups on "
        f"{', '.join(backends)} in {', '.join(dtypes)}; {verdict}; "
        f"{report['seconds']:.0f} s on {report['platform']}.",
        "",
        f"Versions: {versions}.",
        "",
    ]
    if report["unavailable"]:
        unavailable = ", ".join(f"{k} ({v})" for k, v in report["unavailable"].items())
        lines += [f"Not run: {unavailable}.", ""]
    return lines


def conformance_summary(report: dict[str, Any] | None, path: Path | None, root: Path) -> str:
    if report is None or path is None:
        return (
            "**Not generated**: no conformance report was found. Run `nox -s conformance` "
            "(it writes `conformance/report.json`) and build the documentation again."
        )
    dtypes = sorted({group["dtype"] for group in report["groups"]}, key=_dtype_rank)
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for group in report["groups"]:
        status = YES if group["status"] == "pass" else f"**FAIL** ({len(group['failures'])})"
        cell = f"{status} {group['cases']} · {_error(group['max_rel_error'])}"
        cells.setdefault((group["function"], group["backend"]), {})[group["dtype"]] = cell
    rows = [[f"`{f}`", b, *(by.get(d, NO) for d in dtypes)] for (f, b), by in cells.items()]
    return "\n".join(
        [
            *_report_header(report, path, root),
            "Each cell: status, cases, largest relative error against the reference.",
            "",
            *_table(["function", "backend", *dtypes], rows),
        ]
    )


def _dtype_rank(dtype: str) -> int:
    order = ("float64", "float32", "float16", "bfloat16")
    return order.index(dtype) if dtype in order else len(order)


def deviation_pages(report: dict[str, Any] | None) -> str:
    from conformance.deviations import DEVIATIONS
    from conformance.report import _values  # the report's own rendering of the values

    lines = []
    if report is None:
        lines += [
            "The mpmath evidence is **not generated**: no conformance report was found "
            "(`nox -s conformance` writes one; `nox -s docs` runs a quick one).",
            "",
        ]
    for key, deviation in DEVIATIONS.items():
        lines += [
            f"## `{key}`",
            "",
            f"- **functions**: {', '.join(f'`{name}`' for name in deviation.functions)}",
            f"- **reference**: {deviation.reference}",
            f"- **the reference gives**: {deviation.reference_gives}",
            f"- **kldiv gives**: {deviation.kldiv_gives}",
            f"- **why**: {deviation.reason}",
            "",
        ]
        if report is None:
            continue
        evidence = report["deviations"].get(key, [])
        if not evidence:
            lines += ["No case of this report exercises this deviation.", ""]
            continue
        rows = [
            [
                f"`{item['function']}`",
                item["case"],
                f"{item['backend']} {item['dtype']}",
                _values(item.get("reference")),
                _values(item.get("kldiv")),
                _values(item.get("oracle")),
                "yes" if item.get("kldiv_matches_oracle") else "no",
                "yes" if item.get("reference_matches_oracle") else "no",
            ]
            for item in evidence
        ]
        headers = ["function", "case", "on", "reference", "kldiv", "mpmath oracle"]
        lines += _table([*headers, "kldiv = oracle", "reference = oracle"], rows)
    return "\n".join(lines)


# --- the benchmarks ----------------------------------------------------------------------------


def benchmarks_page(results: Path, plot: Path, generated: Path) -> str:
    if not results.exists():
        return (
            "**Not generated**: `benchmarks/results.json` is absent. Run `nox -s bench` "
            "(a few minutes) and build the documentation again."
        )
    data = json.loads(results.read_text())
    machine = data["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v)
    lines = [
        f"Measured on {machine['cpu_model']} ({machine['logical_cores']} logical cores, "
        f"{machine['threads_used_for_timing']} thread used), {machine['platform']}, "
        f"Python {machine['python']}; {versions}. Options: "
        + ", ".join(f"{k}={v}" for k, v in data["options"].items())
        + f"; {data['seconds']:.0f} s.",
        "",
    ]
    if plot.exists():
        shutil.copyfile(plot, generated / "results.png")
        lines += [f"![benchmark plot](/{GENERATED}/results.png)", ""]
    ratio_rows = [
        [
            f"`{r['ours']}`",
            f"`{r['peer']}`",
            r["dtype"],
            r["shape"],
            f"{r['ratio']:.2f}",
            "" if r.get("max_ratio") is None else f"≤ {r['max_ratio']}",
            {True: "met", False: "**missed**", None: ""}[r.get("met")],
        ]
        for r in data["ratios"]
    ]
    lines += ["## Time ratios (kldiv / peer; below 1 kldiv is faster)", ""]
    lines += _table(["kldiv", "peer", "dtype", "shape", "ratio", "target", ""], ratio_rows)
    memory_rows = [
        [
            f"`{m['key']}`",
            m["dtype"],
            m["shape"],
            f"{m['percent_of_inputs']:.1f} %",
            "" if m.get("max_percent") is None else f"≤ {m['max_percent']} %",
        ]
        for m in data.get("memory", [])
    ]
    if memory_rows:
        lines += ["## Peak extra memory (percent of the inputs' size)", ""]
        lines += _table(["implementation", "dtype", "shape", "peak extra", "target"], memory_rows)
    return "\n".join(lines)


# --- the extension -----------------------------------------------------------------------------


def write_tables(app: Sphinx) -> None:
    docs = Path(app.srcdir)
    root = docs.parent
    generated = docs / GENERATED
    generated.mkdir(exist_ok=True)
    report, path = _load_report(
        [root / "conformance" / "report.json", docs / "_build" / "conformance" / "report.json"]
    )
    pages = {
        "support.md": support_matrix(),
        "pairs.md": pair_table(),
        "conformance.md": conformance_summary(report, path, root),
        "deviations.md": deviation_pages(report),
        "benchmarks.md": benchmarks_page(
            root / "benchmarks" / "results.json", root / "benchmarks" / "results.png", generated
        ),
    }
    for name, text in pages.items():
        target = generated / name
        if not target.exists() or target.read_text() != text + "\n":
            target.write_text(text + "\n")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", write_tables)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
