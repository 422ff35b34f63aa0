"""Report notebooks and the ``reports/all`` manifest.

Notebooks are jupytext "percent" scripts in ``reports/notebooks/<paper>_<name>.py`` (plain
Python, diffable, open in Jupyter as notebooks). ``run_notebook`` converts one in memory and
executes it with papermill (parameters cell: scale, results, reports, extra_deltas: the runs'
settings, so a notebook reads them as the runs did), keeping the executed
copy at ``reports/<scale>/notebooks/<paper>_<name>.ipynb``. Papermill rather than Snakemake's
``notebook:`` directive: the notebooks then also run standalone, by hand, with defaults.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import yaml

from replication import config as cfg
from replication.errors import ReplicationError

NOTEBOOKS = cfg.REPO / "reports" / "notebooks"
# Imported while Snakemake parses the workflow (reports.smk): no torch or pandas at module level.
# The browsable Snakemake report (``snakemake --report``): categories, labels and captions of
# every artifact; workflow/report/workflow.rst is its landing page.
REPORT_DIR = cfg.REPO / "workflow" / "report"
# What the report shows of an artifact's folder: figures and the tables behind them (the PDFs
# duplicate the PNGs); the pattern's {file} wildcard is the file name, a label in the report.
REPORT_SUFFIXES = (".png", ".csv")
REPORT_PATTERNS = ["{file,[^/]+[.](?:" + "|".join(s.lstrip(".") for s in REPORT_SUFFIXES) + ")}"]


def notebook_name(artifact: str) -> str:
    return artifact.replace("/", "_")


def notebook_source(artifact: str) -> Path:
    path = NOTEBOOKS / f"{notebook_name(artifact)}.py"
    if not path.exists():
        raise ReplicationError(f"no report notebook for artifact {artifact!r} (expected {path})")
    return path


def artifacts(selected: list[str]) -> list[str]:
    return [a for exp in selected for a in cfg.paper_file(exp)["artifacts"]]


def run_notebook(artifact: str, scale: str, results: str = "results", reports: str = "reports",
                 extra_deltas: str | os.PathLike | None = None) -> Path:
    import jupytext
    import papermill

    source = notebook_source(artifact)
    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out = Path(reports) / scale / "notebooks" / f"{notebook_name(artifact)}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp.ipynb")  # papermill needs the .ipynb suffix
    try:
        parameters = {"scale": scale, "results": str(results), "reports": str(reports),
                      "extra_deltas": None if extra_deltas is None else str(extra_deltas)}
        papermill.execute_notebook(notebook, str(tmp), parameters=parameters,
                                   kernel_name="python3", progress_bar=False, cwd=str(Path.cwd()))
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def artifact_dir(reports: str | Path, scale: str, artifact: str) -> Path:
    """An artifact's own folder, reports/<scale>/<paper>/<name>/: the notebook job's declared
    output, so the report can annotate every file in it."""
    paper, name = artifact.split("/")
    return Path(reports) / scale / paper / name


def figure_path(reports: str, scale: str, artifact: str, suffix: str = ".png", part: str = "") -> Path:
    """Where a notebook writes an artifact's figure or table: reports/<scale>/<paper>/<name>/<name>[_part]<suffix>."""
    name = artifact.split("/")[1]
    path = artifact_dir(reports, scale, artifact) / f"{name}{'_' + part if part else ''}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@functools.cache
def report_index() -> dict:
    """workflow/report/artifacts.yaml: each paper's category name; each artifact's title and,
    where one applies, its method and architecture (the report's labels)."""
    return yaml.safe_load((REPORT_DIR / "artifacts.yaml").read_text())


def _report_entry(artifact: str) -> dict:
    entry = report_index()["artifacts"].get(artifact)
    if entry is None:
        raise ReplicationError(f"artifact {artifact!r} has no entry in {REPORT_DIR / 'artifacts.yaml'} "
                               "(title, method, architecture for the report)")
    return entry


def report_category(artifact: str) -> str:
    """The report's category of an artifact: its paper."""
    return report_index()["papers"][artifact.split("/")[0]]


def report_subcategory(artifact: str) -> str:
    """The report's subcategory: the artifact's title in its paper ("Figure 3", "Table 1")."""
    return _report_entry(artifact)["title"]


def report_labels(artifact: str, scale: str, file: str) -> dict[str, str]:
    """Labels of one file of an artifact in the report: scale, and method and architecture where
    the artifact states them."""
    entry = _report_entry(artifact)
    labels = {"file": file, "scale": scale}
    labels.update({key: entry[key] for key in ("method", "architecture") if key in entry})
    return labels


def report_files(folder: Path) -> list[Path]:
    """The files of an artifact's folder that the report shows."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in REPORT_SUFFIXES) if folder.is_dir() else []


def report_target(reports: str | Path, scale: str, artifact: str) -> str | None:
    """The file a scorecard row links to: the artifact's main figure (<name>.png), else its main
    table, else its first shown file; None if the folder shows nothing."""
    folder, name = artifact_dir(reports, scale, artifact), artifact.split("/")[1]
    shown = report_files(folder)
    for main in (folder / f"{name}.png", folder / f"{name}.csv"):
        if main in shown:
            return str(main)
    return str(shown[0]) if shown else None


def _rst_text(text) -> str:
    """Text shown as written in reStructuredText: markup characters escaped."""
    return re.sub(r"([\\*`|_])", r"\\\1", " ".join(str(text).split()))


def write_report_index(scale: str, reports: Path = Path("reports")) -> Path:
    """reports/<scale>/report_index.rst: the scorecard as the report's landing page (included by
    workflow/report/workflow.rst), each row linking to its artifact's figure in the report."""
    import pandas as pd

    from replication.io import write_text

    scorecard = Path(reports) / scale / "scorecard.csv"
    if not scorecard.exists():
        raise ReplicationError(f"missing {scorecard}; run the scorecard rule first")
    claims = pd.read_csv(scorecard, keep_default_na=False)
    counts = claims["verdict"].value_counts().to_dict()
    lines = [f"**Scorecard** (scale ``{scale}``): " + ", ".join(f"{n} {v}" for v, n in counts.items())
             + ". Each artifact opens its figure. Values, published numbers, tolerances and the reasons of the "
             "verdicts: the *Scorecard* category.", "",
             ".. list-table::", "   :header-rows: 1", "",
             "   * - artifact", "     - claim", "     - verdict"]
    for row in claims.itertuples():  # three narrow columns: the landing page's text column is narrow
        target = report_target(reports, scale, row.artifact)
        # Percent-encoded, as Snakemake's own links: docutils drops the spaces of a URI, the browser decodes it.
        link = (f"`{row.artifact} <javascript:app.showResultInfo('{quote(target)}')>`__" if target
                else f"`{row.artifact} <javascript:app.showCategory('{quote(report_category(row.artifact))}')>`__")
        lines += [f"   * - {link}", f"     - {_rst_text(row.claim_id)}", f"     - **{row.verdict}**"]
    out = Path(reports) / scale / "report_index.rst"
    write_text(out, "\n".join(lines) + "\n")
    return out


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
    import pandas as pd

    from replication.io import sha256_file, write_json

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
