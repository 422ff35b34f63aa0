"""Local, checksummed Inception weights: lookup, verification, fetch and its failure messages."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from replication.errors import ReplicationError
from replication.data import weights
from replication.metrics import inception as inc


def test_pinned_sha256_matches_the_prefix_in_torch_fidelitys_file_name():
    from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3

    assert weights.INCEPTION_FILE == "weights-inception-2015-12-05-6726825d.pth"
    assert len(weights.INCEPTION_SHA256) == 64 and weights.INCEPTION_SHA256.startswith("6726825d")
    assert weights.INCEPTION_URL == URL_INCEPTION_V3


def test_data_root_rule(tmp_path, monkeypatch):
    monkeypatch.delenv("REPLICATION_DATA", raising=False)
    assert weights.data_root(tmp_path) == tmp_path
    assert weights.data_root() == Path(inc.__file__).resolve().parents[2] / "data"
    monkeypatch.setenv("REPLICATION_DATA", str(tmp_path / "env"))
    assert weights.data_root() == tmp_path / "env"
    assert weights.inception_weights_path() == tmp_path / "env" / "inception-weights" / weights.INCEPTION_FILE


def test_missing_weights_name_path_and_fix(tmp_path):
    with pytest.raises(ReplicationError) as err:
        inc.inception_extractor(tmp_path)
    msg = str(err.value)
    assert str(weights.inception_weights_path(tmp_path)) in msg and weights.INCEPTION_URL in msg
    assert "\n" not in msg


def test_corrupt_weights_are_rejected(tmp_path):
    path = weights.inception_weights_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"truncated download")
    with pytest.raises(ReplicationError, match="corrupt Inception weights"):
        inc.inception_extractor(tmp_path)


def test_verify_checks_the_full_sha256_not_a_prefix(tmp_path, monkeypatch):
    path = tmp_path / "w.pth"
    path.write_bytes(b"weights")
    digest = hashlib.sha256(b"weights").hexdigest()
    assert weights.verify_weights(path, digest) == digest
    with pytest.raises(ReplicationError, match="corrupt Inception weights"):  # same first 32 bits, not the file
        weights.verify_weights(path, digest[:8] + "0" * 56)
    monkeypatch.setattr(weights, "INCEPTION_SHA256", digest)  # the default is the pin, read at call time
    assert weights.verify_weights(path) == digest


def test_fetch_checks_the_hash_and_fails_with_the_manual_step(tmp_path):
    source = tmp_path / "source.pth"
    source.write_bytes(b"fake inception weights")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    root = tmp_path / "data"
    with pytest.raises(ReplicationError, match="could not download"):  # wrong hash: nothing left behind
        weights.fetch_inception_weights(root, url=source.as_uri(), sha256=digest[:8] + "0" * 56, progress=False)
    assert not weights.inception_weights_path(root).exists()
    path = weights.fetch_inception_weights(root, url=source.as_uri(), sha256=digest, progress=False)
    assert path == weights.inception_weights_path(root) and path.read_bytes() == source.read_bytes()
    with pytest.raises(ReplicationError, match="place it at"):  # unreachable host
        weights.fetch_inception_weights(tmp_path / "other", url="http://127.0.0.1:9/w.pth", progress=False)
