"""Layered configuration: paper settings per experiment, schema-checked scale deltas.

    workflow/config/experiments/<id>.yaml   settings at scale `paper`, each with its source
    workflow/config/scales/<scale>.yaml     {experiment id: {key: smaller value}}
    workflow/config/claims/<id>.yaml        the experiment's claims (see replication.claims)

A scale may only shrink sizes and iteration counts: its keys must exist in the paper
settings and keep their type. Unknown keys, scales or experiments are one-line errors.
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from replication.errors import ReplicationError

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


def validate(obj: Any, schema: str, where: str) -> None:
    """Validate against ``workflow/schemas/<schema>.schema.yaml``; one line on failure."""
    try:
        jsonschema.validate(obj, _schema(schema))
    except jsonschema.ValidationError as err:
        path = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        message = err.message
        if err.validator == "additionalProperties":
            unknown = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            message = f"unknown key {', '.join(map(repr, unknown))}; valid keys: {', '.join(err.schema.get('properties', {}))}"
        raise ReplicationError(f"{where}: {path}: {message}") from None


def experiment_ids(config_dir: Path = CONFIG_DIR) -> list[str]:
    return sorted(p.stem for p in (config_dir / "experiments").glob("*.yaml"))


def check_scale(scale: str) -> str:
    if scale not in SCALES:
        raise ReplicationError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)} (--config scale=small)")
    return scale


def check_experiment(exp_id: str, config_dir: Path = CONFIG_DIR) -> str:
    known = experiment_ids(config_dir)
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


@functools.cache
def paper_file(exp_id: str, config_dir: Path = CONFIG_DIR) -> dict:
    check_experiment(exp_id, config_dir)
    path = config_dir / "experiments" / f"{exp_id}.yaml"
    doc = read_yaml(path)
    validate(doc, "experiment", str(path))
    missing = sorted(set(doc["settings"]) - set(doc["sources"]))
    orphans = sorted(set(doc["sources"]) - set(doc["settings"]))
    if missing or orphans:
        raise ReplicationError(f"{path}: every setting needs a source note (missing: {missing}; sources without setting: {orphans})")
    return doc


def _merge(base: dict, delta: dict, where: str) -> dict:
    out = copy.deepcopy(base)
    for key, value in delta.items():
        if key not in base:
            raise ReplicationError(f"{where}: unknown key {key!r}; valid keys: {', '.join(sorted(base))}")
        old = base[key]
        if isinstance(old, dict) and isinstance(value, dict):
            out[key] = _merge(old, value, f"{where}.{key}")
        elif isinstance(old, bool) != isinstance(value, bool) or (
            not isinstance(value, type(old)) and not (isinstance(old, float) and isinstance(value, int))
            and old is not None
        ):
            raise ReplicationError(f"{where}: {key!r} must be {type(old).__name__} like the paper value {old!r}, got {value!r}")
        else:
            out[key] = copy.deepcopy(value)
    return out


def scale_deltas(scale: str, config_dir: Path = CONFIG_DIR) -> dict:
    path = config_dir / "scales" / f"{check_scale(scale)}.yaml"
    doc = read_yaml(path) or {}
    validate(doc, "scale", str(path))
    for exp_id in doc:
        check_experiment(exp_id, config_dir)
    return doc


def resolve(exp_id: str, scale: str, extra_deltas: str | os.PathLike | None = None,
            config_dir: Path = CONFIG_DIR) -> dict:
    """The fully resolved settings of one experiment at one scale."""
    settings = paper_file(exp_id, config_dir)["settings"]
    deltas = scale_deltas(scale, config_dir).get(exp_id, {})
    settings = _merge(settings, deltas, f"scales/{scale}.yaml:{exp_id}")
    if extra_deltas:
        doc = read_yaml(Path(extra_deltas)) or {}
        validate(doc, "scale", str(extra_deltas))
        settings = _merge(settings, doc.get(exp_id, {}), f"{extra_deltas}:{exp_id}")
    return settings


def workflow_config(overrides: dict | None = None, config_dir: Path = CONFIG_DIR) -> dict:
    """``config.yaml`` with command-line overrides, validated (used by the CLI; Snakemake
    validates the same schema with snakemake.utils.validate)."""
    config = read_yaml(config_dir / "config.yaml")
    config.update(overrides or {})
    validate(config, "config", "workflow config (--config)")
    check_scale(config["scale"])
    selected_experiments(config.get("experiments"), config_dir)
    return config
