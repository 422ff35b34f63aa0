"""WGAN-GP Figure 2 (WGAN-GP Section 5.2 and Appendix E [P]; gan_64x64.py [C]): seven generator / critic
architectures x four methods (DCGAN, LSGAN, WGAN with clipping, WGAN-GP), each method with its
own recommended hyperparameters. "We only succeeded in training every architecture with a shared
set of hyperparameters using WGAN-GP."

Task ``train`` (runs ``<method>_<architecture>_s<seed>``, 28 jobs at paper): the image-GAN recipe
trains the architecture's pair with the method's training block (the critic normalised as the
method says: layer norm under WGAN-GP, batch norm otherwise), with the quality probe and a
sample grid. ``EVALUATE`` measures each final generator; ``summarize`` judges the cells'
outcomes (``replication.recipes.outcomes``): the baseline DCGAN row is every method's positive
control; WGAN-GP works in every row; every other method fails or collapses somewhere.
"""

from __future__ import annotations

import pandas as pd

from replication.data.toy import gaussian_noise
from replication.errors import ReplicationError
from replication.runs import Results, RunContext
from replication.recipes import images
from replication.recipes.outcomes import BROKEN, every, measures_header, note, outcomes, progress, rows_where

BASELINE = "dcgan"   # the architecture row every method must train (the positive control)
REFERENCE = "wgangp"  # the method claimed to train every row


def run_setup(settings, method: str, architecture: str, channels: int) -> tuple:
    """(training block, network specs) of one cell: the architecture's pair at the data's shape,
    the critic normalised as the method says unless the architecture fixes its own norm."""
    for name, value, known in (("method", method, settings.methods), ("architecture", architecture,
                                                                      settings.architectures)):
        if value not in known:
            raise ReplicationError(f"unknown {name} {value!r}; choose one of {', '.join(known)}")
    m, pair = settings.methods[method], settings.architectures[architecture]
    shape = {"resolution": settings.data.resolution, "channels": channels}
    return m.training, {"generator": {**pair["generator"], **shape, "nz": settings.nz},
                        "critic": {"norm": m.critic_norm, **pair["critic"], **shape}}


def train(ctx: RunContext, method: str, architecture: str, seed: int) -> dict:
    s = ctx.settings
    real, _ = images.load(s.data)
    training, networks = run_setup(s, method, architecture, real.shape[1])
    t, _ = images.train_pair(ctx, training, networks, s.data, real,
                             probes={"quality": images.quality_probe(ctx, s.data, s.quality)})
    return {"method": method, "architecture": architecture, "seed": seed, "iterations": t.iteration,
            "extractor": ctx.features}


TASKS = {"train": train}


def EVALUATE(ctx: RunContext, networks: dict) -> dict:
    return images.final_quality(ctx, networks["generator"], ctx.settings.data, ctx.settings.quality,
                                gaussian_noise(ctx.settings.nz))


def summarize(res: Results) -> dict:
    table = outcomes(res, "architecture", res.features)
    return judge(table, measures_header(res, res.features), res.files(res.runs(), "final_metrics.json"),
                 {run: progress(res, run, "fid") for run in res.runs()})


def judge(table: pd.DataFrame, header: str, files: str, fid: dict | None = None) -> dict:
    """The claims from the cells' outcomes; every claim must hold for every seed in the table.
    ``fid``: each run's training progress, for the claims layer's trained rule."""
    def runs(role: str, **where) -> dict:
        return {r: {**fid[r], "role": role} for r in rows_where(table, **where)["run"]} if fid else {}

    methods = list(dict.fromkeys(table["method"]))
    baseline = table[table["architecture"] == BASELINE]
    if baseline.empty:
        raise ReplicationError(f"no run of the baseline architecture {BASELINE!r}: the grid must include it")
    works_on_baseline = {m: every(table, "works", method=m, architecture=BASELINE) for m in methods}
    out: dict = {"baseline_all_methods": {"value": all(works_on_baseline.values()), "file": files,
                                          "note": note(header, baseline), "runs": runs("works", architecture=BASELINE)}}
    if REFERENCE not in methods:
        out["wgangp_trains_all"] = {"value": None, "reason": f"no {REFERENCE} run in this grid"}
    else:
        frame = table[table["method"] == REFERENCE]
        out["wgangp_trains_all"] = {"value": every(table, "works", method=REFERENCE), "file": files,
                                    "note": note(header, frame, f"; {frame['architecture'].nunique()} architectures"),
                                    "runs": runs("works", method=REFERENCE)}
    # Every other method fails or collapses somewhere, judged beside its own baseline run, which
    # must have trained (the claims layer's rule: its role is the positive control)
    others = [m for m in methods if m != REFERENCE]
    if not others:
        out["others_fail_somewhere"] = {"value": None, "reason": "no method other than WGAN-GP in this grid"}
    else:
        broken = {m: sorted(table.loc[(table["method"] == m) & table["outcome"].isin(BROKEN), "architecture"].unique())
                  for m in others}
        out["others_fail_somewhere"] = {
            "value": all(broken.values()), "file": files,
            "runs": {r: v for m in others for r, v in runs("control", method=m, architecture=BASELINE).items()},
            "note": note(header, table[table["method"].isin(others)],
                         "; broken rows per method: " + ", ".join(f"{m} {v or 'none'}" for m, v in broken.items()))}
    return out
