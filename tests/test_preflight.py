"""`replicate preflight`: every missing dataset, manual download and weights file of the
selected experiments at once, each with the command that fixes it; passes once all are there."""

import json
from pathlib import Path

from helpers import run_cli

from replication import config as cfg
from replication import preflight
from replication.data import DATASETS

EVERY = cfg.experiment_ids()
PAPER = preflight.needed("paper", EVERY)


def fake_prepared(root: Path, name: str) -> None:
    """What `replicate fetch` leaves: a manifest naming its files, the files at those sizes."""
    home = root / name
    home.mkdir(parents=True)
    spec = DATASETS[name]
    if spec.kind == "files":
        for item in spec.raw:
            (home / item.path).write_bytes(b"weights")
        parts = {}
    else:
        (home / "packed").mkdir()
        (home / "packed" / "train.pt").write_bytes(b"12345")
        parts = {"train": {"file": "packed/train.pt", "bytes": 5}}
    (home / "manifest.json").write_text(json.dumps({"dataset": name, "parts": parts}))


def test_paper_reads_manual_downloads_weights_and_datasets():
    assert {"celeba", "imagenet32", "inception-weights", "lsun-bedroom", "cifar10"} <= set(PAPER)
    assert PAPER["celeba"] == ["wae"] and PAPER["imagenet32"] == ["wgangp_architectures"]


def test_an_empty_data_root_lists_every_input_with_its_fix(tmp_path):
    text, ok = preflight.report("paper", EVERY, tmp_path)
    assert not ok
    lines = text.splitlines()
    assert lines[0] == f"preflight: {len(PAPER)} of {len(PAPER)} inputs missing at scale paper under {tmp_path}"
    assert len(lines) == 1 + len(PAPER)
    for name, users in PAPER.items():
        (line,) = [ln for ln in lines[1:] if f": {name} (" in ln]
        if name in ("celeba", "imagenet32"):
            assert f"missing manual download: {name} ({tmp_path / name / 'raw'}): " \
                   f"run `replicate fetch {name} --root {tmp_path} --describe`" in line
        elif name == "inception-weights":
            assert line.startswith("  missing weights file: inception-weights") and \
                   f"run `replicate fetch inception-weights --root {tmp_path}`" in line
        else:
            assert f"missing dataset: {name} ({tmp_path / name / 'manifest.json'}): " \
                   f"run `replicate fetch {name} --root {tmp_path}`" in line
        assert line.endswith(f"read by {', '.join(users)}")


def test_with_every_input_prepared_it_passes_and_a_truncated_pack_is_missing(tmp_path):
    for name in PAPER:
        fake_prepared(tmp_path, name)
    text, ok = preflight.report("paper", EVERY, tmp_path)
    assert ok and text == f"preflight: ok at scale paper under {tmp_path} ({len(PAPER)} inputs, all present)"
    (tmp_path / "cifar10" / "packed" / "train.pt").write_bytes(b"1234")
    assert [m.dataset for m in preflight.check("paper", EVERY, tmp_path)] == ["cifar10"]
    (tmp_path / "inception-weights" / DATASETS["inception-weights"].raw[0].path).unlink()
    assert [m.kind for m in preflight.check("paper", EVERY, tmp_path)] == ["dataset", "weights file"]


def test_the_workflow_mode_stops_only_on_what_needs_a_person(tmp_path):
    """allow_downloads (the workflow's onstart): what `replicate fetch` downloads itself is the fetch
    rules' job; a manual download whose files are not placed stops the build."""
    _, ok = preflight.report("paper", EVERY, tmp_path, allow_downloads=True)
    assert not ok
    celeba_raw, imagenet_raw = tmp_path / "celeba" / "raw", tmp_path / "imagenet32" / "raw"
    celeba_raw.mkdir(parents=True)
    (celeba_raw / "list_eval_partition.txt").write_text("000001.jpg 0\n")
    (celeba_raw / "img_align_celeba.zip").write_bytes(b"zip")  # placed, not yet unpacked
    for item in DATASETS["imagenet32"].raw:
        (imagenet_raw / item.path).parent.mkdir(parents=True, exist_ok=True)
        (imagenet_raw / item.path).write_bytes(b"batch")
    text, ok = preflight.report("paper", EVERY, tmp_path, allow_downloads=True)
    assert ok and "ok at scale paper" in text and "missing manual download" not in text
    assert f"missing dataset: celeba ({tmp_path / 'celeba' / 'manifest.json'}): run `replicate fetch celeba --root " \
           f"{tmp_path}`  (the workflow's fetch rule gets it)" in text
    assert not preflight.report("paper", EVERY, tmp_path)[1]  # the command itself: everything must be there


def test_command_exits_nonzero_until_everything_is_there(tmp_path):
    proc = run_cli("--data-root", str(tmp_path), "preflight", "--scale", "small")
    assert proc.returncode == 1 and proc.stdout.startswith("preflight: 2 of 2 inputs missing at scale small")
    assert "run `replicate fetch fortunes --root" in proc.stdout
    for name in preflight.needed("small", EVERY):
        fake_prepared(tmp_path, name)
    proc = run_cli("preflight", "--scale", "small", "--data-root", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run_cli("preflight", "--scale", "small", "--experiments", "wgan_nonexistent")
    assert proc.returncode == 2 and "unknown experiment 'wgan_nonexistent'" in proc.stderr
