"""The one adversarial training loop: WGAN (clipping), WGAN-GP, minimax / non-saturating GAN
and LSGAN differ only in ``AdversarialSettings``.

Loop order per generator iteration (WGAN main.py; equivalent to WGAN-GP's TF loop and to
both papers' Algorithm 1, WGAN_WGANGP.md section 1.3): ``schedule.steps(it)`` critic steps,
each on a new real batch and new z, then one generator step on a new z.

Resumable: everything that determines the rest of the run (weights, optimiser moments, the
real-data and noise streams, global RNGs, step) is checkpointed to an undeclared state
folder; a resumed run is bitwise equal to an uninterrupted one at the same thread count.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from replication import objectives as obj
from replication.data.batches import BatchSource
from replication.io import load_torch, save_torch
from replication.runtime import rng_state, set_rng_state
from replication.train.convergence import Plateau
from replication.train.metric_log import MetricLog
from replication.train.schedule import CriticSchedule

Probe = Callable[["AdversarialTrainer"], Tensor]


@dataclass
class AdversarialSettings:
    objective: str  # wgan | gan_minimax | gan_ns | lsgan
    iterations: int  # generator iterations
    lipschitz: str = "none"  # clip | gp | none
    clip_value: float = 0.01
    # "before": WGAN main.py clamps all critic parameters before each critic step;
    # "after": WGAN-GP TF code and both papers' Algorithm 1 clip after it (section 1.7).
    clip_timing: str = "before"
    gp_lambda: float = 10.0
    critic_loss_scale: float = 1.0  # WGAN-GP's DCGAN baseline halves the D cost
    schedule: CriticSchedule = field(default_factory=CriticSchedule)
    train_generator: bool = True
    log_every: int = 100  # generator iterations between flushes of the metric buffer
    checkpoint_every: int = 1000

    def __post_init__(self):
        if self.objective not in obj.OBJECTIVES:
            raise ValueError(f"unknown objective {self.objective!r}; choose from {obj.OBJECTIVES}")
        if self.lipschitz not in obj.LIPSCHITZ:
            raise ValueError(f"unknown lipschitz {self.lipschitz!r}; choose from {obj.LIPSCHITZ}")
        if self.clip_timing not in ("before", "after"):
            raise ValueError("clip_timing must be 'before' or 'after'")


class AdversarialTrainer:
    """Trains ``critic`` against ``generator``; ``generator(noise.next())`` is a fake batch."""

    def __init__(self, generator: nn.Module, critic: nn.Module, opt_g: torch.optim.Optimizer | None,
                 opt_d: torch.optim.Optimizer, real: BatchSource, noise: BatchSource,
                 settings: AdversarialSettings, state_dir: Path, probes: dict[str, Probe] | None = None,
                 on_iteration: Callable[[int], None] | None = None, progress: str = "train",
                 stop: Plateau | None = None):
        self.generator, self.critic, self.opt_g, self.opt_d = generator, critic, opt_g, opt_d
        self.real, self.noise, self.settings = real, noise, settings
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.checkpoint_path = self.state_dir / "checkpoint.pt"
        self.probes = probes or {}
        self.on_iteration = on_iteration
        self.progress = progress
        self.stop = stop  # optional convergence criterion, checked on each flush
        self.step = 0  # generator iterations completed
        self._critic_params = [p for p in critic.parameters()]
        columns = ["critic_loss", "divergence", "gradient_penalty", "generator_loss", "critic_steps", *self.probes]
        self.log = MetricLog(self.state_dir / "metrics.csv", columns)

    # -- one step each ----------------------------------------------------------------
    def _clip(self) -> None:
        c = self.settings.clip_value
        with torch.no_grad():
            torch._foreach_clamp_min_(self._critic_params, -c)
            torch._foreach_clamp_max_(self._critic_params, c)

    def critic_step(self) -> dict[str, Tensor]:
        s = self.settings
        if s.lipschitz == "clip" and s.clip_timing == "before":
            self._clip()
        real = self.real.next()
        with torch.no_grad():
            fake = self.generator(self.noise.next())
        # Separate forward passes: batch norm in the critic sees real and fake batches on
        # their own, as in every official script (section 1.4).
        loss = obj.critic_loss(s.objective, self.critic(real), self.critic(fake))
        penalty = torch.zeros((), device=loss.device)
        if s.lipschitz == "gp":
            penalty = obj.gradient_penalty(self.critic, real, fake)
        total = s.critic_loss_scale * loss + s.gp_lambda * penalty
        self.opt_d.zero_grad(set_to_none=True)
        total.backward()
        self.opt_d.step()
        if s.lipschitz == "clip" and s.clip_timing == "after":
            self._clip()
        return {"critic_loss": total.detach(), "divergence": obj.divergence_estimate(s.objective, loss.detach()),
                "gradient_penalty": penalty.detach()}

    def generator_step(self) -> Tensor:
        self.critic.requires_grad_(False)  # no critic gradients needed: saves work
        loss = obj.generator_loss(self.settings.objective, self.critic(self.generator(self.noise.next())))
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self.critic.requires_grad_(True)
        return loss.detach()

    # -- checkpoints ------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "step": self.step,
            "generator": self.generator.state_dict(),
            "critic": self.critic.state_dict(),
            "opt_g": self.opt_g.state_dict() if self.opt_g is not None else None,
            "opt_d": self.opt_d.state_dict(),
            "real": self.real.state_dict(),
            "noise": self.noise.state_dict(),
            "rng": rng_state(),
            "stop": self.stop.state_dict() if self.stop is not None else None,
        }

    def flush(self) -> bool:
        """Write buffered metrics; True if the convergence criterion says stop."""
        rows = self.log.flush()
        return self.stop is not None and self.stop.update(rows)

    def save_checkpoint(self) -> None:
        self.flush()  # rows up to self.step are on disk before the checkpoint claims them
        save_torch(self.checkpoint_path, self.state_dict())

    def resume(self) -> bool:
        if not self.checkpoint_path.exists():
            self.log.truncate(-1)
            return False
        state = load_torch(self.checkpoint_path)
        self.generator.load_state_dict(state["generator"])
        self.critic.load_state_dict(state["critic"])
        if self.opt_g is not None:
            self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.real.load_state_dict(state["real"])
        self.noise.load_state_dict(state["noise"])
        set_rng_state(state["rng"])
        if self.stop is not None:
            self.stop.load_state_dict(state["stop"])
        self.step = state["step"]
        self.log.truncate(self.step - 1)
        return True

    # -- the loop ---------------------------------------------------------------------
    def fit(self) -> Path:
        """Train to ``settings.iterations``, or until the convergence criterion holds (checked
        every ``log_every`` iterations), resuming from a checkpoint if one exists. Returns
        the path of the complete metric log in the state folder."""
        s = self.settings
        self.resume()
        zero = torch.zeros(())
        bar = tqdm(total=s.iterations, initial=self.step, desc=self.progress, unit="it",
                   mininterval=1.0 if sys.stderr.isatty() else 30.0, dynamic_ncols=True)
        done = self.stop is not None and self.stop.converged_at is not None
        while self.step < s.iterations and not done:
            it = self.step
            n_steps = s.schedule.steps(it)
            for _ in range(n_steps):
                critic_out = self.critic_step()
            gen_loss = self.generator_step() if s.train_generator and self.opt_g is not None else zero
            self.log.record(it, {**critic_out, "generator_loss": gen_loss, "critic_steps": n_steps,
                                 **{name: probe(self) for name, probe in self.probes.items()}})
            self.step = it + 1
            if self.on_iteration is not None:
                self.on_iteration(self.step)
            if self.step % s.log_every == 0:
                done = self.flush()
            if self.step % s.checkpoint_every == 0 or self.step == s.iterations or done:
                self.save_checkpoint()
            bar.update(1)
        bar.close()
        self.flush()
        return self.log.path
