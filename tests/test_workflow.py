"""The Snakemake DAG: dry-runs at every scale, and a SIGKILLed training job that resumes
to a result bitwise equal to an uninterrupted run."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
import yaml

from helpers import REPO, snakemake_bin

from replication import config as cfg


def snakemake(*args, cwd=REPO, **kwargs):
    return subprocess.run([snakemake_bin(), *args], cwd=cwd, capture_output=True, text=True, **kwargs)


def job_stats(out: str) -> dict[str, int]:
    """Snakemake's "Job stats" table (``job  count`` rows up to a blank line) → {rule: count}."""
    lines = out.splitlines()
    start = lines.index("Job stats:")  # ValueError (test error) if the dry-run printed no table
    counts = {}
    for line in lines[start + 1:]:
        if not line.strip():
            break
        rule, count = line.split()
        if count.isdigit():  # skips the "job count" header and the dashes under it
            counts[rule] = int(count)
    return counts


@pytest.mark.parametrize("scale", cfg.SCALES)
def test_dry_run_lists_the_whole_dag(scale):
    from replication import report

    proc = snakemake("-n", "--forceall", "--cores", "8", "reports/all", "--config", f"scale={scale}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout + proc.stderr
    for exp in cfg.experiment_ids():
        assert f"experiment={exp}" in out
    stats = job_stats(out)
    experiments = cfg.selected_experiments("all")  # the workflow's default selection
    expected = {
        "run": sum(len(cfg.runs_of(exp, scale)) for exp in experiments),
        "summarize": len(experiments),
        "notebook": len(report.artifacts(experiments)),
        "scorecard": 1,
        "manifest": 1,
    }
    assert {rule: stats.get(rule) for rule in expected} == expected, stats
    assert stats["total"] == sum(n for rule, n in stats.items() if rule != "total")


def test_unknown_config_key_is_refused():
    proc = snakemake("-n", "--cores", "1", "reports/all", "--config", "scael=small")
    assert proc.returncode != 0
    assert "scael" in proc.stdout + proc.stderr


def _workdir(tmp_path: Path) -> Path:
    """A private copy of the workflow files, so test outputs never touch the repo's results/."""
    work = tmp_path / "work"
    work.mkdir(parents=True)
    shutil.copy(REPO / "Snakefile", work)
    shutil.copytree(REPO / "workflow", work / "workflow")
    shutil.copytree(REPO / "reports" / "notebooks", work / "reports" / "notebooks")
    return work


KILL_DELTAS = {"wgan_distances": {"learn": {"training": {"iterations": 600, "checkpoint_every": 50, "log_every": 10}}}}
TARGET = "results/smoke/wgan_distances/learn_wgan/result.json"


def _run_target(work: Path, deltas: Path, **kwargs):
    return subprocess.Popen([snakemake_bin(), "--cores", "1", "--rerun-incomplete", TARGET, "--config", "scale=smoke",
                             f"extra_deltas={deltas}"], cwd=work, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, **kwargs)


@pytest.mark.slow
def test_sigkilled_snakemake_job_resumes_bitwise(tmp_path):
    deltas = tmp_path / "deltas.yaml"
    deltas.write_text(yaml.safe_dump(KILL_DELTAS))
    straight, killed = _workdir(tmp_path / "a"), _workdir(tmp_path / "b")

    assert _run_target(straight, deltas).wait(timeout=600) == 0

    proc = _run_target(killed, deltas)
    state = killed / "results/.state/smoke/wgan_distances/learn_wgan"
    deadline = time.time() + 300
    while time.time() < deadline:  # kill mid-training: after a checkpoint, before the end
        metrics = state / "metrics.csv"
        if (state / "checkpoint.pt").exists() and metrics.exists() and len(metrics.read_text().splitlines()) > 120:
            break
        assert proc.poll() is None, "training finished before it could be killed"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / TARGET).exists()
    step = torch.load(state / "checkpoint.pt", weights_only=True)["step"]
    assert 0 < step < 600

    # A hard kill leaves Snakemake's lock behind: --unlock is the documented recovery.
    assert snakemake("--unlock", TARGET, "--config", "scale=smoke", f"extra_deltas={deltas}", cwd=killed).returncode == 0
    assert _run_target(killed, deltas).wait(timeout=600) == 0
    a, b = (w / "results/smoke/wgan_distances/learn_wgan" for w in (straight, killed))
    assert (a / "evaluation.csv").read_bytes() == (b / "evaluation.csv").read_bytes()
    for role in ("generator", "critic"):  # the declared final networks, bit for bit
        assert (a / "final" / f"{role}.pt").read_bytes() == (b / "final" / f"{role}.pt").read_bytes()

    # Complete runs are not recomputed; a changed setting reruns them.
    dry = snakemake("-n", "--cores", "1", TARGET, "--config", "scale=smoke", f"extra_deltas={deltas}", cwd=straight)
    assert "Nothing to be done" in dry.stdout + dry.stderr
    # Same file path (so only the settings' digest differs), one setting changed.
    deltas.write_text(yaml.safe_dump({"wgan_distances": {"learn": {"training": {
        **KILL_DELTAS["wgan_distances"]["learn"]["training"], "iterations": 601}}}}))
    dry = snakemake("-n", "--cores", "1", TARGET, "--config", "scale=smoke", f"extra_deltas={deltas}", cwd=straight)
    assert "rule run" in dry.stdout + dry.stderr and "Params have changed" in dry.stdout + dry.stderr


def test_default_profile_is_applied_automatically():
    proc = snakemake("-n", "--cores", "1", "reports/all", "--config", "scale=smoke")
    assert "Using workflow specific profile profiles/default" in proc.stdout + proc.stderr
