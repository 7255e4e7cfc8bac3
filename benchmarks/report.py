"""The printed tables (ratios side by side, targets marked met/missed) and the JSON record."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.cases import COMPARISONS, Comparison

Record = dict[str, Any]


def machine_info() -> Record:
    """CPU model, core counts, interpreter and library versions."""
    cpuinfo = Path("/proc/cpuinfo")
    models = [
        line.split(":", 1)[1].strip()
        for line in (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
        if line.startswith("model name")
    ]
    versions = {}
    for package in ("kldiv", "numpy", "scipy", "torch", "torchmetrics", "matplotlib"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu_model": models[0] if models else platform.processor(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "threads_used_for_timing": 1,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "versions": versions,
    }


def _format_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[column]) for row in [headers, *rows]) for column in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    header = "  ".join(cell.ljust(width) for cell, width in zip(headers, widths, strict=True))
    return "\n".join([header, "-" * len(header), *lines])


def _timing_index(timings: list[Record]) -> dict[tuple[str, str, str], Record]:
    return {(record["key"], record["dtype"], record["shape"]): record for record in timings}


def timing_table(timings: list[Record], shapes: list[str]) -> str:
    """µs per call at the smallest size, ns/element at the others, per implementation."""
    index = _timing_index(timings)
    keys = list(dict.fromkeys((record["key"], record["dtype"]) for record in timings))
    headers = ["implementation", "dtype", f"{shapes[0]} µs/call"]
    headers += [f"{shape} ns/el" for shape in shapes[1:]]
    rows = []
    for key, dtype in keys:
        cells = []
        for shape in shapes[1:]:
            record = index.get((key, dtype, shape))
            cells.append(_cell(record, "ns_per_element", "{:.2f}"))
        first = index.get((key, dtype, shapes[0]))
        rows.append([key, dtype, _cell(first, "us_per_call", "{:.2f}"), *cells])
    return _format_table(headers, rows)


def _cell(record: Record | None, field: str, form: str) -> str:
    if record is None:
        return ""
    if "error" in record:
        return "error"
    return str(form.format(record[field]))


def ratios(timings: list[Record]) -> list[Record]:
    """ours / peer for every comparison, dtype and size where both were timed, with verdicts."""
    index = _timing_index(timings)
    records = []
    for comparison in COMPARISONS:
        for (key, dtype, shape), ours in index.items():
            peer = index.get((comparison.peer, dtype, shape))
            if key != comparison.ours or peer is None or "error" in ours or "error" in peer:
                continue
            ratio = ours["seconds_per_call"] / peer["seconds_per_call"]
            limit = _limit(comparison, shape)
            records.append(
                {
                    "ours": comparison.ours,
                    "peer": comparison.peer,
                    "dtype": dtype,
                    "shape": shape,
                    "ratio": ratio,
                    "max_ratio": limit,
                    "met": None if limit is None else ratio <= limit,
                }
            )
    return records


def _limit(comparison: Comparison, shape: str) -> float | None:
    return next((t.max_ratio for t in comparison.targets if t.shape == shape), None)


def _verdict(met: bool | None) -> str:
    return "" if met is None else (" met" if met else " MISSED")


def ratio_table(ratio_records: list[Record], shapes: list[str]) -> str:
    """One row per comparison and dtype, the ratio at each size side by side."""
    index = {(r["ours"], r["peer"], r["dtype"], r["shape"]): r for r in ratio_records}
    pairs = list(dict.fromkeys((r["ours"], r["peer"], r["dtype"]) for r in ratio_records))
    targets = {(c.ours, c.peer): c.targets for c in COMPARISONS}
    rows = []
    for ours, peer, dtype in pairs:
        cells = []
        for shape in shapes:
            record = index.get((ours, peer, dtype, shape))
            cells.append(
                "" if record is None else f"{record['ratio']:.2f}{_verdict(record['met'])}"
            )
        wanted = ", ".join(f"{t.shape} <= {t.max_ratio:.2f}" for t in targets[(ours, peer)])
        rows.append([ours, peer, dtype, *cells, wanted or "-"])
    return _format_table(["kldiv call", "peer", "dtype", *shapes, "target (ours/peer)"], rows)


def memory_table(memory: list[Record]) -> str:
    """Peak extra memory of each call as a percentage of its two inputs."""
    rows = []
    for record in memory:
        if "error" in record:
            measured, percent, met = "error: " + record["error"][:60], "", None
        else:
            above = ">" if record["lower_bound"] else ""
            measured = f"{above}{record['extra_bytes'] / 2**20:.0f} MiB"
            percent = f"{above}{record['percent_of_inputs']:.1f} %"
            met = _memory_met(record)
        limit_text = "-" if record["max_percent"] is None else f"<= {record['max_percent']:.0f} %"
        rows.append(
            [
                record["key"],
                record["shape"],
                record["dtype"],
                measured,
                percent + _verdict(met),
                limit_text,
            ]
        )
    headers = ["call", "shape", "dtype", "peak extra", "% of inputs", "target"]
    return _format_table(headers, rows)


def _memory_met(record: Record) -> bool | None:
    """Within the target; None without a target, or when a lower bound is still within it."""
    limit, percent = record["max_percent"], record["percent_of_inputs"]
    if limit is None or (record["lower_bound"] and percent <= limit):
        return None
    return bool(percent <= limit)


def summary(ratio_records: list[Record], memory: list[Record]) -> str:
    """Count of targets met, and the missed ones by name."""
    verdicts = [
        (f"{r['ours']} / {r['peer']} {r['dtype']} {r['shape']}", r["met"])
        for r in ratio_records
        if r["met"] is not None
    ]
    verdicts += [
        (f"memory {r['key']} {r['shape']} {r['dtype']}", _memory_met(r))
        for r in memory
        if "error" not in r and _memory_met(r) is not None
    ]
    missed = [name for name, met in verdicts if not met]
    lines = [f"targets met: {len(verdicts) - len(missed)} of {len(verdicts)}"]
    lines += [f"  MISSED: {name}" for name in missed]
    return "\n".join(lines)
