"""Weight initialisations of the official code bases (tflib's layer initialisers and WGAN's
``weights_init`` in main.py [C])."""

from __future__ import annotations

import math

import torch
from torch import nn


def tflib_linear_(layer: nn.Linear, mode: str = "glorot") -> None:
    """tflib ``Linear``: uniform on +-sqrt(3)*std, bias 0; std sqrt(2/(fan_in+fan_out))
    ('glorot') or sqrt(2/fan_in) ('he')."""
    fan_out, fan_in = layer.weight.shape
    std = math.sqrt(2.0 / fan_in) if mode == "he" else math.sqrt(2.0 / (fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound)
        if layer.bias is not None:
            layer.bias.zero_()


def dcgan_normal_(module: nn.Module) -> None:
    """WGAN main.py ``weights_init``: conv weights N(0, 0.02), batch-norm gamma N(1, 0.02),
    beta 0. Linear layers keep PyTorch's default (the code matches only Conv/BatchNorm)."""
    name = type(module).__name__
    if "Conv" in name:
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


# --- Whole-network schemes (``init=`` parameter of the registry builders) ------------------
#
# Builders mark layers whose official initialisation differs from the tflib default with
# ``layer.tflib_he = False`` (a conv/deconv built with ``he_init=False``) or
# ``layer.tflib_mode = 'he'`` (a Linear built with ``initialization='he'``).

INIT_SCHEMES = ("torch", "tflib", "tflib_std002", "dcgan_normal", "wae_normal")
WAE_STD = 0.0099999  # WAE configs.py init_std
_CONVS = (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d)
_TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)


def uniform_std_(tensor: torch.Tensor, std: float) -> None:
    """Uniform on +-sqrt(3)*std (tflib's ``uniform(stdev, size)``)."""
    bound = math.sqrt(3.0) * std
    with torch.no_grad():
        tensor.uniform_(-bound, bound)


def tflib_conv_(conv: nn.Module, he_init: bool = True) -> None:
    """tflib ``Conv1D`` / ``Conv2D`` / ``Deconv2D`` [C]: std sqrt(4/(fan_in+fan_out))
    with he_init, else sqrt(2/(fan_in+fan_out)); conv fan_out divides by stride^d, deconv
    fan_in divides by stride^2 (tflib's Deconv2D is always stride 2). Bias 0."""
    k = math.prod(conv.kernel_size)
    stride = math.prod(conv.stride)
    if isinstance(conv, _TRANSPOSED):
        fan_in = conv.in_channels * k / stride
        fan_out = conv.out_channels * k
    else:
        fan_in = conv.in_channels * k
        fan_out = conv.out_channels * k / stride
    std = math.sqrt((4.0 if he_init else 2.0) / (fan_in + fan_out))
    uniform_std_(conv.weight, std)
    if conv.bias is not None:
        with torch.no_grad():
            conv.bias.zero_()


def _reset_norm_(module: nn.Module) -> None:
    if getattr(module, "weight", None) is not None:
        with torch.no_grad():
            module.weight.fill_(1.0)
            module.bias.zero_()


def init_network_(model: nn.Module, scheme: str) -> nn.Module:
    """Apply a named initialisation to every layer of ``model`` (in module order):

    - ``torch``: PyTorch defaults (WGAN MLPs);
    - ``tflib``: He/Glorot uniform per layer [C], honouring ``tflib_he`` /
      ``tflib_mode`` marks; norm scale 1, offset 0;
    - ``tflib_std002``: every Linear/conv weight uniform with std 0.02, biases 0
      (``set_weights_stdev(0.02)`` of gan_64x64.py's DCGAN pair);
    - ``dcgan_normal``: WGAN ``weights_init`` (conv N(0,0.02), BN gamma N(1,0.02), beta 0);
    - ``wae_normal``: WAE ``ops.py``: Linear and deconv N(0, 0.0099999), conv truncated
      normal (TF truncation at 2 std), biases 0, BN gamma 1 beta 0.
    Conditional batch norm's per-class scale/offset tables keep their ones/zeros.
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown init {scheme!r}; choose one of {', '.join(INIT_SCHEMES)}")
    if scheme == "torch":
        return model
    if scheme == "dcgan_normal":
        for m in model.modules():  # skip affine-free norms and conditional-BN wrappers
            if isinstance(getattr(m, "weight", None), torch.Tensor):
                dcgan_normal_(m)
        return model
    for m in model.modules():
        if isinstance(m, nn.Linear):
            if scheme == "tflib":
                tflib_linear_(m, getattr(m, "tflib_mode", "glorot"))
            elif scheme == "tflib_std002":
                uniform_std_(m.weight, 0.02)
            else:
                with torch.no_grad():
                    m.weight.normal_(0.0, WAE_STD)
        elif isinstance(m, _CONVS):
            if scheme == "tflib":
                tflib_conv_(m, getattr(m, "tflib_he", True))
            elif scheme == "tflib_std002":
                uniform_std_(m.weight, 0.02)
            elif isinstance(m, _TRANSPOSED):
                with torch.no_grad():
                    m.weight.normal_(0.0, WAE_STD)
            else:
                nn.init.trunc_normal_(m.weight, 0.0, WAE_STD, -2 * WAE_STD, 2 * WAE_STD)
        elif isinstance(m, _NORMS):
            _reset_norm_(m)
            continue
        else:
            continue
        if m.bias is not None:
            with torch.no_grad():
                m.bias.zero_()
    return model
