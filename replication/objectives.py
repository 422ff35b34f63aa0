"""Adversarial objectives as a small registry, in one sign convention: the critic's output is
high on real data.

WGAN's PyTorch code trains netD = -f (minimising D(real) - D(fake)); WGAN-GP's TF code trains
f (minimising D(fake) - D(real) + lambda*GP). Both give the same Wasserstein estimate
E f(real) - E f(fake) (= -Loss_D of WGAN main.py; = -disc_cost of WGAN-GP without the GP
term). WGAN_WGANGP.md section 1.1.

Each objective maps critic outputs to: the critic's loss (without any penalty), the
generator's loss, and what the critic loss estimates (``divergence``): W1 for WGAN (-Loss_D,
WGAN Fig 3), the JS lower bound 1/2 L + log 2 = log 2 - errD/2 for GANs (WGAN Fig 4), nothing
(NaN) for LSGAN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, autograd, nn

from replication.errors import ReplicationError


@dataclass(frozen=True)
class Objective:
    name: str
    critic_loss: Callable[[Tensor, Tensor], Tensor]
    generator_loss: Callable[[Tensor], Tensor]
    divergence: Callable[[Tensor], Tensor]


def _bce_pair(real_out: Tensor, fake_out: Tensor) -> Tensor:
    # BCE(D(x), 1) + BCE(D(G(z)), 0) on logits: pytorch/examples dcgan errD = -L.
    return F.softplus(-real_out).mean() + F.softplus(fake_out).mean()


def _js_bound(critic_loss: Tensor) -> Tensor:
    return math.log(2.0) - 0.5 * critic_loss


OBJECTIVES: dict[str, Objective] = {
    "wgan": Objective("wgan", lambda r, f: f.mean() - r.mean(), lambda f: -f.mean(), lambda loss: -loss),
    # Minimax: minimise E log(1 - D(G(z))) = -E softplus(logit): saturates when D rejects fakes.
    "gan_minimax": Objective("gan_minimax", _bce_pair, lambda f: -F.softplus(f).mean(), _js_bound),
    # Non-saturating "-log D" trick (Goodfellow et al. 2014; pytorch/examples dcgan errG).
    "gan_ns": Objective("gan_ns", _bce_pair, lambda f: F.softplus(-f).mean(), _js_bound),
    # Mao et al.; WGAN-GP Appendix E: D 1/2 [(D(x) - 1)^2 + D(G(z))^2], G (D(G(z)) - 1)^2.
    "lsgan": Objective("lsgan", lambda r, f: 0.5 * ((r - 1).pow(2).mean() + f.pow(2).mean()),
                       lambda f: (f - 1).pow(2).mean(), lambda loss: torch.full_like(loss, float("nan"))),
}


def get(name: str) -> Objective:
    try:
        return OBJECTIVES[name]
    except KeyError:
        raise ReplicationError(f"unknown objective {name!r}; choose one of {', '.join(OBJECTIVES)}") from None


def critic_loss(objective: str, real_out: Tensor, fake_out: Tensor) -> Tensor:
    return get(objective).critic_loss(real_out, fake_out)


def generator_loss(objective: str, fake_out: Tensor) -> Tensor:
    return get(objective).generator_loss(fake_out)


def divergence_estimate(objective: str, critic_loss_value: Tensor) -> Tensor:
    return get(objective).divergence(critic_loss_value)


def gradient_penalty(critic: Callable[[Tensor], Tensor] | nn.Module, real: Tensor, fake: Tensor,
                     alpha: Tensor | None = None) -> Tensor:
    """WGAN-GP penalty exactly as the TF code computes it (WGAN_WGANGP.md section 1.2):
    one alpha ~ U[0,1) per example, x_hat = real + alpha (fake - real), per-example L2 norm of
    dD/dx_hat over all input dimensions, mean of (||g|| - 1)^2, no epsilon in the sqrt.
    ``alpha`` (shape (B, 1, ..., 1)) may be given; otherwise drawn from the global stream."""
    if alpha is None:
        alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
    x_hat = (real + alpha * (fake - real)).requires_grad_(True)
    (grad,) = autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norms = grad.flatten(1).pow(2).sum(1).sqrt()
    return (norms - 1).pow(2).mean()
