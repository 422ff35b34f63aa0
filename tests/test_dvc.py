"""dvc.yaml runs the same pipeline: its stages mirror the registries, and each stage's outs
hold exactly the files its Snakemake target builds."""

import subprocess
from pathlib import Path

import pytest
from dvc.repo import Repo

from helpers import REPO, snakemake_bin

from replication import config as cfg
from replication.data import DATASETS

SCALE = cfg.read_yaml(cfg.CONFIG_DIR / "config.yaml")["scale"]


@pytest.fixture(scope="module")
def stages():
    with Repo(str(REPO)) as repo:
        return {s.addressing: (s.cmd, [o.def_path for o in s.outs], [d.def_path for d in s.deps]) for s in repo.index.stages}


def snakemake_outputs(target: str, *config: str, scale: str = SCALE) -> list[str]:
    proc = subprocess.run([snakemake_bin(), "--forceall", "--detailed-summary", "--cores", "1", "--config",
                           f"scale={scale}", *config, "--", target], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()[1:]
    return [line.split("\t")[0] for line in lines]


def _under(path: str, outs: list[str]) -> bool:
    return any(Path(path) == Path(o) or Path(o) in Path(path).parents for o in outs)


def test_stages_mirror_the_registries(stages):
    experiments = {a.split("@")[1] for a in stages if a.startswith("experiment@")}
    assert experiments == set(cfg.experiment_ids())
    assert {"data", "reports"} <= set(stages)


@pytest.mark.parametrize("exp", cfg.experiment_ids())
def test_experiment_stage_outs_hold_its_snakemake_outputs(stages, exp):
    cmd, outs, deps = stages[f"experiment@{exp}"]
    target = f"results/{SCALE}/{exp}/measured.json"
    assert target in cmd and f"experiments=[{exp}]" in cmd
    assert outs == [f"results/{SCALE}/{exp}"]
    assert f"workflow/config/experiments/{exp}.yaml" in deps
    assert stages["data"][1][0] in deps  # after the data stage
    produced = [p for p in snakemake_outputs(target, f"experiments=[{exp}]") if p.startswith("results/")]
    own = [p for p in produced if p.startswith(f"results/{SCALE}/{exp}/")]
    assert own and all(_under(p, outs) for p in own)
    # Anything else it builds belongs to an upstream experiment's stage (e.g. the proxy classifier).
    upstream = {ref.split("/")[0] for ref in cfg.paper_file(exp).get("upstream", [])}
    assert all(p.split("/")[2] in upstream for p in produced if p not in own)


def test_reports_stage_outs_hold_the_report_files(stages):
    cmd, outs, _ = stages["reports"]
    assert cmd.endswith(f"-- reports/{SCALE}/all")
    produced = [p for p in snakemake_outputs(f"reports/{SCALE}/all") if p.startswith("reports/")]
    assert f"reports/{SCALE}/all" in produced and all(_under(p, outs) for p in produced)


def test_data_stage_fetches_what_the_scale_reads(stages):
    cmd, outs, _ = stages["data"]
    assert "-- datasets" in cmd and outs == ["data"]
    fetched = [p for p in snakemake_outputs("datasets") if p.endswith("/manifest.json")]
    assert fetched and all(_under(p, outs) for p in fetched)
    assert {p.split("/")[1] for p in fetched} == {name for exp in cfg.experiment_ids() for name in cfg.datasets_of(exp, SCALE)}


@pytest.mark.parametrize("scale", ["smoke", "small"])
def test_smaller_scales_fetch_no_paper_dataset(scale):
    fetched = {p.split("/")[1] for p in snakemake_outputs("datasets", scale=scale) if p.endswith("/manifest.json")}
    assert fetched and fetched <= set(DATASETS)
    assert not fetched & {"lsun-bedroom", "celeba", "imagenet32", "billion-word", "cifar10", "inception-weights"}
