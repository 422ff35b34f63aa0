"""Critic steps per generator iteration."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CriticSchedule:
    """``n_critic`` steps, plus WGAN's rule (WGAN main.py, WGAN_WGANGP.md section 2.0):
    ``Diters = 100 if gen_iterations < 25 or gen_iterations % 500 == 0 else 5``."""

    n_critic: int = 5
    wgan_warmup: bool = False
    warmup_steps: int = 100
    warmup_iterations: int = 25
    warmup_every: int = 500

    def steps(self, gen_iteration: int) -> int:
        if self.wgan_warmup and (gen_iteration < self.warmup_iterations or gen_iteration % self.warmup_every == 0):
            return self.warmup_steps
        return self.n_critic
