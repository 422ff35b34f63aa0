"""Data sets: fetch (download or copy, verify by checksum, pack once) and load.

    fetch(name, root=None, *, limit=None, workers=1) -> Path      # manifest.json
    describe(name, root=None) -> str                              # where files go, manual steps
    load_images(name, split, root=None) -> ImageSet               # uint8 N×C×H×W + labels
    load_text(name, split, root=None) -> list[str]
    to_unit_range / to_symmetric_range                            # the papers' pixel scalings
    pad_to(images, 32)                                            # exact zero pad: 28×28 → 32×32 stand-in
    at_resolution(images, 32)                                     # as packed, or pad_to when smaller
    rgb_at_resolution(images, 32)                                 # the same, grey repeated to 3 channels
    to_dequantized_range(images, noise)                           # WGAN-GP ResNet: 2·(x/256 − 0.5) + U/128
    char_lines / build_charmap / encode_lines                     # WGAN-GP language shaping

Splits: mnist and fashion-mnist have train, test (official), wgangp-train / wgangp-valid
(mnist.pkl.gz: first 50k / last 10k of train) and wae-train / wae-test (WAE's re-split of
all 70k); celeba has train, valid, test (official) and wae-train / wae-test; cifar10 train,
test; imagenet32 train, valid; lsun-bedroom train; billion-word train; fortunes train, test.
``ImageSet.random_subset(1000, seed)`` is WGAN-GP's 1000-image subset.
"""

from replication.data.load import (ImageSet, at_resolution, load_images, load_text, pad_to, rgb_at_resolution,
                                   to_dequantized_range, to_symmetric_range, to_unit_range)
from replication.data.registry import DATASETS, DatasetSpec, RawItem, Archive, Split, get_spec, register
from replication.data.store import data_root, describe, fetch
from replication.data.text import build_charmap, char_lines, encode_lines
from replication.data import weights  # noqa: F401 (registers inception-weights)

__all__ = [
    "DATASETS", "Archive", "DatasetSpec", "ImageSet", "RawItem", "Split", "at_resolution", "build_charmap", "char_lines",
    "data_root", "describe", "encode_lines", "fetch", "get_spec", "load_images", "load_text", "pad_to", "register",
    "rgb_at_resolution", "to_dequantized_range", "to_symmetric_range", "to_unit_range",
]
