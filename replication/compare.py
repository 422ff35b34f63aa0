"""Differences between two builds' measured values (``replicate compare``): every experiment's
``measured.json``, key by key, values and notes, with file paths made relative to each build's
root so that two clones compare.

Used to show that a refactoring changed no result (two builds at one scale) and by a reviewer
who rebuilds an experiment and compares it with the published values.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from replication import config as cfg


def differences(a, b, where: str = "", tolerance: float = 0.0) -> list[tuple[str, object, object]]:
    """(path, a, b) for every leaf that differs: numbers beyond ``tolerance`` (relative), the rest
    exactly; NaN equals NaN."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str)
                for d in (differences(a[k], b[k], f"{where}/{k}", tolerance) if k in a and k in b
                          else [(f"{where}/{k}", a.get(k, "<absent>"), b.get(k, "<absent>"))])]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{where}[{i}]", tolerance)]
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
    if numbers and (a == b or (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tolerance * max(abs(a), abs(b))):
        return []
    return [] if not numbers and a == b else [(where, a, b)]


def measured(root: Path, scale: str, experiment: str) -> dict | None:
    """An experiment's measured values under a results root (``<root>/<scale>/<exp>/measured.json``)
    or a published study's results (``reports/published/<scale>/results/<exp>/measured.json``),
    paths relative to the root."""
    path = cfg.results_dir(root, scale) / experiment / "measured.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text().replace(f"{Path(root)}/{scale}/", f"results/{scale}/"))


def compare(a: Path, b: Path, scale: str, experiments: list[str], tolerance: float = 0.0) -> list[str]:
    """Lines describing every difference between two builds (empty: the same)."""
    lines = []
    for experiment in experiments:
        old, new = measured(a, scale, experiment), measured(b, scale, experiment)
        if old is None or new is None:
            lines.append(f"{experiment}: measured values missing in {a if old is None else b}")
            continue
        for where, x, y in differences(old, new, "", tolerance):
            lines.append(f"{experiment}{where}: {str(x)[:200]} != {str(y)[:200]}")
    return lines
