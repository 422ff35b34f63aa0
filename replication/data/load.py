"""Packed data sets as tensors, the pixel scalings the papers' code used, and the exact
zero padding that makes 28×28 Fashion-MNIST a 32×32 stand-in for CIFAR-10."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from replication.data.orders import numpy_legacy_order
from replication.data.store import read_split
from replication.data.text import build_charmap, char_lines, encode_lines, is_held_out
from replication.errors import ReplicationError


@dataclass
class ImageSet:
    """``images``: uint8 N×C×H×W (may be memory-mapped: copy before writing in place);
    ``labels``: int64 N, or None where the data set has none."""
    images: torch.Tensor
    labels: torch.Tensor | None
    name: str
    split: str

    def __len__(self) -> int:
        return len(self.images)

    def random_subset(self, n: int, seed: int) -> "ImageSet":
        """Shuffle and keep the first ``n``: tflib/mnist.py mnist_generator(limit=1000) [C]
        (WGAN-GP Figure 5b, the 1000-image subset); its unseeded numpy shuffle gets a seed here."""
        if n > len(self):
            raise ReplicationError(f"{self.name}/{self.split} has {len(self)} images, fewer than {n}")
        keep = torch.from_numpy(numpy_legacy_order(len(self), seed)[:n])
        labels = None if self.labels is None else self.labels[keep]
        return ImageSet(self.images[keep], labels, self.name, f"{self.split}[random {n}, seed {seed}]")


def load_images(name: str, split: str, root: str | os.PathLike | None = None) -> ImageSet:
    spec, data = read_split(name, split, root)
    if spec.kind != "images":
        raise ReplicationError(f"{name} is a {spec.kind} data set: use load_text")
    return ImageSet(data["images"], data["labels"], name, split)


def load_text(name: str, split: str, root: str | os.PathLike | None = None) -> list[str]:
    """The corpus' sentences, unshaped: pass them through ``char_lines`` for the model."""
    spec, data = read_split(name, split, root)
    if spec.kind != "text":
        raise ReplicationError(f"{name} is an {spec.kind} data set: use load_images")
    return data["lines"]


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 → float32 in [0, 1] (x/255). Used by WGAN-GP gan_mnist.py (MNIST, Figure 5b) and WAE
    MNIST (input_normalize_sym=False, sigmoid decoder)."""
    return images.float().div_(255.0)


def to_symmetric_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 → float32 in [-1, 1] as 2·(x/255 − 0.5), in that order of float32 operations.
    Used by WGAN main.py (ToTensor + Normalize(0.5, 0.5), LSUN), WGAN-GP gan_cifar.py,
    gan_64x64.py and the ImageNet 32 study, and WAE CelebA (input_normalize_sym=True, tanh)."""
    return images.float().div_(255.0).sub_(0.5).mul_(2.0)


def to_dequantized_range(images: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """uint8 → float32 as 2·(x/256 − 0.5) + noise/128, ``noise`` ~ U[0, 1) of the images' shape:
    WGAN-GP gan_cifar_resnet.py's real data (uniform dequantisation within each 1/128 bin, so
    values stay in [-1, 1))."""
    return images.float().div_(256.0).sub_(0.5).mul_(2.0).add_(noise.div(128.0))


def pad_to(images: torch.Tensor, size: int) -> torch.Tensor:
    """Zero-pad uint8 ``…×H×W`` images symmetrically to ``size``×``size`` (28 → 32 adds 2 pixels
    on each side): the 32×32 stand-in for CIFAR-10 at scales smoke/small.

    Exact, no interpolation: the border is the background value 0 of (Fashion-)MNIST, and the
    centre crop of ``replication.metrics.proxy.prepare`` gives the original pixels back.
    """
    h, w = images.shape[-2:]
    if images.dtype != torch.uint8:
        raise ReplicationError(f"pad_to expects uint8 images, got {images.dtype}")
    if size < max(h, w) or (size - h) % 2 or (size - w) % 2:
        raise ReplicationError(f"cannot pad {h}×{w} images symmetrically to {size}×{size} "
                               "(needs size ≥ the image and an even difference)")
    top, left = (size - h) // 2, (size - w) // 2
    out = images.new_zeros((*images.shape[:-2], size, size))
    out[..., top:top + h, left:left + w] = images
    return out


def at_resolution(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 images at ``size``×``size``: as they are, or zero-padded by ``pad_to`` (28×28
    Fashion-MNIST as the 32×32 stand-in at smoke/small); larger images are an error (the
    packed sets are already at their paper resolution, e.g. LSUN bedrooms at 64)."""
    if images.shape[-1] > size:
        raise ReplicationError(f"images are {images.shape[-1]} px, larger than the resolution {size}")
    return images if images.shape[-1] == size else pad_to(images, size)


def rgb_at_resolution(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 N×3×``size``×``size``: ``at_resolution``, a grey channel repeated to the 3 channels
    of the CIFAR-10 networks (a view, no copy): Fashion-MNIST as the CIFAR-10 stand-in."""
    images = at_resolution(images, size)
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


@dataclass
class Corpus:
    """Training lines as token indices, held-out lines as tokens, and the vocabulary."""

    train: torch.Tensor               # int16 N x seq_len indices into inv_charmap
    heldout: list[tuple[str, ...]]    # characters outside the vocabulary are 'unk' here too
    inv_charmap: list[str]

    @property
    def vocab(self) -> int:
        return len(self.inv_charmap)

    def decode(self, indices: torch.Tensor) -> list[tuple[str, ...]]:
        return [tuple(self.inv_charmap[i] for i in row) for row in indices.tolist()]


def load_corpus(d) -> Corpus:
    """WGAN-GP gan_language.py's lines of the text data ``d`` (first seq_len characters, padded
    with '`'; vocabulary of the training lines, 'unk' first, then by decreasing count) and the
    held-out text: the dataset's own held-out split, or (``heldout_split: null``) the fixed
    sha1-10% of the training split (``replication.data.text.is_held_out``, the rule that splits
    fortunes)."""
    lines = load_text(d.dataset, d.train_split)
    if d.heldout_split is None:
        held = [line for line in lines if is_held_out(line)]
        lines = [line for line in lines if not is_held_out(line)]
    else:
        held = load_text(d.dataset, d.heldout_split)
    if not lines or not held:
        raise ReplicationError(f"{d.dataset}: {len(lines)} training and {len(held)} held-out lines; need both")
    train, held = char_lines(lines, d.seq_len), char_lines(held, d.seq_len)
    charmap, inv_charmap = build_charmap(train, d.max_vocab)
    corpus = Corpus(encode_lines(train, charmap).to(torch.int16), [], inv_charmap)
    corpus.heldout = corpus.decode(encode_lines(held, charmap))
    return corpus
