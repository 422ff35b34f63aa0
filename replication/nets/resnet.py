"""CIFAR-10 ResNet pair of WGAN-GP Table 3 (``gan_cifar_resnet.py`` [C]; Appendix F)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from replication.nets.init import init_network_
from replication.nets.layers import ConditionalBatchNorm2d, mark
from replication.nets.registry import register


def _upsample(x: Tensor) -> Tensor:
    """tflib UpsampleConv's concat x4 + depth_to_space = nearest-neighbour x2."""
    return F.interpolate(x, scale_factor=2, mode="nearest")


class _Norm(nn.Module):
    """Generator batch norm: conditional (per-class scale/offset) when ``classes`` > 0."""

    def __init__(self, channels: int, classes: int):
        super().__init__()
        self.conditional = classes > 0
        self.bn = (ConditionalBatchNorm2d(channels, classes) if self.conditional
                   else nn.BatchNorm2d(channels, track_running_stats=False))

    def forward(self, x: Tensor, y: Tensor | None) -> Tensor:
        return self.bn(x, y) if self.conditional else self.bn(x)


class UpBlock(nn.Module):
    """ResBlock 'up': BN-ReLU-[up, conv3x3]-BN-ReLU-conv3x3 + [up, conv1x1 (he_init=False)]."""

    def __init__(self, cin: int, cout: int, classes: int):
        super().__init__()
        self.n1, self.n2 = _Norm(cin, classes), _Norm(cout, classes)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.shortcut = mark(nn.Conv2d(cin, cout, 1), he=False)

    def forward(self, x: Tensor, y: Tensor | None) -> Tensor:
        out = self.conv1(_upsample(F.relu(self.n1(x, y))))
        out = self.conv2(F.relu(self.n2(out, y)))
        return self.shortcut(_upsample(x)) + out


class ResNetGenerator(nn.Module):
    """gan_cifar_resnet.py Generator; ``forward(z, y=None)``. A conditional generator given no
    labels draws them uniformly (as the code does for samples)."""

    def __init__(self, nz: int, width: int, num_classes: int):
        super().__init__()
        self.nz, self.width, self.num_classes = nz, width, num_classes
        self.input = nn.Linear(nz, 4 * 4 * width)
        self.blocks = nn.ModuleList(UpBlock(width, width, num_classes) for _ in range(3))
        self.out_norm = nn.BatchNorm2d(width, track_running_stats=False)
        self.out = mark(nn.Conv2d(width, 3, 3, padding=1), he=False)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        if self.num_classes and y is None:
            y = torch.randint(self.num_classes, (len(z),), device=z.device)
        x = self.input(z).view(len(z), self.width, 4, 4)
        for block in self.blocks:
            x = block(x, y if self.num_classes else None)
        return torch.tanh(self.out(F.relu(self.out_norm(x))))


@register("resnet_cifar_g", "resnet")
def resnet_cifar_g(nz: int = 128, width: int = 128, num_classes: int = 0, init: str = "tflib") -> nn.Module:
    """gan_cifar_resnet.py G: Linear -> 3 up ResBlocks (conditional BN if num_classes) -> BN, ReLU, conv, tanh."""
    return init_network_(ResNetGenerator(nz, width, num_classes), init)


class DownBlock(nn.Module):
    """Pre-activation ResBlock: ReLU-conv3x3-ReLU-conv3x3[-meanpool] + shortcut.
    'down': shortcut conv1x1 (he_init=False) -> mean-pool; otherwise identity (in == out)."""

    def __init__(self, cin: int, cout: int, down: bool):
        super().__init__()
        self.down = down
        self.conv1 = nn.Conv2d(cin, cin, 3, padding=1)
        self.conv2 = nn.Conv2d(cin, cout, 3, padding=1)
        self.shortcut = mark(nn.Conv2d(cin, cout, 1), he=False) if (down or cin != cout) else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv2(F.relu(self.conv1(F.relu(x))))
        short = self.shortcut(x)
        if self.down:
            out, short = F.avg_pool2d(out, 2), F.avg_pool2d(short, 2)
        return short + out


class OptimizedBlock(nn.Module):
    """First critic block: conv3x3-ReLU-conv3x3-meanpool + meanpool-conv1x1 (he_init=False)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.shortcut = mark(nn.Conv2d(cin, cout, 1), he=False)

    def forward(self, x: Tensor) -> Tensor:
        out = F.avg_pool2d(self.conv2(F.relu(self.conv1(x))), 2)
        return self.shortcut(F.avg_pool2d(x, 2)) + out


class ResNetCritic(nn.Module):
    """gan_cifar_resnet.py Discriminator (no normalisation); ``forward(x, return_logits=False)``
    returns (B, 1), or ((B, 1), (B, classes)) with the ACGAN head."""

    def __init__(self, width: int, acgan: bool, classes: int):
        super().__init__()
        self.blocks = nn.Sequential(OptimizedBlock(3, width), DownBlock(width, width, True),
                                    DownBlock(width, width, False), DownBlock(width, width, False))
        self.output = nn.Linear(width, 1)
        self.acgan = nn.Linear(width, classes) if acgan else None

    def forward(self, x: Tensor, return_logits: bool = False):
        h = F.relu(self.blocks(x)).mean(dim=(2, 3))
        out = self.output(h)
        if not return_logits:
            return out
        if self.acgan is None:
            raise ValueError("return_logits=True needs a critic built with acgan=True")
        return out, self.acgan(h)


@register("resnet_cifar_d", "resnet")
def resnet_cifar_d(width: int = 128, acgan: bool = False, classes: int = 10, init: str = "tflib") -> nn.Module:
    """gan_cifar_resnet.py D: optimised block, down block, 2 plain blocks, ReLU, mean-pool, Linear (+ACGAN head)."""
    return init_network_(ResNetCritic(width, acgan, classes), init)
