"""Fixtures that write tiny data sets in each source's real on-disk format (the writers live in
``replication.papercheck.fixtures``, shared with the paper-shape check).

``use_fixture`` registers a copy of the data set's spec whose MD5s are those of the fixture files
(and with no download sources): everything else (verification, packing, splits, loading) is the
real code path."""

from __future__ import annotations

from pathlib import Path

import pytest

from replication.data import DATASETS
from replication.papercheck.fixtures import fixture_spec, write_mnist


@pytest.fixture
def use_fixture(monkeypatch):
    """use_fixture(name, raw, **spec_changes): point the spec's MD5s at the fixture files."""
    def apply(name: str, raw: Path, **changes):
        monkeypatch.setitem(DATASETS, name, fixture_spec(name, raw, **changes))
        return DATASETS[name]
    return apply


@pytest.fixture(scope="session")
def mnist_raw(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("mnist-raw")
    write_mnist(raw)
    return raw


@pytest.fixture
def mnist_root(tmp_path, mnist_raw, use_fixture):
    """A data root with the MNIST fixture in <root>/mnist/raw/."""
    raw = tmp_path / "mnist" / "raw"
    raw.mkdir(parents=True)
    for path in mnist_raw.iterdir():
        (raw / path.name).write_bytes(path.read_bytes())
    use_fixture("mnist", raw)
    return tmp_path
