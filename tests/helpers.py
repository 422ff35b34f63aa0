"""Shared test helpers (imported as `helpers`; tests/ is on pytest's pythonpath)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class Killed(Exception):
    """Raised by ``kill_at``: a run stopped as if killed, to test resume."""


def kill_at(step):
    """An ``on_iteration`` hook that kills the run at ``step``."""
    def die(s):
        if s == step:
            raise Killed
    return die


def run_cli(*args: str, cwd: Path | None = None, check: bool = False) -> subprocess.CompletedProcess:
    """Run ``replicate`` as a user would (a fresh process), capturing output."""
    proc = subprocess.run([sys.executable, "-m", "replication.cli", *args], cwd=cwd or REPO,
                          capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if check and proc.returncode != 0:
        raise AssertionError(proc.stderr)
    return proc


def snakemake_bin() -> str:
    return shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"


def settings_with(experiment: str, scale: str, folder: Path, deltas: dict | None = None):
    """The typed settings of ``experiment`` at ``scale`` with ``{dotted.path: value}`` deltas
    applied as an extra-deltas file would (the strict merge, then the parse)."""
    import yaml

    from replication import config as cfg

    if not deltas:
        return cfg.resolve(experiment, scale)
    nested: dict = {}
    for path, value in deltas.items():
        *parents, last = path.split(".")
        node = nested
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"deltas_{abs(hash(repr(sorted(deltas.items()))))}.yaml"
    file.write_text(yaml.safe_dump({experiment: nested}))
    return cfg.resolve(experiment, scale, str(file))
