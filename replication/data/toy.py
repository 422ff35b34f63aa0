"""Synthetic distributions of the toy experiments, as samplers ``(n, generator) -> Tensor``."""

from __future__ import annotations

import torch


def parallel_line(theta: float):
    """WGAN Example 1 / Figure 1: the law of (theta, Z) with Z ~ U[0, 1]."""
    def sample(n: int, generator: torch.Generator) -> torch.Tensor:
        z = torch.rand(n, 1, generator=generator)
        return torch.cat([torch.full_like(z, theta), z], dim=1)
    return sample


def uniform_noise(dim: int = 1):
    """z ~ U[0, 1]^dim (the generator input of WGAN Example 1)."""
    return lambda n, generator: torch.rand(n, dim, generator=generator)
