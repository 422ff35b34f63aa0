"""The proxy classifier as a network and as a torch-fidelity feature extractor
(``replication-proxy-cnn``, registered when this module is imported): what
``replication.metrics.fidelity`` needs to read features, without the training and the
measures of ``replication.metrics.proxy`` (which imports fidelity; this module does not).

Layers: ``features`` = a 32-d linear bottleneck (FID/KID; 32 dims so that FID at a few
hundred samples has a full-rank covariance) and ``logits`` = the 10 class logits, an affine
map of ``features`` (IS), mirroring Inception's pool3 → logits.

Inputs follow torch-fidelity's contract (uint8 B×C×H×W); C = 3 is averaged to grey (exact for
replicated grey). A 32×32 input (the CIFAR-10 stand-in: 28×28 zero-padded by
``replication.data.pad_to``) is centre-cropped back to 28×28, exactly; any other size is
resized deterministically by antialiased bilinear interpolation. Then scaled to [-1, 1].
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch_fidelity import FeatureExtractorBase, register_feature_extractor
from torch_fidelity.helpers import vassert
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

from replication.errors import ReplicationError
from replication.io import load_torch

PROXY_EXTRACTOR = "replication-proxy-cnn"
INPUT_SIZE = 28
CROP_SIZES = (32,)  # sizes made by zero-padding 28×28 (replication.data.pad_to): centre-cropped, not resized
FEATURE_DIM = 32


class ProxyNet(nn.Module):
    """Three conv blocks → 128 hidden → 32-d features → class logits (about 0.45M parameters)."""

    def __init__(self, classes: int = 10, feature_dim: int = FEATURE_DIM):
        super().__init__()

        def block(c_in, c_out, pool):
            layers = [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]
            return layers + [nn.MaxPool2d(2)] if pool else layers

        self.body = nn.Sequential(*block(1, 16, True), *block(16, 32, True), *block(32, 64, False),  # 28→14→7
                                  nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
                                  nn.Linear(128, feature_dim))
        self.head = nn.Linear(feature_dim, classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(x)
        return features, self.head(features)


def prepare(images: torch.Tensor) -> torch.Tensor:
    """uint8 B×H×W or B×C×H×W → float B×1×28×28 in [-1, 1] (32×32: centre crop; other sizes: resize)."""
    x = images.to(torch.float32)
    if x.dim() == 3:
        x = x.unsqueeze(1)
    if x.shape[1] == 3:  # integer sums are exact, so replicated grey maps back bit-exactly
        x = x.sum(1, keepdim=True) / 3
    x = x / 255
    size = tuple(x.shape[-2:])
    if size[0] == size[1] and size[0] in CROP_SIZES:  # exact inverse of pad_to: the centre 28×28
        top = (size[0] - INPUT_SIZE) // 2
        x = x[..., top:top + INPUT_SIZE, top:top + INPUT_SIZE]
    elif size != (INPUT_SIZE, INPUT_SIZE):
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True, align_corners=False)
    return x * 2 - 1


@torch.no_grad()
def load_proxy(path: str | Path) -> tuple[ProxyNet, dict]:
    path = Path(path)
    if not path.is_file():
        raise ReplicationError(f"missing proxy classifier {path}: train it first (replication.metrics.train_proxy)")
    blob = load_torch(path)
    meta = blob["meta"]
    net = ProxyNet(meta["classes"], meta["feature_dim"])
    net.load_state_dict(blob["state_dict"])
    return net.eval().requires_grad_(False), meta


class ProxyFeatureExtractor(FeatureExtractorBase):
    """torch-fidelity adapter: uint8 images → ('features', 'logits') of a saved ProxyNet."""

    def __init__(self, name, features_list, feature_extractor_weights_path=None, **kwargs):
        super().__init__(name, features_list)
        if feature_extractor_weights_path is None:
            raise ReplicationError(f"{PROXY_EXTRACTOR} needs feature_extractor_weights_path (the classifier file)")
        self.net, self.meta = load_proxy(feature_extractor_weights_path)

    @staticmethod
    def get_provided_features_list():
        return "features", "logits"

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return {"isc": "logits", "fid": "features", "kid": "features", "prc": "features"}[metric]

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE, dtype=torch.uint8)

    def forward(self, x):
        vassert(torch.is_tensor(x) and x.dtype == torch.uint8, "Expecting image as torch.Tensor with dtype=torch.uint8")
        features, logits = self.net(prepare(x))
        out = {"features": features, "logits": logits}
        return tuple(out[name] for name in self.features_list)


if PROXY_EXTRACTOR not in FEATURE_EXTRACTORS_REGISTRY:  # registration is global and refuses duplicates
    register_feature_extractor(PROXY_EXTRACTOR, ProxyFeatureExtractor)
