"""The Snakemake DAG: dry-runs at every scale, and a SIGKILLed training job that resumes
to a result bitwise equal to an uninterrupted run."""

import os
import re
import shlex
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

    proc = snakemake("-n", "--forceall", "--cores", "8", f"reports/{scale}/all", "--config", f"scale={scale}")
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
    proc = snakemake("-n", "--cores", "1", "reports/small/all", "--config", "scael=small")
    assert proc.returncode != 0
    assert "scael" in proc.stdout + proc.stderr


SELECTION = "experiments=[wgan_critics]"  # a few jobs at every scale, no dataset


def _declared_outputs(work: Path, target: str) -> list[str]:
    """Every file and folder the target's DAG declares (Snakemake's detailed summary)."""
    proc = snakemake("--forceall", "--detailed-summary", "--cores", "1", "--config", SELECTION, "--", target, cwd=work)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [line.split("\t")[0] for line in proc.stdout.strip().splitlines()[1:]]


def test_a_built_scale_never_makes_another_look_done(tmp_path):
    """After a (fake) smoke build, with every output in place and in DAG order, smoke has nothing
    to do while small and paper, named by their target or as the default target of their
    --config scale, list their own jobs; a target's scale wins over --config scale."""
    work = _workdir(tmp_path)
    for path in _declared_outputs(work, "reports/smoke/all"):
        if path.endswith("/final") or re.fullmatch(r"reports/smoke/[a-z_]+/[a-z0-9_]+", path):  # directory outputs
            (work / path).mkdir(parents=True, exist_ok=True)
        else:
            (work / path).parent.mkdir(parents=True, exist_ok=True)
            (work / path).touch()
    touched = snakemake("--touch", "--cores", "1", "--config", SELECTION, "--", "reports/smoke/all", cwd=work)
    assert touched.returncode == 0, touched.stderr[-2000:]

    def dry(*args: str) -> str:
        proc = snakemake("-n", "--cores", "2", *args, cwd=work)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout + proc.stderr

    assert "Nothing to be done" in dry("reports/smoke/all", "--config", SELECTION)
    for scale, args in (("small", ("reports/small/all", "--config", SELECTION)),
                        ("small", ("--config", "scale=small", SELECTION)),  # the default target
                        ("paper", ("reports/paper/all", "--config", SELECTION)),
                        ("paper", ("--config", SELECTION)),  # config.yaml's scale: paper
                        ("small", ("reports/small/all", "--config", "scale=paper", SELECTION))):
        out = dry(*args)
        stats = job_stats(out)
        assert stats.get("run") == len(cfg.runs_of("wgan_critics", scale)) and stats.get("manifest") == 1, (args, stats)
        assert set(re.findall(r"wildcards: scale=(\w+)", out)) == {scale}, args


def test_make_clean_removes_what_smoke_built_and_keeps_the_other_scales(tmp_path):
    shutil.copy(REPO / "Makefile", tmp_path)
    smoke = ["results/smoke/wgan_critics/gan_s0/result.json", "results/.state/smoke/wgan_critics/gan_s0/checkpoint.pt",
             "reports/smoke/all", "reports/smoke/report.html", "reports/smoke/wgan/fig2/fig2.png",
             "logs/smoke/manifest.log"]
    kept = ["results/small/wgan_critics/gan_s0/result.json", "results/.state/small/wgan_critics/gan_s0/checkpoint.pt",
            "reports/small/all", "logs/small/manifest.log", "reports/notebooks/wgan_fig2.py",
            "data/fashion-mnist/manifest.json", ".snakemake/metadata/record"]
    for path in smoke + kept:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).touch()
    proc = subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert [p for p in smoke if (tmp_path / p).exists()] == []
    assert [p for p in kept if not (tmp_path / p).exists()] == []


def _shell_commands(*config: str, env=None) -> list[list[str]]:
    """The `replicate` command of every job of the whole smoke DAG (dry-run, -p), as argv."""
    proc = snakemake("-n", "-p", "--forceall", "--cores", "8", "reports/smoke/all", "--config", "scale=smoke", *config,
                     env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [line.split("Shell command: ", 1)[-1] for line in (proc.stdout + proc.stderr).splitlines()
             if "-m replication.cli " in line]
    return [shlex.split(line.split(" 2>&1")[0]) for line in lines]


def test_data_root_extra_deltas_device_and_threads_reach_every_job(tmp_path):
    deltas = tmp_path / "deltas.yaml"
    deltas.write_text("{}\n")
    commands = _shell_commands(f"data_root={tmp_path}/d", f"extra_deltas={deltas}", "device=cpu")
    seen = set()
    for argv in commands:
        command = argv[5]
        seen.add(command)
        assert argv[3:5] == ["--data-root", f"{tmp_path}/d"], argv
        if command in ("run", "evaluate", "summarize", "notebook", "scorecard"):
            assert argv[argv.index("--extra-deltas") + 1] == str(deltas), argv
        if command in ("run", "evaluate"):
            assert argv[argv.index("--device") + 1] == "cpu", argv
            assert int(argv[argv.index("--threads") + 1]) == min(cfg.threads_of(argv[6], "smoke"), 8), argv
        if command == "fetch":
            assert argv[argv.index("--root") + 1] == f"{tmp_path}/d", argv
    assert {"fetch", "run", "evaluate", "summarize", "notebook", "scorecard", "manifest"} <= seen, seen
    # REPLICATION_DATA, where set, is the data root of every job too.
    env = {**os.environ, "REPLICATION_DATA": f"{tmp_path}/env"}
    assert {tuple(argv[3:5]) for argv in _shell_commands(env=env)} == {("--data-root", f"{tmp_path}/env")}


@pytest.mark.parametrize("target", ["results/paper/wae/vae_mnist_s0/result.json", "datasets"])
def test_paper_build_lists_every_manual_download_before_any_job(tmp_path, target):
    """The onstart preflight: a paper build whose experiments need a manual download that is not
    there (a training job's, or DVC's data stage) stops before its first job (fetches included),
    naming each with its fix; a dry-run of the same build on this data-less machine still works."""
    work, data = _workdir(tmp_path), tmp_path / "data"
    dry = snakemake("-n", "--cores", "1", target, "--config", f"data_root={data}", cwd=work)
    assert dry.returncode == 0, dry.stderr[-2000:]
    proc = snakemake("--cores", "1", target, "--config", f"data_root={data}", cwd=work, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"missing manual download: celeba ({data}/celeba/raw): run `replicate fetch celeba --root {data} --describe`" in out
    assert ("missing manual download: imagenet32" in out) == (target == "datasets")  # the build's experiments only
    assert "no job was started" in out and "rule fetch" not in out and "rule run" not in out
    assert not data.exists()


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
    proc = snakemake("-n", "--cores", "1", "reports/smoke/all", "--config", "scale=smoke")
    assert "Using workflow specific profile profiles/default" in proc.stdout + proc.stderr
