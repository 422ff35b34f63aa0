"""Weight initialisations of the official code bases (WGAN_WGANGP.md section 1.5)."""

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
