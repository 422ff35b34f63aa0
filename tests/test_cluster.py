"""The SLURM profile against fake `sbatch`/`squeue`/`sacct`/`sinfo` on PATH: what a GPU training
job, a CPU job and a fetch job ask the scheduler for, as the executor plugin submits them."""

import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import REPO, snakemake_bin

from replication import config as cfg

# sbatch records its arguments (one call a line) and answers a job id; sacct reports every
# submitted job FAILED, so Snakemake resubmits it once (--retries 1) and then stops.
FAKES = {
    "sbatch": 'n=$(wc -l < "$FAKE_SLURM/calls" 2>/dev/null || echo 0); echo "$@" >> "$FAKE_SLURM/calls"; '
              "cat > /dev/null; echo $((1000 + n))",
    "sacct": 'awk \'{print 1000 + NR - 1 "|FAILED"}\' "$FAKE_SLURM/calls" 2>/dev/null',
    "squeue": "true",
    "sinfo": 'echo "cpu* gpu"',
}
GPU_JOB = "results/small/metrics_calibration/proxy_fashion-mnist/result.json"  # gpu: true, 2 threads
CPU_JOB = "results/small/wgan_critics/gan_s0/result.json"  # gpu: false


@pytest.fixture(scope="module")
def submitted(tmp_path_factory):
    """{comment: [sbatch argument strings, one per submission]} and the fetched data root."""
    tmp = tmp_path_factory.mktemp("slurm")
    work, bins, data = tmp / "work", tmp / "bin", tmp / "data"
    work.mkdir(), bins.mkdir(), data.mkdir()
    shutil.copy(REPO / "Snakefile", work)
    shutil.copytree(REPO / "workflow", work / "workflow")
    (work / "profiles").symlink_to("workflow/profiles")  # the default workflow profile applies too
    (data / "fashion-mnist").symlink_to(REPO / "data" / "fashion-mnist")  # present: no fetch
    for name, body in FAKES.items():
        (bins / name).write_text(f"#!/bin/sh\n{body}\n")
        (bins / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{bins}:{Path(sys.executable).parent}:{os.environ['PATH']}", "FAKE_SLURM": str(tmp),
           "CUDA_VISIBLE_DEVICES": ""}  # a login node without a GPU
    env.pop("REPLICATION_DATA", None)
    start = time.time()
    proc = subprocess.run([snakemake_bin(), "--profile", "workflow/profiles/slurm", "--slurm-no-account",
                           "--slurm-init-seconds-before-status-checks", "1", "--seconds-between-status-checks", "1",
                           "--latency-wait", "1", "--retries", "1",
                           "--config", "scale=small", f"data_root={data}", "gpu_model=h200",
                           "--", GPU_JOB, CPU_JOB, f"{data}/fortunes/manifest.json"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert time.time() - start < 300
    calls = (tmp / "calls").read_text().splitlines() if (tmp / "calls").exists() else []
    assert calls, proc.stdout[-3000:] + proc.stderr[-3000:]
    by_rule: dict[str, list[str]] = {}
    for call in calls:
        by_rule.setdefault(re.search(r"--comment (\S+)", call).group(1), []).append(call)
    return by_rule, data


def _flag(call: str, pattern: str) -> str | None:
    found = re.search(pattern, call)
    return found.group(1) if found else None


def test_gpu_training_job_asks_for_one_gpu_its_cpus_memory_and_measured_runtime(submitted):
    by_rule, _ = submitted
    (key,) = [k for k in by_rule if k.startswith("rule_run_") and "metrics_calibration" in k]
    calls = by_rule[key]
    expected = cfg.job_resources("metrics_calibration", "small")
    assert [int(_flag(c, r" -t '?(\d+)")) for c in calls] == [expected["runtime"] * n for n in (1, 2)]  # a retry: twice
    for call in calls:
        assert "--gpus=h200:1" in call
        assert "--cpus-per-gpu=2" in call and "--cpus-per-task" not in call
        assert int(_flag(call, r"--mem (\d+)")) == expected["mem_mb"]
        assert _flag(call, r" -p '?(\w+)") == "gpu"


def test_cpu_job_asks_for_no_gpu(submitted):
    by_rule, _ = submitted
    (key,) = [k for k in by_rule if k.startswith("rule_run_") and "wgan_critics" in k]
    call = by_rule[key][0]
    assert "--gpus" not in call and "--gres" not in call and "gpu" not in _flag(call, r" -p '?(\w+)")
    assert "--cpus-per-task=1" in call
    assert int(_flag(call, r" -t '?(\d+)")) == cfg.job_resources("wgan_critics", "small")["runtime"]


def test_fetch_job_runs_locally(submitted):
    by_rule, data = submitted
    assert not [k for k in by_rule if "fetch" in k]
    assert (data / "fortunes" / "manifest.json").exists()


def test_runtime_follows_the_measured_step_speed_and_counts_the_probes():
    """Iterations at the measured step speed plus the training probes (Figure 3's 1,000-sample IS
    every 1,000 iterations, at step 0 and the end), x1.5, plus the floor."""
    res = cfg.paper_file("wgangp_cifar_curves")["resources"]
    for scale in ("small", "paper"):
        s = cfg.resolve("wgangp_cifar_curves", scale)
        iterations, every = s.training["iterations"], s.training["evaluation"]["every"]
        probes = (iterations // every + 1 + (iterations % every > 0)) * s.inception_score.samples / \
            cfg.FEATURE_IMAGES_S[cfg.features_of(scale)]
        speed = res["gen_it_s"]["paper" if scale == "paper" else "small"]
        expected = cfg.RUNTIME_FLOOR_MIN + cfg.RUNTIME_MARGIN * (iterations / speed + probes) / 60
        assert cfg.job_resources("wgangp_cifar_curves", scale)["runtime"] == pytest.approx(expected, abs=1)


def test_official_probe_cadence_is_in_the_time_limit_and_a_cheaper_one_shortens_it(tmp_path):
    """Table 3's training curve scores 50,000 samples with Inception every 1,000 iterations, as the
    official code does: ~100 passes (and FIDs) that the time limit counts; curve_samples 5,000 (the
    table's number comes from the evaluation job either way) takes most of them off."""
    import yaml

    exp = "wgangp_cifar_resnet"
    with_probes = cfg.training_seconds(exp, "paper")
    without = cfg.training_seconds(exp, "paper", probes=False)
    assert with_probes - without == pytest.approx(
        101 * (50_000 / cfg.FEATURE_IMAGES_S["inception"] + cfg.FID_SOLVE_S["inception"])
        + 50_000 / cfg.FEATURE_IMAGES_S["inception"])
    cheaper = tmp_path / "cheaper.yaml"
    cheaper.write_text(yaml.safe_dump({exp: {"evaluation": {"curve_samples": 5000}}}))
    assert cfg.job_resources(exp, "paper", str(cheaper))["runtime"] < cfg.job_resources(exp, "paper")["runtime"]


def test_each_run_is_timed_by_its_own_iterations():
    """wgan_curves' GAN runs train 400k iterations, its WGAN runs 600k: the job limit is the longest run's."""
    runs = cfg.training_runs("wgan_curves", "paper")
    gan, wgan = (cfg.training_seconds("wgan_curves", "paper", params=runs[r], probes=False)
                 for r in ("gan_dcgan_dcgan_s0", "wgan_dcgan_dcgan_s0"))
    assert wgan == pytest.approx(1.5 * gan)
    longest = max(cfg.training_seconds("wgan_curves", "paper", params=p) for p in runs.values())
    assert cfg.job_resources("wgan_curves", "paper")["runtime"] == \
        cfg.RUNTIME_FLOOR_MIN + math.ceil(cfg.RUNTIME_MARGIN * longest / 60)


@pytest.mark.parametrize("exp", cfg.experiment_ids())
def test_every_experiment_declares_its_job_resources(exp):
    assert cfg.paper_file(exp).get("resources"), f"workflow/config/experiments/{exp}.yaml needs a `resources:` entry"
    for scale in cfg.SCALES:
        assert cfg.job_resources(exp, scale)["runtime"] >= cfg.RUNTIME_FLOOR_MIN
