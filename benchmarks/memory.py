"""Peak extra memory of one call, measured in a fresh subprocess per call.

``ru_maxrss`` survives ``exec`` and a parent's peak would hide the child's, so the child
allocates its inputs, resets the kernel's high-water mark (``/proc/self/clear_refs`` <- "5"),
makes the call once, and reads ``VmHWM`` from ``/proc/self/status``: the peak minus the resident
size at the reset is the call's extra memory. Where ``clear_refs`` is not writable, NumPy calls
fall back to ``tracemalloc`` (NumPy reports its buffers to it); torch calls are then not measured.

The machine is shared: an address-space limit (what is free, less a reserve, at most
``MAX_ALLOWANCE``; waiting a while for six times the inputs to be free) turns a call that would
exhaust memory into a lower bound instead.

    python -m benchmarks.memory "<implementation key>" <rows>x<cols> <dtype> <bytes allowed>
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

PROC_STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")
WARM_UP_SHAPE = (4, 64)
RESERVE = 4 * 2**30  # left to the machine's other processes
MAX_ALLOWANCE = 14 * 2**30


def _status_kib(field: str) -> int:
    for line in PROC_STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def allowance(needed_before: int = 0) -> int:
    """Bytes a call may add: available memory less ``needed_before`` and the reserve, capped."""
    available = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            available = int(line.split()[1]) * 1024
    return max(0, min(MAX_ALLOWANCE, available - needed_before - RESERVE))


def wait_for_allowance(wanted: int, needed_before: int = 0, timeout: float = 180.0) -> int:
    """:func:`allowance`, once it reaches ``wanted`` or after ``timeout`` seconds of waiting."""
    deadline = time.monotonic() + timeout
    while (current := allowance(needed_before)) < wanted and time.monotonic() < deadline:
        time.sleep(5)
    return current


@contextlib.contextmanager
def address_space_limit(extra_bytes: int) -> Iterator[None]:
    """Allow this process ``extra_bytes`` more address space than it has now, then restore."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _status_kib("VmSize") * 1024 + extra_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard < 0 else min(limit, hard), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def out_of_memory(error: BaseException) -> bool:
    """A ``MemoryError``, or torch's allocator refusing (a ``RuntimeError``)."""
    return isinstance(error, MemoryError) or "can't allocate memory" in str(error)


def reset_high_water_mark() -> bool:
    """Set ``VmHWM`` to the current resident size; False where the kernel does not allow it."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def _return_freed_memory() -> None:
    """Hand freed heap pages back, so the call cannot reuse them unseen."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def measure(key: str, shape: tuple[int, int], dtype: str, limit: int) -> dict[str, Any]:
    """Peak extra bytes of one call of implementation ``key``, allowed ``limit`` bytes more."""
    from benchmarks import cases

    implementation = cases.BY_KEY[key]

    def build(shape_: tuple[int, int]) -> cases.Call:
        if implementation.logits:
            return implementation.build(cases.logits_inputs(shape_))
        return implementation.build(cases.matrix_inputs(shape_, dtype))

    build(WARM_UP_SHAPE)()  # lazy imports and one-time initialisation stay out of the peak
    call = build(shape)
    _return_freed_memory()
    try:
        with address_space_limit(limit):
            extra, method = _peak_of(call, numpy=implementation.panel == "numpy")
    except (MemoryError, RuntimeError) as error:
        if not out_of_memory(error):
            raise
        extra, method = limit, "more than the allowance (a lower bound)"
    if method is None:
        return {"error": "clear_refs not permitted and tracemalloc does not see torch"}
    inputs = implementation.input_bytes(shape, dtype)
    return {
        "extra_bytes": extra,
        "input_bytes": inputs,
        "percent_of_inputs": 100 * extra / inputs,
        "method": method,
        "lower_bound": extra == limit,
    }


def _peak_of(call: Callable[[], object], *, numpy: bool) -> tuple[int, str | None]:
    if reset_high_water_mark():
        before = _status_kib("VmRSS")
        call()
        return (_status_kib("VmHWM") - before) * 1024, "VmHWM after clear_refs"
    if not numpy:
        return 0, None
    tracemalloc.start()
    call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, "tracemalloc"


def measure_in_subprocess(key: str, shape: tuple[int, int], dtype: str) -> dict[str, Any]:
    """Run :func:`measure` in a fresh interpreter; an ``error`` entry when the child fails."""
    from benchmarks.cases import input_bytes

    inputs = input_bytes(shape, dtype)
    limit = str(wait_for_allowance(min(MAX_ALLOWANCE, 6 * inputs), needed_before=inputs))
    if limit == "0":
        return {"error": "no memory free on the machine"}
    shape_text = f"{shape[0]}x{shape[1]}"
    command = [sys.executable, "-m", "benchmarks.memory", key, shape_text, dtype, limit]
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
    key, shape_text, dtype, limit = arguments
    rows, cols = (int(size) for size in shape_text.split("x"))
    print(json.dumps(measure(key, (rows, cols), dtype, int(limit))))


if __name__ == "__main__":
    main(sys.argv[1:])
