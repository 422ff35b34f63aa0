"""Per-iteration metrics kept on the device and written in blocks (no per-step host sync).

Rows live in ``<state_dir>/metrics.csv`` while a run is in progress; on resume the file is
cut back to the checkpoint's step, so no row is lost or duplicated. Each flushed block also
goes to TensorBoard event files (``LiveCurves``), so a running study can be followed live.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import torch

# TensorBoard keeps 1000 points of a scalar curve (its default reservoir); writing more only costs
# time (about 50 us per scalar, a fifth of a toy training step).
LIVE_POINTS = 1000


class LiveCurves:
    """A run's curves as TensorBoard event files, written at every flush while the run trains
    (``tensorboard --logdir results/<scale>``). Training rows are thinned to one in ``stride``,
    values untouched; evaluation rows are all kept. ``truncate`` mirrors the CSV logs on resume:
    the next writer purges every point after the checkpoint (TensorBoard's ``purge_step``)."""

    def __init__(self, log_dir: Path, stride: int = 1):
        self.log_dir, self.stride = Path(log_dir), max(1, int(stride))
        self.purge_step: int | None = None
        self.writer = None

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        if self.writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(self.log_dir), purge_step=self.purge_step, max_queue=10_000)
            self.purge_step = None  # purged once: a writer reopened later (a second fit) appends
        for row in rows:
            step = int(row["step"])
            if step % self.stride:
                continue
            for tag, value in row.items():
                if tag != "step" and isinstance(value, (int, float)) and math.isfinite(value):
                    self.writer.add_scalar(tag, value, step)
        self.writer.flush()

    def truncate(self, last_step: int) -> None:
        """Points after ``last_step`` are stale: hide them from TensorBoard (a fresh start: all)."""
        self.close()
        self.purge_step = last_step + 1

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class MetricLog:
    def __init__(self, path: Path, columns: list[str], live: LiveCurves | None = None):
        self.path, self.columns = Path(path), ["step", *columns]
        self.live = live
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
        if self.live is not None:
            self.live.write(rows)
        return rows

    def truncate(self, last_step: int) -> None:
        """Drop rows written after the checkpoint we resume from."""
        self.pending_steps, self.pending_values = [], []
        if self.live is not None:
            self.live.truncate(last_step)
        if not self.path.exists():
            return
        lines = self.path.read_text().splitlines(keepends=True)
        kept = lines[:1] + [line for line in lines[1:] if int(line.split(",", 1)[0]) <= last_step]
        self.path.write_text("".join(kept))
