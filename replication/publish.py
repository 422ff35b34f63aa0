"""A built study published into git (``replicate publish``): a fresh clone shows it without
running anything, and a reviewer can re-judge it (``rejudge``) and compare a rebuild with it
(``replicate compare``).

    reports/published/<scale>/scorecard.{md,html,csv}  the build's scorecard, the stamp's facts on top
    reports/published/<scale>/STAMP.{json,md}          commits, dates, machine, wall time, what was left out
    reports/published/<scale>/<paper>/<name>/          the notebooks' figures and tables (PNG, CSV, Markdown)
    reports/published/<scale>/report.html              the browsable report, where it was built
    reports/published/<scale>/results/<exp>/...        results/<scale>/<exp>/... one level up: measured.json,
                                                       each run's JSON files and curves; no checkpoints

``reports/published`` reads as a reports root and its ``<scale>/results`` as a results root
(``replication.config.results_dir``). The README's status table is generated from these
scorecards (``readme_status``), so no verdict is ever typed by hand.
"""

from __future__ import annotations

import csv
import datetime
import html
import json
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from replication import config as cfg
from replication.claims import (
    NOT_EVALUATED,
    NOT_REPRODUCED,
    PROXY_SIDECAR,
    REPRODUCED,
    scorecard,
    short_commit,
    write_scorecard,
)
from replication.errors import ReplicationError
from replication.io import read_json, write_json, write_text
from replication.provenance import PUBLISHED
from replication.report import artifact_dir, artifacts
from replication.runtime import cpu_model, project_commit

# Each run's files: what the scorecard reads (result.json: its commit; proxy.sha256: the proxy's
# identity in the features column), the run's record, and its curves. Published runs: those of
# every experiment with measured values, and the runs they read (``upstream:``, the proxy).
RUN_FILES = ("result.json", "config.json", "final_metrics.json", "proxy.sha256", "training.csv", "evaluation.csv")
ALWAYS = {"measured.json", "result.json", "config.json", "final_metrics.json", "proxy.sha256"}  # verdicts rest on them
FIGURE_SUFFIXES = (".png", ".csv", ".md")  # not .pdf: the PDFs duplicate the PNGs and weigh more
SCORECARD = ("scorecard.md", "scorecard.html", "scorecard.csv")
REPORT_PAGE = "report.html"
MAX_BYTES = 2_000_000  # a curve, figure or table above it is left out (the stamp lists it)
MAX_REPORT_BYTES = 20_000_000  # the report page embeds every figure
STATUS_BEGIN, STATUS_END = "<!-- status:begin -->", "<!-- status:end -->"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _when(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat(timespec="seconds")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "not recorded"
    minutes = round(seconds / 60)
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _commits_check(runs: dict[str, dict], scale: str, allow_mixed: bool) -> tuple[dict[str, list[str]], bool]:
    """({commit: runs} of the runs' training commits, whether they are mixed): several commits, a
    dirty or an unknown one are refused unless ``allow_mixed``, since a published study should
    rest on one clean commit."""
    by_commit: dict[str, list[str]] = {}
    for run, result in runs.items():
        by_commit.setdefault(result.get("commit", "unknown"), []).append(run)
    mixed = len(by_commit) > 1 or any(c.endswith("+dirty") or c == "unknown" for c in by_commit)
    if mixed and not allow_mixed:
        listed = ", ".join(f"{short_commit(c)} ({_n(len(r), 'run')})" for c, r in sorted(by_commit.items()))
        raise ReplicationError(f"runs of scale {scale} trained at {listed}: a published study rests on one clean "
                               "commit; rebuild them there, or pass --allow-mixed to publish them as they are "
                               "(the stamp lists them)")
    return by_commit, mixed


def _times(folder: Path) -> tuple[float, float]:
    """The earliest and latest modification times of the files under ``folder``."""
    times = [p.stat().st_mtime for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    return min(times), max(times)


def _wall_time(source: Path, folder: str, runs: dict[str, dict]) -> dict:
    """The runs' and evaluations' seconds (as recorded) of an experiment's (or one upstream run's)
    folder, and the span of its outputs (file times: the build's own folder, not a copy)."""
    mine = {r: res for r, res in runs.items() if f"{r}/".startswith(f"{folder}/")}
    evaluated = [read_json(source / r / "final_metrics.json") for r in mine
                 if (source / r / "final_metrics.json").is_file()]
    recorded = [e["seconds"] for e in evaluated if "seconds" in e]
    first, last = _times(source / folder)
    return {"runs": len(mine), "seconds": round(sum(r.get("seconds", 0.0) for r in mine.values()), 2),
            "evaluations": len(evaluated), "evaluation_seconds": round(sum(recorded), 2) if recorded else None,
            "first_output": _when(first), "last_output": _when(last), "span_seconds": round(last - first, 2),
            "_first": first, "_last": last}


def publish(scale: str, results: Path = Path("results"), reports: Path = Path("reports"),
            out: Path = Path(PUBLISHED), allow_mixed: bool = False) -> tuple[Path, dict]:
    """Copy a built study's scorecard, figures, tables, measured values, run records and curves
    (never checkpoints) to ``<out>/<scale>``, replacing what was published there, with its stamp."""
    source, built, dest = Path(results) / scale, Path(reports) / scale, Path(out) / scale
    experiments = [e for e in cfg.experiment_ids() if (source / e / "measured.json").is_file()]
    if not experiments:
        raise ReplicationError(f"no measured values under {source}: build the study first (make {scale})")
    for name in SCORECARD:
        if not (built / name).is_file():
            raise ReplicationError(f"missing {built / name}: build the study's reports first "
                                   f"(snakemake --cores 2 reports/{scale}/all)")
    runs = {f"{e}/{p.parent.name}": read_json(p)
            for e in experiments for p in sorted((source / e).glob("*/result.json"))}
    read = {*(ref for e in experiments for ref in cfg.paper_file(e).get("upstream", [])),
            Path(PROXY_SIDECAR).parent.as_posix()}
    upstream = sorted(ref for ref in read - set(runs) if (source / ref / "result.json").is_file())
    runs.update({ref: read_json(source / ref / "result.json") for ref in upstream})
    by_commit, mixed = _commits_check(runs, scale, allow_mixed)

    Path(out).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{scale}.", dir=out))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; the published folder gets the usual permissions
    skipped: list[dict] = []

    def copy(src: Path, rel: str, limit: int | None = MAX_BYTES) -> None:
        size = src.stat().st_size
        if limit is not None and size > limit:
            skipped.append({"file": rel, "bytes": size})  # where it would lie in the published folder
            return
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, tmp / rel)

    try:
        for name in SCORECARD:
            copy(built / name, name, None)
        if (built / REPORT_PAGE).is_file():
            copy(built / REPORT_PAGE, REPORT_PAGE, MAX_REPORT_BYTES)
        for artifact in artifacts(experiments):
            folder = artifact_dir(reports, scale, artifact)
            for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
                if path.is_file() and path.suffix in FIGURE_SUFFIXES and not path.name.startswith("."):
                    copy(path, path.relative_to(built).as_posix())
        for experiment in experiments:
            copy(source / experiment / "measured.json", f"results/{experiment}/measured.json", None)
        for run in runs:
            for name in RUN_FILES:
                if (source / run / name).is_file():
                    copy(source / run / name, f"results/{run}/{name}", None if name in ALWAYS else MAX_BYTES)

        walls = {e: _wall_time(source, e, runs) for e in experiments}
        upstream_walls = {ref: _wall_time(source, ref, runs) for ref in upstream}
        every = [*walls.values(), *upstream_walls.values()]
        first, last = min(w.pop("_first") for w in every), max(w.pop("_last") for w in every)
        evaluation = [w["evaluation_seconds"] for w in every if w["evaluation_seconds"] is not None]
        evaluated = sorted({read_json(source / r / "final_metrics.json").get("commit", "unknown") for r in runs
                            if (source / r / "final_metrics.json").is_file()})
        stamp = {
            "scale": scale,
            "published": {"date": _now(), "commit": project_commit()},
            "trained_at": sorted(by_commit),
            **({"mixed": {c: sorted(r) for c, r in sorted(by_commit.items())}} if mixed else {}),
            "evaluated_at": evaluated,
            "machine": {"published_on": {"cpu": cpu_model(), "cores": os.cpu_count()},
                        "runs": [json.loads(m) for m in sorted({json.dumps(r["machine"], sort_keys=True)
                                                                  for r in runs.values() if "machine" in r})]},
            "runs": {"count": len(runs), "torch": sorted({str(r.get("torch", "unknown")) for r in runs.values()}),
                     "devices": dict(sorted(Counter(str(r.get("device", "unknown")) for r in runs.values()).items())),
                     "threads": sorted({r.get("threads", 1) for r in runs.values()})},
            "experiments": walls,
            "upstream": upstream_walls,  # runs the experiments read, of an experiment not published itself
            "total": {"runs": len(runs), "seconds": round(sum(w["seconds"] for w in every), 2),
                      "evaluation_seconds": round(sum(evaluation), 2) if evaluation else None,
                      "first_output": _when(first), "last_output": _when(last), "span_seconds": round(last - first, 2)},
            "skipped": skipped,
            "limits": {"file_bytes": MAX_BYTES, "report_bytes": MAX_REPORT_BYTES, "pdf": "not published"},
            "rejudged": [],
        }
        write_stamp(tmp, stamp)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return dest, stamp


def stamp_lines(stamp: dict) -> list[str]:
    """The stamp's key facts as Markdown bullets: the top of the published scorecard and of its
    stamp page."""
    total, runs, trained = stamp["total"], stamp["runs"], stamp["trained_at"]
    commits = (f"`{short_commit(trained[0])}`" if "mixed" not in stamp else
               ", ".join(f"`{short_commit(c)}` ({_n(len(r), 'run')})" for c, r in stamp["mixed"].items())
               + " (mixed, published with --allow-mixed)")
    devices = ", ".join(f"{d} × {n}" for d, n in runs["devices"].items())
    if set(stamp["evaluated_at"]) - set(trained):
        commits += "; final checkpoints evaluated at " + ", ".join(
            f"`{short_commit(c)}`" for c in stamp["evaluated_at"])
    evaluation = total["evaluation_seconds"]
    published, host = stamp["published"], stamp["machine"]["published_on"]
    machines = "; ".join(f"{m['cpu']} ({m['cores']} cores" + (f", {m['accelerator']}" if m.get("accelerator") else "")
                         + ")" for m in stamp["machine"]["runs"]) or "machines not recorded (runs before 2026-12-06)"
    lines = [
        (f"- **Published study** of scale `{stamp['scale']}`: {_n(len(stamp['experiments']), 'experiment')}, "
         f"{_n(runs['count'], 'run')}; published {published['date'][:10]} at `{short_commit(published['commit'])}`"),
        f"- **Trained at** {commits}",
        (f"- **Machine**: the runs ran on {machines}; published on {host['cpu']} ({host['cores']} cores); "
         f"torch {', '.join(runs['torch'])}, devices {devices}"),
        (f"- **Wall time**: {_duration(total['seconds'])} of training runs"
         + (f" and {_duration(evaluation)} of evaluations" if evaluation is not None else " (evaluations not timed)")
         + f"; outputs written (file times) over {_duration(total['span_seconds'])}, {total['first_output'][:16]} to "
         f"{total['last_output'][:16]} UTC"),
    ]
    if stamp["skipped"]:
        lines.append(f"- **Left out**: {_n(len(stamp['skipped']), 'file')} over the size limit (listed in the stamp)")
    for r in stamp["rejudged"]:
        changes = "; ".join(f"{c}: {old} → {new}" for c, (old, new) in r["changed"].items())
        lines.append(f"- **Re-judged** {r['date'][:10]} at `{short_commit(r['commit'])}` with the claims of that "
                     "commit: " + (f"{_n(len(r['changed']), 'verdict')} changed ({changes})" if changes
                                   else "no verdict changed"))
    return lines


def write_stamp(folder: Path, stamp: dict) -> None:
    """STAMP.json, its page, and its key facts on top of the scorecard just written beside it."""
    write_json(folder / cfg.STAMP, stamp)
    lines = [f"# Stamp of the published `{stamp['scale']}` study", "", *stamp_lines(stamp), "",
             "## Wall time per experiment", "",
             "| experiment | runs | training | evaluations | first output (UTC) | last output (UTC) | span |",
             "|---|---|---|---|---|---|---|"]
    rows = [(f"`{e}`", w) for e, w in stamp["experiments"].items()]
    rows += [(f"`{r}` (read by the experiments)", w) for r, w in stamp.get("upstream", {}).items()]
    lines += [f"| {name} | {w['runs']} | {_duration(w['seconds'])} | {w['evaluations']}: "
              f"{_duration(w['evaluation_seconds'])} | {w['first_output'][:16]} | {w['last_output'][:16]} | "
              f"{_duration(w['span_seconds'])} |" for name, w in rows]
    if stamp["skipped"]:
        lines += ["", "## Left out (over the size limit)", ""]
        lines += [f"- {s['file']} ({s['bytes'] / 1e6:.1f} MB)" for s in stamp["skipped"]]
    write_text(folder / "STAMP.md", "\n".join(lines) + "\n")
    md, page = folder / "scorecard.md", folder / "scorecard.html"
    title, *rest = md.read_text().split("\n", 1)
    write_text(md, "\n".join([title, "", *stamp_lines(stamp), *rest]))
    items = "".join(f"<li>{html.escape(line[2:].replace('**', '').replace('`', ''))}</li>"
                    for line in stamp_lines(stamp))
    head, sep, tail = page.read_text().partition("</h1>")
    write_text(page, f"{head}{sep}<ul>{items}</ul>{tail}" if sep else page.read_text())


def _verdicts(path: Path) -> dict[str, str]:
    with open(path, newline="") as handle:
        return {row["claim_id"]: row["verdict"] for row in csv.DictReader(handle)}


def _published(scale: str, published: Path) -> tuple[Path, dict]:
    folder = Path(published) / scale
    if not (folder / cfg.STAMP).is_file():
        raise ReplicationError(f"no published study of scale {scale} under {published}: "
                               f"run `replicate publish --scale {scale}` first")
    return folder, read_json(folder / cfg.STAMP)


def rejudge(scale: str, published: Path = Path(PUBLISHED)) -> tuple[Path, dict]:
    """Judge the published values with the claims of this checkout and rewrite the published
    scorecard in place; the stamp records when, at which commit, and every verdict that changed
    (a claim revised after the results)."""
    folder, stamp = _published(scale, published)
    before = _verdicts(folder / "scorecard.csv")
    frame = scorecard(scale, list(stamp["experiments"]), folder / "results")
    after = dict(zip(frame["claim_id"], frame["verdict"]))
    changed = {c: [before.get(c, "absent"), after.get(c, "absent")]
               for c in sorted(set(before) | set(after)) if before.get(c) != after.get(c)}
    stamp["rejudged"].append({"date": _now(), "commit": project_commit(), "changed": changed})
    write_scorecard(frame, folder)
    write_stamp(folder, stamp)
    return folder, changed


def status_block(readme_dir: Path = Path("."), published: Path = Path(PUBLISHED)) -> str:
    """The README's status table (between its status markers): per experiment and published
    scale, the verdict counts of the published scorecard, with the scale's stamp."""
    scales = [s for s in cfg.SCALES if (Path(published) / s / cfg.STAMP).is_file()]
    if not scales:
        body = ("No published study yet: build one and publish it (`make small`, then `make publish-small`, which runs "
                "`replicate publish --scale small` and `replicate readme-status`), and commit `reports/published/small` "
                "with this README.")
        return "\n".join([STATUS_BEGIN, "", body, "", STATUS_END])

    def link(scale: str, name: str) -> str:
        return Path(os.path.relpath(Path(published) / scale / name, readme_dir)).as_posix()

    owner = {a: e for e in cfg.experiment_ids() for a in cfg.paper_file(e)["artifacts"]}
    counts: dict[str, dict[str, Counter]] = {}  # experiment -> scale -> verdict counts (published experiments)
    header, notes = [], []
    for scale in scales:
        folder, stamp = _published(scale, published)
        with open(folder / "scorecard.csv", newline="") as handle:
            for row in csv.DictReader(handle):
                experiment = owner.get(row["artifact"], row["artifact"])
                if experiment in stamp["experiments"]:
                    counts.setdefault(experiment, {}).setdefault(scale, Counter())[row["verdict"]] += 1
        trained = ", ".join(short_commit(c) for c in stamp["trained_at"])
        header.append(f"[`{scale}`]({link(scale, 'scorecard.md')}): trained at `{trained}`, "
                      f"published {stamp['published']['date'][:10]}")
        rejudged = stamp["rejudged"][-1] if stamp["rejudged"] else None
        notes.append(f"- `{scale}`: scorecard [md]({link(scale, 'scorecard.md')}), "
                     f"[html]({link(scale, 'scorecard.html')}), [csv]({link(scale, 'scorecard.csv')}); "
                     f"[stamp]({link(scale, 'STAMP.md')}) (commits, machine, wall time)"
                     + (f"; re-judged {rejudged['date'][:10]} at `{short_commit(rejudged['commit'])}`, "
                        f"{_n(len(rejudged['changed']), 'verdict')} changed" if rejudged else ""))
    lines = [STATUS_BEGIN, "", "| id | artifacts | " + " | ".join(header) + " |", "|---|---|" + "---|" * len(scales)]
    for experiment in cfg.experiment_ids():
        cells = []
        for scale in scales:
            c = counts.get(experiment, {}).get(scale)
            cells.append(f"[{c[REPRODUCED]} of {sum(c.values())} reproduced, {c[NOT_REPRODUCED]} not reproduced, "
                         f"{c[NOT_EVALUATED]} not evaluated]({link(scale, 'scorecard.md')})" if c else "not published")
        arts = ", ".join(cfg.paper_file(experiment)["artifacts"])
        lines.append(f"| `{experiment}` | {arts} | " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", *notes, "", STATUS_END])


def readme_status(readme: Path = Path("README.md"), published: Path = Path(PUBLISHED)) -> Path:
    """Rewrite the README's status block from the published scorecards."""
    text = Path(readme).read_text()
    start, end = text.find(STATUS_BEGIN), text.find(STATUS_END)
    if start < 0 or end < start:
        raise ReplicationError(f"{readme} has no {STATUS_BEGIN} ... {STATUS_END} block: add the two markers where "
                               "the status table goes")
    write_text(readme, text[:start] + status_block(Path(readme).parent, published) + text[end + len(STATUS_END):])
    return Path(readme)


def readme_block(readme: Path = Path("README.md")) -> str | None:
    """The README's status block as it stands (None without its markers)."""
    text = Path(readme).read_text()
    start, end = text.find(STATUS_BEGIN), text.find(STATUS_END)
    return text[start:end + len(STATUS_END)] if 0 <= start < end else None
