# Configuration, validation and the helpers every rule file uses (no rule logic here).

import os
import sys
from pathlib import Path

from snakemake.utils import validate

from replication import config as cfg
from replication import report
from replication.errors import ReplicationError
from replication.experiments import run_ids

validate(config, "../schemas/config.schema.yaml")

try:
    SCALE = cfg.check_scale(config["scale"])
    SELECTED = cfg.selected_experiments(config["experiments"])
    EXTRA = config.get("extra_deltas") or None
    RUNS = {exp: run_ids(exp, SCALE, EXTRA) for exp in SELECTED}
except ReplicationError as err:
    raise WorkflowError(str(err)) from None

# The interpreter running Snakemake has the package: no reliance on an activated venv.
REPLICATE = f"{sys.executable} -m replication.cli"
DATA_ROOT = os.environ.get("REPLICATION_DATA", config["data_root"])
EXTRA_ARG = f"--extra-deltas {EXTRA}" if EXTRA else ""
ALL_EXPERIMENTS = cfg.experiment_ids()
ARTIFACT_OF = {report.notebook_name(a): a for exp in ALL_EXPERIMENTS for a in cfg.paper_file(exp)["artifacts"]}
EXPERIMENT_OF = {report.notebook_name(a): exp for exp in ALL_EXPERIMENTS for a in cfg.paper_file(exp)["artifacts"]}


wildcard_constraints:
    scale="smoke|small|paper",
    experiment="|".join(ALL_EXPERIMENTS),
    run="[A-Za-z0-9_.-]+",
    notebook="|".join(ARTIFACT_OF) or "none",


def experiment_threads(wildcards):
    return cfg.paper_file(wildcards.experiment)["threads"]


def experiment_gpu(wildcards):
    return int(cfg.paper_file(wildcards.experiment)["gpu"])


def run_inputs(wildcards):
    """Datasets (fetched first) and upstream runs (e.g. the proxy classifier) a run reads."""
    doc = cfg.paper_file(wildcards.experiment)
    names = doc.get("datasets", []) + (doc.get("paper_datasets", []) if wildcards.scale == "paper" else [])
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


def measured(scale, experiments):
    return expand("results/{scale}/{experiment}/measured.json", scale=scale, experiment=experiments)


def notebooks(scale):
    names = [report.notebook_name(a) for a in report.artifacts(SELECTED)]
    return expand("reports/{scale}/notebooks/{notebook}.ipynb", scale=scale, notebook=names)
