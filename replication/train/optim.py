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


def build_optimizer(name: str, params: Iterable[Tensor], lr: float, betas=(0.5, 0.999),
                    weight_decay: float = 0.0) -> torch.optim.Optimizer:
    params = list(params)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay, foreach=True)
    if name == "rmsprop_tf":
        if weight_decay:
            raise ValueError("rmsprop_tf has no weight decay option")
        return TFRMSprop(params, lr=lr)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=tuple(betas), weight_decay=weight_decay, foreach=True)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, foreach=True)
    raise ValueError(f"unknown optimizer {name!r}; choose rmsprop, rmsprop_tf, adam or sgd")
