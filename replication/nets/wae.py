"""WAE networks (``tolstikhin/wae`` ``models.py``/``ops.py`` [C]; the VAE
baseline of WAE Section 4 [P]).

Exact TF 'SAME' geometry: ``Conv2dSame`` pads asymmetrically (MNIST k4 s2 7 -> 4) and
``ConvTranspose2dSame`` crops (MNIST's last k4 s1 deconv). Batch norm keeps moving averages
(eps 1e-5, momentum 0.1 = TF decay 0.9): the WAE code evaluates with them."""

from __future__ import annotations

import math

from torch import Tensor, nn

from replication.nets.init import init_network_
from replication.nets.layers import Conv2dSame, ConvTranspose2dSame, Reshape
from replication.nets.registry import register

# dataset -> (kernel, resolution, channels, decoder layers L, latent, output activation)
DATASETS = {
    "mnist": dict(kernel=4, resolution=28, channels=1, layers=3, latent=8, output="sigmoid"),
    "celeba": dict(kernel=5, resolution=64, channels=3, layers=4, latent=64, output="tanh"),
}


def _dataset(name: str) -> dict:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)


class WAEEncoder(nn.Module):
    """4 x (Conv k s2 SAME -> BN -> ReLU) with width/8, /4, /2, width channels, then a Linear
    to the latent (no activation). ``gaussian=True`` adds a log-variance head and returns
    (mu, logvar) (the code's e_noise='gaussian'; the VAE encoder)."""

    def __init__(self, ds: dict, latent: int, width: int, gaussian: bool):
        super().__init__()
        layers: list[nn.Module] = []
        c, size = ds["channels"], ds["resolution"]
        for i in range(4):
            out = width // 2 ** (3 - i)
            layers += [Conv2dSame(c, out, ds["kernel"], 2), _bn(out), nn.ReLU()]
            c, size = out, math.ceil(size / 2)
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.mean = nn.Linear(c * size * size, latent)
        self.logvar = nn.Linear(c * size * size, latent) if gaussian else None

    def forward(self, x: Tensor):
        h = self.features(x)
        if self.logvar is None:
            return self.mean(h)
        return self.mean(h), self.logvar(h)


@register("wae_encoder", "wae", dataset="celeba")
def wae_encoder(dataset: str, latent: int | None = None, width: int = 1024, gaussian: bool = False,
                init: str = "wae_normal") -> nn.Module:
    """WAE dcgan_encoder: 4 strided SAME convs (k4 MNIST / k5 CelebA), BN, ReLU -> FC latent [C]."""
    ds = _dataset(dataset)
    if width % 8:
        raise ValueError(f"width {width} must be a multiple of 8 (channels width/8 .. width)")
    return init_network_(WAEEncoder(ds, latent or ds["latent"], width, gaussian), init)


@register("wae_decoder", "wae", dataset="celeba")
def wae_decoder(dataset: str, latent: int | None = None, width: int = 1024, logits: bool = False,
                init: str = "wae_normal") -> nn.Module:
    """WAE dcgan_mod decoder: FC -> ReLU, (L-1) x (deconv s2, BN, ReLU), deconv s1 -> sigmoid/tanh [C].

    ``logits=True`` drops the output sigmoid/tanh (Bernoulli VAE decoder, BCE with logits; WAE Section 4)."""
    ds = _dataset(dataset)
    latent = latent or ds["latent"]
    n = ds["layers"]
    if width % 2 ** (n - 1):
        raise ValueError(f"width {width} must be a multiple of {2 ** (n - 1)}")
    size = ds["resolution"] // 2 ** (n - 1)
    layers: list[nn.Module] = [nn.Linear(latent, width * size * size), Reshape(width, size, size), nn.ReLU()]
    c = width
    for _ in range(n - 1):
        layers += [ConvTranspose2dSame(c, c // 2, ds["kernel"], 2), _bn(c // 2), nn.ReLU()]
        c //= 2
    layers.append(ConvTranspose2dSame(c, ds["channels"], ds["kernel"], 1))
    if not logits:
        layers.append(nn.Sigmoid() if ds["output"] == "sigmoid" else nn.Tanh())
    net = init_network_(nn.Sequential(*layers), init)
    net.nz = latent
    return net


class LatentAdversary(nn.Module):
    """WAE z_adversary: depth x (Linear(width), ReLU) -> Linear(1) logit, shape (B, 1).
    ``p_trick`` adds the code's log N(z; 0, sigma2 I) = -|z|^2/(2 sigma2) - log(2 pi)/2
    - d log(sigma2)/2 to the logit (gan_p_trick, used for CelebA [C])."""

    def __init__(self, latent: int, width: int, depth: int, p_trick: bool, sigma2: float):
        super().__init__()
        sizes = [latent] + [width] * depth
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], 1))
        self.p_trick, self.sigma2 = p_trick, float(sigma2)

    def forward(self, z: Tensor) -> Tensor:
        logit = self.net(z)
        if self.p_trick:
            log_p = (-(z * z).sum(1, keepdim=True) / (2 * self.sigma2) - 0.5 * math.log(2 * math.pi)
                     - 0.5 * z.shape[1] * math.log(self.sigma2))
            logit = logit + log_p
        return logit


@register("wae_adversary", "wae", latent=64, p_trick=True, sigma2=2.0)
def wae_adversary(latent: int = 8, width: int = 512, depth: int = 4, p_trick: bool = False, sigma2: float = 1.0,
                  init: str = "wae_normal") -> nn.Module:
    """WAE-GAN latent adversary: 4 x (FC 512, ReLU) -> FC 1 logit, optional p-trick (z_adversary [C]; CelebA)."""
    if sigma2 <= 0:
        raise ValueError(f"sigma2 {sigma2} must be positive")
    return init_network_(LatentAdversary(latent, width, depth, p_trick, sigma2), init)
