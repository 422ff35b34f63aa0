"""``replicate``: the command line every Snakemake rule calls.

    replicate run EXPERIMENT RUN --scale S      train/evaluate one run
    replicate evaluate EXPERIMENT RUN --scale S final metrics of a run's final networks
    replicate summarize EXPERIMENT --scale S    measured values for the claims
    replicate notebook ARTIFACT --scale S       execute one report notebook (jupytext + papermill)
    replicate scorecard --scale S               reports/<scale>/scorecard.{md,html,csv}
    replicate manifest --scale S                the reports/<scale>/all manifest (and the report's landing page)
    replicate compare A B --scale S             differences between two builds' measured values
    replicate publish --scale S                 copy a built study into reports/published/<scale> (no checkpoints)
    replicate rejudge --scale S                 re-judge a published study with this checkout's claims
    replicate readme-status                     the README's status table from the published scorecards
    replicate fetch DATASET                     download/verify/pack a dataset
    replicate preflight --scale S               every missing dataset, manual download and weights file, at once
    replicate list [--scale S]                  experiments, runs and artifacts
    replicate list --networks                   registered networks and parameter counts
    replicate convert-checkpoints PATH...       rewrite training checkpoints from before weights-only loading
    replicate paper-check                       every paper job's shape on fixtures: seconds and peak memory

Every command reads datasets under --data-root DIR (before or after the command; default
$REPLICATION_DATA, else ./data): the workflow passes its `data_root` to every job this way.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from replication.errors import ReplicationError


def _add_scale(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scale", default="paper", help="smoke | small | paper (default: paper)")
    p.add_argument("--extra-deltas", default=None, help="YAML of extra setting deltas (tests, exploration)")


DATA_ROOT_HELP = "data root (default: $REPLICATION_DATA, else ./data)"


class _Sub(argparse.ArgumentParser):
    """A subcommand that also takes --data-root after its name (SUPPRESS: an absent one keeps
    the value given before the command)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_argument("--data-root", default=argparse.SUPPRESS, help=DATA_ROOT_HELP)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="replicate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=None, help=DATA_ROOT_HELP)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Sub)

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

    p = sub.add_parser("manifest", help="write the reports/<scale>/all manifest")
    _add_scale(p)
    p.add_argument("--experiments", default="all")
    p.add_argument("--reports", default="reports", type=Path)
    p.add_argument("--out", default=None, type=Path, help="default reports/<scale>/all")

    p = sub.add_parser("compare", help="differences between two builds' measured values (exit 1 if any)")
    p.add_argument("a", type=Path, help="a results root (e.g. results) or a published study's "
                                         "(reports/published/<scale>/results)")
    p.add_argument("b", type=Path)
    p.add_argument("--scale", default="small")
    p.add_argument("--experiments", default="all")
    p.add_argument("--tolerance", type=float, default=0.0, help="relative tolerance on numbers (default: exact)")

    p = sub.add_parser("publish", help="copy a built study into reports/published/<scale>, with its stamp")
    p.add_argument("--scale", required=True, help="smoke | small | paper")
    p.add_argument("--results", default="results", type=Path)
    p.add_argument("--reports", default="reports", type=Path)
    p.add_argument("--out", default=None, type=Path, help="default reports/published")
    p.add_argument("--allow-mixed", action="store_true",
                   help="publish runs trained at several commits or a dirty tree (the stamp lists them)")

    p = sub.add_parser("rejudge", help="re-judge a published study's values with this checkout's claims, in place")
    p.add_argument("--scale", required=True, help="smoke | small | paper")
    p.add_argument("--published", default=None, type=Path, help="default reports/published")

    p = sub.add_parser("readme-status", help="rewrite the README's status block from the published scorecards")
    p.add_argument("--readme", default="README.md", type=Path)
    p.add_argument("--published", default=None, type=Path, help="default reports/published")

    p = sub.add_parser("fetch", help="download (where allowed), verify and pack a dataset")
    p.add_argument("dataset")
    p.add_argument("--root", default=None, help="data root (same as --data-root)")
    p.add_argument("--limit", type=int, default=None, help="pack at most this many images (LSUN, ImageNet 32)")
    p.add_argument("--workers", type=int, default=1, help="processes decoding images (CelebA, LSUN)")
    p.add_argument("--describe", action="store_true", help="print the expected files and manual steps, fetch nothing")

    p = sub.add_parser("convert-checkpoints", help="rewrite checkpoint.pt files written before weights-only "
                                                   "loading (read as data too)")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p = sub.add_parser("preflight", help="list every missing dataset, manual download and weights file at once")
    p.add_argument("--scale", default="paper", help="smoke | small | paper (default: paper)")
    p.add_argument("--experiments", default="all", help="'all' or comma-separated ids")
    p.add_argument("--allow-downloads", action="store_true",
                   help="fail only on what needs a person (the workflow fetches the rest itself)")

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
    if args.data_root is not None:
        # Every reader of data (runs, evaluations, summaries, notebook kernels) asks
        # replication.data.data_root(), which falls back to this variable.
        os.environ["REPLICATION_DATA"] = str(Path(args.data_root).expanduser().resolve())
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
    elif args.command == "publish":
        from replication.provenance import PUBLISHED
        from replication.publish import publish
        dest, stamp = publish(args.scale, args.results, args.reports, args.out or Path(PUBLISHED), args.allow_mixed)
        files = [p for p in dest.rglob("*") if p.is_file()]
        print(f"{dest}: {len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB; "
              f"{len(stamp['skipped'])} left out over the size limit (listed in {dest / cfg.STAMP})")
    elif args.command == "rejudge":
        from replication.provenance import PUBLISHED
        from replication.publish import rejudge
        folder, changed = rejudge(args.scale, args.published or Path(PUBLISHED))
        print(f"{folder}: re-judged; " + ("; ".join(f"{c}: {a} -> {b}" for c, (a, b) in changed.items())
                                          or "no verdict changed"))
    elif args.command == "readme-status":
        from replication.provenance import PUBLISHED
        from replication.publish import readme_status
        print(readme_status(args.readme, args.published or Path(PUBLISHED)))
    elif args.command == "fetch":
        from replication import data
        root = args.root or args.data_root
        if args.describe:
            print(data.describe(args.dataset, root))
        else:
            print(data.fetch(args.dataset, root, limit=args.limit, workers=args.workers))
    elif args.command == "convert-checkpoints":
        from replication.train.loop import convert_checkpoint
        for path in args.paths:
            print(f"{path}: {'converted' if convert_checkpoint(path) else 'already loads as data'}")
    elif args.command == "preflight":
        from replication.preflight import report
        text, ok = report(args.scale, cfg.selected_experiments(args.experiments), args.data_root,
                          args.allow_downloads)
        print(text)
        return 0 if ok else 1
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
