"""The paper-shape check's driver: fixture data, the job plan, the runs, the table.

Each job is one process, as under Snakemake: ``python -m replication.papercheck job`` installs the
Inception stand-in and runs the same ``replicate`` command line a rule runs (run, evaluate,
summarize, notebook, scorecard) with the check's extra deltas. The driver waits for each with
``os.wait4``, which gives that process's own peak resident set size (its reaped children, e.g. a
notebook's kernel, included), and records it with its wall seconds in ``jobs.json`` as each job
ends; a rerun skips the jobs recorded done (``--fresh`` starts over), so a killed check loses at
most its running jobs, which resume from their checkpoints like any run.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from replication import config as cfg
from replication.errors import ReplicationError

SCALE = "paper"
DELTAS = cfg.CONFIG_DIR / "paper_check.yaml"
CELEBA_TRAIN = 300  # CelebA's WAE split holds out the last 20,000 images: the fixture has this many more


@dataclass
class Job:
    name: str
    kind: str  # train | evaluate | summary | notebook | scorecard
    args: list[str]  # the replicate command line
    output: Path  # present once the job succeeded
    deps: list[str] = field(default_factory=list)


# -- data --------------------------------------------------------------------------------------

def _writers() -> dict:
    from replication.data.registry import CELEBA_WAE_TEST
    from replication.papercheck import fixtures as fx

    n = CELEBA_WAE_TEST + CELEBA_TRAIN
    return {
        "mnist": fx.write_mnist,  # the official 70k: the WAE re-split holds out 10k, WGAN-GP's keeps 50k
        "fashion-mnist": lambda raw: fx.write_classes(raw, train=500, test=200),
        "cifar10": lambda raw: fx.write_cifar(raw, per_batch=64, varied=True),
        "imagenet32": lambda raw: fx.write_imagenet32(raw, per_batch=16, valid=16, varied=True),
        "celeba": lambda raw: fx.write_celeba(raw, n=n, parts=(n - 200, 100, 100)),
        "lsun-bedroom": lambda raw: fx.write_lsun(raw, n=200),
        "billion-word": lambda raw: fx.write_billion_word(raw, per_file=30, every_byte=True),
    }


def prepare_data(root: Path, names: list[str]) -> None:
    """Write each data set's raw files in its real format (once) and pack them through the real
    fetch, with the fixture files' checksums in place of the published ones."""
    from replication.data import fetch
    from replication.papercheck.fixtures import fixture_spec, fixture_specs

    writers = _writers()
    for name in names:
        raw = root / name / "raw"
        if not raw.exists():
            partial = root / name / "raw.partial"
            shutil.rmtree(partial, ignore_errors=True)
            writers[name](partial)
            partial.rename(raw)
        with fixture_specs({name: fixture_spec(name, raw)}):
            fetch(name, root, workers=2)


def datasets(experiments: list[str]) -> list[str]:
    """What the experiments read at paper, the weights file aside (the stand-in replaces it)."""
    names = {n for exp in experiments for n in cfg.datasets_of(exp, SCALE)} - {"inception-weights"}
    return sorted(names)


# -- the plan ----------------------------------------------------------------------------------

def plan(experiments: list[str], results: Path, reports: Path, deltas: Path = DELTAS) -> list[Job]:
    """Every job of the selected experiments at paper under the check's deltas, in DAG order:
    runs (their declared upstream runs first), evaluations, summaries, notebooks, the scorecard."""
    common = ["--scale", SCALE, "--extra-deltas", str(deltas)]
    jobs: dict[str, Job] = {}

    def run_job(exp: str, run: str) -> str:
        name = f"{exp}/{run}"
        if name not in jobs:
            deps = [run_job(*ref.split("/")) for ref in cfg.paper_file(exp).get("upstream", []) if ref != name]
            jobs[name] = Job(name, "train", ["run", exp, run, *common, "--device", "cpu", "--threads", "1",
                                             "--results", str(results)], results / SCALE / exp / run / "result.json",
                             deps)
        return name

    for exp in experiments:
        runs = [run_job(exp, run) for run in cfg.runs_of(exp, SCALE, deltas)]
        evaluations = []
        for run in cfg.evaluated_runs(exp, SCALE, deltas):
            name = f"{exp}/{run} evaluate"
            jobs[name] = Job(name, "evaluate", ["evaluate", exp, run, *common, "--device", "cpu", "--threads", "1",
                                                "--results", str(results)],
                             results / SCALE / exp / run / "final_metrics.json", [f"{exp}/{run}"])
            evaluations.append(name)
        jobs[f"{exp} summary"] = Job(f"{exp} summary", "summary", ["summarize", exp, *common, "--results", str(results)],
                                     results / SCALE / exp / "measured.json", runs + evaluations)
        for artifact in cfg.paper_file(exp)["artifacts"]:
            jobs[f"{artifact} notebook"] = Job(
                f"{artifact} notebook", "notebook",
                ["notebook", artifact, *common, "--results", str(results), "--reports", str(reports)],
                reports / SCALE / "notebooks" / f"{artifact.replace('/', '_')}.ipynb", [f"{exp} summary"])
    jobs["scorecard"] = Job("scorecard", "scorecard", ["scorecard", *common, "--experiments", ",".join(experiments),
                                                       "--results", str(results), "--out", str(reports / SCALE)],
                            reports / SCALE / "scorecard.md", [f"{exp} summary" for exp in experiments])
    return list(jobs.values())


# -- running -----------------------------------------------------------------------------------

def _env(work: Path) -> dict:
    return {**os.environ, "REPLICATION_DATA": str(work / "data"), "PYTHONWARNINGS": "ignore",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(cfg.REPO), os.environ.get("PYTHONPATH")]))}


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _start(job: Job, work: Path, env: dict) -> subprocess.Popen:
    log = open(work / "logs" / f"{job.name.replace('/', '__').replace(' ', '.')}.log", "w")
    command = [sys.executable, "-m", "replication.papercheck", "job", str(work / "results"), "--", *job.args]
    log.write(" ".join(command) + "\n")
    log.flush()
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cfg.REPO)
    log.close()
    return proc


def run_jobs(jobs: list[Job], work: Path, parallel: int, timeout: float) -> dict[str, dict]:
    """Run the jobs, ``parallel`` at a time in plan order once their dependencies succeeded;
    ``{name: row}`` with seconds, peak RSS (MiB) and status, saved to ``jobs.json`` after each job."""
    record = work / "jobs.json"
    rows: dict[str, dict] = json.loads(record.read_text()) if record.exists() else {}
    env = _env(work)
    (work / "logs").mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(DELTAS.read_bytes()).hexdigest()[:16]  # changed deltas: every job again
    done = {n for n, r in rows.items() if r["status"] == "ok" and r.get("deltas") == digest and Path(r["output"]).exists()}
    pending = [j for j in jobs if j.name not in done]
    running: dict[int, tuple[Job, subprocess.Popen, float]] = {}
    while pending or running:
        unfinished = {j.name for j in pending} | {j.name for j, _, _ in running.values()}
        for job in list(pending):
            failed = [d for d in job.deps if d not in done and d not in unfinished]
            if failed:
                rows[job.name] = {"kind": job.kind, "seconds": None, "peak_mib": None, "output": str(job.output),
                                  "status": f"skipped ({failed[0]} failed)"}
                pending.remove(job)
            elif len(running) < parallel and all(d in done for d in job.deps):
                proc = _start(job, work, env)
                running[proc.pid] = (job, proc, time.monotonic())
                pending.remove(job)
                print(f"start  {job.name}", flush=True)
        if not running:
            if pending:  # dependencies outside the plan: a bug in the plan
                raise ReplicationError(f"paper-check: {pending[0].name} waits for {pending[0].deps}, never started")
            break
        pid, status, usage = os.wait4(-1, os.WNOHANG)
        if pid == 0:
            now = time.monotonic()
            for job, proc, started in running.values():
                if now - started > timeout:
                    proc.kill()  # reaped below; its state stays for the next check to resume
            time.sleep(0.2)
            continue
        job, proc, started = running.pop(pid)
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        ok = code == 0 and job.output.exists()
        rows[job.name] = {"kind": job.kind, "seconds": round(time.monotonic() - started, 1),
                          "peak_mib": round(usage.ru_maxrss / 1024), "output": str(job.output),
                          "status": "ok" if ok else ("timed out" if code == -9 else f"failed (exit {code})"),
                          "deltas": digest}
        if ok:
            done.add(job.name)
        _write(record, json.dumps(rows, indent=1))
        print(f"{rows[job.name]['status']:<6} {job.name}  {rows[job.name]['seconds']} s  "
              f"{rows[job.name]['peak_mib']} MiB", flush=True)
    _write(record, json.dumps(rows, indent=1))
    return rows


def table(jobs: list[Job], rows: dict[str, dict], wall: float, parallel: int) -> str:
    lines = ["| job | kind | seconds | peak RSS (MiB) | status |", "|---|---|---:|---:|---|"]
    for job in jobs:
        r = rows.get(job.name, {"seconds": None, "peak_mib": None, "status": "not run"})
        lines.append(f"| {job.name} | {job.kind} | {r['seconds'] if r['seconds'] is not None else '—'} | "
                     f"{r['peak_mib'] if r['peak_mib'] is not None else '—'} | {r['status']} |")
    measured = [rows[j.name] for j in jobs if rows.get(j.name, {}).get("seconds") is not None]
    ok = sum(rows.get(j.name, {}).get("status") == "ok" for j in jobs)
    biggest = max(measured, key=lambda r: r["peak_mib"], default=None)
    summary = (f"{ok} of {len(jobs)} jobs ok; {wall / 60:.1f} min wall with {parallel} job(s) at a time, "
               f"{sum(r['seconds'] for r in measured) / 60:.1f} job-min in all"
               + (f"; largest peak RSS {biggest['peak_mib']} MiB" if biggest else ""))
    return summary + "\n\n" + "\n".join(lines) + "\n"


def check(experiments: list[str], work: Path, parallel: int = 2, timeout: float = 1800, fresh: bool = False) -> int:
    work = Path(work).resolve()
    if fresh:
        for folder in ("results", "reports", "logs"):
            shutil.rmtree(work / folder, ignore_errors=True)
        (work / "jobs.json").unlink(missing_ok=True)
    started = time.monotonic()
    print(f"paper-check: data in {work / 'data'}", flush=True)
    subprocess.run([sys.executable, "-m", "replication.papercheck", "data", str(work / "data"), *datasets(experiments)],
                   env=_env(work), cwd=cfg.REPO, check=True)
    jobs = plan(experiments, work / "results", work / "reports")
    rows = run_jobs(jobs, work, parallel, timeout)
    text = table(jobs, rows, time.monotonic() - started, parallel)
    _write(work / "paper_check.md", f"# Paper-shape check ({time.strftime('%Y-%m-%d')})\n\n{text}")
    with open(work / "paper_check.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["job", "kind", "seconds", "peak_mib", "status"])
        for job in jobs:
            r = rows.get(job.name, {})
            writer.writerow([job.name, job.kind, r.get("seconds"), r.get("peak_mib"), r.get("status", "not run")])
    print(text)
    print(f"paper-check: table in {work / 'paper_check.md'}")
    return 0 if all(rows.get(j.name, {}).get("status") == "ok" for j in jobs) else 1


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--experiments", default="all", help="'all' or comma-separated ids")
    p.add_argument("--work", type=Path, default=cfg.REPO / "paper-check",
                   help="data, results, reports, logs and the table (default: ./paper-check)")
    p.add_argument("--jobs", type=int, default=2, help="jobs at a time, one thread each (default 2)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds before a job is stopped (default 1800)")
    p.add_argument("--fresh", action="store_true", help="forget earlier jobs (the fixture data is kept)")


def main(args: argparse.Namespace) -> int:
    return check(cfg.selected_experiments(args.experiments), args.work, args.jobs, args.timeout, args.fresh)
