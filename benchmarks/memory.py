"""Peak extra memory of one call, measured in a fresh subprocess per call.

``ru_maxrss`` survives ``exec`` and a parent's peak would hide the child's, so the child
allocates its inputs, resets the kernel's high-water mark (``/proc/self/clear_refs`` <- "5"),
makes the call once, and reads ``VmHWM`` from ``/proc/self/status``: the peak minus the resident
size at the reset is the call's extra memory. Where ``clear_refs`` is not writable, NumPy calls
fall back to ``tracemalloc`` (NumPy reports its buffers to it); torch calls are then not measured.

    python -m benchmarks.memory "<implementation key>" <rows>x<cols> <dtype>   # prints JSON
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

PROC_STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")
WARM_UP_SHAPE = (4, 64)


def _status_kib(field: str) -> int:
    for line in PROC_STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_high_water_mark() -> bool:
    """Set ``VmHWM`` to the current resident size; False where the kernel does not allow it."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return _status_kib("VmHWM") <= _status_kib("VmRSS")


def _return_freed_memory() -> None:
    """Hand freed heap pages back, so the call cannot reuse them unseen."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def measure(key: str, shape: tuple[int, int], dtype: str) -> dict[str, Any]:
    """Peak extra bytes of one call of implementation ``key`` (in this process)."""
    from benchmarks import cases

    implementation = cases.BY_KEY[key]

    def build(shape_: tuple[int, int]) -> cases.Call:
        if implementation.logits:
            return implementation.build(cases.logits_inputs(shape_))
        return implementation.build(cases.matrix_inputs(shape_, dtype))

    build(WARM_UP_SHAPE)()  # lazy imports and one-time initialisation stay out of the peak
    call = build(shape)
    _return_freed_memory()
    if reset_high_water_mark():
        before = _status_kib("VmRSS")
        call()
        extra, method = (_status_kib("VmHWM") - before) * 1024, "VmHWM after clear_refs"
    elif implementation.panel == "numpy":
        tracemalloc.start()
        call()
        extra, method = tracemalloc.get_traced_memory()[1], "tracemalloc"
        tracemalloc.stop()
    else:
        return {"error": "clear_refs not permitted and tracemalloc does not see torch"}
    inputs = cases.input_bytes(shape, dtype)
    return {
        "extra_bytes": extra,
        "input_bytes": inputs,
        "percent_of_inputs": 100 * extra / inputs,
        "method": method,
    }


def measure_in_subprocess(key: str, shape: tuple[int, int], dtype: str) -> dict[str, Any]:
    """Run :func:`measure` in a fresh interpreter; an ``error`` entry when the child fails."""
    command = [sys.executable, "-m", "benchmarks.memory", key, f"{shape[0]}x{shape[1]}", dtype]
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    except subprocess.TimeoutExpired:
        return {"error": "timed out"}
    lines = finished.stdout.strip().splitlines()
    if finished.returncode != 0 or not lines:
        tail = finished.stderr.strip().splitlines()[-1:] or [f"exit {finished.returncode}"]
        return {"error": tail[0]}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def main(arguments: list[str]) -> None:
    key, shape_text, dtype = arguments
    rows, cols = (int(size) for size in shape_text.split("x"))
    print(json.dumps(measure(key, (rows, cols), dtype)))


if __name__ == "__main__":
    main(sys.argv[1:])
