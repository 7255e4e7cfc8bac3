"""Every place where kldiv deliberately differs from a reference, and why.

A case that carries ``deviation="<key>"`` is compared with the mpmath oracle (``oracle`` here,
else the function's registered oracle) instead of its reference; the report lists these cases
separately, with the reference's value, kldiv's and the oracle's, so the evidence of which side
is right is in every report. Any other difference from a reference fails.

The deviations are declared in ``deviations.json`` next to this module, one record each with the
fields of :class:`Deviation` (``functions`` a list).

>>> DEVIATIONS["torch-kl-div-log-target-neg-inf"].reference
'torch.nn.functional.kl_div(log_target=True)'
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEVIATIONS", "Deviation"]


@dataclass(frozen=True)
class Deviation:
    """A deliberate difference: where, what each side returns, and why kldiv is right."""

    key: str
    functions: tuple[str, ...]
    reference: str
    reference_gives: str
    kldiv_gives: str
    reason: str
    oracle: Callable[..., Any] | None = None


def _load(path: Path) -> dict[str, Deviation]:
    """The records of the JSON file ``path`` as deviations by key (a record with a field too
    many or too few raises ``TypeError``)."""
    records = json.loads(path.read_text(encoding="utf-8"))
    deviations = [Deviation(**{**r, "functions": tuple(r["functions"])}) for r in records]
    return {deviation.key: deviation for deviation in deviations}


#: The declared deviations by key.
DEVIATIONS: dict[str, Deviation] = _load(Path(__file__).with_name("deviations.json"))
