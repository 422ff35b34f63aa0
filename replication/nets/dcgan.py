"""DCGAN-style convolutional networks of WGAN (``models/dcgan.py``) and WGAN-GP
(``gan_cifar.py``, ``gan_64x64.py``, ``gan_mnist.py``, Table 1's random architectures).

Geometry: WGAN uses k4 s2 p1 everywhere; tflib's 5x5 stride-2 'SAME' convs / deconvs are
``Conv2d(k5, s2, p2)`` / ``ConvTranspose2d(k5, s2, p2, output_padding=1)`` (same shapes, a
one-pixel shift from TF's asymmetric pad [I]). Batch norm always uses batch statistics (tflib
``Batchnorm``, WGAN ``main.py`` [C]); layer norm is tflib's ``Layernorm`` = GroupNorm(1, C)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from replication.nets.init import init_network_
from replication.nets.layers import (Gate, Reshape, batchnorm1d, conv5s2, deconv5, depth_to_space,
                                     mark, norm2d)
from replication.nets.layers import activation as _activation
from replication.nets.registry import register


def _generator(layers: list[nn.Module], nz: int, init: str) -> nn.Sequential:
    net = init_network_(nn.Sequential(*layers), init)
    net.nz = nz
    return net


def _critic(layers: list[nn.Module], init: str) -> nn.Sequential:
    return init_network_(nn.Sequential(*layers), init)


def _bn(on: bool, channels: int) -> nn.Module:
    return norm2d("batch" if on else "none", channels)


def _three_conv_critic(in_channels: int, w: int, norm: str, init: str) -> nn.Sequential:
    """The tflib critic of gan_cifar.py and gan_mnist.py: 3 x (5x5 s2 conv, LReLU 0.2), the
    last two normalised by ``norm``, then Linear(4*4*4w -> 1) (32->16->8->4 or 28->14->7->4)."""
    layers = [conv5s2(in_channels, w), nn.LeakyReLU(0.2),
              conv5s2(w, 2 * w), norm2d(norm, 2 * w), nn.LeakyReLU(0.2),
              conv5s2(2 * w, 4 * w), norm2d(norm, 4 * w), nn.LeakyReLU(0.2),
              nn.Flatten(), nn.Linear(4 * 4 * 4 * w, 1)]
    return _critic(layers, init)


# --- WGAN (PyTorch) models/dcgan.py -----------------------------------------------------------

def _check_wgan_resolution(resolution: int) -> None:
    if resolution < 16 or resolution % 16:
        raise ValueError(f"resolution {resolution} is not a multiple of 16 (WGAN models/dcgan.py asserts "
                         "isize % 16 == 0; 28x28 is not supported by this family)")


@register("wgan_dcgan_g", "dcgan")
def wgan_dcgan_g(nz: int = 100, width: int = 64, resolution: int = 64, channels: int = 3, n_extra_layers: int = 0,
                 bn: bool = True, init: str = "dcgan_normal") -> nn.Module:
    """WGAN DCGAN_G: ConvT k4 (no bias) doubling to the resolution, BN, ReLU, tanh (WGAN models/dcgan.py [C])."""
    _check_wgan_resolution(resolution)
    c, size = width // 2, 4
    while size != resolution:
        c, size = c * 2, size * 2
    layers: list[nn.Module] = [Reshape(nz, 1, 1), nn.ConvTranspose2d(nz, c, 4, 1, 0, bias=False), _bn(bn, c), nn.ReLU()]
    size = 4
    while size < resolution // 2:
        layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), _bn(bn, c // 2), nn.ReLU()]
        c, size = c // 2, size * 2
    for _ in range(n_extra_layers):
        layers += [nn.Conv2d(c, c, 3, 1, 1, bias=False), _bn(bn, c), nn.ReLU()]
    layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1, bias=False), nn.Tanh()]
    return _generator(layers, nz, init)


@register("wgan_dcgan_d", "dcgan")
def wgan_dcgan_d(width: int = 64, resolution: int = 64, channels: int = 3, n_extra_layers: int = 0, bn: bool = True,
                 init: str = "dcgan_normal") -> nn.Module:
    """WGAN DCGAN_D (models/dcgan.py [C]): Conv k4 s2 (no bias), BN from layer 2, LReLU 0.2, k4 conv
    to 1, no sigmoid."""
    _check_wgan_resolution(resolution)
    layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
    c, size = width, resolution // 2
    for _ in range(n_extra_layers):
        layers += [nn.Conv2d(c, c, 3, 1, 1, bias=False), _bn(bn, c), nn.LeakyReLU(0.2)]
    while size > 4:
        layers += [nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False), _bn(bn, 2 * c), nn.LeakyReLU(0.2)]
        c, size = 2 * c, size // 2
    layers += [nn.Conv2d(c, 1, 4, 1, 0, bias=False), nn.Flatten()]
    return _critic(layers, init)


@register("wgan_dcgan_g_constant", "dcgan")
def wgan_dcgan_g_constant(nz: int = 100, width: int = 64, resolution: int = 64, channels: int = 3,
                          init: str = "dcgan_normal") -> nn.Module:
    """WGAN Fig 6 generator: no BN, constant `width` filters, k4 ConvT, tanh (WGAN Figure 6 [P]; main.py's
    --noBN generator halves its filters, so 64 constant ones are our reading [I])."""
    _check_wgan_resolution(resolution)
    layers: list[nn.Module] = [Reshape(nz, 1, 1), nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False), nn.ReLU()]
    for _ in range(int(math.log2(resolution // 4)) - 1):
        layers += [nn.ConvTranspose2d(width, width, 4, 2, 1, bias=False), nn.ReLU()]
    layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]
    return _generator(layers, nz, init)


# --- WGAN-GP gan_cifar.py ---------------------------------------------------------------------

@register("wgangp_cifar_g", "dcgan")
def wgangp_cifar_g(nz: int = 128, width: int = 128, bn: bool = True, init: str = "tflib") -> nn.Module:
    """gan_cifar.py Generator: Linear -> BN1d(8192) -> 3 x 5x5 deconv (BN, ReLU) -> tanh, 32x32 [C]."""
    w = width
    layers = [nn.Linear(nz, 4 * 4 * 4 * w), batchnorm1d(4 * 4 * 4 * w) if bn else nn.Identity(), nn.ReLU(),
              Reshape(4 * w, 4, 4),
              deconv5(4 * w, 2 * w), _bn(bn, 2 * w), nn.ReLU(),
              deconv5(2 * w, w), _bn(bn, w), nn.ReLU(),
              deconv5(w, 3), nn.Tanh()]
    return _generator(layers, nz, init)


@register("wgangp_cifar_d", "dcgan")
def wgangp_cifar_d(width: int = 128, norm: str = "none", init: str = "tflib") -> nn.Module:
    """gan_cifar.py Discriminator: 3 x 5x5 s2 conv, LReLU, norm (none for GP, batch otherwise) -> Linear [C]."""
    return _three_conv_critic(3, width, norm, init)


# --- WGAN-GP gan_64x64.py (Figure 2's seven architectures) -----------------------------------

def _start_size(resolution: int) -> int:
    """Side of the 8w-channel map after the first layer: every gan_64x64.py network resamples four
    times (4 -> 64 px); another resolution keeps the four resamplings (the depth) and starts at R/16."""
    if resolution < 16 or resolution % 16:
        raise ValueError(f"resolution {resolution} is not a multiple of 16 (the gan_64x64.py networks resample "
                         "four times by 2)")
    return resolution // 16


@register("dcgan64_g", "dcgan")
def dcgan64_g(nz: int = 128, width: int = 64, bn: bool = True, activation: str = "relu",
              init: str = "tflib_std002", resolution: int = 64, channels: int = 3) -> nn.Module:
    """gan_64x64.py DCGANGenerator: Linear -> 512x4x4, BN, 4 x 5x5 deconv, tanh; std-0.02 uniform (Figure 2 row 1)."""
    w, act, r = width, (lambda: _activation(activation)), _start_size(resolution)
    layers = [nn.Linear(nz, r * r * 8 * w), Reshape(8 * w, r, r), _bn(bn, 8 * w), act(),
              deconv5(8 * w, 4 * w), _bn(bn, 4 * w), act(),
              deconv5(4 * w, 2 * w), _bn(bn, 2 * w), act(),
              deconv5(2 * w, w), _bn(bn, w), act(),
              deconv5(w, channels), nn.Tanh()]
    return _generator(layers, nz, init)


@register("dcgan64_d", "dcgan")
def dcgan64_d(width: int = 64, norm: str = "layer", activation: str = "lrelu", init: str = "tflib_std002",
              resolution: int = 64, channels: int = 3) -> nn.Module:
    """gan_64x64.py DCGANDiscriminator: 4 x 5x5 s2 conv, norm (layer for GP) from layer 2, LReLU -> Linear [C]."""
    w, act, r = width, (lambda: _activation(activation)), _start_size(resolution)
    layers = [conv5s2(channels, w), act(),
              conv5s2(w, 2 * w), norm2d(norm, 2 * w), act(),
              conv5s2(2 * w, 4 * w), norm2d(norm, 4 * w), act(),
              conv5s2(4 * w, 8 * w), norm2d(norm, 8 * w), act(),
              nn.Flatten(), nn.Linear(r * r * 8 * w, 1)]
    return _critic(layers, init)


@register("crippled_g", "dcgan")
def crippled_g(nz: int = 128, width: int = 64, init: str = "tflib", resolution: int = 64,
               channels: int = 3) -> nn.Module:
    """gan_64x64.py WGANPaper_CrippledDCGANGenerator: no BN, constant 64 filters, tanh (Figure 2 row 2)."""
    w, r = width, _start_size(resolution)
    layers: list[nn.Module] = [nn.Linear(nz, r * r * w), nn.ReLU(), Reshape(w, r, r)]
    for _ in range(3):
        layers += [deconv5(w, w), nn.ReLU()]
    layers += [deconv5(w, channels), nn.Tanh()]
    return _generator(layers, nz, init)


@register("multiplicative_g", "dcgan")
def multiplicative_g(nz: int = 128, width: int = 64, bn: bool = True, init: str = "tflib", resolution: int = 64,
                     channels: int = 3) -> nn.Module:
    """gan_64x64.py MultiplicativeDCGANGenerator: DCGAN G with 2x channels + sigmoid*tanh gates
    (WGAN-GP Figure 2 row 5)."""
    w, r = width, _start_size(resolution)
    layers = [nn.Linear(nz, r * r * 16 * w), Reshape(16 * w, r, r), _bn(bn, 16 * w), Gate(),
              deconv5(8 * w, 8 * w), _bn(bn, 8 * w), Gate(),
              deconv5(4 * w, 4 * w), _bn(bn, 4 * w), Gate(),
              deconv5(2 * w, 2 * w), _bn(bn, 2 * w), Gate(),
              deconv5(w, channels), nn.Tanh()]
    return _generator(layers, nz, init)


@register("multiplicative_d", "dcgan")
def multiplicative_d(width: int = 64, norm: str = "layer", init: str = "tflib", resolution: int = 64,
                     channels: int = 3) -> nn.Module:
    """gan_64x64.py MultiplicativeDCGANDiscriminator: DCGAN D with gated nonlinearities (Figure 2 row 5)."""
    w, r = width, _start_size(resolution)
    layers = [conv5s2(channels, 2 * w), Gate(),
              conv5s2(w, 4 * w), norm2d(norm, 4 * w), Gate(),
              conv5s2(2 * w, 8 * w), norm2d(norm, 8 * w), Gate(),
              conv5s2(4 * w, 16 * w), norm2d(norm, 16 * w), Gate(),
              nn.Flatten(), nn.Linear(r * r * 8 * w, 1)]
    return _critic(layers, init)


class SubpixelConv(nn.Module):
    """tflib SubpixelConv2D: 1x1 conv to 4*out channels, then TF depth_to_space(2)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = mark(nn.Conv2d(cin, 4 * cout, 1), he=False)

    def forward(self, x: Tensor) -> Tensor:
        return depth_to_space(self.conv(x), 2)


class BottleneckBlock(nn.Module):
    """gan_64x64.py (first commit) bottleneck residual block (4fde7f3 [C]; Figure 2 row 7):
    shortcut + 0.3 * Norm(Conv1x1_nobias(ReLU(Conv3x3(ReLU(Conv1x1(ReLU(x))))))).
    'down': 3x3 stride 2, shortcut 1x1 stride 2; 'up': 3x3 stride-2 transposed conv, subpixel
    shortcut; shortcuts are he_init=False 1x1 convs with bias unless identity."""

    def __init__(self, cin: int, cout: int, resample: str | None, norm: str):
        super().__init__()
        if resample is None and cin == cout:
            self.shortcut: nn.Module = nn.Identity()
        elif resample == "down":
            self.shortcut = mark(nn.Conv2d(cin, cout, 1, stride=2), he=False)
        elif resample == "up":
            self.shortcut = SubpixelConv(cin, cout)
        else:
            self.shortcut = mark(nn.Conv2d(cin, cout, 1), he=False)
        self.conv1 = nn.Conv2d(cin, cin // 2, 1)
        if resample == "down":
            self.conv1b: nn.Module = nn.Conv2d(cin // 2, cout // 2, 3, stride=2, padding=1)
        elif resample == "up":
            self.conv1b = nn.ConvTranspose2d(cin // 2, cout // 2, 3, stride=2, padding=1, output_padding=1)
        else:
            self.conv1b = nn.Conv2d(cin // 2, cout // 2, 3, padding=1)
        self.conv2 = nn.Conv2d(cout // 2, cout, 1, bias=False)
        self.norm = norm2d(norm, cout)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv1b(self.relu(self.conv1(self.relu(x))))
        return self.shortcut(x) + 0.3 * self.norm(self.conv2(self.relu(out)))


class _Scale(nn.Module):
    def __init__(self, factor: float, tanh: bool):
        super().__init__()
        self.factor, self.tanh = factor, tanh

    def forward(self, x: Tensor) -> Tensor:
        x = x * self.factor
        return torch.tanh(x) if self.tanh else x


def _stage(c: int, n: int, norm: str) -> list[nn.Module]:
    return [BottleneckBlock(c, c, None, norm) for _ in range(n)]


@register("resnet101_g", "dcgan")
def resnet101_g(nz: int = 128, width: int = 64, bn: bool = True, init: str = "tflib", resolution: int = 64,
                channels: int = 3) -> nn.Module:
    """gan_64x64.py ResnetGenerator: 33 bottleneck blocks (BN) 4->64 px, 1x1 conv, tanh(x/5) (Figure 2 row 7)."""
    w, norm, r = width, ("batch" if bn else "none"), _start_size(resolution)
    layers: list[nn.Module] = [nn.Linear(nz, r * r * 8 * w), Reshape(8 * w, r, r)]
    for cin, cout in ((8 * w, 4 * w), (4 * w, 2 * w), (2 * w, w), (w, w // 2)):
        layers += _stage(cin, 6, norm) + [BottleneckBlock(cin, cout, "up", norm)]
    layers += _stage(w // 2, 5, norm)
    layers += [mark(nn.Conv2d(w // 2, channels, 1), he=False), _Scale(0.2, tanh=True)]
    return _generator(layers, nz, init)


@register("resnet101_d", "dcgan")
def resnet101_d(width: int = 64, norm: str = "layer", init: str = "tflib", resolution: int = 64,
                channels: int = 3) -> nn.Module:
    """gan_64x64.py ResnetDiscriminator: 1x1 conv, 33 bottleneck blocks 64->4 px, Linear, output/5
    (WGAN-GP Figure 2 row 7)."""
    w, r = width, _start_size(resolution)
    layers: list[nn.Module] = [mark(nn.Conv2d(channels, w // 2, 1), he=False)]
    layers += _stage(w // 2, 5, norm)
    for cin, cout in ((w // 2, w), (w, 2 * w), (2 * w, 4 * w), (4 * w, 8 * w)):
        layers += [BottleneckBlock(cin, cout, "down", norm)] + _stage(cout, 6, norm)
    layers += [nn.Flatten(), nn.Linear(r * r * 8 * w, 1), _Scale(0.2, tanh=False)]
    return _critic(layers, init)


# --- WGAN-GP Table 1 random architectures (32x32) ---------------------------------------------
# The study's code is unreleased: reconstructed [I] from igul222/nn experiments/wgan/wgan_imagenet32_stab.py [C].

def _extra_layers(depth: int) -> int:
    if int(depth) != depth or depth < 4:
        raise ValueError(f"depth {depth} must be an integer >= 4 (Table 1: 4, 8, 12, 20)")
    return int(depth) - 4


@register("table1_g", "dcgan")
def table1_g(nz: int = 128, width: int = 64, depth: int = 4, nonlinearity: str = "relu", norm: str = "batch",
             init: str = "tflib", channels: int = 3) -> nn.Module:
    """Table 1 G (32x32): DCGAN G + (depth-4) 3x3 conv layers at 8x8; nonlinearity/norm/width sampled [P]."""
    w, act = width, (lambda: _activation(nonlinearity))
    layers: list[nn.Module] = [nn.Linear(nz, 4 * 4 * 4 * w), Reshape(4 * w, 4, 4), norm2d(norm, 4 * w), act(),
                               deconv5(4 * w, 2 * w), norm2d(norm, 2 * w), act()]
    for _ in range(_extra_layers(depth)):
        layers += [nn.Conv2d(2 * w, 2 * w, 3, 1, 1), norm2d(norm, 2 * w), act()]
    layers += [deconv5(2 * w, w), norm2d(norm, w), act(), deconv5(w, channels), nn.Tanh()]
    return _generator(layers, nz, init)


@register("table1_d", "dcgan")
def table1_d(width: int = 64, depth: int = 4, nonlinearity: str = "lrelu", norm: str = "layer",
             init: str = "tflib", channels: int = 3) -> nn.Module:
    """Table 1 D (32x32): DCGAN D + (depth-4) 3x3 conv layers at 8x8; layer norm for WGAN-GP (Table 1 [P])."""
    w, act = width, (lambda: _activation(nonlinearity))
    layers: list[nn.Module] = [conv5s2(channels, w), act(), conv5s2(w, 2 * w), norm2d(norm, 2 * w), act()]
    for _ in range(_extra_layers(depth)):
        layers += [nn.Conv2d(2 * w, 2 * w, 3, 1, 1), norm2d(norm, 2 * w), act()]
    layers += [conv5s2(2 * w, 4 * w), norm2d(norm, 4 * w), act(), nn.Flatten(), nn.Linear(4 * 4 * 4 * w, 1)]
    return _critic(layers, init)


# --- WGAN-GP gan_mnist.py (Figure 5b) --------------------------------------------------------

class _Crop(nn.Module):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def forward(self, x: Tensor) -> Tensor:
        return x[:, :, : self.size, : self.size]


@register("wgangp_mnist_g", "dcgan")
def wgangp_mnist_g(nz: int = 128, width: int = 64, batch_norm: bool = False, init: str = "tflib") -> nn.Module:
    """gan_mnist.py Generator: Linear -> 4x4, deconv 8 (crop 7), 14, 28, sigmoid; BN only for clipping [C]."""
    w = width
    layers = [nn.Linear(nz, 4 * 4 * 4 * w), batchnorm1d(4 * 4 * 4 * w) if batch_norm else nn.Identity(), nn.ReLU(),
              Reshape(4 * w, 4, 4),
              deconv5(4 * w, 2 * w), _bn(batch_norm, 2 * w), nn.ReLU(), _Crop(7),
              deconv5(2 * w, w), _bn(batch_norm, w), nn.ReLU(),
              deconv5(w, 1), nn.Sigmoid()]
    return _generator(layers, nz, init)


@register("wgangp_mnist_d", "dcgan")
def wgangp_mnist_d(width: int = 64, batch_norm: bool = False, init: str = "tflib") -> nn.Module:
    """gan_mnist.py Discriminator: 5x5 s2 convs 28->14->7->4, LReLU (BN only for clipping) -> Linear [C]."""
    return _three_conv_critic(1, width, "batch" if batch_norm else "none", init)
