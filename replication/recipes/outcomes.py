"""A run's sample-quality outcome and verdict primitives over runs (WGAN Figures 5-7, WGAN-GP
Figure 2), with the methods and factors named by the caller.

``outcome`` applies the pre-registered rule of an experiment's ``outcome`` settings to the
measures of a final checkpoint (the evaluation job's ``final_metrics.json``), in this order:

1. collapse within classes, BEFORE the quality gate: recall <= ``collapse_recall`` (the samples
   cover little of the real data) with duplicates >= ``collapse_duplicates`` (because they repeat
   a few images), on the features of FID, so at every scale. Before the gate because FID and
   intra-class FID grow with the repetition itself (a repeated real image scores intra-class FID
   65-357 depending on the image): a gate first would call repeats of sharp images "fails". A
   generator that repeats blobs collapses too; blobs that differ from each other do not;
2. the quality gate (intra-class FID with a labelled classifier, FID otherwise): fails;
3. collapse across classes, AFTER the gate: at most ``collapse_effective_classes`` effective
   classes (a blob's class histogram says nothing, so only runs past the gate);
4. works (FID within the works bound) or poor.
"""

from __future__ import annotations

import math

import pandas as pd

from replication.errors import ReplicationError
from replication.settings.experiments import Outcome

BROKEN = ("fails", "collapses")


def outcome(metrics: dict, limits: Outcome) -> str:
    """works / poor / collapses / fails (see the module)."""
    within = (limits.collapse_recall, limits.collapse_duplicates)
    if within.count(None) == 1:
        raise ReplicationError("outcome: set collapse_recall and collapse_duplicates together (collapse within classes "
                               "needs both)")
    if None not in within:
        if "recall" not in metrics or "duplicates" not in metrics:
            raise ReplicationError("final measures without recall and duplicates (an evaluation from before the "
                                   "collapse gate of 2026-12-06): rerun the run's evaluation job")
        if metrics["recall"] <= limits.collapse_recall and metrics["duplicates"] >= limits.collapse_duplicates:
            return "collapses"
    gate = ("intra_fid", limits.gate_intra_fid) if limits.gate_intra_fid is not None else ("fid", limits.gate_fid)
    value = metrics.get(gate[0])
    if value is None or not math.isfinite(value) or value > gate[1]:
        return "fails"
    if limits.collapse_effective_classes is not None and \
            metrics["effective_classes"] <= limits.collapse_effective_classes:
        return "collapses"
    return "works" if metrics["fid"] <= limits.works_fid else "poor"


def outcomes(res, factor: str, features: str) -> pd.DataFrame:
    """One row per run: method, ``factor`` (the generator, the architecture), seed, the final
    checkpoint's measures and the outcome by ``res.settings.outcome[features]``."""
    limits = res.settings.outcome[features]
    rows = []
    for run in res.runs():
        p, final = res.params(run), res.json(run, "final_metrics.json")["metrics"]
        rows.append({"run": run, "method": p["method"], factor: p[factor], "seed": p["seed"], **final,
                     "outcome": outcome(final, limits)})
    return pd.DataFrame(rows)


def rows_where(table: pd.DataFrame, **where) -> pd.DataFrame:
    """The rows whose columns equal ``where`` (column=value)."""
    for column, value in where.items():
        table = table[table[column] == value]
    return table


def every(table: pd.DataFrame, results, **where) -> bool:
    """Whether the runs matching ``where`` exist and all have an outcome in ``results`` (one
    outcome or a tuple of them)."""
    rows = rows_where(table, **where)
    return not rows.empty and bool(rows["outcome"].isin([results] if isinstance(results, str) else results).all())


def score_table(table: pd.DataFrame, column: str = "fid") -> pd.DataFrame:
    """A grid of runs as a figure lays them out: rows architectures, columns methods, ``column``
    per cell (the mean over seeds; ``outcome`` gives the outcomes joined)."""
    agg = (lambda v: "/".join(v)) if column == "outcome" else "mean"
    grid = table.pivot_table(index="architecture", columns="method", values=column, aggfunc=agg)
    return grid.reindex(index=list(dict.fromkeys(table["architecture"])), columns=list(dict.fromkeys(table["method"])))


def describe(row) -> str:
    """One run's outcome and measures, for a claim's note."""
    parts = [f"FID {row['fid']:.4g}"]
    if "intra_fid" in row and pd.notna(row.get("intra_fid")):
        parts += [f"intra-class FID {row['intra_fid']:.4g}", f"effective classes {row['effective_classes']:.3g}",
                  f"coverage {row['coverage']:.2g}"]
    if "recall" in row and pd.notna(row.get("recall")):
        parts += [f"recall {row['recall']:.2g}", f"duplicates {row['duplicates']:.2g}",
                  f"precision {row['precision']:.2g}"]
    return f"{row['run']}: {row['outcome']} ({', '.join(parts)})"


def note(header: str, frame: pd.DataFrame, extra: str = "") -> str:
    return f"{header}: " + "; ".join(describe(r) for _, r in frame.iterrows()) + extra


def progress(res, run: str, column: str, role: str = "works", lower_is_better: bool = True) -> dict:
    """A run's quality at step 0 and at its last evaluation (its training-time probe), and the role
    the claim gives it: ``works`` (it must have trained), ``control`` (the positive control that
    gates a run expected to fail; it must have trained) or ``fails`` (no training asked of it).
    The claims layer judges only claims whose runs trained (replication.claims.Claim.untrained_runs)."""
    ev = res.frame(run, "evaluation.csv")
    return {"measure": column, "start": float(ev[column].iloc[0]), "final": float(ev[column].iloc[-1]),
            "lower_is_better": lower_is_better, "role": role}


def measures_header(res, features: str) -> str:
    return (f"{'proxy' if features == 'proxy' else 'Inception'} measures of the final checkpoint (evaluation job), "
            f"{res.settings.quality.samples} samples")
