"""The one resumable training loop, driving a pluggable ``Step`` (the adversarial step and the
auto-encoder step). The loop owns what every step shares: the learning-rate schedule (each
optimizer's lr set from its base lr before every iteration, the factor logged as ``lr_factor``),
checkpoints, logs, evaluation and the progress bar.

Resumable: everything that determines the rest of the run (weights, optimiser moments, the
data and noise streams, global RNGs, the step counter, the convergence criterion's window,
evaluation rows) is checkpointed to an undeclared state folder; a resumed run is bitwise equal
to an uninterrupted one at the same thread count. Metric rows are buffered on the device and
flushed every ``log_every`` iterations (and, given a ``live`` log folder, to TensorBoard event
files as they are written); on resume both logs are cut back to the checkpoint.

The run's own training time (``TrainingClock``: wall-clock and process CPU time, paused around
evaluations and checkpoint writes) is checkpointed too, so a resumed run continues its totals;
evaluation rows carry it with ``evaluation.training_time`` (the only columns that differ between
a resumed and an uninterrupted run).
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Callable, Protocol

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from replication.errors import ReplicationError
from replication.io import error_line, load_torch, save_torch
from replication.runtime import numpy_state_as_data, rng_state, set_rng_state
from replication.train.convergence import Plateau
from replication.train.evaluation import Evaluator
from replication.settings.training import TrainingSpec
from replication.train.metric_log import LiveCurves, MetricLog


class Step(Protocol):
    """One generator iteration of a kind of training (replication.train.adversarial, .autoencoder)."""

    columns: list[str]                           # what ``iteration`` returns, in log order
    networks: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]  # the loop sets their lr from the schedule
    fixed_generator: bool                        # no generator network: fakes come from a source

    def iteration(self, it: int) -> dict[str, Tensor | float]: ...
    def generate(self, noise) -> Tensor: ...    # samples for evaluation, without gradients
    def state_dict(self) -> dict: ...
    def load_state_dict(self, state: dict) -> None: ...


class TrainingClock:
    """Cumulative training time in seconds, wall-clock (``time.perf_counter``) and CPU time of
    this process (``time.process_time``: all its threads; what a job costs when jobs share a
    CPU). Runs between ``start()`` and ``pause()``; pausing first waits for the accelerator's
    queued work, so wall time includes it (CPU time never sees GPU work: use wall there)."""

    def __init__(self, device: torch.device | None = None):
        self.device = device
        self.wall = self.cpu = 0.0
        self._started: tuple[float, float] | None = None

    def start(self) -> None:
        self._started = (time.perf_counter(), time.process_time())

    def pause(self) -> None:
        if self._started is None:
            return
        if self.device is not None and self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        elif self.device is not None and self.device.type == "mps":
            torch.mps.synchronize()
        wall, cpu = self._started
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu
        self._started = None

    def totals(self) -> dict[str, float]:
        return {"train_seconds_wall": self.wall, "train_seconds_cpu": self.cpu}

    def state_dict(self) -> dict:
        return {"wall": self.wall, "cpu": self.cpu}

    def load_state_dict(self, state: dict | None) -> None:
        self.wall, self.cpu = (state["wall"], state["cpu"]) if state else (0.0, 0.0)


class Trainer:
    """``fit()`` trains to ``spec.iterations`` or until the convergence criterion holds
    (checked at every flush), resuming from the state folder's checkpoint if there is one."""

    def __init__(self, step: Step, spec: TrainingSpec, state_dir: Path, evaluator: Evaluator | None = None,
                 network_specs: dict[str, dict] | None = None, progress: str = "train",
                 on_iteration: Callable[[int], None] | None = None, live: LiveCurves | None = None):
        self.step, self.spec, self.evaluator = step, spec, evaluator
        self.network_specs = network_specs or {}
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.checkpoint_path = self.state_dir / "checkpoint.pt"
        self.progress, self.on_iteration = progress, on_iteration
        self.stop = Plateau(spec.convergence) if spec.convergence else None
        self.log = MetricLog(self.state_dir / "metrics.csv", [*step.columns, "lr_factor"], live)
        self.base_lr = {name: [g["lr"] for g in opt.param_groups] for name, opt in step.optimizers.items()}
        self.iteration = 0  # generator iterations completed
        params = [p for net in step.networks.values() for p in net.parameters()]
        self.clock = TrainingClock(params[0].device if params else None)

    @property
    def networks(self) -> dict[str, nn.Module]:
        return self.step.networks

    @property
    def converged_at(self) -> int | None:
        return self.stop.converged_at if self.stop else None

    # -- checkpoints ------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"step": self.iteration, "train": self.step.state_dict(), "rng": rng_state(),
                "stop": self.stop.state_dict() if self.stop else None, "clock": self.clock.state_dict()}

    def flush(self) -> bool:
        """Write buffered rows; True if the convergence criterion says stop."""
        rows = self.log.flush()
        if self.evaluator:
            self.evaluator.flush()
        return self.stop is not None and self.stop.update(rows)

    def save_checkpoint(self) -> None:
        self.flush()  # rows up to self.iteration are on disk before the checkpoint claims them
        save_torch(self.checkpoint_path, self.state_dict())

    def resume(self) -> bool:
        if not self.checkpoint_path.exists():
            self.log.truncate(-1)
            if self.evaluator:
                self.evaluator.truncate(-1)
            return False
        state = load_torch(self.checkpoint_path)
        try:
            self.step.load_state_dict(state["train"])
        except RuntimeError as err:  # a checkpoint of other networks (a changed width or architecture)
            raise ReplicationError(f"{self.checkpoint_path}: the checkpoint does not fit this run's networks "
                                   f"({str(err).splitlines()[0].strip()}); delete it to start the run over") from None
        set_rng_state(state["rng"])
        if self.stop is not None:
            self.stop.load_state_dict(state["stop"])
        self.clock.load_state_dict(state.get("clock"))
        self.iteration = state["step"]
        self.log.truncate(self.iteration - 1)
        if self.evaluator:
            self.evaluator.truncate(self.iteration)
        return True

    def evaluate(self, final: bool = False) -> None:
        if self.evaluator and self.evaluator.due(self.iteration, final):
            self.evaluator.evaluate(self.iteration, self.networks, self.step, self.clock.totals())

    # -- the loop --------------------------------------------------------------------------
    def fit(self) -> "Trainer":
        s = self.spec
        if not self.resume():
            self.evaluate()  # the measures at step 0, before any training
        bar = tqdm(total=s.iterations, initial=self.iteration, desc=self.progress, unit="it",
                   mininterval=1.0 if sys.stderr.isatty() else 30.0, dynamic_ncols=True)
        done = self.converged_at is not None
        self.clock.start()
        while self.iteration < s.iterations and not done:
            it = self.iteration
            factor = s.lr_factor(it)
            for name, opt in self.step.optimizers.items():
                for group, base in zip(opt.param_groups, self.base_lr[name]):
                    group["lr"] = base * factor
            self.log.record(it, {**self.step.iteration(it), "lr_factor": factor})
            self.iteration = it + 1
            if self.on_iteration is not None:
                self.on_iteration(self.iteration)
            if self.iteration % s.log_every == 0:
                done = self.flush()
            last = self.iteration == s.iterations or done
            evaluate = self.evaluator is not None and self.evaluator.due(self.iteration, last)
            checkpoint = self.iteration % s.checkpoint_every == 0 or last
            if evaluate or checkpoint:  # neither counts as training time
                self.clock.pause()
                if evaluate:
                    self.evaluate(final=last)
                if checkpoint:
                    self.save_checkpoint()
                self.clock.start()
            bar.update(1)
        self.clock.pause()
        bar.close()
        self.flush()
        for live in (self.log.live, self.evaluator.live if self.evaluator else None):
            if live is not None:
                live.close()
        return self

    # -- declared outputs -------------------------------------------------------------------------
    def write_outputs(self, out_dir: Path, prefix: str = "") -> dict[str, Path]:
        """Copy the logs (and sample grids) into the run's output folder and save each network's
        final weights with its registry spec to ``final/<prefix><role>.pt`` (declared outputs)."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        written = {"training": out_dir / f"{prefix}training.csv"}
        if self.log.path.exists():
            shutil.copyfile(self.log.path, written["training"])
        else:  # no iteration ran (iterations: 0, e.g. a negative control): the header only
            written["training"].write_text(",".join(self.log.columns) + "\n")
        if self.evaluator and self.evaluator.log_path.exists():
            written["evaluation"] = out_dir / f"{prefix}evaluation.csv"
            shutil.copyfile(self.evaluator.log_path, written["evaluation"])
            samples = self.evaluator.out_dir / "samples"
            if samples.exists():
                shutil.copytree(samples, out_dir / f"{prefix}samples", dirs_exist_ok=True)
        final = out_dir / "final"
        final.mkdir(parents=True, exist_ok=True)
        for role, net in self.networks.items():
            if role in self.network_specs:
                path = final / f"{prefix}{role}.pt"
                save_torch(path, {"spec": self.network_specs[role], "step": self.iteration,
                                  "state_dict": {k: v.cpu() for k, v in net.state_dict().items()}})
                written[role] = path
        return written


def convert_checkpoint(path: str | Path) -> bool:
    """Rewrite a ``checkpoint.pt`` written before weights-only loading (numpy's RNG state as an
    array) in today's plain form; False if it already loads as data. It is read weights-only too,
    with only numpy's array types allow-listed (``torch.serialization.safe_globals``), so
    converting never runs code from the file either."""
    import numpy as np

    path = Path(path)
    try:
        load_torch(path)
        return False
    except ReplicationError:
        if not path.is_file():
            raise
    reconstruct = np.zeros(0).__reduce__()[0]  # numpy.core (1.x) or numpy._core (2.x) .multiarray._reconstruct
    allowed = [np.ndarray, np.dtype, type(np.dtype(np.uint32)), *(
        (reconstruct, f"{module}.multiarray._reconstruct") for module in ("numpy.core", "numpy._core"))]
    try:
        with torch.serialization.safe_globals(allowed):
            state = torch.load(path, map_location="cpu", weights_only=True)
        state["rng"]["numpy"] = numpy_state_as_data(state["rng"]["numpy"])
    except Exception as err:  # a foreign or crafted file: refused here too
        raise ReplicationError(f"cannot convert {path}: not a training checkpoint of this project "
                               f"({type(err).__name__}: {error_line(err)}); delete it") from None
    save_torch(path, state)
    load_torch(path)  # raises if anything else in it still needs more than plain data
    return True
