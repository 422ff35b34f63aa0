"""Toy networks without hidden layers: WGAN Example 1's generator and the fixed generator."""

from __future__ import annotations

import torch
from torch import nn

from replication.nets.registry import register


class ParallelLineGenerator(nn.Module):
    """g_theta(z) = (theta, z): the generator of WGAN Example 1 (Section 2) [P]."""

    def __init__(self, theta0: float):
        super().__init__()
        self.theta = nn.Parameter(torch.tensor([float(theta0)]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.theta.expand(len(z), 1), z], dim=1)


@register("parallel_line_g", "toy", theta0=1.0)
def parallel_line_g(theta0: float) -> nn.Module:
    """WGAN Example 1 generator g(z) = (theta, z), one parameter theta (z ~ U[0,1], shape (B,1))."""
    net = ParallelLineGenerator(theta0)
    net.nz = 1
    return net


@register("identity", "toy")
def identity() -> nn.Module:
    """Parameter-free identity 'generator' for fixed-generator critics (gan_toy.py FIXED_GENERATOR)."""
    return nn.Identity()
