"""Experiments: one module per experiment id, each exposing

    runs(settings) -> list[str]              the runs Snakemake schedules (one job each)
    run(ctx: RunContext) -> dict             train/evaluate one run, write files into ctx.out_dir,
                                             return a small summary for result.json
    summarize(ctx: SummaryContext) -> dict   measured values keyed as the claims' ``key``:
                                             {key: {"value": ..., "file": ..., "note": ...}}

This module runs them: it resolves settings, keeps in-progress state outside Snakemake's
declared outputs (results/.state/...), and writes each declared output last, atomically.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import torch

from replication import config as cfg
from replication.errors import ReplicationError
from replication.io import read_json, sha256_file, write_json
from replication.runtime import resolve_device, seed_everything, set_threads


def get(exp_id: str) -> ModuleType:
    cfg.check_experiment(exp_id)
    return importlib.import_module(f"replication.experiments.{exp_id}")


def run_ids(exp_id: str, scale: str, extra_deltas=None) -> list[str]:
    return list(get(exp_id).runs(cfg.resolve(exp_id, scale, extra_deltas)))


@dataclass
class RunContext:
    experiment: str
    run: str
    scale: str
    settings: dict
    out_dir: Path
    state_dir: Path
    device: torch.device
    threads: int = 1

    def seed(self, offset: int = 0) -> int:
        """Seed of this run: the experiment's base seed plus a stable per-run offset."""
        return int(self.settings.get("seed", 0)) + offset

    @property
    def results_root(self) -> Path:
        """The results root (``out_dir`` is ``<results_root>/<scale>/<experiment>/<run>``), where
        upstream runs are found, e.g. ``replication.metrics.calibrated_proxy(ctx.results_root, ctx.scale)``."""
        return self.out_dir.parents[2]


@dataclass
class SummaryContext:
    experiment: str
    scale: str
    settings: dict
    results_dir: Path  # results/<scale>/<experiment>
    runs: list[str] = field(default_factory=list)

    def result(self, run: str) -> dict:
        return read_json(self.results_dir / run / "result.json")


def paths(results_root: Path, scale: str, exp_id: str, run: str | None = None) -> tuple[Path, Path]:
    out = results_root / scale / exp_id
    state = results_root / ".state" / scale / exp_id
    if run is not None:
        out, state = out / run, state / run
    return out, state


def execute_run(exp_id: str, run: str, scale: str, device: str = "auto", threads: int = 1,
                results_root: Path = Path("results"), extra_deltas=None) -> Path:
    module = get(exp_id)
    settings = cfg.resolve(exp_id, scale, extra_deltas)
    if run not in module.runs(settings):
        raise ReplicationError(f"unknown run {run!r} of {exp_id} at scale {scale}; runs: {', '.join(module.runs(settings))}")
    out_dir, state_dir = paths(results_root, scale, exp_id, run)
    out_dir.mkdir(parents=True, exist_ok=True)
    state_dir.mkdir(parents=True, exist_ok=True)
    set_threads(threads)
    ctx = RunContext(exp_id, run, scale, settings, out_dir, state_dir, resolve_device(device), threads)
    seed_everything(ctx.seed())
    write_json(out_dir / "config.json", {"experiment": exp_id, "run": run, "scale": scale,
                                          "device": str(ctx.device), "threads": threads, "settings": settings})
    started = time.time()
    summary = module.run(ctx) or {}
    files = {p.name: sha256_file(p) for p in sorted(out_dir.iterdir())
             if p.is_file() and p.name != "result.json" and not p.name.startswith(".")}
    result = out_dir / "result.json"
    write_json(result, {"experiment": exp_id, "run": run, "scale": scale, "summary": summary,
                        "files": files, "seconds": round(time.time() - started, 2),
                        "torch": torch.__version__, "device": str(ctx.device), "threads": threads})
    return result


def execute_summary(exp_id: str, scale: str, results_root: Path = Path("results"), extra_deltas=None) -> Path:
    module = get(exp_id)
    settings = cfg.resolve(exp_id, scale, extra_deltas)
    results_dir, _ = paths(results_root, scale, exp_id)
    ctx = SummaryContext(exp_id, scale, settings, results_dir, list(module.runs(settings)))
    measured = module.summarize(ctx)
    out = results_dir / "measured.json"
    write_json(out, measured)
    return out
