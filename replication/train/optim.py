"""Optimisers as the papers' code used them.

- ``rmsprop``: torch.optim.RMSprop with defaults; exactly WGAN's PyTorch code (lr 5e-5).
- ``rmsprop_tf``: TF1 RMSPropOptimizer semantics (decay 0.9, eps 1e-10 inside the sqrt,
  mean-square accumulator initialised to 1) for the clipping baselines of the WGAN-GP TF
  code (TF1 ``tf.train.RMSPropOptimizer`` docs; tensorflow#40670, pytorch#23796). Hand-written because
  torch has no such option; optax's ``rmsprop(initial_scale=1)`` is the JAX equivalent.
- ``adam``: torch.optim.Adam (TF's Adam differs only in eps placement, negligible).
- ``sgd``: plain gradient descent (used where the size of a gradient is the point).
"""

from __future__ import annotations

from typing import Iterable

import torch
from torch import Tensor


class TFRMSprop(torch.optim.Optimizer):
    """ms <- decay*ms + (1-decay)*g^2 ;  p <- p - lr * g / sqrt(ms + eps), ms starting at 1."""

    def __init__(self, params: Iterable[Tensor], lr: float, decay: float = 0.9, eps: float = 1e-10):
        super().__init__(params, dict(lr=lr, decay=decay, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            for p in params:
                if "ms" not in self.state[p]:
                    self.state[p]["ms"] = torch.ones_like(p)
            ms = [self.state[p]["ms"] for p in params]
            torch._foreach_mul_(ms, group["decay"])
            torch._foreach_addcmul_(ms, grads, grads, value=1 - group["decay"])
            denom = torch._foreach_add(ms, group["eps"])
            torch._foreach_sqrt_(denom)
            torch._foreach_addcdiv_(params, grads, denom, value=-group["lr"])
        return loss


# The registry's factories (replication.registries.OPTIMIZERS): (params, OptimizerSpec) -> optimizer.

def rmsprop(params, o) -> torch.optim.Optimizer:
    return torch.optim.RMSprop(params, lr=o.lr, weight_decay=o.weight_decay, foreach=True)


def rmsprop_tf(params, o) -> torch.optim.Optimizer:
    if o.weight_decay:
        raise ValueError("rmsprop_tf has no weight decay option")
    return TFRMSprop(params, lr=o.lr)


def adam(params, o) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=o.lr, betas=tuple(o.betas), weight_decay=o.weight_decay, foreach=True)


def sgd(params, o) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=o.lr, weight_decay=o.weight_decay, foreach=True)


def build_optimizer(spec, params: Iterable[Tensor]) -> torch.optim.Optimizer:
    """The optimizer an ``OptimizerSpec`` names, over ``params``."""
    from replication.registries import OPTIMIZERS

    return OPTIMIZERS.get(spec.name)(list(params), spec)
