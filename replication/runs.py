"""The run layer: what every job of every experiment goes through (``replication.experiments``
holds the experiments themselves).

``execute_run`` / ``execute_evaluation`` / ``execute_summary`` resolve an experiment's settings,
give its task a ``RunContext`` (seeds, device, the scale's feature extractor, the engine's
trainer), keep in-progress state outside Snakemake's declared outputs (``results/.state/...``),
and write each declared output last, atomically. ``Results`` is the one accessor of an
experiment's result files, for its ``summarize`` and for its report notebooks.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import torch

from replication import config as cfg
from replication.errors import ReplicationError
from replication.io import read_json, sha256_file, write_json
from replication.runtime import (
    machine,
    project_commit,
    resolve_device,
    seed_everything,
    set_threads,
)
from replication.settings import plain

# Each run's live curves (TensorBoard event files, written while it trains): a view for people,
# not a result, so result.json does not hash them.
LIVE_DIR = "tensorboard"


def get(exp_id: str) -> ModuleType:
    cfg.check_experiment(exp_id)
    return importlib.import_module(f"replication.experiments.{exp_id}")


def stable_seed(*parts) -> int:
    """A 31-bit seed from the parts' text (the same on every machine and Python)."""
    return int(hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:8], 16) & 0x7FFF_FFFF


def paths(results_root: Path, scale: str, exp_id: str, run: str | None = None) -> tuple[Path, Path]:
    out = Path(results_root) / scale / exp_id
    state = Path(results_root) / ".state" / scale / exp_id
    if run is not None:
        out, state = out / run, state / run
    return out, state


@dataclass
class RunContext:
    experiment: str
    run: str
    scale: str
    settings: object  # the experiment's typed settings (replication.settings.experiments)
    params: dict
    out_dir: Path
    state_dir: Path
    device: torch.device
    results_root: Path
    threads: int = 1

    def seed_for(self, purpose: str) -> int:
        """The seed of one random stream of this run: from the base seed, the experiment, the
        run id and the stream's purpose (``"init/critic"``, ``"data/real"``, ``"eval"``)."""
        return stable_seed(self.settings.seed, self.experiment, self.run, purpose)

    def upstream(self, ref: str) -> Path:
        """The output folder of a declared upstream run ``experiment/run`` at this scale."""
        declared = cfg.paper_file(self.experiment).get("upstream", [])
        if ref not in declared:
            raise ReplicationError(f"{self.experiment} reads {ref!r} without declaring it in `upstream:`")
        return self.results_root / self.scale / ref

    @property
    def features(self) -> str:
        """This scale's image-quality features: ``proxy`` or ``inception`` (its scale file)."""
        return cfg.features_of(self.scale)

    def extractor(self):
        """The feature extractor of this scale: torch-fidelity's TF-Inception (``inception``), or
        the proxy classifier that ``metrics_calibration`` calibrated at this scale (``proxy``; the
        experiment declares that run in ``upstream:``)."""
        from replication.metrics.inception import inception_extractor
        from replication.metrics.proxy import calibrated_proxy_at, proxy_run

        return inception_extractor() if self.features == "inception" else calibrated_proxy_at(self.upstream(proxy_run()))

    def make_trainer(self, training, networks: dict[str, dict], sources, *, name: str = "", eval_data=None,
                     probes=None, on_iteration=None):
        """The engine's trainer for this run (``name`` separates several trainings of one run)."""
        from replication.train import build_trainer

        prefix = f"{name}/" if name else ""
        return build_trainer(training, networks, sources, device=self.device, state_dir=self.state_dir / name,
                             seed_for=lambda purpose: self.seed_for(prefix + purpose), eval_data=eval_data,
                             probes=probes, progress=f"{self.experiment}/{self.run}{'/' + name if name else ''}",
                             on_iteration=on_iteration, where=f"{self.experiment}: training",
                             live_dir=self.out_dir / LIVE_DIR / name)


class Results:
    """Read access to one experiment's results at one scale (summaries and notebooks)."""

    def __init__(self, experiment: str, scale: str, results_root: str | Path = "results", extra_deltas=None,
                 settings=None):
        self.experiment, self.scale = experiment, scale
        self.root = Path(results_root)
        self.dir = cfg.results_dir(self.root, scale) / experiment  # a published study's copy too
        self.settings = settings if settings is not None else cfg.resolve(experiment, scale, extra_deltas)
        self.matrix = cfg.run_matrix(experiment, self.settings, extra_deltas=extra_deltas)

    @property
    def features(self) -> str:
        """The scale's image-quality features: ``proxy`` or ``inception``."""
        return cfg.features_of(self.scale)

    def runs(self, **where) -> list[str]:
        """Run ids whose params match every ``key=value`` given, in matrix order."""
        return [r for r, p in self.matrix.items() if all(p.get(k) == v for k, v in where.items())]

    def run(self, **where) -> str:
        """The one run whose params match (an error unless exactly one does)."""
        found = self.runs(**where)
        if len(found) != 1:
            raise ReplicationError(f"{self.experiment}: {len(found)} runs match {where}, expected exactly one")
        return found[0]

    def params(self, run: str) -> dict:
        return self.matrix[run]

    def path(self, run: str, name: str = "") -> Path:
        return self.dir / run / name if name else self.dir / run

    def result(self, run: str) -> dict:
        return read_json(self.path(run, "result.json"))["summary"]

    def frame(self, run: str, name: str, **read_csv):
        import pandas as pd

        path = self.path(run, name)
        if not path.exists():
            raise ReplicationError(f"missing result file {path}: rebuild it with snakemake")
        return pd.read_csv(path, **read_csv)

    def json(self, run: str, name: str) -> dict:
        return read_json(self.path(run, name))

    def measured(self) -> dict:
        return read_json(self.dir / "measured.json")

    def files(self, runs: list[str], name: str = "result.json") -> str:
        return ", ".join(str(self.path(r, name)) for r in runs)


def _context(exp_id: str, run: str, scale: str, device: str, threads: int, results_root: Path,
             extra_deltas) -> tuple[ModuleType, RunContext, str]:
    """(the experiment's module, the run's context, its task), or one line on an unknown run."""
    module, settings = get(exp_id), cfg.resolve(exp_id, scale, extra_deltas)
    matrix = cfg.run_matrix(exp_id, settings, extra_deltas=extra_deltas)
    if run not in matrix:
        raise ReplicationError(f"unknown run {run!r} of {exp_id} at scale {scale}; runs: {', '.join(matrix)}")
    params = dict(matrix[run])
    task = params.pop("task")
    out_dir, state_dir = paths(results_root, scale, exp_id, run)
    set_threads(threads)
    return module, RunContext(exp_id, run, scale, settings, params, out_dir, state_dir, resolve_device(device),
                              Path(results_root), threads), task


STAMP = "settings.stamp"


def claim_state(state_dir: Path, stamp: str) -> None:
    """Let a run resume only the state saved under its own settings. State stamped with other
    settings (a changed setting reruns the job, and would otherwise resume, or even skip as
    finished, training done under the old ones) is moved aside to ``<run>.stale/`` (replacing an
    older one) and the run starts over; unstamped state (written before stamps) is resumed."""
    stamp_file = state_dir / STAMP
    if stamp_file.exists() and stamp_file.read_text().strip() != stamp:
        stale = state_dir.with_name(state_dir.name + ".stale")
        shutil.rmtree(stale, ignore_errors=True)
        state_dir.rename(stale)
        print(f"{state_dir}: its saved state was written under other settings; starting over "
              f"(the old state is in {stale})", file=sys.stderr)
    state_dir.mkdir(parents=True, exist_ok=True)
    stamp_file.write_text(stamp + "\n")


def execute_run(exp_id: str, run: str, scale: str, device: str = "auto", threads: int = 1,
                results_root: Path = Path("results"), extra_deltas=None) -> Path:
    module, ctx, task = _context(exp_id, run, scale, device, threads, results_root, extra_deltas)
    if task not in module.TASKS:
        raise ReplicationError(f"{exp_id}: run {run!r} names task {task!r}, which the module does not define "
                               f"(tasks: {', '.join(module.TASKS)})")
    out_dir = ctx.out_dir
    (out_dir / "final").mkdir(parents=True, exist_ok=True)  # declared output: final networks (none for analyses)
    claim_state(ctx.state_dir, f"{cfg.settings_digest(exp_id, scale, extra_deltas)} {json.dumps(ctx.params, sort_keys=True)}")
    seed_everything(ctx.seed_for("global"))
    params = {"task": task, **ctx.params}
    commit = project_commit()
    write_json(out_dir / "config.json", {"experiment": exp_id, "run": run, "scale": scale, "params": params,
                                          "device": str(ctx.device), "threads": threads, "commit": commit,
                                          "settings": plain(ctx.settings)})
    started = time.time()
    summary = module.TASKS[task](ctx, **ctx.params) or {}
    files = {str(p.relative_to(out_dir)): sha256_file(p) for p in sorted(out_dir.rglob("*"))
             if p.is_file() and p.name != "result.json" and not p.name.startswith(".")
             and p.relative_to(out_dir).parts[0] != LIVE_DIR}
    result = out_dir / "result.json"
    write_json(result, {"experiment": exp_id, "run": run, "scale": scale, "params": params, "summary": summary,
                        "files": files, "seconds": round(time.time() - started, 2), "commit": commit,
                        "torch": torch.__version__, "device": str(ctx.device), "machine": machine(ctx.device),
                        "threads": threads})
    return result


def load_final(run_dir: str | Path, device: torch.device | str = "cpu") -> dict[str, torch.nn.Module]:
    """A run's final networks (``final/<role>.pt``), each rebuilt from its registry spec."""
    from replication.io import load_torch
    from replication.nets import build

    networks = {}
    for path in sorted((Path(run_dir) / "final").glob("*.pt")):
        saved = load_torch(path)
        net = build(saved["spec"])
        try:
            net.load_state_dict(saved["state_dict"])
        except RuntimeError as err:
            first = str(err).strip().splitlines()[0]
            raise ReplicationError(f"{path} does not fit a {saved['spec'].get('arch')} built from its own spec "
                                   f"({first}); delete the run folder and retrain") from None
        networks[path.stem] = net.to(device)
    if not networks:
        raise ReplicationError(f"no final networks in {Path(run_dir) / 'final'}: run the training job first")
    return networks


def execute_evaluation(exp_id: str, run: str, scale: str, device: str = "auto", threads: int = 1,
                       results_root: Path = Path("results"), extra_deltas=None) -> Path:
    """The generic evaluation rule: a run's final networks -> ``final_metrics.json`` through the
    module's ``EVALUATE(ctx, networks)``; needs only the checkpoints, not the training state."""
    module, ctx, _ = _context(exp_id, run, scale, device, threads, results_root, extra_deltas)
    if not hasattr(module, "EVALUATE"):
        raise ReplicationError(f"{exp_id} declares evaluated runs but its module has no EVALUATE(ctx, networks)")
    seed_everything(ctx.seed_for("evaluate"))
    metrics = module.EVALUATE(ctx, load_final(ctx.out_dir, ctx.device))
    out = ctx.out_dir / "final_metrics.json"
    write_json(out, {"experiment": exp_id, "run": run, "scale": scale, "metrics": metrics, "commit": project_commit(),
                     "device": str(ctx.device),
                     "checkpoints": {p.name: sha256_file(p) for p in sorted((ctx.out_dir / "final").glob("*.pt"))}})
    return out


def execute_summary(exp_id: str, scale: str, results_root: Path = Path("results"), extra_deltas=None) -> Path:
    module = get(exp_id)
    res = Results(exp_id, scale, results_root, extra_deltas)
    measured = module.summarize(res)
    seeds = len(getattr(res.settings, "seeds", [0]))
    for entry in measured.values():  # the seeds a value rests on: every seed of the experiment unless it says
        entry.setdefault("seeds", seeds)
    json.dumps(measured, default=str)  # fail here, not halfway through writing
    out = res.dir / "measured.json"
    write_json(out, measured)
    return out
