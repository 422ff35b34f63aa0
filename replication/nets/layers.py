"""Small building blocks shared by the network families (activations, norms, TF geometry)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class SoftplusELU(nn.Module):
    """softplus(2x+2)/2 - 1: WGAN-GP Table 1's smooth ELU substitute (Appendix D [P])."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(2.0 * x + 2.0) / 2.0 - 1.0


ACTIVATION_NAMES = ("relu", "lrelu", "tanh", "softplus_elu")


def activation(name: str) -> nn.Module:
    """relu | lrelu (slope 0.2, tflib and WGAN) | tanh | softplus_elu."""
    if name == "relu":
        return nn.ReLU()
    if name == "lrelu":
        return nn.LeakyReLU(0.2)
    if name == "tanh":
        return nn.Tanh()
    if name == "softplus_elu":
        return SoftplusELU()
    raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATION_NAMES)}")


NORM_NAMES = ("batch", "layer", "none")


def norm2d(name: str, channels: int) -> nn.Module:
    """Per-channel normalisation of a GAN network (tflib, WGAN main.py [C]):

    - batch: ``BatchNorm2d`` that always uses batch statistics (tflib calls fused batch norm
      in training mode; WGAN never calls ``.eval()``), hence ``track_running_stats=False``;
    - layer: tflib's layer norm = ``GroupNorm(1, C, eps=1e-5)``;
    - none: identity.
    """
    if name == "batch":
        return nn.BatchNorm2d(channels, track_running_stats=False)
    if name == "layer":
        return nn.GroupNorm(1, channels, eps=1e-5)
    if name == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {name!r}; choose one of {', '.join(NORM_NAMES)}")


def batchnorm1d(features: int) -> nn.BatchNorm1d:
    """tflib ``Batchnorm(axes=[0])`` on a flat layer: per feature, batch statistics always."""
    return nn.BatchNorm1d(features, track_running_stats=False)


def mark(layer: nn.Module, he: bool | None = None, mode: str | None = None) -> nn.Module:
    """Record a layer's tflib initialisation option for ``init_network_`` (see init.py)."""
    if he is not None:
        layer.tflib_he = he
    if mode is not None:
        layer.tflib_mode = mode
    return layer


class Reshape(nn.Module):
    """View (B, ...) as (B, *shape)."""

    def __init__(self, *shape: int):
        super().__init__()
        self.shape = shape

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(len(x), *self.shape)

    def extra_repr(self) -> str:
        return str(self.shape)


class FewOutputs(nn.Module):
    """A collapsed generator for negative controls: every latent z is replaced by the closest (largest
    inner product) of ``k`` fixed latents drawn at initialisation, so the wrapped network emits at
    most k distinct outputs however well it trains (a run that must read 'collapsed')."""

    def __init__(self, net: nn.Module, k: int, nz: int):
        super().__init__()
        if k < 1:
            raise ValueError(f"distinct_outputs must be at least 1, got {k}")
        self.net = net
        self.register_buffer("bank", torch.randn(k, nz))

    def forward(self, z: Tensor, *rest) -> Tensor:
        flat = z.flatten(1)
        picked = self.bank[(flat @ self.bank.to(flat.dtype).T).argmax(1)]
        return self.net(picked.to(z.dtype).view_as(z), *rest)


class Gate(nn.Module):
    """sigmoid(x[:, ::2]) * tanh(x[:, 1::2]): gan_64x64.py's gated multiplicative
    nonlinearity [C] (WGAN-GP Figure 2 row 5); halves the channels."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.sigmoid(x[:, ::2]) * torch.tanh(x[:, 1::2])


def depth_to_space(x: Tensor, block: int = 2) -> Tensor:
    """TF ``depth_to_space`` on NCHW data: output channel c at sub-position (i, j) takes input
    channel (i*block + j)*C_out + c (PyTorch's pixel_shuffle orders channels differently)."""
    b, c, h, w = x.shape
    out = c // (block * block)
    x = x.view(b, block, block, out, h, w).permute(0, 3, 4, 1, 5, 2)
    return x.reshape(b, out, h * block, w * block)


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Conv2dSame(nn.Conv2d):
    """``nn.Conv2d`` with TF 'SAME' padding (output ceil(in/stride); the extra pixel of an odd
    total pad goes after): e.g. k4 s2 on 7x7 pads (1, 2) -> 4x4 (tolstikhin/wae MNIST encoder [C])."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, bias: bool = True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding=0, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        top, bottom = _same_pads(x.shape[-2], kh, sh)
        left, right = _same_pads(x.shape[-1], kw, sw)
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom))
        return super().forward(x)


class ConvTranspose2dSame(nn.ConvTranspose2d):
    """TF ``conv2d_transpose(padding='SAME')`` with output exactly ``stride`` x input: the
    transpose of a SAME conv whose pad is (k-s)//2 before and the rest after. Implemented as
    ``ConvTranspose2d(padding=before)`` cropped to stride*in (e.g. WAE MNIST's last k4 s1
    deconv: padding 1, crop one row/column; tolstikhin/wae models.py [C])."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 2, bias: bool = True):
        before = max(kernel_size - stride, 0) // 2
        super().__init__(in_channels, out_channels, kernel_size, stride, padding=before, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2] * self.stride[0], x.shape[-1] * self.stride[1]
        return super().forward(x)[..., :h, :w]


def deconv5(in_channels: int, out_channels: int, bias: bool = True) -> nn.ConvTranspose2d:
    """tflib ``Deconv2D`` 5x5 stride 2 (output exactly 2x) [C], ported as
    ``ConvTranspose2d(k5, s2, p2, output_padding=1)`` (one-pixel alignment shift vs TF [I])."""
    return nn.ConvTranspose2d(in_channels, out_channels, 5, 2, padding=2, output_padding=1, bias=bias)


def conv5s2(in_channels: int, out_channels: int, bias: bool = True) -> nn.Conv2d:
    """tflib ``Conv2D`` 5x5 stride 2 'SAME' as ``Conv2d(k5, s2, p2)`` (a one-pixel shift vs TF [I])."""
    return nn.Conv2d(in_channels, out_channels, 5, 2, padding=2, bias=bias)


class ConditionalBatchNorm2d(nn.Module):
    """tflib ``cond_batchnorm``: batch statistics shared by all classes, per-class scale and
    offset tables (``classes`` x C, ones / zeros) gathered by label (gan_cifar_resnet.py [C])."""

    def __init__(self, channels: int, classes: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False, track_running_stats=False)
        self.scale = nn.Parameter(torch.ones(classes, channels))
        self.offset = nn.Parameter(torch.zeros(classes, channels))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.bn(x) * self.scale[y][:, :, None, None] + self.offset[y][:, :, None, None]
