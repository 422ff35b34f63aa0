"""`dvc repro` end to end at smoke on a one-experiment clone, with a local DVC remote: the repro
builds the reports; `dvc push`, then `dvc pull` into a second clone restores them; a second
`dvc repro` there does nothing; and the pulled final checkpoints rebuild the experiment's table
through the evaluation jobs alone (no training job)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import REPO

EXPERIMENT = "wgangp_language"  # at smoke: 6-iteration runs with evaluation jobs, fortunes (offline) data
ARTIFACT = "wgan_gp/table4"
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "GIT_AUTHOR_NAME": "t",
       "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
       "OMP_NUM_THREADS": "1", "DVC_NO_ANALYTICS": "1"}


def sh(cwd: Path, *args: str) -> str:
    proc = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{' '.join(args)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout + proc.stderr


def one_experiment_clone(dest: Path) -> None:
    """The repository's pipeline files with the registry, scale deltas and notebooks cut down to
    one experiment, at scale smoke (the package is copied too: `python -m` imports it from here)."""
    dest.mkdir()
    for name in ("Snakefile", "dvc.yaml", ".dvcignore", ".gitignore"):
        shutil.copy(REPO / name, dest)
    (dest / "profiles").symlink_to("workflow/profiles")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(REPO / "workflow", dest / "workflow", ignore=ignore)
    shutil.copytree(REPO / "replication", dest / "replication", ignore=ignore)
    notebook = ARTIFACT.replace("/", "_") + ".py"
    (dest / "reports" / "notebooks").mkdir(parents=True)
    shutil.copy(REPO / "reports" / "notebooks" / notebook, dest / "reports" / "notebooks")
    config = dest / "workflow" / "config"
    for settings in (config / "experiments").glob("*.yaml"):
        if settings.stem != EXPERIMENT:
            settings.unlink()
    (config / "registry.yaml").write_text(yaml.safe_dump({"experiments": [EXPERIMENT]}))
    for scale in (config / "scales").glob("*.yaml"):
        deltas = yaml.safe_load(scale.read_text()) or {}
        kept = {k: v for k, v in deltas.items() if k in (EXPERIMENT, "features")}  # features: the scale's own key
        scale.write_text(yaml.safe_dump(kept))
    main = config / "config.yaml"
    main.write_text(main.read_text().replace("scale: paper", "scale: smoke"))


def _files(root: Path) -> dict[str, bytes]:
    """Files under root that DVC versions (live TensorBoard curves are .dvcignore'd)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "tensorboard" not in p.relative_to(root).parts}


@pytest.mark.slow
def test_repro_push_pull_and_evaluation_from_pulled_checkpoints(tmp_path):
    first, second, remote = tmp_path / "first", tmp_path / "second", tmp_path / "remote"
    one_experiment_clone(first)
    sh(first, "git", "init", "-q")
    sh(first, "dvc", "init", "-q")
    sh(first, "dvc", "remote", "add", "-d", "local", str(remote))
    sh(first, "git", "add", "-A")
    sh(first, "git", "commit", "-qm", "pipeline")

    sh(first, "dvc", "repro")
    run_dir = f"results/smoke/{EXPERIMENT}"
    assert (first / "reports/smoke/all").exists() and (first / run_dir / "measured.json").exists()
    checkpoints = sorted((first / run_dir).glob("*/final/*.pt"))
    assert checkpoints  # each training job's final networks are in the experiment stage's outs
    sh(first, "dvc", "push")
    sh(first, "git", "add", "-A")
    sh(first, "git", "commit", "-qm", "results")

    sh(tmp_path, "git", "clone", "-q", str(first), str(second))
    sh(second, "dvc", "pull")
    for out in (run_dir, "reports/smoke"):
        assert _files(second / out) == _files(first / out)
    assert (second / "reports/smoke/all").read_bytes() == (first / "reports/smoke/all").read_bytes()
    assert "Data and pipelines are up to date" in sh(second, "dvc", "status")
    again = sh(second, "dvc", "repro")
    assert "Running stage" not in again, again

    # A reviewer reruns evaluation and reports only: the table comes back from the pulled
    # checkpoints through the evaluation jobs, with no training job.
    sh(second, "snakemake", "--touch", "--cores", "1", "--config", "scale=smoke", "--", "reports/smoke/all")
    table = second / "reports/smoke" / ARTIFACT
    shutil.rmtree(table)
    (second / run_dir / "measured.json").unlink()
    evaluated = sorted((second / run_dir).glob("*/final_metrics.json"))
    assert evaluated  # the experiment has evaluation jobs
    for path in evaluated:
        path.unlink()
    notebook = f"reports/smoke/notebooks/{ARTIFACT.replace('/', '_')}.ipynb"
    (second / notebook).unlink()
    done = sh(second, "snakemake", "--cores", "2", "--config", "scale=smoke", "--", notebook)
    assert "rule run:" not in done and "rule evaluate:" in done and "rule summarize:" in done
    for path in evaluated:  # the same final metrics from the same pulled checkpoints (at the clone's own commit)
        again, before = (json.loads(p.read_text()) for p in (path, first / path.relative_to(second)))
        assert again.pop("commit") != before.pop("commit") and again == before
    assert _files(table).keys() == _files(first / "reports/smoke" / ARTIFACT).keys()
    for name, content in _files(first / "reports/smoke" / ARTIFACT).items():
        if name.endswith(".csv"):
            assert _files(table)[name] == content
