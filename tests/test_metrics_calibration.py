"""metrics_calibration: the 32×32 stand-in (exact pad and crop), the inception-weights registry
entry, and the experiment end to end at a micro config on a tiny Fashion-MNIST fixture."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
import yaml

from replication import claims as claims_mod
from replication.config import runs_of
from replication.data import DATASETS, data_root, describe, fetch, pad_to
from replication.errors import ReplicationError
from replication.runs import Results, execute_run, execute_summary, stable_seed
from replication.metrics.proxy import calibrated_proxy_at, proxy_path
from replication.data import weights as inc
from replication.metrics.proxy_net import prepare
from replication.papercheck.fixtures import fixture_spec, write_cifar, write_classes

EXP = "metrics_calibration"


# -- 32×32 stand-in ------------------------------------------------------------------------

def test_pad_to_32_and_proxy_centre_crop_round_trip():
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (5, 1, 28, 28), generator=g, dtype=torch.uint8)
    padded = pad_to(images, 32)
    assert padded.shape == (5, 1, 32, 32) and padded.dtype == torch.uint8
    assert torch.equal(padded[..., 2:30, 2:30], images)  # exact: no interpolation
    border = padded.clone()
    border[..., 2:30, 2:30] = 0
    assert int(border.sum()) == 0  # background value 0
    assert torch.equal(prepare(padded), prepare(images))  # the proxy crops back, bit for bit
    rgb = pad_to(images.expand(-1, 3, -1, -1), 32)
    assert torch.equal(prepare(rgb), prepare(images))
    assert torch.equal(pad_to(images[:, 0], 32)[:, 2:30, 2:30], images[:, 0])  # N×H×W too
    assert pad_to(images, 28).equal(images)
    for bad in (27, 31):
        with pytest.raises(ReplicationError, match="symmetrically"):
            pad_to(images, bad)
    with pytest.raises(ReplicationError, match="uint8"):
        pad_to(images.float(), 32)


# -- inception-weights in the data registry --------------------------------------------------

def test_inception_weights_fetch_through_the_registry(tmp_path, monkeypatch):
    spec = DATASETS["inception-weights"]
    assert spec.kind == "files" and spec.raw[0].path == inc.INCEPTION_FILE
    assert "replicate fetch inception-weights" in describe("inception-weights", tmp_path)
    with pytest.raises(ReplicationError) as err:  # unreachable: the manual step, naming the fetch command
        monkeypatch.setattr(inc, "INCEPTION_URL", "http://127.0.0.1:9/w.pth")
        fetch("inception-weights", tmp_path)
    assert f"replicate fetch inception-weights --root {tmp_path}" in str(err.value)
    assert inc.INCEPTION_FILE in str(err.value)

    source = tmp_path / "weights.pth"
    source.write_bytes(b"stand-in for the Inception weights")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    monkeypatch.setattr(inc, "INCEPTION_URL", source.as_uri())
    monkeypatch.setattr(inc, "INCEPTION_SHA256", digest)
    manifest = fetch("inception-weights", tmp_path)
    assert manifest == tmp_path / "inception-weights" / "manifest.json"
    assert inc.inception_weights_path(tmp_path).read_bytes() == source.read_bytes()
    check = json.loads(manifest.read_text())["raw"][inc.INCEPTION_FILE]
    assert check == {"check": "pinned-sha256", "digest": digest}
    before = manifest.read_text()
    source.unlink()  # a verified copy means no network and an unchanged manifest
    assert fetch("inception-weights", tmp_path).read_text() == before


# -- a tiny Fashion-MNIST in the real IDX format ---------------------------------------------

@pytest.fixture
def tiny_fashion(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "data"
    raw = root / "fashion-mnist" / "raw"
    write_classes(raw, train=500, test=200)
    monkeypatch.setitem(DATASETS, "fashion-mnist", fixture_spec("fashion-mnist", raw))
    monkeypatch.setenv("REPLICATION_DATA", str(root))
    fetch("fashion-mnist")
    return root


MICRO = {EXP: {"proxy": {"n_train": 400, "n_test": 200, "epochs": 1, "batch_size": 64},
               "reference": {"train_pool": 500, "n_eval": 100, "null_draws": 6, "kid_subsets": 5,
                             "kid_subset_size": 50, "batch_size": 250}}}


def test_run_matrix_declares_the_three_runs():
    runs = runs_of(EXP, "smoke")
    assert runs == {"proxy_fashion-mnist": {"task": "proxy", "dataset": "fashion-mnist"},
                    "proxy_reference": {"task": "reference", "dataset": "fashion-mnist"},
                    "inception_cifar10": {"task": "inception"}}
    from replication.experiments import metrics_calibration as mc
    assert {p["task"] for p in runs.values()} == set(mc.TASKS)


def test_experiment_at_a_micro_config(tmp_path, tiny_fashion):
    deltas = tmp_path / "micro.yaml"
    deltas.write_text(yaml.safe_dump(MICRO))
    results = tmp_path / "results"
    assert data_root() == tiny_fashion

    with pytest.raises(ReplicationError, match="declare it in the experiment's `upstream:`"):
        calibrated_proxy_at(proxy_path(results, "smoke").parent)
    with pytest.raises(ReplicationError, match="replicate run metrics_calibration proxy_fashion-mnist --scale smoke"):
        calibrated_proxy_at(results / "smoke" / EXP / "proxy_fashion-mnist")
    for run in runs_of(EXP, "smoke", deltas):
        execute_run(EXP, run, "smoke", "cpu", 1, results, deltas)
    measured = json.loads(execute_summary(EXP, "smoke", results, deltas).read_text())

    # THE proxy of the scale: where later experiments find it, checked against its sha256 file
    path = proxy_path(results, "smoke")
    assert path == results / "smoke" / EXP / "proxy_fashion-mnist" / "proxy.pt"
    extractor = calibrated_proxy_at(proxy_path(results, "smoke").parent)
    assert extractor.proxy and extractor.weights_sha256 == "proxy:" + path.with_suffix(".sha256").read_text().split()[0]
    res = Results(EXP, "smoke", results, deltas)
    (proxy_run,) = res.runs(task="proxy")
    assert calibrated_proxy_at(res.path(proxy_run)) == extractor  # what the reference run (and later experiments) load
    assert measured["proxy_test_accuracy"]["value"] > 0.5  # chance is 0.1

    # proxy records say so, and carry no Inception label
    records = json.loads((results / "smoke" / EXP / "proxy_reference" / "reference.json").read_text())["records"]
    assert {r["metric"] for r in records} >= {"FID", "KID", "IS", "class coverage", "FID null-test p-value"}
    assert all(r["proxy"] is True and r["weights_sha256"].startswith("proxy:") for r in records)
    null = res.frame("proxy_reference", "null.csv")
    assert len(null) == 6
    # draw k is numpy RandomState(s + k), s = the run's seed for purpose "null" (the claim's measure)
    s = stable_seed(res.settings.seed, EXP, "proxy_reference", "null")
    assert null["seed"].tolist() == [s + k for k in range(6)]
    p = measured["proxy_fid_train_test_pvalue"]["value"]
    assert 1 / 7 <= p <= 1

    # Inception anchors: not evaluated below paper, with the reason (the data is absent here)
    for key in ("inception_is_cifar10_train", "inception_fid_cifar10_train_test"):
        assert measured[key]["value"] is None
        assert "cifar10" in measured[key]["reason"] and "replicate fetch inception-weights" in measured[key]["reason"]
    by_key = {c.key: c for c in claims_mod.load_claims() if c.experiment == EXP}
    verdict, reason, _ = claims_mod.verdict(by_key["inception_is_cifar10_train"], "smoke", measured)
    assert verdict == claims_mod.NOT_EVALUATED and "cifar10" in reason
    verdict, reason, _ = claims_mod.verdict(by_key["proxy_test_accuracy"], "smoke", measured)
    assert verdict == claims_mod.NOT_EVALUATED and "min_scale" in reason

    # a changed proxy file is refused
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ReplicationError, match="recorded checksum"):
        calibrated_proxy_at(proxy_path(results, "smoke").parent)
    with pytest.raises(ReplicationError, match="recorded checksum"):
        calibrated_proxy_at(res.path(proxy_run))


def test_inception_run_at_paper_records_is_and_fid(tmp_path, tiny_fashion, monkeypatch):
    """The paper path end to end on a CIFAR-10 fixture, with the proxy standing in for the
    Inception weights (which cannot be in a test): records, labels and measured keys."""
    from replication.metrics import inception

    deltas = tmp_path / "micro.yaml"
    deltas.write_text(yaml.safe_dump({EXP: {**MICRO[EXP], "inception": {"n_train": 60, "n_test": 40, "is_splits": 5,
                                                                         "batch_size": 30}}}))
    results = tmp_path / "results"
    raw = tiny_fashion / "cifar10" / "raw"
    write_cifar(raw, per_batch=40, varied=True)
    monkeypatch.setitem(DATASETS, "cifar10", fixture_spec("cifar10", raw))
    fetch("cifar10")
    execute_run(EXP, "proxy_fashion-mnist", "paper", "cpu", 1, results, deltas)
    monkeypatch.setattr(inception, "inception_extractor", lambda: calibrated_proxy_at(proxy_path(results, "paper").parent))
    execute_run(EXP, "inception_cifar10", "paper", "cpu", 1, results, deltas)
    out = json.loads((results / "paper" / EXP / "inception_cifar10" / "inception.json").read_text())
    assert out["evaluated"] and [r["metric"] for r in out["records"]] == ["IS", "FID"]
    is_rec, fid_rec = out["records"]
    assert is_rec["n_samples"] == 60 and is_rec["splits"] == 5 and is_rec["shuffled"] is False
    assert fid_rec["reference"] == "cifar10/test" and fid_rec["n_reference"] == 40
    assert all(r["features"] == "proxy classifier" and r["proxy"] for r in out["records"])  # labelled by extractor


def test_inception_run_at_paper_without_weights_names_the_fetch(tmp_path, monkeypatch):
    monkeypatch.setenv("REPLICATION_DATA", str(tmp_path / "empty"))
    with pytest.raises(ReplicationError, match="replicate fetch inception-weights"):
        execute_run(EXP, "inception_cifar10", "paper", "cpu", 1, tmp_path / "results")


def test_claims_flip_at_their_tolerance():
    by_key = {c.key: c for c in claims_mod.load_claims() if c.experiment == EXP}
    cases = {"proxy_test_accuracy": (0.90, 0.899), "proxy_fid_train_test_pvalue": (0.05, 0.049),
             "inception_is_cifar10_train": (11.33, 11.35), "inception_fid_cifar10_train_test": (3.19, 3.21)}
    for key, (inside, outside) in cases.items():
        assert by_key[key].passes(inside) and not by_key[key].passes(outside), key
