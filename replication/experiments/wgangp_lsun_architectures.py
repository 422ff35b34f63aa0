"""WGAN-GP Figure 2 (WGAN_WGANGP.md section 9): seven generator / critic architectures of
gan_64x64.py x four methods (DCGAN, LSGAN, WGAN with clipping, WGAN-GP), each method with its own
recommended hyperparameters. "We only succeeded in training every architecture with a shared set
of hyperparameters using WGAN-GP."

Task ``train`` (runs ``<method>_<architecture>_s<seed>``, 28 independent jobs at paper): the engine
trains the architecture's pair with the method's training block (the critic's normalization is the
method's: layer norm under WGAN-GP, batch norm otherwise), evaluating at its cadence, at step 0 and
at the end with wgan_stability's quality probe (proxy FID and class measures below paper, Inception
FID at paper) and a sample grid of one fixed noise batch.

``EVALUATE`` (wgan_stability's evaluation job) measures each cell's final checkpoint alone, and
``summarize`` turns those measures into works / poor / collapses / fails by
wgan_stability's pre-registered rule and thresholds, and ``judge`` turns the cells into the claims:
the baseline DCGAN row is every method's positive control; WGAN-GP works in every row; every
other method (with a working baseline) fails or collapses in at least one row. The notebook
(wgan_gp_fig2) draws the grid of sample sheets and the table of scores through ``figure`` and
``score_table``.
"""

from __future__ import annotations

import pandas as pd

from replication.errors import ReplicationError
from replication.experiments import Results, RunContext
from replication.experiments.wgan_stability import (EVALUATE, describe, final_grid, images, measures_header, outcomes,
                                                   train_pair)  # noqa: F401 (EVALUATE: the evaluation job)
from replication.train.spec import merged

BASELINE = "dcgan"       # the architecture row every method must train (the positive control)
REFERENCE = "wgangp"     # the method claimed to train every row
BROKEN = ("fails", "collapses")
METHOD_TITLES = {"dcgan": "DCGAN", "lsgan": "LSGAN", "wgan": "WGAN (clipping)", "wgangp": "WGAN-GP"}


def run_setup(settings: dict, method: str, architecture: str, channels: int) -> tuple[dict, dict]:
    """(training block, network specs) of one cell: the method's delta over the shared training
    block; the architecture's pair at the data's shape, the critic normalised as the method says
    unless the architecture fixes its own norm (the no-normalization row)."""
    for name, value, known in (("method", method, settings["methods"]),
                               ("architecture", architecture, settings["architectures"])):
        if value not in known:
            raise ReplicationError(f"unknown {name} {value!r}; choose one of {', '.join(known)}")
    delta, pair = settings["methods"][method], settings["architectures"][architecture]
    shape = {"resolution": settings["data"]["resolution"], "channels": channels}
    critic = {"norm": delta["critic_norm"], **pair["critic"], **shape}
    networks = {"generator": {**pair["generator"], **shape, "nz": settings["nz"]}, "critic": critic}
    return merged(settings["training"], delta["training"]), networks


def train(ctx: RunContext, method: str, architecture: str, seed: int) -> dict:
    s = ctx.settings
    real, _ = images(s["data"])
    training, networks = run_setup(s, method, architecture, real.shape[1])
    return {"method": method, "architecture": architecture, "seed": seed, **train_pair(ctx, training, networks, real)}


TASKS = {"train": train}


# -- cells, outcomes and claims -------------------------------------------------------------------


def cells(res: Results) -> pd.DataFrame:
    """One row per run: method, architecture, seed, the final checkpoint's measures, outcome."""
    return outcomes(res, "architecture")


def score_table(table: pd.DataFrame, column: str = "fid") -> pd.DataFrame:
    """The figure's layout as a table: rows architectures, columns methods, ``column`` per cell
    (the mean over seeds; ``outcome`` gives the outcomes joined)."""
    agg = (lambda v: "/".join(v)) if column == "outcome" else "mean"
    grid = table.pivot_table(index="architecture", columns="method", values=column, aggfunc=agg)
    return grid.reindex(index=list(dict.fromkeys(table["architecture"])), columns=list(dict.fromkeys(table["method"])))


def summarize(res: Results) -> dict:
    table = cells(res)
    proxy = bool(table["proxy"].iloc[0])
    return judge(table, measures_header(res, proxy), res.files(res.runs(), "final_metrics.json"))


def judge(table: pd.DataFrame, header: str, files: str) -> dict:
    """The claims from the cells' outcomes (one row per run: method, architecture, seed, outcome
    and measures); every claim must hold for every seed in the table."""
    by_method = {m: frame for m, frame in table.groupby("method", sort=False)}

    def note(frame: pd.DataFrame, extra: str = "") -> str:
        return f"{header}: " + "; ".join(describe(r) for _, r in frame.iterrows()) + extra

    def baseline_works(method: str) -> bool:
        frame = by_method[method]
        base = frame[frame["architecture"] == BASELINE]
        return not base.empty and bool((base["outcome"] == "works").all())

    out: dict = {}
    baseline = table[table["architecture"] == BASELINE]
    if baseline.empty:
        raise ReplicationError(f"no run of the baseline architecture {BASELINE!r}: the grid must include it")

    # The positive control: every method trains the baseline DCGAN pair
    out["baseline_all_methods"] = {"value": all(baseline_works(m) for m in by_method), "file": files,
                                   "note": note(baseline)}

    # WGAN-GP trains every architecture (its own baseline included)
    if REFERENCE not in by_method:
        out["wgangp_trains_all"] = {"value": None, "reason": f"no {REFERENCE} run in this grid"}
    else:
        frame = by_method[REFERENCE]
        out["wgangp_trains_all"] = {"value": bool((frame["outcome"] == "works").all()), "file": files,
                                    "note": note(frame, f"; {frame['architecture'].nunique()} architectures")}

    # Every other method fails or collapses on at least one architecture, judged only beside its
    # own working baseline (a method that does not train the baseline says nothing by failing)
    others = [m for m in by_method if m != REFERENCE]
    untrained = [m for m in others if not baseline_works(m)]
    if not others:
        out["others_fail_somewhere"] = {"value": None, "reason": "no method other than WGAN-GP in this grid"}
    elif untrained:
        out["others_fail_somewhere"] = {"value": None, "reason": (
            f"{', '.join(untrained)} do(es) not work on the baseline DCGAN pair under the same budget, so its "
            "failures elsewhere are not evaluated; " + note(baseline))}
    else:
        broken = {m: sorted(by_method[m].loc[by_method[m]["outcome"].isin(BROKEN), "architecture"].unique())
                  for m in others}
        out["others_fail_somewhere"] = {
            "value": all(broken.values()), "file": files,
            "note": note(table[table["method"].isin(others)],
                         "; broken rows per method: " + ", ".join(f"{m} {v or 'none'}" for m, v in broken.items()))}
    return out


# -- the figure (the notebook) -------------------------------------------------------------------


def figure(res: Results, reports: str):
    """The paper's layout: one sample sheet per cell (first seed), rows architectures, columns
    methods, each titled with its outcome and FID; saved as the artifact's PNG/PDF."""
    import matplotlib.pyplot as plt
    from matplotlib.image import imread

    from replication.report import figure_path

    table = cells(res)
    seed = res.settings["seeds"][0]
    rows, cols = list(dict.fromkeys(table["architecture"])), list(dict.fromkeys(table["method"]))
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(2.6 * len(cols), 2.8 * len(rows)), squeeze=False)
    indexed = table.set_index("run")
    for i, architecture in enumerate(rows):
        for j, method in enumerate(cols):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            run = res.run(method=method, architecture=architecture, seed=seed)
            ax.imshow(imread(final_grid(res, run)), cmap="gray")
            row = indexed.loc[run]
            ax.set_title(f"{row['outcome']}, FID {row['fid']:.0f}", fontsize=8)
            if i == 0:
                ax.set_xlabel(METHOD_TITLES.get(method, method), fontsize=9)
                ax.xaxis.set_label_position("top")
            if j == 0:
                ax.set_ylabel(architecture, fontsize=9)
    fig.suptitle(f"wgan_gp/fig2: architectures x methods (seed {seed}, scale {res.scale})", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))  # keep 0.35 in above the grid for the title
    for suffix in (".png", ".pdf"):
        fig.savefig(figure_path(reports, res.scale, "wgan_gp/fig2", suffix), dpi=110)
    return fig
