"""Checksums, idempotency and the error messages a user sees."""

import gzip
import hashlib
import json

import pytest

from replication.papercheck.fixtures import write_billion_word
from replication.data import DATASETS, data_root, describe, fetch, load_images, load_text
from replication.data.registry import RawItem
from replication.errors import ReplicationError


def flip_byte(path, offset=-20):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_corrupt_raw_file_is_named_with_the_fix(mnist_root):
    target = mnist_root / "mnist" / "raw" / "t10k-labels-idx1-ubyte.gz"
    flip_byte(target)
    with pytest.raises(ReplicationError, match=r"checksum mismatch: .*t10k-labels-idx1-ubyte\.gz.*"
                                               r"delete it and run `replicate fetch mnist --root"):
        fetch("mnist", root=mnist_root)
    assert not (mnist_root / "mnist" / "manifest.json").exists()


def test_recompressed_copy_is_accepted_by_content_md5(mnist_root, monkeypatch):
    """A copy recompressed by a packager (Debian) fails the gz MD5 but keeps the bytes."""
    spec = DATASETS["mnist"]
    raw = mnist_root / "mnist" / "raw"
    items = []
    for item in spec.raw:
        with gzip.open(raw / item.path) as handle:
            items.append(RawItem(item.path, md5="0" * 32, content_md5=hashlib.md5(handle.read()).hexdigest()))
    monkeypatch.setitem(DATASETS, "mnist", spec.__class__(**{**spec.__dict__, "raw": tuple(items)}))
    manifest = json.loads(fetch("mnist", root=mnist_root).read_text())
    assert {check["check"] for check in manifest["raw"].values()} == {"content-md5"}


def test_fetch_is_idempotent_and_repairs_a_corrupt_pack(mnist_root):
    manifest = fetch("mnist", root=mnist_root)
    stamp = manifest.stat().st_mtime_ns
    assert fetch("mnist", root=mnist_root).stat().st_mtime_ns == stamp  # nothing redone

    flip_byte(mnist_root / "mnist" / "packed" / "test.pt", offset=len(b"x") * 5000)
    with pytest.raises(ReplicationError, match=r"packed file .*test\.pt is missing or corrupt: run "
                                               r"`replicate fetch mnist --root"):
        load_images("mnist", "test", root=mnist_root)
    fetch("mnist", root=mnist_root)
    assert len(load_images("mnist", "test", root=mnist_root)) == 10_000


def test_lock_file_recorded_then_verified(tmp_path, use_fixture):
    raw = tmp_path / "billion-word" / "raw"
    folder = write_billion_word(raw)
    use_fixture("billion-word", raw)
    fetch("billion-word", root=tmp_path, limit=10)
    lock = json.loads((tmp_path / "billion-word" / "checksums.lock.json").read_text())
    assert "recorded at first fetch" in lock["note"] and len(lock["items"]) == 1

    (folder / "news.en-00042-of-00100").write_text("edited\n")
    (tmp_path / "billion-word" / "manifest.json").unlink()
    with pytest.raises(ReplicationError, match=r"changed since its checksum was recorded .*checksums\.lock\.json"):
        fetch("billion-word", root=tmp_path, limit=10)
    (tmp_path / "billion-word" / "checksums.lock.json").unlink()  # accept the new files
    fetch("billion-word", root=tmp_path, limit=10)


def test_missing_data_messages(tmp_path):
    with pytest.raises(ReplicationError, match=r"dataset cifar10 is not prepared in .*: run `replicate fetch cifar10"):
        load_images("cifar10", "train", root=tmp_path)
    with pytest.raises(ReplicationError, match=r"imagenet32: missing .*train_data_batch_1.* and 9 more; "
                                               r"log in at image-net.org"):
        fetch("imagenet32", root=tmp_path)
    with pytest.raises(ReplicationError, match="unknown dataset 'nope'; valid names: billion-word, celeba"):
        fetch("nope", root=tmp_path)


def test_failed_download_names_url_and_manual_step(tmp_path, monkeypatch):
    spec = DATASETS["cifar10"]
    archive = spec.archives[0].__class__(**{**spec.archives[0].__dict__, "url": "http://127.0.0.1:9/cifar.tar.gz"})
    monkeypatch.setitem(DATASETS, "cifar10", spec.__class__(**{**spec.__dict__, "archives": (archive,)}))
    with pytest.raises(ReplicationError, match=r"could not download http://127\.0\.0\.1:9/cifar\.tar\.gz .*"
                                               r"Put cifar-10-python\.tar\.gz into .*cifar10/raw by hand"):
        fetch("cifar10", root=tmp_path)
    assert not any((tmp_path / "cifar10" / "raw").iterdir())  # no partial download left


def test_wrong_kind_and_split(mnist_root):
    fetch("mnist", root=mnist_root)
    with pytest.raises(ReplicationError, match="mnist has no split 'valid'; splits: train, test, wgangp-train"):
        load_images("mnist", "valid", root=mnist_root)
    with pytest.raises(ReplicationError, match="use load_images"):
        load_text("mnist", "train", root=mnist_root)


def test_data_root_and_describe(tmp_path, monkeypatch):
    monkeypatch.delenv("REPLICATION_DATA", raising=False)
    assert data_root().name == "data" and (data_root().parent / "replication").is_dir()
    monkeypatch.setenv("REPLICATION_DATA", str(tmp_path))
    assert data_root() == tmp_path
    assert str(data_root("/elsewhere")) == "/elsewhere"
    text = describe("celeba", root=tmp_path)
    assert f"{tmp_path}/celeba/raw/" in text and "list_eval_partition.txt" in text and "wae-test" in text
    assert "published MD5 d32c9cbf5e040fd4025c592c306e6668" in text
