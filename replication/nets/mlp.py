"""Fully connected generators and critics (toy problems, WGAN's MLP_G / MLP_D)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from replication.nets.init import tflib_linear_

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh}


class MLP(nn.Module):
    """``depth`` hidden layers of ``width`` units: Linear -> activation, then a Linear output.

    ``init='torch'`` keeps PyTorch's default (WGAN's MLPs); ``init='tflib'`` uses tflib's
    'he' for hidden layers and glorot for the output (WGAN-GP gan_toy.py).
    ``output_shape`` reshapes the output (e.g. images); ``mean_output`` averages over the
    batch like WGAN's netD (kept off here: the losses take the mean).
    """

    def __init__(self, in_features: int, out_features: int, width: int, depth: int,
                 activation: str = "relu", init: str = "torch", output_activation: str | None = None,
                 output_shape: tuple[int, ...] | None = None):
        super().__init__()
        sizes = [in_features] + [width] * depth
        layers: list[nn.Module] = []
        self.hidden: list[nn.Linear] = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            linear = nn.Linear(fan_in, fan_out)
            layers += [linear, ACTIVATIONS[activation]()]
            self.hidden.append(linear)
        self.output = nn.Linear(sizes[-1], out_features)
        layers.append(self.output)
        if output_activation is not None:
            layers.append(ACTIVATIONS[output_activation]())
        self.net = nn.Sequential(*layers)
        self.output_shape = output_shape
        if init == "tflib":
            for linear in self.hidden:
                tflib_linear_(linear, "he")
            tflib_linear_(self.output, "glorot")
        elif init != "torch":
            raise ValueError(f"unknown init {init!r}; choose torch or tflib")

    def forward(self, x: Tensor) -> Tensor:
        out = self.net(x.flatten(1))
        if self.output_shape is not None:
            out = out.view(len(x), *self.output_shape)
        return out


def linear_output_gradient_norms(model: nn.Module, x: Tensor, loss_fn) -> Tensor:
    """L2 norm of d loss / d a_l for the output a_l of every ``nn.Linear`` of ``model``, in
    module order (input side first, the model's output last): WGAN-GP Figure 1b's "norm of
    the gradient of the critic loss with respect to successive layers of activations".

    A forward hook on each Linear layer keeps its output tensor (the layer's activation);
    one ``autograd.grad`` call then differentiates ``loss_fn(model(x))`` with respect to all
    of them, leaving the parameters' ``.grad`` untouched. Each norm is taken over the whole
    activation tensor (batch x units)."""
    outputs: list[Tensor] = []
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    handles = [m.register_forward_hook(lambda _m, _i, out: outputs.append(out)) for m in linears]
    try:
        loss = loss_fn(model(x.detach().requires_grad_(True)))
    finally:
        for handle in handles:
            handle.remove()
    grads = torch.autograd.grad(loss, outputs)
    return torch.stack([g.detach().norm() for g in grads])
