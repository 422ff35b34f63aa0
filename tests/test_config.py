"""Layered config: paper settings + scale deltas, and one-line errors on bad input."""

import pytest
import yaml

from replication import config as cfg
from replication.errors import ReplicationError
from helpers import run_cli


def test_every_experiment_resolves_at_every_scale():
    for exp in cfg.experiment_ids():
        paper = cfg.resolve(exp, "paper")
        for scale in cfg.SCALES:
            resolved = cfg.resolve(exp, scale)
            assert set(resolved) == set(paper), f"{exp} at {scale} changed the key set"


def test_every_paper_setting_has_a_source():
    for exp in cfg.experiment_ids():
        doc = cfg.paper_file(exp)
        assert set(doc["settings"]) == set(doc["sources"])


def _config_tree(tmp_path, scale_doc, settings=None, sources=None):
    root = tmp_path / "config"
    (root / "experiments").mkdir(parents=True)
    (root / "scales").mkdir()
    settings = settings or {"iterations": 100, "lr": 0.001, "net": {"width": 64}}
    doc = {"id": "toy", "title": "t", "papers": ["wgan"], "artifacts": ["wgan/fig1"], "threads": 1, "gpu": False,
           "runs": [{"task": "train"}], "settings": settings, "sources": sources or {k: "[I] test" for k in settings}}
    (root / "experiments" / "toy.yaml").write_text(yaml.safe_dump(doc))
    (root / "scales" / "small.yaml").write_text(yaml.safe_dump(scale_doc))
    cfg.paper_file.cache_clear()
    return root


def test_scale_delta_is_applied_and_nested(tmp_path):
    root = _config_tree(tmp_path, {"toy": {"iterations": 10, "lr": 1, "net": {"width": 8}}})
    resolved = cfg.resolve("toy", "small", config_dir=root)
    assert resolved == {"iterations": 10, "lr": 1, "net": {"width": 8}}


@pytest.mark.parametrize("delta, message", [
    ({"toy": {"iteratons": 10}}, "unknown key 'iteratons'"),
    ({"toy": {"net": {"depth": 3}}}, "unknown key 'depth'"),
    ({"toy": {"iterations": "10"}}, "must be int"),
    ({"toy": {"iterations": 1.5}}, "must be int"),
    ({"nope": {}}, "unknown experiment 'nope'"),
])
def test_bad_scale_delta_is_one_clear_error(tmp_path, delta, message):
    root = _config_tree(tmp_path, delta)
    with pytest.raises(ReplicationError, match=message):
        cfg.resolve("toy", "small", config_dir=root)


def test_missing_source_note_is_an_error(tmp_path):
    root = _config_tree(tmp_path, {}, sources={"iterations": "[I] x"})
    with pytest.raises(ReplicationError, match="source note"):
        cfg.paper_file("toy", root)


def test_unknown_scale_and_experiment():
    with pytest.raises(ReplicationError, match="unknown scale 'huge'"):
        cfg.check_scale("huge")
    with pytest.raises(ReplicationError, match="unknown experiment"):
        cfg.selected_experiments(["wgan_distances", "nope"])
    with pytest.raises(ReplicationError, match="unknown key"):
        cfg.workflow_config({"scael": "small"})


def test_cli_bad_input_is_one_line_and_nonzero():
    for args in (["run", "nope", "x", "--scale", "smoke"], ["run", "wgan_distances", "curves", "--scale", "huge"],
                 ["run", "wgan_distances", "nope", "--scale", "smoke"]):
        proc = run_cli(*args)
        assert proc.returncode == 2
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("replicate: error:"), proc.stderr
