"""Adversarial objectives, in one sign convention: the critic's output is high on real data.

WGAN's PyTorch code trains netD = -f (minimising D(real) - D(fake)); WGAN-GP's TF code trains
f (minimising D(fake) - D(real) + lambda*GP). Both give the same Wasserstein estimate
E f(real) - E f(fake) (= -Loss_D of WGAN main.py; = -disc_cost of WGAN-GP without the GP
term). WGAN_WGANGP.md section 1.1.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, autograd, nn

OBJECTIVES = ("wgan", "gan_minimax", "gan_ns", "lsgan")
LIPSCHITZ = ("clip", "gp", "none")


def critic_loss(objective: str, real_out: Tensor, fake_out: Tensor) -> Tensor:
    """The loss the critic (discriminator) minimises, without any gradient penalty."""
    if objective == "wgan":
        return fake_out.mean() - real_out.mean()
    if objective in ("gan_minimax", "gan_ns"):
        # BCE(D(x), 1) + BCE(D(G(z)), 0) on logits: pytorch/examples dcgan errD = -L.
        return F.softplus(-real_out).mean() + F.softplus(fake_out).mean()
    if objective == "lsgan":
        # Mao et al.; WGAN-GP Appendix E: 1/2 [(D(x) - 1)^2 + D(G(z))^2].
        return 0.5 * ((real_out - 1).pow(2).mean() + fake_out.pow(2).mean())
    raise ValueError(f"unknown objective {objective!r}; choose from {OBJECTIVES}")


def generator_loss(objective: str, fake_out: Tensor) -> Tensor:
    if objective == "wgan":
        return -fake_out.mean()
    if objective == "gan_minimax":
        # Minimise E log(1 - D(G(z))) = -E softplus(logit): saturates when D rejects fakes.
        return -F.softplus(fake_out).mean()
    if objective == "gan_ns":
        # Non-saturating "-log D" trick (Goodfellow et al. 2014; pytorch/examples dcgan errG).
        return F.softplus(-fake_out).mean()
    if objective == "lsgan":
        return (fake_out - 1).pow(2).mean()
    raise ValueError(f"unknown objective {objective!r}; choose from {OBJECTIVES}")


def divergence_estimate(objective: str, critic_loss_value: Tensor) -> Tensor:
    """What each method's critic loss estimates: W1 for WGAN (-Loss_D, WGAN Fig 3), the JS
    lower bound 1/2 L + log 2 = log 2 - errD/2 for GANs (WGAN Fig 4), nothing for LSGAN."""
    if objective == "wgan":
        return -critic_loss_value
    if objective in ("gan_minimax", "gan_ns"):
        return math.log(2.0) - 0.5 * critic_loss_value
    return torch.full_like(critic_loss_value, float("nan"))


def gradient_penalty(critic: nn.Module, real: Tensor, fake: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """WGAN-GP penalty exactly as the TF code computes it (WGAN_WGANGP.md section 1.2):
    one alpha ~ U[0,1) per example, x_hat = real + alpha (fake - real), per-example L2 norm of
    dD/dx_hat over all input dimensions, mean of (||g|| - 1)^2, no epsilon in the sqrt."""
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    alpha = torch.rand(shape, generator=generator, device="cpu" if generator is not None else real.device)
    alpha = alpha.to(real.device, real.dtype)
    x_hat = (real + alpha * (fake - real)).requires_grad_(True)
    (grad,) = autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norms = grad.flatten(1).pow(2).sum(1).sqrt()
    return (norms - 1).pow(2).mean()
