"""Files from others cannot run code: a file whose unpickling would execute code (a
``__reduce__`` that creates a marker file) is refused with one line naming it, wherever the
harness reads such files, and the marker never appears."""

from __future__ import annotations

import hashlib
import io

import json
import types
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from replication.errors import ReplicationError
from replication.io import CONVERT_COMMAND, load_pickle_data, load_torch, save_torch


class Payload:
    """Unpickling this calls ``open(marker, "w")``: the file appears iff code from the file ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


@pytest.fixture
def marker(tmp_path) -> Path:
    path = tmp_path / "code-ran"
    yield path
    assert not path.exists(), "unpickling ran code from the file"


def torch_file(path: Path, marker: Path, **extra) -> Path:
    """A torch.save zip, as a checkpoint would be, holding the payload."""
    buffer = io.BytesIO()
    torch.save({"state_dict": {}, "spec": {"arch": "mlp"}, "payload": Payload(marker), **extra}, buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


def refused(call, path: Path, match: str = "refused") -> str:
    with pytest.raises(ReplicationError, match=match) as err:
        call()
    message = str(err.value)
    assert str(path) in message and "\n" not in message
    return message


def test_the_payload_runs_code_under_a_full_unpickle(tmp_path):
    """The control: the crafted files below would create the marker if anything fully unpickled them."""
    marker = tmp_path / "code-ran"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()
    marker.unlink()
    torch.load(torch_file(tmp_path / "f.pt", marker), weights_only=False)
    assert marker.exists()
    marker.unlink()


def test_training_state(tmp_path, marker):
    trainer = _trainer(tmp_path / "state")
    torch_file(trainer.checkpoint_path, marker, step=3)
    message = refused(trainer.resume, trainer.checkpoint_path)
    assert f"{CONVERT_COMMAND} {trainer.checkpoint_path}" in message


def test_legacy_pickle_is_never_unpickled(tmp_path, marker):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(pickle.dumps({"step": Payload(marker)}))  # torch's pre-1.6 format is a bare pickle
    refused(lambda: load_torch(path), path, "unreadable checkpoint .*not a torch.save zip")


def test_final_networks(tmp_path, marker):
    from replication.runs import load_final

    path = torch_file(tmp_path / "run" / "final" / "critic.pt", marker)
    refused(lambda: load_final(tmp_path / "run"), path)


def test_proxy_classifier(tmp_path, marker):
    from replication.metrics.fidelity import extract_features
    from replication.metrics.proxy import calibrated_proxy_at
    from replication.metrics.proxy_net import load_proxy

    run = tmp_path / "results" / "smoke" / "metrics_calibration" / "proxy_fashion-mnist"
    path = torch_file(run / "proxy.pt", marker)
    refused(lambda: load_proxy(path), path)
    # its recorded checksum travels with it, so the check passes; the load still refuses it
    (run / "proxy.sha256").write_text(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  proxy.pt\n")
    extractor = calibrated_proxy_at(run)
    refused(lambda: extract_features(torch.zeros(2, 1, 28, 28, dtype=torch.uint8), extractor, ["features"]), path)


def test_packed_data(tmp_path, marker):
    from replication.data.store import read_split

    home = tmp_path / "fortunes"
    path = torch_file(home / "packed" / "train.pt", marker)
    # the manifest travels with the data (DVC), so its checksum matches the crafted file
    info = {"file": "packed/train.pt", "bytes": path.stat().st_size,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "count": 1}
    (home / "manifest.json").write_text(json.dumps({"format": 1, "parts": {"train": info}}))
    refused(lambda: read_split("fortunes", "train", tmp_path), path)


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_cifar_and_imagenet_batches(tmp_path, marker, protocol):
    from replication.data.images import read_pickle_batches

    path = tmp_path / "data_batch_1"
    entry = {"data": np.zeros((1, 3072), np.uint8), "labels": [Payload(marker)]}
    path.write_bytes(pickle.dumps(entry, protocol=protocol))
    message = refused(lambda: next(read_pickle_batches([path], 32)), path)
    assert "open" in message  # names what it refused


def test_python2_cifar_batch_still_reads(tmp_path):
    """Real CIFAR-10 batches are Python 2 pickles: numpy.core names, pixel bytes as a str
    (read with latin1), numpy scalars are allowed too."""
    data = np.arange(2 * 3072, dtype=np.uint32).astype(np.uint8).reshape(2, 3072)

    class Py2Array:  # what Python 2 numpy's ndarray.__reduce__ wrote
        def __reduce__(self):
            return (np.zeros(0).__reduce__()[0], (np.ndarray, (0,), b"b"),
                    (1, data.shape, data.dtype, False, data.tobytes().decode("latin1")))

    raw = pickle.dumps({"data": Py2Array(), "labels": [np.int64(3), 7], "batch_label": "b"}, protocol=2)
    path = tmp_path / "data_batch_1"
    path.write_bytes(raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    entry = load_pickle_data(path)
    assert np.array_equal(entry["data"], data) and entry["labels"] == [3, 7]


def test_inception_weights(tmp_path, marker, monkeypatch):
    from replication.data import fetch
    from replication.data import weights
    from replication.metrics import inception as inc
    from replication.metrics.fidelity import extract_features

    path = torch_file(weights.inception_weights_path(tmp_path), marker)
    refused(lambda: inc.inception_extractor(tmp_path), path, "corrupt Inception weights")
    monkeypatch.setattr(weights, "INCEPTION_URL", "http://127.0.0.1:9/w.pth")
    refused(lambda: fetch("inception-weights", tmp_path), path, "corrupt Inception weights")
    # were the pin itself wrong, torch-fidelity's own torch.load(weights_only=False) is still made weights-only
    monkeypatch.setattr(weights, "INCEPTION_SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    extractor = inc.inception_extractor(tmp_path)
    refused(lambda: extract_features(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), extractor, ["2048"]), path)


def test_wae_figure_arrays(tmp_path, marker):
    from replication.recipes.plots import autoencoder_panels

    path = tmp_path / "figures.npz"
    np.savez(path, reconstructions=np.array([Payload(marker)], dtype=object))

    class Results:  # the three things autoencoder_panels asks of a results folder
        settings = types.SimpleNamespace(models=["vae"], seeds=[0])

        def run(self, **where):
            return "vae_s0"

        def path(self, run, name):
            return tmp_path / name

    refused(lambda: autoencoder_panels(Results(), "mnist", "title"), path)


def test_old_checkpoint_is_refused_then_converted_and_resumes_bitwise(tmp_path):
    """A checkpoint.pt written before weights-only loading (numpy's RNG state as an array) is
    refused with the convert command; after it, the run resumes bitwise."""
    from helpers import Killed, kill_at
    from replication.cli import main

    straight = _trainer(tmp_path / "a").fit()
    killed = _trainer(tmp_path / "b", on_iteration=kill_at(4))
    with pytest.raises(Killed):
        killed.fit()
    state = load_torch(killed.checkpoint_path)
    name, key, *rest = state["rng"]["numpy"]
    state["rng"]["numpy"] = (name, np.asarray(key, dtype=np.uint32), *rest)  # the old form
    torch.save(state, killed.checkpoint_path)
    message = refused(lambda: _trainer(tmp_path / "b").resume(), killed.checkpoint_path)
    assert f"`{CONVERT_COMMAND} {killed.checkpoint_path}`" in message
    assert main(["convert-checkpoints", str(killed.checkpoint_path)]) == 0
    assert main(["convert-checkpoints", str(killed.checkpoint_path)]) == 0  # a converted file is left alone
    resumed = _trainer(tmp_path / "b")
    assert resumed.resume() and resumed.iteration == 3
    resumed.fit()
    for role, net in straight.networks.items():
        after = resumed.networks[role].state_dict()
        assert all(torch.equal(value, after[k]) for k, value in net.state_dict().items()), role


def test_convert_refuses_a_crafted_file(tmp_path, marker):
    from replication.train.loop import convert_checkpoint

    path = torch_file(tmp_path / "checkpoint.pt", marker)
    refused(lambda: convert_checkpoint(path), path, "cannot convert")


def test_checkpoints_hold_plain_data_only(tmp_path):
    """What the harness writes loads weights-only (the loader allow-lists nothing)."""
    trainer = _trainer(tmp_path / "s").fit()
    written = trainer.write_outputs(tmp_path / "out")
    for path in (trainer.checkpoint_path, written["critic"], written["generator"]):
        torch.load(path, weights_only=True)
    save_torch(tmp_path / "x.pt", {"numpy": np.zeros(2)})
    with pytest.raises(ReplicationError, match="refused"):
        load_torch(tmp_path / "x.pt")


def _trainer(state_dir: Path, on_iteration=None):
    from replication.data.batches import SamplerSource
    from replication.train import Sources, build_trainer

    device = torch.device("cpu")
    nets = {"generator": {"arch": "mlp", "in_features": 2, "out_features": 2, "width": 8, "depth": 1},
            "critic": {"arch": "mlp", "in_features": 2, "out_features": 1, "width": 8, "depth": 1}}
    block = {"objective": "wgan", "iterations": 7, "batch_size": 8, "lipschitz": {"method": "clip"},
             "critic_schedule": {"n_critic": 2}, "log_every": 1, "checkpoint_every": 3,
             "optimizers": {"critic": {"name": "rmsprop", "lr": 1e-3}, "generator": {"name": "adam", "lr": 1e-3}}}
    sources = Sources(real=SamplerSource(lambda n, g: torch.randn(n, 2, generator=g) + 2, 8, device, 1),
                      noise=SamplerSource(lambda n, g: torch.randn(n, 2, generator=g), 8, device, 2))
    return build_trainer(block, nets, sources, device=device, state_dir=state_dir, seed_for=lambda p: 0,
                         on_iteration=on_iteration, progress="test")
