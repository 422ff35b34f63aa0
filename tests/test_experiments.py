"""The experiment framework: run matrices declared in YAML, seeds from run ids, final
networks as checkpoints that rebuild from their registry spec, and the results accessor."""

import pytest
import torch
import yaml

from replication import config as cfg
from replication.errors import ReplicationError
from replication.runs import Results, load_final, stable_seed
from replication.io import save_torch, write_json


def _tree(tmp_path, runs, settings):
    root = tmp_path / "config"
    (root / "experiments").mkdir(parents=True)
    doc = {"id": "toy", "title": "t", "papers": ["wgan"], "artifacts": ["wgan/fig1"], "threads": 1, "gpu": False,
           "runs": runs, "settings": settings, "sources": {k: "[I] test" for k in settings}}
    (root / "experiments" / "toy.yaml").write_text(yaml.safe_dump(doc))
    cfg.paper_file.cache_clear()
    return root


def test_run_matrix_expands_foreach_in_declared_order(tmp_path):
    settings = {"datasets": ["a", "b"], "methods": {"clip": {}, "gp": {}}, "deep": {"clip_values": [0.1, 0.01]}}
    runs = [{"task": "surface", "id": "surface_{dataset}_{method}", "foreach": {"dataset": "datasets", "method": "methods"}},
            {"task": "deep", "id": "deep_c{clip_value:g}", "foreach": {"clip_value": "deep.clip_values"},
             "params": {"method": "clip"}},
            {"task": "exercise"},
            {"task": "learn", "id": "learn_{o}", "foreach": {"o": ["x", "y"]}}]
    matrix = cfg.run_matrix("toy", settings, _tree(tmp_path, runs, settings))
    assert list(matrix) == ["surface_a_clip", "surface_a_gp", "surface_b_clip", "surface_b_gp", "deep_c0.1",
                            "deep_c0.01", "exercise", "learn_x", "learn_y"]
    assert matrix["deep_c0.01"] == {"task": "deep", "clip_value": 0.01, "method": "clip"}
    assert matrix["surface_b_gp"] == {"task": "surface", "dataset": "b", "method": "gp"}


@pytest.mark.parametrize("runs, message", [
    ([{"task": "a"}, {"task": "a"}], "declared twice"),
    ([{"task": "a", "id": "a_{x}"}], "cannot be filled"),
    ([{"task": "a", "foreach": {"x": "nope.deeper"}}], "no setting 'nope.deeper'"),
])
def test_run_matrix_errors_are_one_line(tmp_path, runs, message):
    root = _tree(tmp_path, runs, {"n": 1})
    with pytest.raises(ReplicationError, match=message):
        cfg.run_matrix("toy", {"n": 1}, root)


def test_every_experiment_declares_its_runs_at_every_scale():
    for exp in cfg.experiment_ids():
        for scale in cfg.SCALES:
            matrix = cfg.runs_of(exp, scale)
            assert matrix and all("task" in p for p in matrix.values()), (exp, scale)


def test_seeds_come_from_the_run_and_the_purpose():
    assert stable_seed(0, "exp", "run_a", "init/critic") == stable_seed(0, "exp", "run_a", "init/critic")
    seeds = {stable_seed(0, "exp", run, purpose) for run in ("run_a", "run_b") for purpose in ("init/critic", "eval")}
    assert len(seeds) == 4 and all(0 <= s < 2**31 for s in seeds)


def test_final_networks_rebuild_from_their_spec(tmp_path):
    from replication.nets import build

    spec = {"arch": "mlp", "in_features": 2, "out_features": 1, "width": 8, "depth": 2}
    net = build(spec)
    save_torch(tmp_path / "final" / "critic.pt", {"spec": spec, "step": 3, "state_dict": net.state_dict()})
    loaded = load_final(tmp_path)["critic"]
    x = torch.randn(5, 2)
    assert torch.equal(loaded(x), net(x))
    # a checkpoint of another architecture is one clear line, not a traceback
    other = build({**spec, "width": 16}).state_dict()
    save_torch(tmp_path / "final" / "critic.pt", {"spec": spec, "step": 3, "state_dict": other})
    with pytest.raises(ReplicationError, match="does not fit a mlp built from its own spec") as err:
        load_final(tmp_path)
    assert "\n" not in str(err.value)
    with pytest.raises(ReplicationError, match="no final networks"):
        load_final(tmp_path / "empty")


def test_results_accessor_selects_runs_by_params(tmp_path):
    res = Results("wgan_critics", "smoke", tmp_path)
    assert res.runs(kind="wgan") == ["wgan_s0"] and res.params("gan_s0") == {"task": "critic", "kind": "gan", "replicate": 0}
    write_json(res.path("gan_s0", "result.json"), {"summary": {"steps": 5}})
    assert res.result("gan_s0") == {"steps": 5}
    with pytest.raises(ReplicationError, match="missing result file"):
        res.frame("gan_s0", "curve.csv")


def test_registry_lists_exactly_the_settings_files():
    listed = yaml.safe_load((cfg.CONFIG_DIR / "registry.yaml").read_text())["experiments"]
    assert sorted(listed) == sorted(p.stem for p in (cfg.CONFIG_DIR / "experiments").glob("*.yaml"))


def test_experiment_modules_build_no_optimizer_trainer_or_network():
    """Training is declared and networks come from the registry: the modules only wire data."""
    import ast

    for exp in cfg.experiment_ids():
        path = cfg.REPO / "replication" / "experiments" / f"{exp}.py"
        source = path.read_text()
        for banned in ("torch.optim", "AdversarialSettings(", "nn.Sequential(", "build_optimizer("):
            assert banned not in source, f"{path} uses {banned}"
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b) for b in node.bases}
                assert not bases & {"nn.Module", "torch.nn.Module", "Module"}, f"{path} defines network {node.name}"


def sibling_imports(source: str) -> set[str]:
    """Every replication.experiments.<module> a source imports (top level or inside a function)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            found |= {node.module or ""} | {f"{node.module}.{a.name}" for a in node.names}
    return {n for n in found if n.startswith("replication.experiments.")}


def test_experiments_never_import_each_other():
    """A change to one experiment never silently changes another: what several share lives in
    replication.recipes."""
    assert sibling_imports("def f():\n    from replication.experiments.wgan_stability import judge\n")
    assert sibling_imports("from replication.experiments import wgan_curves\n")
    for exp in cfg.experiment_ids():
        path = cfg.REPO / "replication" / "experiments" / f"{exp}.py"
        found = sibling_imports(path.read_text())
        assert not found, f"{path} imports {sorted(found)}: move the shared part to replication.recipes"
