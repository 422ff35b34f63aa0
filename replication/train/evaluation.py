"""Evaluation during training: named probes run every ``evaluation.every`` generator
iterations (at step 0, before any training, and at the end too), one row per evaluation in
``evaluation.csv``.

An evaluation never changes the trajectory: it runs under ``torch.random.fork_rng`` (the
global streams are restored), draws only from its own generator (seeded from the run and the
step, so a resumed run evaluates identically), puts the critic in eval mode, keeps generator
batch-norm statistics as they were (``generator_mode: batch_stats`` samples with batch
statistics like tflib and WGAN main.py, then restores the running buffers), and touches no
optimizer state or ``.grad``. A test trains with and without evaluation and compares bits.

A probe is ``probe(ev: EvalContext) -> dict[str, float]``. Built-ins are in ``PROBES``; an
experiment passes its own (e.g. theta and dL_G/dtheta of WGAN Figure 1) to ``build_trainer``.
"""

from __future__ import annotations

import contextlib
import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor, nn

from replication.errors import ReplicationError
from replication.train.spec import EvaluationSpec

Sampler = Callable[[int, torch.Generator], Tensor]


@dataclass
class EvalData:
    """Held-out data for evaluation, as samplers ``(n, generator) -> tensor`` on the CPU."""

    real: Sampler | None = None   # held-out / validation real data
    noise: Sampler | None = None  # the generator's prior
    fake: Sampler | None = None   # fixed generator: fake samples directly
    extra: dict = field(default_factory=dict)  # experiment-specific inputs of its own probes


@dataclass
class EvalContext:
    step: int
    networks: dict[str, nn.Module]
    trainer: object  # the AdversarialStep (objective, constraint, spec)
    data: EvalData
    spec: EvaluationSpec
    generator: torch.Generator  # the evaluation's own random stream
    device: torch.device
    out_dir: Path                # where probes may write files (sample grids)
    fixed_noise: Tensor | None   # the same noise batch at every evaluation

    def fakes(self, n: int) -> Tensor:
        if self.trainer.fixed_generator:
            return self.data.fake(n, self.generator).to(self.device)
        with torch.no_grad():
            return self.networks["generator"](self.data.noise(n, self.generator).to(self.device))

    def reals(self, n: int) -> Tensor:
        if self.data.real is None:
            raise ReplicationError("this probe needs held-out real data (EvalData.real)")
        return self.data.real(n, self.generator).to(self.device)


# -- built-in probes -------------------------------------------------------------------------

def divergence_probe(ev: EvalContext) -> dict[str, float]:
    """The objective's divergence estimate on held-out data (W estimate E f(real) - E f(fake)
    for WGAN, the JS bound 1/2 L + log 2 for GANs), without the penalty."""
    critic, objective = ev.networks["critic"], ev.trainer.objective
    with torch.no_grad():
        loss = objective.critic_loss(critic(ev.reals(ev.spec.samples)), critic(ev.fakes(ev.spec.samples)))
    return {"divergence_heldout": float(objective.divergence(loss))}


def critic_loss_probe(ev: EvalContext) -> dict[str, float]:
    """The critic's loss on held-out data as the official code logs its dev cost: the
    objective's loss plus the penalty term (WGAN-GP gan_mnist.py's dev_disc_cost)."""
    critic, trainer = ev.networks["critic"], ev.trainer
    real, fake = ev.reals(ev.spec.samples), ev.fakes(ev.spec.samples)
    with torch.no_grad():
        loss = trainer.objective.critic_loss(critic(real), critic(fake))
    penalty = trainer.constraint.penalty(critic, real, fake) if trainer.spec.lipschitz.method == "gp" else None
    total = trainer.spec.critic_loss_scale * loss + (penalty.detach() if penalty is not None else 0.0)
    return {"critic_loss_heldout": float(total)}


def sample_grid_probe(ev: EvalContext) -> dict[str, float]:
    """A PNG grid of G(fixed noise) at this step (images in [-1, 1] or [0, 1])."""
    from torchvision.utils import save_image

    with torch.no_grad():
        images = ev.networks["generator"](ev.fixed_noise.to(ev.device)).float().cpu()
    if images.min() < 0:
        images = (images + 1) / 2
    path = ev.out_dir / "samples" / f"step_{ev.step:07d}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(images.clamp(0, 1), path, nrow=int(len(images) ** 0.5))
    return {}


PROBES: dict[str, Callable[[EvalContext], dict]] = {
    "divergence": divergence_probe,
    "critic_loss": critic_loss_probe,
    "sample_grid": sample_grid_probe,
}


def quality_probe(extractor, reference: dict | None, metrics=("fid",), n: int = 1000, rule: str = "round",
                  value_range=(-1.0, 1.0), batch_size: int = 100, **kwargs) -> Callable[[EvalContext], dict]:
    """IS / FID / KID of ``n`` fresh samples through the metric stack (proxy extractor at
    smoke/small, Inception at paper); columns ``<metric>`` (e.g. ``fid``)."""

    def probe(ev: EvalContext) -> dict[str, float]:
        from replication.metrics import evaluate_samples

        samples = torch.cat([ev.fakes(min(batch_size, n - i)).float().cpu() for i in range(0, n, batch_size)])
        records = evaluate_samples(samples, extractor, metrics=metrics, reference=reference, rule=rule,
                                   value_range=value_range, batch_size=batch_size, **kwargs)
        return {r["metric"].lower(): float(r["value"]) for r in records}

    return probe


# -- isolation ----------------------------------------------------------------------------------

@contextlib.contextmanager
def isolated(networks: dict[str, nn.Module], generator_mode: str, device: torch.device):
    """Eval mode, global RNG streams forked, batch-norm running buffers restored afterwards."""
    modes = {k: m.training for k, m in networks.items()}
    buffers = {k: [b.clone() for b in m.buffers()] for k, m in networks.items()}
    devices = [device] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices):
            for k, m in networks.items():
                m.train(k == "generator" and generator_mode == "batch_stats")
            yield
    finally:
        for k, m in networks.items():
            m.train(modes[k])
            with torch.no_grad():
                for b, saved in zip(m.buffers(), buffers[k]):
                    b.copy_(saved)


class Evaluator:
    """Runs the declared probes at the declared cadence and keeps their rows (checkpointed)."""

    def __init__(self, spec: EvaluationSpec, probes: dict[str, Callable], data: EvalData, seed: int,
                 device: torch.device, out_dir: Path, log_path: Path):
        unknown = [p for p in spec.probes if p not in probes]
        if unknown:
            raise ReplicationError(f"evaluation.probes: unknown probe {', '.join(map(repr, unknown))}; "
                                   f"available: {', '.join(probes)}")
        self.spec, self.data, self.seed, self.device = spec, data, seed, device
        self.probes = {name: probes[name] for name in spec.probes}
        self.out_dir, self.log_path = Path(out_dir), Path(log_path)
        self.fixed_noise = data.noise(spec.grid, torch.Generator().manual_seed(seed)) if data.noise else None
        self.pending: list[dict] = []

    def due(self, step: int, final: bool) -> bool:
        return step % self.spec.every == 0 or final

    def evaluate(self, step: int, networks: dict[str, nn.Module], trainer) -> dict:
        gen = torch.Generator().manual_seed(self.seed + 1 + step)  # stateless: same draws after a resume
        ev = EvalContext(step, networks, trainer, self.data, self.spec, gen, self.device, self.out_dir,
                         self.fixed_noise)
        row: dict = {"step": step}
        with isolated(networks, self.spec.generator_mode, self.device):
            for name, probe in self.probes.items():
                row.update(probe(ev))
        self.pending.append(row)
        return row

    def flush(self) -> None:
        if not self.pending:
            return
        columns = list(dict.fromkeys(k for row in self.pending for k in row))
        new = not self.log_path.exists()
        if not new:
            with open(self.log_path) as handle:
                header = handle.readline().strip().split(",")
            if header != columns:
                columns = header
        with open(self.log_path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, columns, lineterminator="\n")
            if new:
                writer.writeheader()
            for row in self.pending:
                writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in row.items()})
        self.pending = []

    def truncate(self, last_step: int) -> None:
        self.pending = []
        if self.log_path.exists():
            lines = self.log_path.read_text().splitlines(keepends=True)
            kept = lines[:1] + [line for line in lines[1:] if int(line.split(",", 1)[0]) <= last_step]
            self.log_path.write_text("".join(kept))
