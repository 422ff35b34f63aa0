"""Layered config: paper settings + scale deltas, typed settings, and one-line errors on bad input."""

import dataclasses
import subprocess
import sys

import pytest
import yaml

from replication import config as cfg
from replication.errors import ReplicationError
from replication.settings import experiments as types
from helpers import REPO, run_cli


def test_every_experiment_resolves_at_every_scale():
    for exp in cfg.experiment_ids():
        paper = cfg.resolve(exp, "paper")
        for scale in cfg.SCALES:
            resolved = cfg.resolve(exp, scale)
            assert type(resolved) is type(paper) is types.SETTINGS[exp], f"{exp} at {scale}"


def test_every_experiment_has_typed_settings():
    assert set(types.SETTINGS) == set(cfg.experiment_ids())
    for cls in types.SETTINGS.values():
        assert dataclasses.is_dataclass(cls)


def test_settings_types_and_the_dag_parse_import_no_torch():
    code = ("import sys; from replication import config as cfg; "
            "[(cfg.runs_of(e, s), cfg.job_resources(e, s)) for e in cfg.experiment_ids() for s in cfg.SCALES]; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("scale, where, delta, message", [
    ("small", "wgan_stability", {"quality": {"sampels": 5}}, "unknown key 'sampels'"),
    ("small", "wgan_stability", {"quality": {"samples": "5"}}, "must be int"),
    ("smoke", "wgangp_toy", {"surface": {"methods": {"gp": {"training": {"lipschitz": {"method": "gpp"}}}}}},
     "unknown method 'gpp'"),
])
def test_a_typo_in_any_block_is_one_line_naming_file_and_key(tmp_path, scale, where, delta, message):
    deltas = tmp_path / "deltas.yaml"
    deltas.write_text(yaml.safe_dump({where: delta}))
    with pytest.raises(ReplicationError, match=message) as err:
        cfg.resolve(where, scale, str(deltas))
    assert "\n" not in str(err.value) and where in str(err.value)


def test_variants_are_merged_over_the_shared_blocks():
    s = cfg.resolve("wgangp_cifar_curves", "smoke")
    assert s.methods["gp_adam"].training.iterations == s.training["iterations"] == 6
    assert s.methods["gp_adam"].networks["critic"]["width"] == 8 and s.methods["dcgan"].networks["critic"]["norm"] == "batch"
    assert s.methods["dcgan"].training.objective == "gan_ns" and s.methods["gp_adam"].training.objective == "wgan"


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


@dataclasses.dataclass(frozen=True, kw_only=True)
class Toy:
    iterations: int
    lr: float
    net: dict


@pytest.fixture()
def toy_settings(monkeypatch):
    monkeypatch.setitem(types.SETTINGS, "toy", Toy)
    yield
    cfg._resolve.cache_clear()
    cfg.scale_file.cache_clear()


def test_scale_delta_is_applied_and_nested(tmp_path, toy_settings):
    root = _config_tree(tmp_path, {"features": "proxy", "toy": {"iterations": 10, "lr": 1, "net": {"width": 8}}})
    resolved = cfg.resolve("toy", "small", config_dir=root)
    assert resolved == Toy(iterations=10, lr=1.0, net={"width": 8})


def test_a_rewritten_deltas_file_gives_new_settings(tmp_path, toy_settings):
    """Settings are cached by the deltas' content, not their path: a killed run resumed with a
    rewritten deltas file (or a control re-using a path) must see the new values."""
    root = _config_tree(tmp_path, {"features": "proxy", "toy": {"iterations": 10, "lr": 1, "net": {"width": 8}}})
    deltas = tmp_path / "deltas.yaml"
    deltas.write_text("toy: {iterations: 3}\n")
    assert cfg.resolve("toy", "small", deltas, config_dir=root).iterations == 3
    deltas.write_text("toy: {iterations: 6}\n")
    assert cfg.resolve("toy", "small", deltas, config_dir=root).iterations == 6


@pytest.mark.parametrize("delta, message", [
    ({"toy": {"iteratons": 10}}, "unknown key 'iteratons'"),
    ({"toy": {"net": {"depth": 3}}}, "unknown key 'depth'"),
    ({"toy": {"iterations": "10"}}, "must be int"),
    ({"toy": {"iterations": 1.5}}, "must be int"),
    ({"nope": {}}, "unknown experiment 'nope'"),
])
def test_bad_scale_delta_is_one_clear_error(tmp_path, toy_settings, delta, message):
    root = _config_tree(tmp_path, {"features": "proxy", **delta})
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


def test_cli_bad_input_is_one_line_and_nonzero():
    for args in (["run", "nope", "x", "--scale", "smoke"], ["run", "wgan_distances", "curves", "--scale", "huge"],
                 ["run", "wgan_distances", "nope", "--scale", "smoke"]):
        proc = run_cli(*args)
        assert proc.returncode == 2
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("replicate: error:"), proc.stderr


def test_extra_deltas_select_runs(tmp_path):
    """An extra deltas file's `runs` list keeps those runs of the matrix (for the DAG, the
    evaluation rule, summaries and notebooks alike) beside its setting deltas; an unknown id is
    one line naming the file."""
    from replication.runs import Results

    kept = ["architectures", "real_score", "gan_baseline", "wgangp_a098"]
    deltas = tmp_path / "d.yaml"
    deltas.write_text(yaml.safe_dump({"wgangp_architectures": {"runs": kept, "training": {"iterations": 3}}}))
    assert list(cfg.runs_of("wgangp_architectures", "paper", str(deltas))) == [
        "architectures", "real_score", "wgangp_a098", "gan_baseline"]  # matrix order
    assert cfg.evaluated_runs("wgangp_architectures", "paper", str(deltas)) == ["wgangp_a098", "gan_baseline"]
    res = Results("wgangp_architectures", "paper", tmp_path, str(deltas))
    assert res.runs(task="train") == ["wgangp_a098", "gan_baseline"] and res.settings.training["iterations"] == 3
    assert len(cfg.runs_of("wgangp_architectures", "paper")) == 404  # without the file: every run

    deltas.write_text(yaml.safe_dump({"wgangp_architectures": {"runs": ["gan_a200"]}}))
    cfg.extra_deltas_of.cache_clear()
    with pytest.raises(ReplicationError, match=r"d\.yaml: wgangp_architectures\.runs names unknown run\(s\) gan_a200"):
        cfg.runs_of("wgangp_architectures", "paper", str(deltas))
