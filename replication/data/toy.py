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


def gaussian_noise(dim: int):
    """z ~ N(0, I_dim): the generator input of WGAN-GP's models (e.g. gan_language.py, dim 128)."""
    return lambda n, generator: torch.randn(n, dim, generator=generator)


def labelled_gaussian_noise(dim: int, classes: int):
    """(z, y): z ~ N(0, I_dim) and labels y ~ U{0..classes-1}, the input of a conditional
    generator (WGAN-GP gan_cifar_resnet.py draws its generator step's labels uniformly)."""
    def sample(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.randn(n, dim, generator=generator)
        return z, torch.randint(classes, (n,), generator=generator)
    return sample


def gaussian_1d(mean: float, std: float = 1.0):
    """N(mean, std^2) on the line as (n, 1) (WGAN Figure 2: real N(-5, 1), fake N(+5, 1))."""
    def sample(n: int, generator: torch.Generator) -> torch.Tensor:
        return mean + std * torch.randn(n, 1, generator=generator)
    return sample


# -- WGAN-GP gan_toy.py data [C] (Figure 1), already normalised ---------------------------

EIGHT_GAUSSIANS_CENTRES = 2.0 * torch.tensor(
    [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0),
     (2 ** -0.5, 2 ** -0.5), (2 ** -0.5, -(2 ** -0.5)), (-(2 ** -0.5), 2 ** -0.5), (-(2 ** -0.5), -(2 ** -0.5))])


def eight_gaussians(std: float = 0.02, normalise: float = 1.414):
    """A centre chosen uniformly among 8 at radius 2 (angles k*45 deg), plus N(0, 0.02^2)
    noise, divided by 1.414; fresh samples every batch (gan_toy.py)."""
    def sample(n: int, generator: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, len(EIGHT_GAUSSIANS_CENTRES), (n,), generator=generator)
        return (EIGHT_GAUSSIANS_CENTRES[idx] + std * torch.randn(n, 2, generator=generator)) / normalise
    return sample


def twenty_five_gaussians(std: float = 0.05, normalise: float = 2.828):
    """The law behind gan_toy.py's 25-Gaussians set: a centre of the grid {-4, -2, 0, 2, 4}^2
    chosen uniformly, N(0, 0.05^2) noise, divided by 2.828. Training uses the fixed set of
    ``twenty_five_gaussians_set`` (iterated with TensorSource); this sampler gives held-out
    draws from the same law."""
    grid = torch.tensor([(2.0 * x, 2.0 * y) for x in range(-2, 3) for y in range(-2, 3)])

    def sample(n: int, generator: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, len(grid), (n,), generator=generator)
        return (grid[idx] + std * torch.randn(n, 2, generator=generator)) / normalise
    return sample


def twenty_five_gaussians_set(generator: torch.Generator, std: float = 0.05, normalise: float = 2.828,
                              per_mode: int = 4000) -> torch.Tensor:
    """The fixed 100,000-point training set of gan_toy.py (4,000 per mode, shuffled once)."""
    grid = torch.tensor([(2.0 * x, 2.0 * y) for x in range(-2, 3) for y in range(-2, 3)])
    points = grid.repeat(per_mode, 1) + std * torch.randn(per_mode * len(grid), 2, generator=generator)
    return points[torch.randperm(len(points), generator=generator)] / normalise


def swiss_roll(noise: float = 0.25, normalise: float = 7.5):
    """gan_toy.py: ``sklearn.datasets.make_swiss_roll(n, noise=0.25)``, coordinates [0, 2],
    divided by 7.5; fresh samples every batch. sklearn's construction, written out (same
    distribution, torch's random stream instead of numpy's): t = 1.5 pi (1 + 2u), u ~ U[0, 1),
    point (t cos t, 21 v, t sin t) + noise * N(0, I_3); the height 21 v is dropped with
    coordinate 1."""
    def sample(n: int, generator: torch.Generator) -> torch.Tensor:
        t = 1.5 * torch.pi * (1 + 2 * torch.rand(n, generator=generator, dtype=torch.float64))
        _height = 21 * torch.rand(n, generator=generator, dtype=torch.float64)  # coordinate 1, dropped
        eps = torch.randn(3, n, generator=generator, dtype=torch.float64)
        x = t * torch.cos(t) + noise * eps[0]
        z = t * torch.sin(t) + noise * eps[2]
        return (torch.stack([x, z], dim=1) / normalise).float()
    return sample


TOY_2D = {"8gaussians": eight_gaussians, "25gaussians": twenty_five_gaussians, "swissroll": swiss_roll}
