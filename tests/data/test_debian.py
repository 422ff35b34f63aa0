"""The real offline data on this machine's Debian packages (skipped where not installed)."""

import json
from pathlib import Path

import pytest
import torch

from replication.data import fetch, load_images, load_text

FASHION = Path("/usr/share/datasets/fashion-mnist")
FORTUNES = Path("/usr/share/games/fortunes")


@pytest.mark.skipif(not FASHION.is_dir(), reason="Debian package dataset-fashion-mnist not installed")
def test_fashion_mnist_from_debian(tmp_path):
    manifest = json.loads(fetch("fashion-mnist", root=tmp_path).read_text())
    assert {c["check"] for c in manifest["raw"].values()} <= {"published-md5", "content-md5"}
    train = load_images("fashion-mnist", "train", root=tmp_path)
    test = load_images("fashion-mnist", "test", root=tmp_path)
    assert train.images.shape == (60_000, 1, 28, 28) and test.images.shape == (10_000, 1, 28, 28)
    assert train.images.dtype == torch.uint8 and int(train.images.max()) == 255
    assert torch.bincount(train.labels).tolist() == [6000] * 10
    assert len(load_images("fashion-mnist", "wae-test", root=tmp_path)) == 10_000


@pytest.mark.skipif(not FORTUNES.is_dir(), reason="Debian package fortunes not installed")
def test_fortunes_from_debian(tmp_path):
    fetch("fortunes", root=tmp_path)
    train, test = load_text("fortunes", "train", root=tmp_path), load_text("fortunes", "test", root=tmp_path)
    assert len(train) > 1000 and 0.07 < len(test) / (len(train) + len(test)) < 0.13
    assert all(line and all(" " <= c <= "~" for c in line) and "  " not in line for line in train + test)
    assert not (tmp_path / "fortunes" / "raw" / "fortunes" / "art").exists()
