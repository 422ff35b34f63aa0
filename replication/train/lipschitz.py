"""Lipschitz constraints on the critic (named in replication.registries.LIPSCHITZ): weight
clipping, gradient penalty, none. Each acts at three points of a critic step: before it, as a loss term, after it."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from replication.objectives import gradient_penalty
from replication.settings.training import LipschitzSpec


class NoConstraint:
    def __init__(self, spec: LipschitzSpec, critic: nn.Module):
        self.spec = spec

    def before_step(self) -> None:
        pass

    def penalty(self, critic, real: Tensor, fake: Tensor) -> Tensor | None:
        return None

    def after_step(self) -> None:
        pass


class WeightClipping(NoConstraint):
    """Clamp every critic parameter (batch-norm scale and offset included) to [-c, c] with
    foreach ops: before each critic step (WGAN main.py) or after it (Algorithm 1, TF code)."""

    def __init__(self, spec: LipschitzSpec, critic: nn.Module):
        super().__init__(spec, critic)
        self.params = list(critic.parameters())

    @torch.no_grad()
    def clip(self) -> None:
        c = self.spec.clip_value
        torch._foreach_clamp_min_(self.params, -c)
        torch._foreach_clamp_max_(self.params, c)

    def before_step(self) -> None:
        if self.spec.timing == "before":
            self.clip()

    def after_step(self) -> None:
        if self.spec.timing == "after":
            self.clip()


class GradientPenalty(NoConstraint):
    def penalty(self, critic, real: Tensor, fake: Tensor) -> Tensor:
        return self.spec.gp_lambda * gradient_penalty(critic, real, fake)


def build_constraint(spec: LipschitzSpec, critic: nn.Module) -> NoConstraint:
    from replication.registries import LIPSCHITZ

    return LIPSCHITZ.get(spec.method)(spec, critic)
