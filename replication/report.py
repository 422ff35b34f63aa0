"""Report notebooks and the ``reports/all`` manifest.

Notebooks are jupytext "percent" scripts in ``reports/notebooks/<paper>_<name>.py`` (plain
Python, diffable, open in Jupyter as notebooks). ``run_notebook`` converts one in memory and
executes it with papermill (parameters cell: scale, results, reports), keeping the executed
copy at ``reports/<scale>/notebooks/<paper>_<name>.ipynb``. Papermill rather than Snakemake's
``notebook:`` directive: the notebooks then also run standalone, by hand, with defaults.
"""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from replication import config as cfg
from replication.errors import ReplicationError
from replication.io import sha256_file, write_json

NOTEBOOKS = cfg.REPO / "reports" / "notebooks"


def notebook_name(artifact: str) -> str:
    return artifact.replace("/", "_")


def notebook_source(artifact: str) -> Path:
    path = NOTEBOOKS / f"{notebook_name(artifact)}.py"
    if not path.exists():
        raise ReplicationError(f"no report notebook for artifact {artifact!r} (expected {path})")
    return path


def artifacts(selected: list[str]) -> list[str]:
    return [a for exp in selected for a in cfg.paper_file(exp)["artifacts"]]


def run_notebook(artifact: str, scale: str, results: str = "results", reports: str = "reports") -> Path:
    import jupytext
    import papermill

    source = notebook_source(artifact)
    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out = Path(reports) / scale / "notebooks" / f"{notebook_name(artifact)}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp.ipynb")  # papermill needs the .ipynb suffix
    try:
        papermill.execute_notebook(notebook, str(tmp), parameters={"scale": scale, "results": results, "reports": reports},
                                   kernel_name="python3", progress_bar=False, cwd=str(Path.cwd()))
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def figure_path(reports: str, scale: str, artifact: str, suffix: str = ".png", part: str = "") -> Path:
    """Where a notebook writes an artifact's figure or table: reports/<scale>/<paper>/<name>[_part]<suffix>."""
    paper, name = artifact.split("/")
    path = Path(reports) / scale / paper / f"{name}{'_' + part if part else ''}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=cfg.REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def write_manifest(scale: str, selected: list[str], reports: Path = Path("reports"), out: Path = Path("reports/all")) -> Path:
    """``reports/all``: the scale, every figure and table under reports/<scale>/ with its
    sha256, and the verdict of every claim."""
    root = Path(reports) / scale
    scorecard = root / "scorecard.csv"
    if not scorecard.exists():
        raise ReplicationError(f"missing {scorecard}; run the scorecard rule first")
    files = {str(p): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}
    claims = pd.read_csv(scorecard, keep_default_na=False)
    write_json(out, {
        "scale": scale,
        "experiments": selected,
        "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "verdicts": claims["verdict"].value_counts().to_dict(),
        "claims": claims[["claim_id", "artifact", "verdict", "reproduced", "published", "tolerance", "reason"]].to_dict("records"),
        "files": files,
    })
    return out
