"""Fully connected generators and critics (toy problems, WGAN's MLP_G / MLP_D)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from replication.nets.init import tflib_linear_
from replication.nets.layers import SoftplusELU
from replication.nets.registry import register

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh,
               "lrelu": lambda: nn.LeakyReLU(0.2), "softplus_elu": SoftplusELU}  # names of layers.py too


class MLP(nn.Module):
    """``depth`` hidden layers of ``width`` units: Linear -> activation, then a Linear output.

    ``init='torch'`` keeps PyTorch's default (WGAN's MLPs); ``init='tflib'`` uses tflib's
    'he' for hidden layers and glorot for the output (WGAN-GP gan_toy.py).
    ``init_bound`` (off by default) then rescales every Linear weight and bias whose largest
    magnitude exceeds it so that it is exactly ``init_bound`` (a uniform init stays uniform, on
    +-init_bound): e.g. a clipped critic initialised inside its clip range.
    ``output_shape`` reshapes the output (e.g. images); ``mean_output`` averages over the
    batch like WGAN's netD (kept off here: the losses take the mean).
    """

    def __init__(self, in_features: int, out_features: int, width: int, depth: int,
                 activation: str = "relu", init: str = "torch", output_activation: str | None = None,
                 output_shape: tuple[int, ...] | None = None, init_bound: float | None = None):
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
        if init_bound is not None:
            bound_parameters_(self, float(init_bound))

    def forward(self, x: Tensor) -> Tensor:
        out = self.net(x.flatten(1))
        if self.output_shape is not None:
            out = out.view(len(x), *self.output_shape)
        return out


def bound_parameters_(model: nn.Module, bound: float) -> nn.Module:
    """Rescale each Linear weight and bias of ``model`` whose largest magnitude exceeds
    ``bound`` by bound / max|p| (its distribution's shape kept, its range +-bound)."""
    if not bound > 0:
        raise ValueError(f"init_bound must be positive, got {bound!r}")
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                for p in (m.weight, m.bias):
                    top = p.abs().max() if p is not None and p.numel() else None
                    if top is not None and top > bound:
                        p.mul_(bound / top)
    return model


def _check_activations(*names: str | None) -> None:
    for name in names:
        if name is not None and name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")


@register("mlp", "mlp", in_features=2, out_features=1)
def mlp(in_features: int, out_features: int, width: int = 512, depth: int = 3, activation: str = "relu",
        init: str = "torch", output_activation: str | None = None,
        output_shape: tuple[int, ...] | None = None, init_bound: float | None = None) -> MLP:
    """Generic MLP: depth x (Linear(width), activation) -> Linear(out_features) (listed at 2->512x3->1)."""
    _check_activations(activation, output_activation)
    return MLP(in_features, out_features, width, depth, activation, init, output_activation,
               tuple(output_shape) if output_shape is not None else None, init_bound)


@register("wgan_mlp_g", "mlp")
def wgan_mlp_g(nz: int = 100, width: int = 512, depth: int = 3, resolution: int = 64, channels: int = 3,
               init: str = "torch") -> MLP:
    """WGAN MLP_G: nz -> 3 x (512, ReLU) -> C*R*R, no output tanh, PyTorch init (WGAN models/mlp.py [C])."""
    net = MLP(nz, channels * resolution * resolution, width, depth, "relu", init,
              output_shape=(channels, resolution, resolution))
    net.nz = nz
    return net


@register("wgan_mlp_d", "mlp")
def wgan_mlp_d(width: int = 512, depth: int = 3, resolution: int = 64, channels: int = 3,
               init: str = "torch") -> MLP:
    """WGAN MLP_D: C*R*R -> 3 x (512, ReLU) -> 1, no batch mean here, PyTorch init (models/mlp.py [C])."""
    return MLP(channels * resolution * resolution, 1, width, depth, "relu", init)


@register("fc_g", "mlp", doc="Alias of wgangp_fc_g (gan_64x64.py FCGenerator).")
@register("wgangp_fc_g", "mlp")
def wgangp_fc_g(nz: int = 128, width: int = 512, depth: int = 4, resolution: int = 64, channels: int = 3,
                init: str = "tflib") -> MLP:
    """gan_64x64.py FCGenerator: 128 -> 4 x (512, ReLU, he) -> 12288 (glorot), tanh (Figure 2 row 3)."""
    net = MLP(nz, channels * resolution * resolution, width, depth, "relu", init, output_activation="tanh",
              output_shape=(channels, resolution, resolution))
    net.nz = nz
    return net


@register("toy_g", "mlp")
def toy_g(width: int = 512, depth: int = 3, nz: int = 2, dim: int = 2, activation: str = "relu",
          init: str = "tflib", init_bound: float | None = None) -> MLP:
    """gan_toy.py Generator: 2 -> depth x (512, ReLU, he) -> 2 (glorot); depth 12 for Fig 1b [P]."""
    _check_activations(activation)
    net = MLP(nz, dim, width, depth, activation, init, init_bound=init_bound)
    net.nz = nz
    return net


@register("toy_d", "mlp")
def toy_d(width: int = 512, depth: int = 3, dim: int = 2, activation: str = "relu", init: str = "tflib",
          init_bound: float | None = None) -> MLP:
    """gan_toy.py Discriminator: 2 -> depth x (512, ReLU, he) -> 1 (glorot), no BN [C]."""
    _check_activations(activation)
    return MLP(dim, 1, width, depth, activation, init, init_bound=init_bound)


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
