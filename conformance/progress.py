"""A dependency-free progress bar on stderr: redrawn in place on a terminal, every 10 % in logs."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """A bar ``[#####.....]  512/1024  50%  label``: call advance() per case, then close()."""

    def __init__(self, total: int, *, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.label = ""
        self.enabled = enabled
        self._stream = stream or sys.stderr
        self._interactive = self._stream.isatty()
        self._last_draw = 0.0
        self._last_decile = -1

    def advance(self, steps: int = 1, label: str | None = None) -> None:
        """Count ``steps`` more cases done, under ``label``."""
        self.done += steps
        self.label = self.label if label is None else label
        if not self.enabled:
            return
        if self._interactive:
            now = time.monotonic()
            if now - self._last_draw > 0.1 or self.done >= self.total:
                self._last_draw = now
                self._stream.write("\r" + self.line())
                self._stream.flush()
        elif self.done * 10 // self.total > self._last_decile:
            self._last_decile = self.done * 10 // self.total
            self._stream.write(self.line() + "\n")

    def line(self, width: int = 30) -> str:
        """The bar as text."""
        filled = width * self.done // self.total
        percent = 100 * self.done // self.total
        bar = "#" * filled + "." * (width - filled)
        return f"[{bar}] {self.done:>6}/{self.total}  {percent:3d}%  {self.label:<40}"

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled and self._interactive:
            self._stream.write("\n")
            self._stream.flush()
