"""``replicate preflight``: every dataset, manual download and weights file that the selected
experiments read at a scale, checked at once, each missing one with the command that fixes it.

A dataset counts as present when its ``manifest.json`` is there with every packed file at its
recorded size (the weights: the file itself); checksums are ``replicate fetch``'s job, and
reading a manifest is fast enough for the whole study. At scale ``paper`` the workflow runs
this before its first job (the Snakefile's ``onstart``) with ``allow_downloads``: what
``replicate fetch`` downloads by itself is then left to the DAG's fetch rules, and only what
needs a person (a manual download) stops the build before any training starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from replication import config as cfg
from replication.data.registry import DatasetSpec, get_spec
from replication.data.store import data_root, fetch_command, needs_manual_download
from replication.errors import ReplicationError
from replication.io import read_json

WEIGHTS, DATASET, MANUAL = "weights file", "dataset", "manual download"


@dataclass(frozen=True)
class Missing:
    dataset: str
    kind: str                     # WEIGHTS, DATASET or MANUAL
    path: Path                    # what is absent
    fix: str                      # the command that fixes it
    automatic: bool               # `replicate fetch` gets it without a person (so do the DAG's fetch rules)
    experiments: tuple[str, ...]  # the selected experiments that read it


def needed(scale: str, experiments: list[str]) -> dict[str, list[str]]:
    """{dataset: the experiments that read it at this scale}, in first-use order."""
    users: dict[str, list[str]] = {}
    for exp in experiments:
        for name in cfg.datasets_of(exp, scale):
            users.setdefault(name, []).append(exp)
    return users


def prepared(spec: DatasetSpec, home: Path) -> bool:
    """The manifest is there and names files that are there at their recorded sizes."""
    try:
        manifest = read_json(home / "manifest.json")
    except ReplicationError:
        return False
    if spec.kind == "files":
        return all((home / item.path).is_file() for item in spec.raw)
    parts = manifest.get("parts", {}).values()
    return all((home / p["file"]).is_file() and (home / p["file"]).stat().st_size == p["bytes"] for p in parts)


def raw_present(spec: DatasetSpec, raw: Path) -> bool:
    """Every raw item is in raw/, as itself or inside an archive placed there."""
    def placed(path: str) -> bool:
        return (raw / path).exists() or any(
            (raw / a.filename).is_file() and (path == a.provides or path.startswith(a.provides + "/"))
            for a in spec.archives)
    return all(placed(item.path) for item in spec.raw)


def check(scale: str, experiments: list[str], root: str | os.PathLike | None = None) -> list[Missing]:
    """What the experiments read at this scale and is not prepared under the data root."""
    missing = []
    for name, users in needed(cfg.check_scale(scale), experiments).items():
        spec, home = get_spec(name), data_root(root) / name
        if prepared(spec, home):
            continue
        if spec.kind == "files":
            path, kind = home / spec.raw[0].path, WEIGHTS
        elif needs_manual_download(spec) and not raw_present(spec, home / "raw"):
            path, kind = home / "raw", MANUAL
        else:
            path, kind = home / "manifest.json", DATASET
        fix = fetch_command(name, root) + (" --describe" if kind == MANUAL else "")
        missing.append(Missing(name, kind, path, fix, kind != MANUAL, tuple(users)))
    return missing


def report(scale: str, experiments: list[str], root: str | os.PathLike | None = None,
           allow_downloads: bool = False) -> tuple[str, bool]:
    """The listing and whether the build may start: nothing missing, or (``allow_downloads``)
    nothing that `replicate fetch` cannot get by itself."""
    users = needed(scale, experiments)
    missing = check(scale, experiments, root)
    blocking = [m for m in missing if not (allow_downloads and m.automatic)]
    lines = []
    for m in missing:
        note = "  (the workflow's fetch rule gets it)" if allow_downloads and m.automatic else ""
        lines.append(f"  missing {m.kind}: {m.dataset} ({m.path}): run `{m.fix}`{note}; "
                     f"read by {', '.join(m.experiments)}")
    where = f"at scale {scale} under {data_root(root)}"
    if blocking:
        head = f"preflight: {len(blocking)} of {len(users)} inputs missing {where}"
    elif missing:
        head = f"preflight: ok {where} ({len(missing)} of {len(users)} inputs left to the fetch rules)"
    else:
        head = f"preflight: ok {where} ({len(users)} inputs, all present)"
    return "\n".join([head, *lines]), not blocking
