# Configuration, validation and the helpers every rule file uses (no rule logic here).
# Parsing the DAG imports no torch and no experiment module: run matrices are declared in the
# experiments' YAML (replication.config.run_matrix), so one broken module breaks only its jobs.

import functools
import os
import shlex
import shutil
import subprocess
import sys

from snakemake.utils import validate

from replication import config as cfg
from replication.errors import ReplicationError

validate(config, "../schemas/config.schema.yaml")

try:
    SCALE = cfg.check_scale(config["scale"])
    SELECTED = cfg.selected_experiments(config["experiments"])
    EXTRA = config.get("extra_deltas") or None
    for _exp in SELECTED:  # bad extra deltas or run matrices: one line here, not one per job
        cfg.runs_of(_exp, SCALE, EXTRA)
except ReplicationError as err:
    raise WorkflowError(str(err)) from None

DATA_ROOT = os.environ.get("REPLICATION_DATA") or config["data_root"]
# The interpreter running Snakemake has the package: no reliance on an activated venv. Every
# job gets the data root on its command line (a fresh shell, or a cluster node, may lack the
# variable); it is outside the rules' shell text, so moving the data reruns nothing.
REPLICATE_ARGV = [sys.executable, "-m", "replication.cli", "--data-root", DATA_ROOT]
REPLICATE = shlex.join(REPLICATE_ARGV)
EXTRA_ARG = f"--extra-deltas {EXTRA}" if EXTRA else ""
ALL_EXPERIMENTS = cfg.experiment_ids()
ARTIFACT_OF = {a.replace("/", "_"): a for exp in ALL_EXPERIMENTS for a in cfg.paper_file(exp)["artifacts"]}
EXPERIMENT_OF = {a.replace("/", "_"): exp for exp in ALL_EXPERIMENTS for a in cfg.paper_file(exp)["artifacts"]}


def _visible_gpus() -> int:
    """NVIDIA GPUs this machine lists (nvidia-smi; no torch import while parsing), or those
    CUDA_VISIBLE_DEVICES names."""
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        return len([d for d in os.environ["CUDA_VISIBLE_DEVICES"].split(",") if d.strip() and d.strip() != "-1"])
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(line.startswith("GPU ") for line in listed.splitlines())


GPUS = _visible_gpus()

# One GPU job per visible GPU at a time (without a limit Snakemake ignores resources locally and
# --cores 8 would start eight trainings on one GPU); `--resources gpu=N` overrides. Each job asks
# for at most one GPU, so the limit never lowers a request; the SLURM profile scopes gpu `local`
# so that it does not bound the cluster's jobs either.
if GPUS and "gpu" not in workflow.global_resources:
    workflow.register_resource("gpu", GPUS)


def on_gpu() -> bool:
    """Whether runs train on a GPU: device cuda*, or auto where there is one: on this machine, or
    on the nodes a cluster executor (SLURM) submits to, whose login node often has none. Called
    per job, once Snakemake knows its executor (unknown while the Snakefile is parsed)."""
    device = config["device"]
    return device.startswith("cuda") or (device == "auto" and (GPUS > 0 or not workflow.local_exec))


wildcard_constraints:
    scale="smoke|small|paper",
    experiment="|".join(ALL_EXPERIMENTS),
    run="[A-Za-z0-9_.-]+",
    notebook="|".join(ARTIFACT_OF) or "none",


def experiment_threads(wildcards):
    return cfg.threads_of(wildcards.experiment, wildcards.scale)


def experiment_gpu(wildcards):
    """gpu=1 only for runs that train on a GPU: CPU runs (smoke/small here) ask for none."""
    return int(cfg.paper_file(wildcards.experiment)["gpu"] and on_gpu())


def experiment_gpu_model(wildcards):
    """The GPU model a GPU job asks for (config gpu_model, e.g. a100: --gpus=a100:1); none otherwise."""
    return (config.get("gpu_model") or "") if experiment_gpu(wildcards) else ""


def experiment_cpus_per_gpu(wildcards, threads):
    """A GPU job's threads as --cpus-per-gpu (0: CPU jobs ask --cpus-per-task)."""
    return threads if experiment_gpu(wildcards) else 0


def experiment_runtime(wildcards, attempt):
    """Minutes from the experiment's measured step speed (its `resources:`); a retried job
    resumes from its checkpoint with twice the time."""
    minutes = cfg.job_resources(wildcards.experiment, wildcards.scale, EXTRA).get("runtime")
    return minutes * attempt if minutes else None  # None: the profile's default-resources


def experiment_mem_mb(wildcards):
    return cfg.job_resources(wildcards.experiment, wildcards.scale, EXTRA).get("mem_mb", cfg.MEM_MB[wildcards.scale])


def run_inputs(wildcards):
    """Datasets (fetched first) and upstream runs (e.g. the proxy classifier) a run reads."""
    doc = cfg.paper_file(wildcards.experiment)
    data = [f"{DATA_ROOT}/{name}/manifest.json" for name in cfg.datasets_of(wildcards.experiment, wildcards.scale)]
    own = f"{wildcards.experiment}/{wildcards.run}"  # a run never waits for itself (metrics_calibration)
    upstream = [f"results/{wildcards.scale}/{ref}/result.json" for ref in doc.get("upstream", []) if ref != own]
    return data + upstream


def settings_digest(wildcards):
    """A changed setting or scale delta reruns the experiment's runs (Snakemake's params rerun
    trigger); the run then starts over instead of resuming its saved state (replication.runs)."""
    return cfg.settings_digest(wildcards.experiment, wildcards.scale, EXTRA)


@functools.cache
def runs_at(experiment, scale):
    """The run ids of an experiment at the scale its target names (not necessarily config["scale"])."""
    return list(cfg.runs_of(experiment, scale, EXTRA))


def run_results(wildcards):
    return expand("results/{scale}/{experiment}/{run}/result.json", scale=wildcards.scale,
                  experiment=wildcards.experiment, run=runs_at(wildcards.experiment, wildcards.scale))


def final_metrics(wildcards):
    """The generic evaluation of runs that declare `evaluate: true` (rerunnable from pulled checkpoints)."""
    runs = cfg.evaluated_runs(wildcards.experiment, wildcards.scale, EXTRA)
    return expand("results/{scale}/{experiment}/{run}/final_metrics.json", scale=wildcards.scale,
                  experiment=wildcards.experiment, run=runs)


def measured(scale, experiments):
    return expand("results/{scale}/{experiment}/measured.json", scale=scale, experiment=experiments)


def paper_preflight():
    """Before the first job of a build with `paper` training or evaluation jobs, or of the
    `datasets` target at paper (the Snakefile's onstart: never in a dry-run): every manual
    download their experiments need, listed at once by `replicate preflight`; what
    `replicate fetch` downloads by itself is left to the fetch rules."""
    if workflow.touch:
        return
    jobs = list(workflow.dag.needrun_jobs())
    experiments = {job.wildcards.experiment for job in jobs
                   if job.rule.name in ("run", "evaluate") and job.wildcards.scale == "paper"}
    if SCALE == "paper" and any(job.rule.name == "datasets" for job in jobs):
        experiments.update(SELECTED)
    if experiments:
        experiments = sorted(experiments)
        checked = subprocess.run([*REPLICATE_ARGV, "preflight", "--scale", "paper", "--allow-downloads",
                                  "--experiments", ",".join(experiments)])
        if checked.returncode != 0:
            raise WorkflowError("preflight: inputs above are missing; no job was started")


def notebooks(scale):
    names = [a.replace("/", "_") for exp in SELECTED for a in cfg.paper_file(exp)["artifacts"]]
    return expand("reports/{scale}/notebooks/{notebook}.ipynb", scale=scale, notebook=names)
