"""The paper-shape check (``replicate paper-check``, ``make paper-check``): every distinct job of
scale ``paper`` (training, evaluation, summary, notebooks, scorecard) at the published widths,
depths, batch sizes, sequence lengths and image sizes, with only iteration and sample counts cut
(``workflow/config/paper_check.yaml``, an extra deltas file), on small data in each source's real
on-disk format (``fixtures``) and with a random-weight stand-in for the Inception weights
(``standin``). Each job's seconds and peak resident memory go into a table (``check``).

Results built with the stand-in are marked (``MARKER`` in their results root) and the scorecard
refuses to score them. This module imports nothing heavy: the scorecard reads the mark.
"""

from __future__ import annotations

import json
from pathlib import Path

MARKER = "PAPER_SHAPE_CHECK.json"
REASON = "paper-shape check: random-weight Inception stand-in"


def mark_results(results_root: Path) -> Path:
    """Mark a results root as built by the paper-shape check (idempotent)."""
    path = Path(results_root) / MARKER
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"built_by": "replicate paper-check", "features": "random-weight Inception "
                                    "stand-in (replication.papercheck.standin)", "scored": False}, indent=1) + "\n")
    return path


def built_with_standin(results_root: Path) -> bool:
    return (Path(results_root) / MARKER).exists()
