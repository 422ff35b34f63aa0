"""Fixtures for the metric tests: a tiny IDX reader (independent of replication.data)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

FASHION = Path("/usr/share/datasets/fashion-mnist")


def read_idx_gz(path: Path) -> torch.Tensor:
    """IDX format: magic (0, 0, dtype 0x08 = uint8, ndim), ndim big-endian int32 sizes, data."""
    raw = gzip.open(path, "rb").read()
    ndim = raw[3]
    shape = np.frombuffer(raw, ">i4", count=ndim, offset=4)
    return torch.from_numpy(np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape).copy())


@pytest.fixture(scope="session")
def fashion_mnist():
    """(train_x, train_y, test_x, test_y) as uint8 / int64 tensors, or skip if not installed."""
    if not (FASHION / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    load = lambda name: read_idx_gz(FASHION / f"{name}-ubyte.gz")  # noqa: E731
    return (load("train-images-idx3"), load("train-labels-idx1").long(),
            load("t10k-images-idx3"), load("t10k-labels-idx1").long())
