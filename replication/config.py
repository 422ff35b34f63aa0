"""Layered configuration: paper settings per experiment, schema-checked scale deltas.

    workflow/config/experiments/<id>.yaml   settings at scale `paper`, each with its source
    workflow/config/scales/<scale>.yaml     {experiment id: {key: smaller value}}, and the
                                            scale's image-quality features (proxy | inception)
    workflow/config/claims/<id>.yaml        the experiment's claims (see replication.claims)

A scale may only shrink sizes and iteration counts: its keys must exist in the paper
settings and keep their type (``replication.settings.merge``). The merged settings are then
parsed into the experiment's types (``replication.settings.experiments``): unknown keys,
wrong types, scales or experiments are one-line errors, raised while the DAG is parsed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from replication.errors import ReplicationError
from replication.settings import merge, parse, plain, setting_at, variant_paths

REPO = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO / "workflow" / "config"
SCHEMA_DIR = REPO / "workflow" / "schemas"
SCALES = ("smoke", "small", "paper")


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise ReplicationError(f"missing config file {path}") from None
    except yaml.YAMLError as err:
        raise ReplicationError(f"invalid YAML in {path}: {err}".replace("\n", " ")) from None


@functools.cache
def _schema(name: str) -> dict:
    return read_yaml(SCHEMA_DIR / f"{name}.schema.yaml")


@functools.cache
def _validator(name: str):
    """The schema's validator, the schema itself checked once (jsonschema.validate re-checks it on
    every call: most of the DAG's parse time)."""
    schema = _schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate(obj: Any, schema: str, where: str) -> None:
    """Validate against ``workflow/schemas/<schema>.schema.yaml``; one line on failure."""
    try:
        error = jsonschema.exceptions.best_match(_validator(schema).iter_errors(obj))
        if error is not None:
            raise error
    except jsonschema.ValidationError as err:
        path = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        message = err.message
        if err.validator == "additionalProperties":
            unknown = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            message = f"unknown key {', '.join(map(repr, unknown))}; valid keys: {', '.join(err.schema.get('properties', {}))}"
        raise ReplicationError(f"{where}: {path}: {message}") from None


def experiment_ids(config_dir: Path = CONFIG_DIR) -> list[str]:
    """The experiments listed in ``registry.yaml`` (read by DVC too), each with a settings file."""
    listed = (read_yaml(config_dir / "registry.yaml") or {}).get("experiments") or []
    files = sorted(p.stem for p in (config_dir / "experiments").glob("*.yaml"))
    if sorted(listed) != files:
        raise ReplicationError(f"{config_dir / 'registry.yaml'} lists {sorted(listed)} but the settings files are "
                               f"{files}: keep the two in step")
    return sorted(listed)


def check_scale(scale: str) -> str:
    if scale not in SCALES:
        raise ReplicationError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)} (--config scale=small)")
    return scale


def check_experiment(exp_id: str, config_dir: Path = CONFIG_DIR) -> str:
    known = sorted(p.stem for p in (config_dir / "experiments").glob("*.yaml"))
    if exp_id not in known:
        raise ReplicationError(f"unknown experiment {exp_id!r}; known: {', '.join(known)}")
    return exp_id


def selected_experiments(selection: Any, config_dir: Path = CONFIG_DIR) -> list[str]:
    """``all`` (default) or a list of ids, validated."""
    if selection in (None, "all", ["all"]):
        return experiment_ids(config_dir)
    if isinstance(selection, str):
        selection = [s for s in selection.replace(",", " ").split() if s]
    return [check_experiment(e, config_dir) for e in selection]


# A published study (``replicate publish``): reports/published/<scale>/ with its STAMP.json, and its
# results under results/, one scale's experiments directly (results/<scale>/ mirrored one level up).
STAMP = "STAMP.json"


def results_dir(results_root: str | os.PathLike, scale: str) -> Path:
    """Where a results root keeps a scale's experiments: ``<root>/<scale>``, or the root itself
    when it is a published study's results (its parent holds the stamp), so that every reader
    of results also reads a published copy."""
    root = Path(results_root)
    stamp = root.parent / STAMP
    if (root / scale).is_dir() or not stamp.is_file():
        return root / scale
    try:
        published = json.loads(stamp.read_text()).get("scale")
    except (OSError, ValueError, AttributeError):
        raise ReplicationError(f"unreadable {stamp}: publish the study again") from None
    if published != scale:
        raise ReplicationError(f"{root} holds the published study of scale {published}, not {scale}")
    return root


@functools.cache
def paper_file(exp_id: str, config_dir: Path = CONFIG_DIR) -> dict:
    check_experiment(exp_id, config_dir)
    path = config_dir / "experiments" / f"{exp_id}.yaml"
    doc = read_yaml(path)
    validate(doc, "experiment", str(path))
    if doc["id"] != exp_id:
        raise ReplicationError(f"{path}: id {doc['id']!r} differs from the file name")
    missing = sorted(set(doc["settings"]) - set(doc["sources"]))
    orphans = sorted(set(doc["sources"]) - set(doc["settings"]))
    if missing or orphans:
        raise ReplicationError(f"{path}: every setting needs a source note (missing: {missing}; sources without setting: {orphans})")
    return doc


@functools.cache
def scale_file(scale: str, config_dir: Path = CONFIG_DIR) -> dict:
    path = config_dir / "scales" / f"{check_scale(scale)}.yaml"
    doc = read_yaml(path) or {}
    validate(doc, "scale", str(path))
    for exp_id in doc:
        if exp_id != "features":
            check_experiment(exp_id, config_dir)
    return doc


def features_of(scale: str, config_dir: Path = CONFIG_DIR) -> str:
    """The scale's image-quality features: ``proxy`` (the calibrated classifier) or ``inception``."""
    return scale_file(scale, config_dir)["features"]


SELECT = "runs"  # in an extra deltas file, beside an experiment's setting deltas: the runs kept of its matrix


def extra_deltas_of(extra_deltas: str | os.PathLike | None) -> dict:
    """An extra deltas file: ``{experiment id: {setting: value, ..., runs: [run id, ...]}}``; the
    optional ``runs`` list keeps only those runs of the experiment's matrix (a sub-grid: the
    paper-shape check, exploration). Cached by the file's content (a rewritten file is reread)."""
    if not extra_deltas:
        return {}
    try:
        text = Path(extra_deltas).read_text()
    except FileNotFoundError:
        raise ReplicationError(f"missing config file {extra_deltas}") from None
    return _parse_deltas(str(extra_deltas), text)


@functools.cache
def _parse_deltas(name: str, text: str) -> dict:
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise ReplicationError(f"invalid YAML in {name}: {err}".replace("\n", " ")) from None
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise ReplicationError(f"{name}: expected {{experiment id: {{setting: value}}}}")
    for exp_id, deltas in doc.items():
        kept = deltas.get(SELECT, [])
        if not isinstance(kept, list) or not all(isinstance(r, str) for r in kept):
            raise ReplicationError(f"{name}: {exp_id}.{SELECT} must be a list of run ids, got {kept!r}")
    return doc


def settings_digest(exp_id: str, scale: str, extra_deltas: str | os.PathLike | None = None) -> str:
    """16 hex digits of sha256 over the experiment's resolved settings at this scale: Snakemake's
    params rerun trigger of its runs, and the stamp a run's saved state must carry to be resumed
    (``replication.runs``), so a changed setting reruns a job from scratch, never from old state."""
    text = json.dumps(plain(resolve(exp_id, scale, extra_deltas)), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def resolve(exp_id: str, scale: str, extra_deltas: str | os.PathLike | None = None, config_dir: Path = CONFIG_DIR):
    """The settings of one experiment at one scale, typed (``replication.settings.experiments``);
    cached by the deltas file's content (a rewritten file gives new settings): treat them as
    read-only."""
    text = None
    if extra_deltas:
        try:
            text = Path(extra_deltas).read_text()
        except FileNotFoundError:
            raise ReplicationError(f"missing config file {extra_deltas}") from None
    return _resolve(exp_id, scale, str(extra_deltas) if extra_deltas else None, text, config_dir)


@functools.cache
def _resolve(exp_id: str, scale: str, deltas_name: str | None, deltas_text: str | None, config_dir: Path):
    from replication.settings.experiments import SETTINGS

    path = (config_dir / "experiments" / f"{exp_id}.yaml").relative_to(config_dir.parent.parent)
    settings = paper_file(exp_id, config_dir)["settings"]
    if SELECT in settings:
        raise ReplicationError(f"{path}: {SELECT!r} is reserved (extra deltas select runs with it), not a setting name")
    variants = variant_paths(SETTINGS[exp_id])
    settings = merge(settings, scale_file(scale, config_dir).get(exp_id, {}), f"scales/{scale}.yaml: {exp_id}",
                     open_paths=variants)
    if deltas_name:
        deltas = {k: v for k, v in _parse_deltas(deltas_name, deltas_text).get(exp_id, {}).items() if k != SELECT}
        if deltas:
            settings = merge(settings, deltas, f"{deltas_name}: {exp_id}", open_paths=variants)
    return parse(SETTINGS[exp_id], settings, f"{path} (scale {scale}): settings")


# -- the run matrix: which runs an experiment has, declared in its YAML (cheap for the DAG) --

def run_matrix(exp_id: str, settings, config_dir: Path = CONFIG_DIR, extra_deltas=None) -> dict[str, dict]:
    """``{run_id: params}`` from the experiment file's ``runs:`` list. Each entry names a
    ``task`` (a function of the experiment module), an ``id`` template (default: the task),
    ``foreach`` bindings (a list of values, or a dotted path into the resolved settings: a list
    gives its items, a mapping its keys, a count n the indices 0..n-1) expanded as a Cartesian
    product in declared order,
    and static ``params``. A run receives its params; nothing parses run ids back. An extra deltas
    file's ``runs`` list for this experiment keeps only those runs (each must exist)."""
    import itertools

    doc = paper_file(exp_id, config_dir)
    matrix: dict[str, dict] = {}
    for n, entry in enumerate(doc["runs"]):
        where = f"experiments/{exp_id}.yaml: runs[{n}]"
        names, values = [], []
        for name, source in (entry.get("foreach") or {}).items():
            names.append(name)
            values.append(_values(settings, source, f"{where}.foreach.{name}"))
        for combo in itertools.product(*values):
            bound = dict(zip(names, combo))
            try:
                run_id = entry.get("id", entry["task"]).format(**bound)
            except (KeyError, ValueError) as err:
                raise ReplicationError(f"{where}: id template {entry.get('id')!r} cannot be filled ({err})") from None
            if run_id in matrix:
                raise ReplicationError(f"{where}: run id {run_id!r} is declared twice")
            matrix[run_id] = {"task": entry["task"], **bound, **(entry.get("params") or {})}
    kept = extra_deltas_of(extra_deltas).get(exp_id, {}).get(SELECT)
    if kept is None:
        return matrix
    unknown = [r for r in kept if r not in matrix]
    if unknown:
        raise ReplicationError(f"{extra_deltas}: {exp_id}.{SELECT} names unknown run(s) {', '.join(unknown)}; "
                               f"runs: {', '.join(matrix)}")
    return {r: params for r, params in matrix.items() if r in kept}


def _values(settings, source: Any, where: str) -> list:
    if isinstance(source, list):
        return source
    node = setting_at(settings, source, where)
    if isinstance(node, dict):
        return list(node)
    if isinstance(node, (list, tuple)):
        return list(node)
    if isinstance(node, int) and not isinstance(node, bool) and node >= 0:
        return list(range(node))  # a count: e.g. 200 sampled architectures, indices 0..199
    raise ReplicationError(f"{where}: setting {source!r} is neither a list, a mapping nor a count")


def runs_of(exp_id: str, scale: str, extra_deltas: str | os.PathLike | None = None) -> dict[str, dict]:
    return run_matrix(exp_id, resolve(exp_id, scale, extra_deltas), extra_deltas=extra_deltas)


def datasets_of(exp_id: str, scale: str) -> list[str]:
    """The datasets (``replicate fetch`` names) an experiment's runs read at this scale."""
    doc = paper_file(exp_id)
    return doc.get("datasets", []) + doc.get("paper_datasets" if scale == "paper" else "offline_datasets", [])


def evaluated_runs(exp_id: str, scale: str, extra_deltas: str | os.PathLike | None = None) -> list[str]:
    """Runs whose final networks the generic ``evaluate`` rule scores (entries with
    ``evaluate: true``): their final metrics can be recomputed from pulled checkpoints."""
    settings = resolve(exp_id, scale, extra_deltas)
    tasks = {e["task"] for e in paper_file(exp_id)["runs"] if e.get("evaluate")}
    return [run for run, params in run_matrix(exp_id, settings, extra_deltas=extra_deltas).items()
            if params["task"] in tasks]


def threads_of(exp_id: str, scale: str) -> int:
    threads = paper_file(exp_id)["threads"]
    return threads[scale] if isinstance(threads, dict) else threads


# -- what one job asks a scheduler for (SLURM through Snakemake's standard resources) --

RUNTIME_MARGIN = 1.5  # checkpoints, process start-up and a slower GPU than the one measured: x1.5 the step time
RUNTIME_FLOOR_MIN = 10  # process start, imports, data loading, final evaluation
EVALUATION_MIN = 60  # an evaluation job: 50,000 samples' IS/FID at paper take minutes on a GPU
MEM_MB = {"smoke": 4000, "small": 8000, "paper": 32000}  # host memory unless `resources.mem_mb` says otherwise
# Images per second through a scale's features, and the host seconds of one FID's eigenproblem.
# inception: an ESTIMATE from FLOPs (torch-fidelity's inception-v3-compat: 11.4 GFLOP per image at
# 299x299, torch's FlopCounterMode) at half the H200's measured fp32 matmul rate (51 TFLOP/s,
# benchmarks/results/2026-11-30_cuda.md), as the bench's conv steps reach 55-65% of it; its FID solves
# a 2,048-d non-symmetric eigenproblem (numpy) on the host: ~10 s on a server core (43 s on the
# project's loaded 2-core CPU). proxy: the calibrated classifier on 1 CPU thread, ~1,000 images/s
# with sample generation (scales/small.yaml's 1,000-sample FID in ~1 s), a 32-d FID.
FEATURE_IMAGES_S = {"inception": 2000.0, "proxy": 1000.0}
FID_SOLVE_S = {"inception": 10.0, "proxy": 0.0}


def _resource_value(settings, value, scale: str, where: str, params: dict | None = None) -> float:
    """A ``resources:`` number: an int, a ``{scale: int}`` mapping, or a dotted setting path (run params
    fill ``{name}`` placeholders: ``methods.{method}.training.iterations``)."""
    if isinstance(value, dict):
        value = value["paper" if scale == "paper" else "small"]
    if isinstance(value, str):
        try:
            value = setting_at(settings, value.format(**(params or {})), where)
        except KeyError as err:
            raise ReplicationError(f"{where}: {value!r} names run parameter {err} that this run lacks") from None
    return 0 if value is None else value


def feature_seconds(exp_id: str, scale: str, spec: dict | None, evaluations: int = 1, extra_deltas=None,
                    params: dict | None = None) -> float:
    """Seconds of ``evaluations`` passes of ``spec["samples"]`` images through the scale's features
    (with an FID each when ``spec["fid"]``), plus ``spec["reference"]`` images once (a reference
    of null means the split: ``spec["split"]`` images)."""
    if not spec:
        return 0.0
    settings, features = resolve(exp_id, scale, extra_deltas), features_of(scale)
    where = f"experiments/{exp_id}.yaml: resources"
    samples = _resource_value(settings, spec["samples"], scale, where, params)
    reference = _resource_value(settings, spec.get("reference", 0), scale, where, params) or \
        _resource_value(settings, spec.get("split", 0), scale, where, params)
    per_pass = samples / FEATURE_IMAGES_S[features] + (FID_SOLVE_S[features] if spec.get("fid") else 0.0)
    return evaluations * per_pass + reference / FEATURE_IMAGES_S[features]


def training_seconds(exp_id: str, scale: str, extra_deltas=None, params: dict | None = None,
                     probes: bool = True, speed: str = "gen_it_s") -> float:
    """One training job's device seconds: its iterations at the measured step speed, plus its
    quality probes (``resources.probes``: samples through the features every ``every`` iterations
    and at step 0 and the end, the reference once), as the job runs them. ``params``: a run's
    (its own iterations, e.g. GAN 400k beside WGAN 600k); without them the declared path as it
    stands (the longest job). ``speed="mean_gen_it_s"``: the runs' average speed where it is
    declared (a sampled grid whose slowest run sets ``gen_it_s``), for a budget of all the runs."""
    declared = paper_file(exp_id)["resources"]
    measured = "paper" if scale == "paper" else "small"  # smoke: small's speed (smaller nets: an upper bound)
    settings, where = resolve(exp_id, scale, extra_deltas), f"experiments/{exp_id}.yaml: resources"
    path = declared["iterations"] if isinstance(declared["iterations"], str) else declared["iterations"][measured]
    if params is None and "{" in path:
        raise ReplicationError(f"{where}.iterations: {path!r} needs a run's parameters")
    iterations = _resource_value(settings, path, scale, where, params)
    seconds = iterations / declared.get(speed, declared["gen_it_s"])[measured]
    spec = declared.get("probes")
    if spec and probes:
        every = _resource_value(settings, spec["every"], scale, where, params)
        evaluations = iterations // every + 1 + (iterations % every > 0)  # every `every`, step 0, the end
        seconds += feature_seconds(exp_id, scale, spec, evaluations, extra_deltas, params)
    return seconds


@functools.cache
def job_resources(exp_id: str, scale: str, extra_deltas: str | os.PathLike | None = None) -> dict[str, int]:
    """``{runtime (minutes), mem_mb}`` of one job of this experiment at this scale, from its
    settings file's ``resources:`` (measured step speeds; the one place these numbers live): the
    longest training job's ``training_seconds`` (its probes included), x1.5, plus 10 minutes.
    Without that entry: ``{}`` (the profile's default-resources apply)."""
    declared = paper_file(exp_id).get("resources")
    if not declared:
        return {}
    if "minutes" in declared:
        minutes = declared["minutes"][scale]
    else:
        longest = max((training_seconds(exp_id, scale, extra_deltas, params)
                       for params in training_runs(exp_id, scale, extra_deltas).values()), default=0.0)
        minutes = RUNTIME_FLOOR_MIN + math.ceil(RUNTIME_MARGIN * longest / 60)
    return {"runtime": minutes, "mem_mb": declared.get("mem_mb", {}).get(scale, MEM_MB[scale])}


def training_runs(exp_id: str, scale: str, extra_deltas=None) -> dict[str, dict]:
    """The runs whose task trains (``resources.trains``, default ``[train]``)."""
    tasks = paper_file(exp_id).get("resources", {}).get("trains", ["train"])
    return {run: params for run, params in runs_of(exp_id, scale, extra_deltas).items() if params["task"] in tasks}
