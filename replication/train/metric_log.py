"""Per-iteration metrics kept on the device and written in blocks (no per-step host sync).

Rows live in ``<state_dir>/metrics.csv`` while a run is in progress; on resume the file is
cut back to the checkpoint's step, so no row is lost or duplicated.
"""

from __future__ import annotations

import csv
from pathlib import Path

import torch


class MetricLog:
    def __init__(self, path: Path, columns: list[str]):
        self.path, self.columns = Path(path), ["step", *columns]
        self.pending_steps: list[int] = []
        self.pending_values: list[torch.Tensor] = []

    def record(self, step: int, values: dict[str, torch.Tensor | float]) -> None:
        # float32: MPS has no float64, and the losses themselves are float32.
        row = [torch.as_tensor(values[c], dtype=torch.float32).detach().reshape(()) for c in self.columns[1:]]
        self.pending_steps.append(step)
        self.pending_values.append(torch.stack([v.to(row[0].device) for v in row]))

    def flush(self) -> list[dict]:
        """Append pending rows to the CSV; return them as dicts (for convergence checks)."""
        if not self.pending_steps:
            return []
        block = torch.stack(self.pending_values).cpu().tolist()  # one device->host copy per block
        new = not self.path.exists()
        with open(self.path, "a", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            if new:
                writer.writerow(self.columns)
            for step, values in zip(self.pending_steps, block):
                writer.writerow([step, *(repr(float(v)) for v in values)])
            handle.flush()
        rows = [dict(zip(self.columns, [step, *values])) for step, values in zip(self.pending_steps, block)]
        self.pending_steps, self.pending_values = [], []
        return rows

    def truncate(self, last_step: int) -> None:
        """Drop rows written after the checkpoint we resume from."""
        self.pending_steps, self.pending_values = [], []
        if not self.path.exists():
            return
        lines = self.path.read_text().splitlines(keepends=True)
        kept = lines[:1] + [line for line in lines[1:] if int(line.split(",", 1)[0]) <= last_step]
        self.path.write_text("".join(kept))
