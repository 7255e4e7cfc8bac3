"""The command line: time every implementation, measure memory, print, write JSON and a plot."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks import cases, memory, plot, report
from benchmarks.timing import best_time

HERE = Path(__file__).resolve().parent
BIG = 1_000_000  # elements from which a call is "big": at least 5 samples, no time budget


def _parse(arguments: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="small sizes only, no logits, no memory (< 1 min)"
    )
    parser.add_argument(
        "--only", metavar="SUBSTRING", help="implementations whose name has it (and their peers)"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument(
        "--device", default="cpu", help="torch device for the torch and logits panels (timings)"
    )
    parser.add_argument("--output-dir", type=Path, default=HERE, help="for results.json/.png")
    return parser.parse_args(arguments)


def _selected(only: str | None, key: str) -> bool:
    """Keys containing ``only``, and the peers of the kldiv calls among them."""
    if only is None:
        return True
    matches = {i.key for i in cases.IMPLEMENTATIONS if only.lower() in i.key.lower()}
    peers = {c.peer for c in cases.COMPARISONS if c.ours in matches}
    return key in matches | peers


def _synchronized(call: cases.Call, device: torch.device) -> cases.Call:
    """``call`` that returns only when an accelerator has finished its work."""
    if device.type != "cuda":
        return call

    def wait_for_device() -> None:
        call()
        torch.cuda.synchronize(device)

    return wait_for_device


def _time(
    implementation: cases.Implementation,
    inputs: Any,
    shape: tuple[int, int],
    dtype: str,
    budget: float,
    device: str = "cpu",
) -> dict[str, Any]:
    """One timing record (or an ``error`` entry: a peer that cannot run is reported, not fatal)."""
    elements = shape[0] * shape[1]
    on_device = implementation.panel != "numpy"
    record = {"key": implementation.key, "panel": implementation.panel, "dtype": dtype}
    record["device"] = device if on_device else "cpu"
    record.update(shape=cases.shape_name(shape), elements=elements)
    if implementation.logits:
        min_samples, budget = 3, 0.0
    elif elements >= BIG:
        min_samples, budget = 5, 0.0
    else:
        min_samples = 10
    try:
        call = _synchronized(implementation.build(inputs), torch.device(record["device"]))
        timing = best_time(call, min_samples=min_samples, budget_seconds=budget)
    except Exception as error:
        if memory.out_of_memory(error):
            return {**record, "error": "needs more memory than the allowance"}
        first_line = str(error).strip().splitlines()[0][:120] if str(error).strip() else ""
        return {**record, "error": f"{type(error).__name__}: {first_line}"}
    seconds = timing.seconds_per_call
    print(
        f"  {record['shape']:>12} {dtype} {implementation.key:40s} {seconds * 1e6:12.1f} µs",
        flush=True,
    )
    return {
        **record,
        "seconds_per_call": seconds,
        "us_per_call": seconds * 1e6,
        "ns_per_element": seconds * 1e9 / elements,
        "samples": timing.samples,
        "calls_per_sample": timing.calls_per_sample,
    }


def time_all(options: argparse.Namespace) -> list[dict[str, Any]]:
    """Every selected implementation at every size and dtype, in this process."""
    budget = 0.1 if options.quick else 0.5
    shapes = cases.QUICK_SHAPES if options.quick else cases.MATRIX_SHAPES
    matrix = [i for i in cases.IMPLEMENTATIONS if not i.logits and _selected(options.only, i.key)]
    timings = []
    for shape in shapes:
        for dtype in cases.DTYPES:
            inputs = cases.matrix_inputs(shape, dtype, options.device)
            for implementation in matrix:
                where = (shape, dtype, budget, options.device)
                timings.append(_time(implementation, inputs, *where))
            del inputs
    logits = [i for i in cases.IMPLEMENTATIONS if i.logits and _selected(options.only, i.key)]
    if logits and not options.quick:
        allowance = memory.wait_for_allowance(memory.MAX_ALLOWANCE)
        print(f"  logits calls may allocate {allowance / 2**30:.1f} GiB", flush=True)
        with memory.address_space_limit(allowance):
            inputs = cases.logits_inputs(device=options.device)
            for implementation in logits:
                where = (cases.LOGITS_SHAPE, "float32", 0.0, options.device)
                timings.append(_time(implementation, inputs, *where))
    return timings


def measure_memory(options: argparse.Namespace) -> list[dict[str, Any]]:
    """Each selected memory case in its own subprocess."""
    records = []
    for case in cases.MEMORY_CASES:
        if not _selected(options.only, case.key):
            continue
        result = memory.measure_in_subprocess(case.key, case.shape, case.dtype)
        record = {"key": case.key, "shape": cases.shape_name(case.shape), "dtype": case.dtype}
        records.append({**record, "max_percent": case.max_percent, **result})
        print(f"  memory {case.key:40s} {result.get('percent_of_inputs', result.get('error'))}")
    return records


def main(arguments: list[str] | None = None) -> None:
    options = _parse(arguments)
    started = time.time()
    info = report.machine_info()
    print(f"{info['cpu_model']}, {info['usable_cores']} usable cores, timings on 1 thread")
    timings = time_all(options)
    memory_records = [] if options.quick or options.no_memory else measure_memory(options)
    shapes = list(dict.fromkeys(record["shape"] for record in timings))
    ratio_records = report.ratios(timings)
    print("\nTime (best of N, one thread; lower is better)\n")
    print(report.timing_table(timings, shapes))
    print("\nRatio kldiv / peer (time; < 1 means kldiv is faster)\n")
    print(report.ratio_table(ratio_records, shapes))
    if memory_records:
        print("\nPeak extra memory per call (fresh subprocess each)\n")
        print(report.memory_table(memory_records))
    print("\n" + report.summary(ratio_records, memory_records))
    unmeasured = sorted({f"{r['key']}: {r['error']}" for r in timings if "error" in r})
    for line in unmeasured:
        print(f"not measured: {line}")
    options.output_dir.mkdir(parents=True, exist_ok=True)
    results = {
        "machine": info,
        "options": {
            "quick": options.quick,
            "only": options.only,
            "device": options.device,
            "memory": bool(memory_records),
        },
        "seconds": time.time() - started,
        "timings": timings,
        "ratios": ratio_records,
        "memory": memory_records,
    }
    (options.output_dir / "results.json").write_text(json.dumps(results, indent=1))
    plot.plot(timings, options.output_dir / "results.png")
    elapsed = time.time() - started
    print(f"\nwrote results.json and results.png to {options.output_dir} ({elapsed:.0f} s)")
