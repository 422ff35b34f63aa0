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
from replication.settings.training import EvaluationSpec

Sampler = Callable[[int, torch.Generator], Tensor]


@dataclass
class EvalData:
    """Held-out data for evaluation, as samplers ``(n, generator) -> tensor`` on the CPU."""

    real: Sampler | None = None   # held-out / validation real data
    noise: Sampler | None = None  # the generator's prior
    fake: Sampler | None = None   # fixed generator: fake samples directly
    extra: dict = field(default_factory=dict)  # experiment-specific inputs of its own probes


def generate_from(generator: nn.Module, noise: Tensor | tuple[Tensor, Tensor], device: torch.device) -> Tensor:
    """G(z) without gradients on ``device``; G(z, labels) when the noise sampler of a conditional
    generator yields (z, labels) (``replication.data.toy.labelled_gaussian_noise``)."""
    with torch.no_grad():
        if isinstance(noise, tuple):
            z, labels = noise
            return generator(z.to(device), labels.to(device))
        return generator(noise.to(device))


def sample_batches(generator: nn.Module, noise, n: int, batch_size: int, seed: int, device: torch.device):
    """``n`` samples on the CPU from a final generator, ``batch_size`` at a time (its batch norm
    with the statistics of each batch, as the papers' code samples), from a seeded noise stream:
    the evaluation jobs' counterpart of ``EvalContext.fake_batches``. A generator of batches, so
    scoring 50,000 samples never holds them all."""
    rng = torch.Generator().manual_seed(seed)
    generator.train()
    for i in range(0, n, batch_size):
        yield generate_from(generator, noise(min(batch_size, n - i), rng), device).float().cpu()


def draw_samples(generator: nn.Module, noise, n: int, batch_size: int, seed: int, device: torch.device) -> Tensor:
    """``sample_batches`` held in one tensor."""
    return torch.cat(list(sample_batches(generator, noise, n, batch_size, seed, device)))


@dataclass
class EvalContext:
    iteration: int
    networks: dict[str, nn.Module]
    step: object  # the run's step (replication.train.loop.Step): its objective, constraint, spec, generate
    data: EvalData
    spec: EvaluationSpec
    generator: torch.Generator  # the evaluation's own random stream
    device: torch.device
    out_dir: Path                # where probes may write files (sample grids)
    fixed_noise: Tensor | None   # the same noise batch at every evaluation

    def generate(self, z: Tensor | tuple[Tensor, Tensor]) -> Tensor:
        """Samples from noise (z, or (z, labels) for a conditional generator), on the device."""
        return self.step.generate(z)

    def fakes(self, n: int) -> Tensor:
        if self.step.fixed_generator:
            return self.data.fake(n, self.generator).to(self.device)
        return self.generate(self.data.noise(n, self.generator))

    def fake_batches(self, n: int, batch_size: int):
        """``n`` fresh fakes on the CPU, generated ``batch_size`` at a time (batch-norm statistics
        of a generator in batch_stats mode are those of such a batch), one batch after another."""
        for i in range(0, n, batch_size):
            yield self.fakes(min(batch_size, n - i)).float().cpu()

    def fake_samples(self, n: int, batch_size: int) -> Tensor:
        """``fake_batches`` held in one tensor."""
        return torch.cat(list(self.fake_batches(n, batch_size)))

    def reals(self, n: int) -> Tensor:
        if self.data.real is None:
            raise ReplicationError("this probe needs held-out real data (EvalData.real)")
        return self.data.real(n, self.generator).to(self.device)


# -- built-in probes -------------------------------------------------------------------------

def divergence_probe(ev: EvalContext) -> dict[str, float]:
    """The objective's divergence estimate on held-out data (W estimate E f(real) - E f(fake)
    for WGAN, the JS bound 1/2 L + log 2 for GANs), without the penalty."""
    critic, objective = ev.networks["critic"], ev.step.objective
    with torch.no_grad():
        loss = objective.critic_loss(critic(ev.reals(ev.spec.samples)), critic(ev.fakes(ev.spec.samples)))
    return {"divergence_heldout": float(objective.divergence(loss))}


def critic_loss_probe(ev: EvalContext) -> dict[str, float]:
    """The critic's loss on held-out data as the official code logs its dev cost: the
    objective's loss plus the penalty term (WGAN-GP gan_mnist.py's dev_disc_cost)."""
    critic, step = ev.networks["critic"], ev.step
    reals = ev.reals(ev.spec.samples)
    total = 0.0
    for real in reals.split(ev.spec.batch_size or len(reals)):  # gan_mnist.py: mean over dev batches
        fake = ev.fakes(len(real))
        with torch.no_grad():
            loss = step.objective.critic_loss(critic(real), critic(fake))
        penalty = step.constraint.penalty(critic, real, fake) if step.spec.lipschitz.method == "gp" else None
        chunk = step.spec.critic_loss_scale * loss + (penalty.detach() if penalty is not None else 0.0)
        total += float(chunk) * len(real) / len(reals)
    return {"critic_loss_heldout": total}


def sample_grid_probe(ev: EvalContext) -> dict[str, float]:
    """A PNG grid of G(fixed noise) at this step (images in [-1, 1] or [0, 1])."""
    from torchvision.utils import save_image

    images = ev.generate(ev.fixed_noise).float().cpu()
    if images.min() < 0:
        images = (images + 1) / 2
    path = ev.out_dir / "samples" / f"step_{ev.iteration:07d}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(images.clamp(0, 1), path, nrow=int(len(images) ** 0.5))
    return {}


def reconstruction_probe(ev: EvalContext) -> dict[str, float]:
    """An auto-encoder's held-out reconstruction error: mean over images of the summed squared
    pixel error (data range), beside that of predicting every image by the batch's mean image.
    Reconstructed in chunks of ``batch_size`` (default the training batch: a size the networks are
    known to fit; 1,000 CelebA images at once through WAE's 1024-wide networks took ~10 GB)."""
    if not hasattr(ev.step, "reconstruct"):
        raise ReplicationError("probe 'reconstruction' needs an auto-encoder run")
    x = ev.reals(ev.spec.samples)
    chunk = ev.spec.batch_size or ev.step.spec.batch_size
    with torch.no_grad():
        rec = torch.cat([ev.step.reconstruct(part).float() for part in x.split(chunk)])
        error = (rec - x).pow(2).flatten(1).sum(1).mean()
    baseline = (x - x.mean(0, keepdim=True)).pow(2).flatten(1).sum(1).mean()
    return {"reconstruction_heldout": float(error), "mean_image_error_heldout": float(baseline)}


PROBES: dict[str, Callable[[EvalContext], dict]] = {
    "divergence": divergence_probe,
    "critic_loss": critic_loss_probe,
    "sample_grid": sample_grid_probe,
    "reconstruction": reconstruction_probe,
}


def quality_probe(extractor, reference: dict | None, metrics=("fid",), n: int = 1000, rule: str = "round",
                  value_range=(-1.0, 1.0), batch_size: int = 100, **kwargs) -> Callable[[EvalContext], dict]:
    """IS / FID / KID of ``n`` fresh samples through the metric stack (proxy extractor at
    smoke/small, Inception at paper); columns ``<metric>`` (e.g. ``fid``)."""

    def probe(ev: EvalContext) -> dict[str, float]:
        from replication.metrics.fidelity import Stream, evaluate_samples

        samples = Stream(ev.fake_batches(n, batch_size), n)  # scored as generated: memory of one batch
        records = evaluate_samples(samples, extractor, metrics=metrics, reference=reference, rule=rule,
                                   value_range=value_range, batch_size=batch_size, **kwargs)
        return {r["metric"].lower(): float(r["value"]) for r in records}

    return probe


# -- isolation ----------------------------------------------------------------------------------

@contextlib.contextmanager
def isolated(networks: dict[str, nn.Module], generator_mode: str, device: torch.device, critic_mode: str = "eval"):
    """Eval mode (or batch statistics, per network), global RNG streams forked, batch-norm
    running buffers restored afterwards."""
    batch_stats = {"generator": generator_mode == "batch_stats", "critic": critic_mode == "batch_stats"}
    modes = {k: m.training for k, m in networks.items()}
    buffers = {k: [b.clone() for b in m.buffers()] for k, m in networks.items()}
    devices = [device] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices):
            for k, m in networks.items():
                m.train(batch_stats.get(k, False))
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
                 device: torch.device, out_dir: Path, log_path: Path, live=None):
        unknown = [p for p in spec.probes if p not in probes]
        if unknown:
            raise ReplicationError(f"evaluation.probes: unknown probe {', '.join(map(repr, unknown))}; "
                                   f"available: {', '.join(probes)}")
        self.spec, self.data, self.seed, self.device = spec, data, seed, device
        self.probes = {name: probes[name] for name in spec.probes}
        self.out_dir, self.log_path = Path(out_dir), Path(log_path)
        self.live = live  # LiveCurves (replication.train.metric_log), or None
        self.fixed_noise = data.noise(spec.grid, torch.Generator().manual_seed(seed)) if data.noise else None
        self.pending: list[dict] = []

    def due(self, iteration: int, final: bool) -> bool:
        return iteration % self.spec.every == 0 or final

    def evaluate(self, iteration: int, networks: dict[str, nn.Module], step, times: dict | None = None) -> dict:
        """One row: the iteration (column ``step``), the training time so far (``times``, with
        ``training_time``), the probes."""
        gen = torch.Generator().manual_seed(self.seed + 1 + iteration)  # stateless: same draws after a resume
        ev = EvalContext(iteration, networks, step, self.data, self.spec, gen, self.device, self.out_dir,
                         self.fixed_noise)
        row: dict = {"step": iteration, **(times if self.spec.training_time and times else {})}
        with isolated(networks, self.spec.generator_mode, self.device, self.spec.critic_mode):
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
        if self.live is not None:
            self.live.write(self.pending)
        self.pending = []

    def truncate(self, last_step: int) -> None:
        self.pending = []
        if self.live is not None:
            self.live.truncate(last_step)
        if self.log_path.exists():
            lines = self.log_path.read_text().splitlines(keepends=True)
            kept = lines[:1] + [line for line in lines[1:] if int(line.split(",", 1)[0]) <= last_step]
            self.log_path.write_text("".join(kept))
