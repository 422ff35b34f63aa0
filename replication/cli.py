"""``replicate``: the command line every Snakemake rule calls.

    replicate run EXPERIMENT RUN --scale S      train/evaluate one run
    replicate evaluate EXPERIMENT RUN --scale S final metrics of a run's final networks
    replicate summarize EXPERIMENT --scale S    measured values for the claims
    replicate notebook ARTIFACT --scale S       execute one report notebook (jupytext + papermill)
    replicate scorecard --scale S               reports/<scale>/scorecard.{md,html,csv}
    replicate manifest --scale S                the reports/all manifest (and the report's landing page)
    replicate compare A B --scale S             differences between two builds' measured values
    replicate fetch DATASET                     download/verify/pack a dataset
    replicate list [--scale S]                  experiments, runs and artifacts
    replicate list --networks                   registered networks and parameter counts
    replicate convert-checkpoints PATH...       rewrite training checkpoints from before weights-only loading
    replicate paper-check                       every paper job's shape on fixtures: seconds and peak memory
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from replication.errors import ReplicationError


def _add_scale(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scale", default="paper", help="smoke | small | paper (default: paper)")
    p.add_argument("--extra-deltas", default=None, help="YAML of extra setting deltas (tests, exploration)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="replicate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    for name, text in (("run", "train/evaluate one run of an experiment"),
                       ("evaluate", "score a run's final networks (reruns from pulled checkpoints)")):
        p = sub.add_parser(name, help=text)
        p.add_argument("experiment")
        p.add_argument("run")
        _add_scale(p)
        p.add_argument("--device", default="auto")
        p.add_argument("--threads", type=int, default=1)
        p.add_argument("--results", default="results", type=Path)

    p = sub.add_parser("summarize", help="collect an experiment's measured values")
    p.add_argument("experiment")
    _add_scale(p)
    p.add_argument("--results", default="results", type=Path)

    p = sub.add_parser("notebook", help="execute a report notebook")
    p.add_argument("artifact", help="e.g. wgan/fig1")
    _add_scale(p)
    p.add_argument("--results", default="results")
    p.add_argument("--reports", default="reports")

    p = sub.add_parser("scorecard", help="write the scorecard")
    _add_scale(p)
    p.add_argument("--experiments", default="all", help="'all' or comma-separated ids")
    p.add_argument("--results", default="results", type=Path)
    p.add_argument("--out", default=None, type=Path, help="default reports/<scale>")

    p = sub.add_parser("manifest", help="write the reports/all manifest")
    _add_scale(p)
    p.add_argument("--experiments", default="all")
    p.add_argument("--reports", default="reports", type=Path)
    p.add_argument("--out", default=Path("reports/all"), type=Path)

    p = sub.add_parser("compare", help="differences between two builds' measured values (exit 1 if any)")
    p.add_argument("a", type=Path, help="a results root (e.g. results) or a published folder")
    p.add_argument("b", type=Path)
    p.add_argument("--scale", default="small")
    p.add_argument("--experiments", default="all")
    p.add_argument("--tolerance", type=float, default=0.0, help="relative tolerance on numbers (default: exact)")

    p = sub.add_parser("fetch", help="download (where allowed), verify and pack a dataset")
    p.add_argument("dataset")
    p.add_argument("--root", default=None, help="data root (default: $REPLICATION_DATA or ./data)")
    p.add_argument("--limit", type=int, default=None, help="pack at most this many images (LSUN, ImageNet 32)")
    p.add_argument("--workers", type=int, default=1, help="processes decoding images (CelebA, LSUN)")
    p.add_argument("--describe", action="store_true", help="print the expected files and manual steps, fetch nothing")

    p = sub.add_parser("convert-checkpoints", help="rewrite checkpoint.pt files written before weights-only "
                                                   "loading (read as data too)")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")

    p = sub.add_parser("paper-check", help="every distinct paper job at paper sizes with iteration and sample counts "
                                           "cut, on fixtures: a table of seconds and peak memory")
    from replication.papercheck.check import add_arguments
    add_arguments(p)

    p = sub.add_parser("list", help="experiments, their runs and artifacts")
    _add_scale(p)
    p.add_argument("--networks", action="store_true", help="list the registered networks instead")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ReplicationError as err:
        print(f"replicate: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("replicate: interrupted (state is kept; rerun to resume)", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    from replication import config as cfg

    if hasattr(args, "scale"):
        cfg.check_scale(args.scale)
    if args.command == "run":
        from replication.runs import execute_run
        print(execute_run(args.experiment, args.run, args.scale, args.device, args.threads, args.results, args.extra_deltas))
    elif args.command == "evaluate":
        from replication.runs import execute_evaluation
        print(execute_evaluation(args.experiment, args.run, args.scale, args.device, args.threads, args.results,
                                 args.extra_deltas))
    elif args.command == "summarize":
        from replication.runs import execute_summary
        print(execute_summary(args.experiment, args.scale, args.results, args.extra_deltas))
    elif args.command == "notebook":
        from replication.report import run_notebook
        print(run_notebook(args.artifact, args.scale, args.results, args.reports, args.extra_deltas))
    elif args.command == "scorecard":
        from replication.claims import scorecard, write_scorecard
        selected = cfg.selected_experiments(args.experiments)
        frame = scorecard(args.scale, selected, args.results, extra_deltas=args.extra_deltas)
        for path in write_scorecard(frame, args.out or Path("reports") / args.scale):
            print(path)
    elif args.command == "manifest":
        from replication.report import write_manifest, write_report_index
        print(write_report_index(args.scale, args.reports))
        print(write_manifest(args.scale, cfg.selected_experiments(args.experiments), args.reports, args.out))
    elif args.command == "compare":
        from replication.compare import compare
        lines = compare(args.a, args.b, args.scale, cfg.selected_experiments(args.experiments), args.tolerance)
        print("\n".join(lines) or f"no differences ({args.scale})")
        return 1 if lines else 0
    elif args.command == "fetch":
        from replication import data
        if args.describe:
            print(data.describe(args.dataset, args.root))
        else:
            print(data.fetch(args.dataset, args.root, limit=args.limit, workers=args.workers))
    elif args.command == "convert-checkpoints":
        from replication.train.loop import convert_checkpoint
        for path in args.paths:
            print(f"{path}: {'converted' if convert_checkpoint(path) else 'already loads as data'}")
    elif args.command == "paper-check":
        from replication.papercheck.check import main as paper_check
        return paper_check(args)
    elif args.command == "list" and args.networks:
        from replication.nets import list_networks
        for row in list_networks():
            print(f"{row['name']:<22} {row['family']:<9} {row['params']:>12,}  {row['doc']}")
    elif args.command == "list":
        for exp_id in cfg.experiment_ids():
            doc = cfg.paper_file(exp_id)
            print(f"{exp_id}: {doc['title']}")
            print(f"  artifacts: {', '.join(doc['artifacts'])}")
            print(f"  runs at {args.scale}: {', '.join(cfg.runs_of(exp_id, args.scale, args.extra_deltas))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
