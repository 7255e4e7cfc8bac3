"""``results.png``: ns/element against size, one panel per library and dtype."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def plot(timings: list[dict[str, Any]], path: Path) -> None:
    """One line per implementation (log-log); the logits calls get their own panel."""
    measured = [record for record in timings if "error" not in record]
    panels = list(dict.fromkeys((record["panel"], record["dtype"]) for record in measured))
    columns = 2
    rows = (len(panels) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(12, 4 * rows), squeeze=False)
    for axis, (panel, dtype) in zip(axes.flat, panels, strict=False):
        in_panel = [r for r in measured if r["panel"] == panel and r["dtype"] == dtype]
        for key in dict.fromkeys(record["key"] for record in in_panel):
            points = sorted(
                (r["elements"], r["ns_per_element"]) for r in in_panel if r["key"] == key
            )
            sizes, values = zip(*points, strict=True)
            axis.plot(sizes, values, marker="o", label=key)
        axis.set(xscale="log", yscale="log", title=f"{panel} {dtype}", xlabel="elements")
        axis.set_ylabel("ns / element (one thread, best of N)")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7)
    for axis in list(axes.flat)[len(panels) :]:
        axis.set_visible(False)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
