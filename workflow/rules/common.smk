# Configuration, validation and the helpers every rule file uses (no rule logic here).
# Parsing the DAG imports no torch and no experiment module: run matrices are declared in the
# experiments' YAML (replication.config.run_matrix), so one broken module breaks only its jobs.

import os
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
    RUNS = {exp: cfg.runs_of(exp, SCALE, EXTRA) for exp in SELECTED}
except ReplicationError as err:
    raise WorkflowError(str(err)) from None

# The interpreter running Snakemake has the package: no reliance on an activated venv.
REPLICATE = f"{sys.executable} -m replication.cli"
DATA_ROOT = os.environ.get("REPLICATION_DATA", config["data_root"])
EXTRA_ARG = f"--extra-deltas {EXTRA}" if EXTRA else ""
ALL_EXPERIMENTS = cfg.experiment_ids()
ARTIFACT_OF = {a.replace("/", "_"): a for exp in ALL_EXPERIMENTS for a in cfg.paper_file(exp)["artifacts"]}
EXPERIMENT_OF = {a.replace("/", "_"): exp for exp in ALL_EXPERIMENTS for a in cfg.paper_file(exp)["artifacts"]}


def _gpu_device(device: str) -> bool:
    """Whether runs will train on a GPU: cuda*, or auto on a machine that lists an NVIDIA GPU
    (nvidia-smi; no torch import while parsing). On a cluster whose login node has no GPU,
    the SLURM profile sets device=cuda."""
    if device.startswith("cuda"):
        return True
    if device != "auto" or shutil.which("nvidia-smi") is None:
        return False
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "GPU" in listed


ON_GPU = _gpu_device(config["device"])


wildcard_constraints:
    scale="smoke|small|paper",
    experiment="|".join(ALL_EXPERIMENTS),
    run="[A-Za-z0-9_.-]+",
    notebook="|".join(ARTIFACT_OF) or "none",


def experiment_threads(wildcards):
    return cfg.threads_of(wildcards.experiment, wildcards.scale)


def experiment_gpu(wildcards):
    """gpu=1 only for runs that train on a GPU: CPU runs (smoke/small here) ask for none."""
    return int(cfg.paper_file(wildcards.experiment)["gpu"] and ON_GPU)


def run_inputs(wildcards):
    """Datasets (fetched first) and upstream runs (e.g. the proxy classifier) a run reads."""
    doc = cfg.paper_file(wildcards.experiment)
    paper = wildcards.scale == "paper"
    names = doc.get("datasets", []) + doc.get("paper_datasets" if paper else "offline_datasets", [])
    data = [f"{DATA_ROOT}/{name}/manifest.json" for name in names]
    own = f"{wildcards.experiment}/{wildcards.run}"  # a run never waits for itself (metrics_calibration)
    upstream = [f"results/{wildcards.scale}/{ref}/result.json" for ref in doc.get("upstream", []) if ref != own]
    return data + upstream


def settings_digest(wildcards):
    """Hash of the experiment's resolved settings at this scale: a changed setting or scale
    delta reruns the experiment's runs (Snakemake's params rerun trigger)."""
    import hashlib, json

    settings = cfg.resolve(wildcards.experiment, wildcards.scale, EXTRA)
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def run_results(wildcards):
    return expand("results/{scale}/{experiment}/{run}/result.json", scale=wildcards.scale,
                  experiment=wildcards.experiment, run=RUNS[wildcards.experiment])


def final_metrics(wildcards):
    """The generic evaluation of runs that declare `evaluate: true` (rerunnable from pulled checkpoints)."""
    runs = cfg.evaluated_runs(wildcards.experiment, wildcards.scale, EXTRA)
    return expand("results/{scale}/{experiment}/{run}/final_metrics.json", scale=wildcards.scale,
                  experiment=wildcards.experiment, run=runs)


def measured(scale, experiments):
    return expand("results/{scale}/{experiment}/measured.json", scale=scale, experiment=experiments)


def notebooks(scale):
    names = [a.replace("/", "_") for exp in SELECTED for a in cfg.paper_file(exp)["artifacts"]]
    return expand("reports/{scale}/notebooks/{notebook}.ipynb", scale=scale, notebook=names)
