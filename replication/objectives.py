"""Adversarial objectives (named in replication.registries.OBJECTIVES), in one sign convention: the critic's output is
high on real data.

WGAN's PyTorch code trains netD = -f (minimising D(real) - D(fake)); WGAN-GP's TF code trains
f (minimising D(fake) - D(real) + lambda*GP). Both give the same Wasserstein estimate
E f(real) - E f(fake) (= -Loss_D of WGAN main.py; = -disc_cost of WGAN-GP without the GP
term). Signs as read in WGAN main.py and in WGAN-GP's gan_*.py scripts [C].

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


WGAN = Objective("wgan", lambda r, f: f.mean() - r.mean(), lambda f: -f.mean(), lambda loss: -loss)
# Minimax: minimise E log(1 - D(G(z))) = -E softplus(logit): saturates when D rejects fakes.
MINIMAX_GAN = Objective("gan_minimax", _bce_pair, lambda f: -F.softplus(f).mean(), _js_bound)
# Non-saturating "-log D" trick (Goodfellow et al. 2014; pytorch/examples dcgan errG).
NON_SATURATING_GAN = Objective("gan_ns", _bce_pair, lambda f: F.softplus(-f).mean(), _js_bound)
# Mao et al.; WGAN-GP Appendix E: D 1/2 [(D(x) - 1)^2 + D(G(z))^2], G (D(G(z)) - 1)^2.
LSGAN = Objective("lsgan", lambda r, f: 0.5 * ((r - 1).pow(2).mean() + f.pow(2).mean()),
                  lambda f: (f - 1).pow(2).mean(), lambda loss: torch.full_like(loss, float("nan")))


def get(name: str) -> Objective:
    """The objective registered under ``name`` (replication.registries.OBJECTIVES)."""
    from replication.registries import OBJECTIVES

    return OBJECTIVES.get(name)


def critic_loss(objective: str, real_out: Tensor, fake_out: Tensor) -> Tensor:
    return get(objective).critic_loss(real_out, fake_out)


def generator_loss(objective: str, fake_out: Tensor) -> Tensor:
    return get(objective).generator_loss(fake_out)


def divergence_estimate(objective: str, critic_loss_value: Tensor) -> Tensor:
    return get(objective).divergence(critic_loss_value)


def gradient_penalty(critic: Callable[[Tensor], Tensor] | nn.Module, real: Tensor, fake: Tensor,
                     alpha: Tensor | None = None) -> Tensor:
    """WGAN-GP penalty exactly as the TF code computes it (gan_*.py [C]; Algorithm 1 [P]):
    one alpha ~ U[0,1) per example, x_hat = real + alpha (fake - real), per-example L2 norm of
    dD/dx_hat over all input dimensions, mean of (||g|| - 1)^2, no epsilon in the sqrt.
    ``alpha`` (shape (B, 1, ..., 1)) may be given; otherwise drawn from the global stream."""
    if alpha is None:
        alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
    x_hat = (real + alpha * (fake - real)).requires_grad_(True)
    (grad,) = autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norms = grad.flatten(1).pow(2).sum(1).sqrt()
    return (norms - 1).pow(2).mean()


# -- auto-encoder penalties (WAE; tolstikhin/wae wae.py [C]; replication.train.autoencoder) ---------

def imq_kernel(sq_distances: Tensor, c: float) -> Tensor:
    """Inverse multiquadratic kernel C / (C + |x - y|^2) on squared distances."""
    return c / (c + sq_distances)


def mmd_imq(codes: Tensor, prior: Tensor, prior_var: float,
            scales: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)) -> Tensor:
    """The WAE code's ``mmd_penalty`` (IMQ): for each C = s * 2 d_z prior_var, the within-sample
    kernel sums without their diagonals over n^2 - n, minus twice the cross sum over n^2; the
    terms of all scales added (no average). Squared distances by broadcasting (exact, n x n x d)."""
    n, d = codes.shape
    if prior.shape != codes.shape or n < 2:
        raise ReplicationError(f"mmd_imq needs two equal n x d batches with n >= 2, got {tuple(codes.shape)} and "
                               f"{tuple(prior.shape)}")
    within = [(a[:, None] - a[None]).pow(2).sum(-1) for a in (codes, prior)]
    cross = (codes[:, None] - prior[None]).pow(2).sum(-1)
    off_diagonal = 1.0 - torch.eye(n, device=codes.device, dtype=codes.dtype)
    total = codes.new_zeros(())
    for s in scales:
        c = s * 2.0 * d * prior_var
        same = sum((imq_kernel(w, c) * off_diagonal).sum() for w in within) / (n * n - n)
        total = total + same - 2.0 * imq_kernel(cross, c).sum() / (n * n)
    return total


def gaussian_kl(mean: Tensor, logvar: Tensor, prior_var: float = 1.0) -> Tensor:
    """KL(N(mean, exp(logvar)) || N(0, prior_var I)) per example, summed over latent dimensions."""
    var = logvar.exp()
    return 0.5 * ((var + mean.pow(2)) / prior_var - 1.0 - logvar + math.log(prior_var)).sum(1)


def moment_matching_loss(codes: Tensor, prior: Tensor) -> Tensor:
    """The WAE code's ``pretrain_loss``: mean squared difference of the sample means plus that of
    the sample covariance matrices (normaliser n - 1)."""
    def moments(z: Tensor) -> tuple[Tensor, Tensor]:
        mean = z.mean(0, keepdim=True)
        centred = z - mean
        return mean, centred.T @ centred / (len(z) - 1)

    (m_q, c_q), (m_p, c_p) = moments(codes), moments(prior)
    return (m_p - m_q).pow(2).mean() + (c_p - c_q).pow(2).mean()
