"""WGAN Figures 3, 4 and 8: does the loss a method logs track the quality of its samples?
(WGAN_WGANGP.md sections 2.0, 2.1, 2.4.)

Task ``train`` (one run per method x model pair x seed; the WGAN MLP + MLP pair once per
learning rate of the sweep): the engine trains the pair as the method's training block says
and logs, every generator iteration, the critic's estimate (``divergence``: -Loss_D for WGAN,
the JS bound 1/2 L + log 2 = log 2 - errD/2 for the GAN) and the generator cost
(``generator_loss``: -log D(G(z)) for the GAN); at every evaluation it scores FID of fresh
samples through the metric stack (Inception at paper, the calibrated proxy below) and saves a
sample grid of one fixed noise batch.

``summarize`` median-filters the logged curves (width ``curves.median_width``), reads each
filtered curve at the evaluations, and measures the claims: rank correlation of estimate and
FID over evaluations, the between-run ordering at the same iterations, the chosen failing
learning rate and its flat estimate, and the GAN curves judged on the GAN runs that improved.
The notebooks (wgan_fig3, wgan_fig4, wgan_fig8) draw from the same helpers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from replication.data import at_resolution, load_images, to_symmetric_range
from replication.data.batches import ImageSource, SamplerSource
from replication.data.toy import gaussian_noise
from replication.errors import ReplicationError
from replication.experiments import Results, RunContext
from replication.train import EvalData, Sources, merged
from replication.train.evaluation import quality_probe

# -- data, networks, quality --------------------------------------------------------------


def training_images(data: dict, split: str | None = None) -> torch.Tensor:
    """uint8 N x C x R x R of a split at the run's resolution (28 -> 32 zero-padded stand-in)."""
    return at_resolution(load_images(data["dataset"], split or data["split"]).images, data["resolution"])


def network_spec(settings: dict, name: str, channels: int) -> dict:
    """A registry spec from ``networks.<name>``, with the data's resolution and channels (and nz
    for generators) filled in, so the shape lives in one place (``data``, ``nz``)."""
    if name not in settings["networks"]:
        raise ReplicationError(f"models: unknown network {name!r}; settings.networks has {', '.join(settings['networks'])}")
    spec = {**settings["networks"][name], "resolution": settings["data"]["resolution"], "channels": channels}
    if spec["arch"].endswith("_g"):
        spec["nz"] = settings["nz"]
    return spec


def quality_reference(ctx: RunContext) -> tuple:
    """The extractor (Inception at paper, else this scale's calibrated proxy) and the reference
    statistics of the held-out (or, for LSUN, random training) real images."""
    from replication.metrics import reference_statistics
    from replication.metrics.proxy import extractor_of_kind, proxy_run

    q = ctx.settings["quality"]
    extractor = extractor_of_kind(q["extractor"], ctx.upstream(proxy_run(ctx.settings["data"]["dataset"])),
                                  "quality.extractor")
    real = training_images(ctx.settings["data"], q["reference"]["split"])
    n = q["reference"]["images"]
    if n > len(real):
        raise ReplicationError(f"quality.reference.images = {n} but the {q['reference']['split']} split has {len(real)}")
    keep = torch.randperm(len(real), generator=torch.Generator().manual_seed(ctx.seed_for("reference")))[:n]
    reference = reference_statistics(to_symmetric_range(real[keep.sort().values]), extractor,
                                      f"{ctx.settings['data']['dataset']}/{q['reference']['split']}[{n}]",
                                      rule=q["uint8_rule"], keep_features=False)
    return extractor, reference


# -- the task --------------------------------------------------------------------------------


def train(ctx: RunContext, method: str, model: str, seed: int, lr: float | None = None) -> dict:
    s = ctx.settings
    training = s["methods"][method]["training"]
    if lr is not None:  # the sweep: both networks at this learning rate
        training = merged(training, {"optimizers": {"critic": {"lr": lr}, "generator": {"lr": lr}}})
    images = training_images(s["data"])
    pair = s["models"][model]
    networks = {role: network_spec(s, pair[role], images.shape[1]) for role in ("generator", "critic")}
    B = training["batch_size"]
    sources = Sources(real=ImageSource(images, B, ctx.seed_for("data/real"), ctx.device),
                      noise=SamplerSource(gaussian_noise(s["nz"]), B, ctx.device, ctx.seed_for("data/noise")))
    extractor, reference = quality_reference(ctx)
    q = s["quality"]
    probe = quality_probe(extractor, reference, metrics=(q["metric"],), n=q["samples"], rule=q["uint8_rule"])
    t = ctx.trainer(training, networks, sources, eval_data=EvalData(noise=gaussian_noise(s["nz"])),
                    probes={"quality": probe})
    t.fit()
    written = t.write_outputs(ctx.out_dir)
    evaluation = pd.read_csv(written["evaluation"])
    metric = q["metric"]
    return {"method": method, "model": model, "seed": seed, "lr": lr if lr is not None else training["optimizers"]["critic"]["lr"],
            "iterations": t.step, f"{metric}_start": float(evaluation[metric].iloc[0]),
            f"{metric}_final": float(evaluation[metric].iloc[-1]), "extractor": extractor.name,
            "proxy": extractor.proxy, "reference": reference["name"]}


TASKS = {"train": train}


# -- curves at evaluations (summary and notebooks) ----------------------------------------------


def smoothed(values, width: int) -> np.ndarray:
    """The paper's width-``width`` centred median filter (edges repeat the end values)."""
    import scipy.ndimage

    values = np.asarray(values, dtype=float)
    return scipy.ndimage.median_filter(values, size=min(width, len(values)), mode="nearest") if len(values) else values


def curves(res: Results, run: str) -> pd.DataFrame:
    """The run's per-iteration log with the median-filtered estimate and generator cost."""
    log = res.frame(run, "training.csv")
    width = res.settings["curves"]["median_width"]
    return log.assign(estimate_smoothed=smoothed(log["divergence"], width),
                      generator_cost_smoothed=smoothed(log["generator_loss"], width))


def checkpoints(res: Results, run: str) -> pd.DataFrame:
    """One row per evaluation after step 0: FID and the filtered curves at the last logged
    iteration before it (an evaluation after s iterations reads log step s - 1)."""
    ev = res.frame(run, "evaluation.csv")
    log = curves(res, run).set_index("step")
    ev = ev[ev["step"] > 0].copy()
    at = log.reindex(ev["step"] - 1)
    ev["estimate"] = at["estimate_smoothed"].to_numpy()
    ev["generator_cost"] = at["generator_cost_smoothed"].to_numpy()
    return ev.reset_index(drop=True)


def spearman(a, b) -> float:
    import scipy.stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(scipy.stats.spearmanr(a, b).statistic)


def fid_start(res: Results, run: str) -> float:
    ev = res.frame(run, "evaluation.csv")
    return float(ev.loc[ev["step"] == 0, res.settings["quality"]["metric"]].iloc[0])


def failed(res: Results, run: str) -> bool:
    """The sweep's criterion (quality only): FID at every evaluation after step 0 stays above
    ``fail_ratio`` x the run's FID at step 0."""
    metric = res.settings["quality"]["metric"]
    later = checkpoints(res, run)[metric]
    return len(later) > 0 and bool((later > res.settings["lr_sweep"]["fail_ratio"] * fid_start(res, run)).all())


def chosen_failing_run(res: Results, seed: int) -> str | None:
    """The run of the smallest swept learning rate that failed, or None."""
    runs = sorted(res.runs(method="wgan", model="mlp_mlp", seed=seed), key=lambda r: res.params(r)["lr"])
    return next((r for r in runs if failed(res, r)), None)


def relative_range(res: Results, run: str) -> float:
    """(max - min) / |median| of the filtered estimate from ``curves.flat_from`` of training on."""
    log = curves(res, run)
    return relative_range_of(log.loc[log["step"] >= res.settings["curves"]["flat_from"] * len(log), "estimate_smoothed"])


def relative_range_of(values) -> float:
    """(max - min) / |median|; a constant curve is flat (0) whatever its level, a moving curve
    around a zero median infinitely far from flat (a critic whose output went constant gives
    -Loss_D = 0 at every step), no values NaN."""
    values = np.asarray(values, dtype=float)
    if not len(values):
        return float("nan")
    spread, middle = float(values.max() - values.min()), abs(float(np.median(values)))
    if spread == 0:
        return 0.0
    return spread / middle if middle else float("inf")


GAN_TITLES = {"mlp_dcgan": "MLP generator, DCGAN discriminator", "dcgan_dcgan": "DCGAN generator, DCGAN discriminator",
              "mlp_mlp": "MLP generator, MLP discriminator"}


def gan_panels(res: Results, seed: int) -> dict[str, str]:
    """Figures 4 and 8: {panel title: run} of the GAN runs, each title saying whether its quality improved."""
    runs = {m: res.run(method="gan", model=m, seed=seed) for m in res.settings["models"]}
    return {GAN_TITLES[m] + ("" if improved(res, r) else " (quality did not improve)"): r for m, r in runs.items()}


def improved(res: Results, run: str) -> bool:
    ev = res.frame(run, "evaluation.csv")
    metric = res.settings["quality"]["metric"]
    return len(ev) > 1 and float(ev[metric].iloc[-1]) <= res.settings["curves"]["improved_ratio"] * fid_start(res, run)


# -- claims ---------------------------------------------------------------------------------


def summarize(res: Results) -> dict:
    s = res.settings
    metric = s["quality"]["metric"]
    C = s["curves"]
    seeds = s["seeds"]
    label = f"{'proxy ' if res.result(res.runs()[0]).get('proxy') else ''}{metric.upper()}"
    width = C["median_width"]
    working = {seed: [res.run(method="wgan", model=m, seed=seed) for m in ("mlp_dcgan", "dcgan_dcgan")] for seed in seeds}
    out: dict = {}

    # Figure 3: the WGAN estimate tracks quality over evaluations, in both working runs
    rho = {r: spearman(checkpoints(res, r)["estimate"], checkpoints(res, r)[metric]) for rs in working.values() for r in rs}
    n_eval = {r: len(checkpoints(res, r)) for r in rho}
    out["wgan_estimate_fid_spearman"] = {
        "value": float(np.min(list(rho.values()))), "file": res.files(list(rho)),
        "note": "Spearman rho of the median-filtered (width {w}) -Loss_D and {m} over the evaluations after step 0: "
                .format(w=width, m=label) + ", ".join(f"{r} {v:.3f} ({n_eval[r]} evaluations)" for r, v in rho.items())}

    # Figure 3: between runs at the same iterations (MLP generator above the DCGAN generator in both)
    diffs, notes = [], []
    for seed, (mlp, dcgan) in working.items():
        a, b = checkpoints(res, mlp), checkpoints(res, dcgan)
        start = C["compare_from"] * s["methods"]["wgan"]["training"]["iterations"]
        a, b = a[a["step"] >= start], b[b["step"] >= start]
        common = sorted(set(a["step"]) & set(b["step"]))
        a, b = a.set_index("step").loc[common], b.set_index("step").loc[common]
        if not common or b["estimate"].mean() <= 0:
            diffs.append(float("nan"))
            continue
        d_est = a["estimate"].mean() / b["estimate"].mean() - 1
        d_fid = a[metric].mean() / b[metric].mean() - 1
        diffs.append(float(min(d_est, d_fid)))
        notes.append(f"seed {seed}: -Loss_D {a['estimate'].mean():.4g} vs {b['estimate'].mean():.4g} ({d_est:+.1%}), "
                     f"{label} {a[metric].mean():.4g} vs {b[metric].mean():.4g} ({d_fid:+.1%}) over {len(common)} "
                     f"evaluations from iteration {int(common[0])}")
    out["wgan_mlp_above_dcgan"] = {"value": diffs, "file": res.files([r for rs in working.values() for r in rs]),
                                   "note": "; ".join(notes) or "no common evaluations"}

    # Figure 3 bottom: the failing MLP + MLP run (smallest swept rate that fails by quality)
    chosen = {seed: chosen_failing_run(res, seed) for seed in seeds}
    sweep = [r for seed in seeds for r in res.runs(method="wgan", model="mlp_mlp", seed=seed)]
    sweep_note = ", ".join(f"lr {res.params(r)['lr']:g}: {'fails' if failed(res, r) else 'learns'} "
                           f"(min {label} after step 0 {checkpoints(res, r)[metric].min():.4g} vs step 0 {fid_start(res, r):.4g}; "
                           f"relative range {relative_range(res, r):.3g})" for r in sweep)
    if any(r is None for r in chosen.values()):
        out["wgan_failing_run_flat"] = {"value": None, "reason": f"no swept learning rate failed by the criterion ({sweep_note})"}
    else:
        ranges = {r: relative_range(res, r) for r in chosen.values()}
        reference = {r: relative_range(res, r) for rs in working.values() for r in rs}
        out["wgan_failing_run_flat"] = {
            "value": float(np.max(list(ranges.values()))), "file": res.files(list(ranges)),
            "note": f"chosen: {', '.join(ranges)}; relative range (max - min) / median of the filtered -Loss_D from "
                    f"{C['flat_from']:g} of training: " + ", ".join(f"{r} {v:.3g}" for r, v in ranges.items())
                    + "; the working runs for reference: " + ", ".join(f"{r} {v:.3g}" for r, v in reference.items())
                    + f"; sweep: {sweep_note}"}

    # Figures 4 and 8: the GAN's JS estimate and generator cost, judged on GAN runs that improved
    gan = res.runs(method="gan")
    good = [r for r in gan if improved(res, r)]
    gan_note = ", ".join(f"{r}: {label} {fid_start(res, r):.4g} -> {res.frame(r, 'evaluation.csv')[metric].iloc[-1]:.4g}"
                         for r in gan)
    if not good:
        out["gan_curves_do_not_track"] = {"value": None,
                                          "reason": f"no GAN run improved its {label} by the stated factor ({gan_note})"}
    else:
        cells = {}
        for r in good:
            ck = checkpoints(res, r)
            cells[(r, "JS estimate")] = spearman(ck["estimate"], ck[metric])
            cells[(r, "generator cost")] = spearman(ck["generator_cost"], ck[metric])
        saturation = {r: float(curves(res, r)["estimate_smoothed"].iloc[len(curves(res, r)) // 2:].mean() / math.log(2))
                      for r in good}
        out["gan_curves_do_not_track"] = {
            "value": float(np.max(list(cells.values()))), "file": res.files(good),
            "note": "Spearman rho with " + label + " over the evaluations after step 0: "
                    + ", ".join(f"{r} {q} {v:.3f}" for (r, q), v in cells.items())
                    + "; mean filtered JS estimate over the second half / log 2: "
                    + ", ".join(f"{r} {v:.3f}" for r, v in saturation.items()) + f"; runs: {gan_note}"}
    return out


# -- figures (the three notebooks) -------------------------------------------------------------


def draw_curves(res: Results, panels: dict[str, str], column: str, label: str, reference_line: float | None = None):
    """One panel per run: the logged curve (light), its median filter (dark) and the quality
    score at the evaluations on a right axis (our addition to the paper's panels)."""
    import matplotlib.pyplot as plt

    metric = res.settings["quality"]["metric"]
    score = f"{'proxy ' if res.result(res.runs()[0])['proxy'] else ''}{metric.upper()}"
    smoothed_column = {"divergence": "estimate_smoothed", "generator_loss": "generator_cost_smoothed"}[column]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7.5, 3.0 * len(panels)), squeeze=False)
    for ax, (title, run) in zip(axes[:, 0], panels.items()):
        log, ck = curves(res, run), checkpoints(res, run)
        ax.plot(log["step"], log[column], color="tab:blue", alpha=0.25, lw=0.5, label=label)
        ax.plot(log["step"], log[smoothed_column], color="tab:blue", lw=1.5,
                label=f"median filter {res.settings['curves']['median_width']}")
        if reference_line is not None:
            ax.axhline(reference_line, color="k", ls="--", lw=0.8, label=f"{reference_line:.3f}")
        ax.set(ylabel=label, title=title)
        right = ax.twinx()
        right.plot(ck["step"], ck[metric], "o-", color="tab:red", ms=3, lw=1, label=score)
        right.set_ylabel(score, color="tab:red")
        handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
        ax.legend(handles, [h.get_label() for h in handles], fontsize=7, loc="best")
    axes[-1, 0].set_xlabel("generator iterations")
    fig.tight_layout()
    return fig


def draw_sample_grids(res: Results, panels: dict[str, str]):
    """The fixed-noise sample grid of each run at its first, middle and last evaluation."""
    import matplotlib.pyplot as plt
    from PIL import Image

    fig, axes = plt.subplots(len(panels), 3, figsize=(7.5, 2.6 * len(panels)), squeeze=False)
    for row, (title, run) in zip(axes, panels.items()):
        steps = sorted(int(p.stem.split("_")[1]) for p in res.path(run, "samples").glob("step_*.png"))
        for ax, step in zip(row, (steps[0], steps[len(steps) // 2], steps[-1])):
            ax.imshow(Image.open(res.path(run, f"samples/step_{step:07d}.png")))
            ax.set(xticks=[], yticks=[])
            ax.set_title(f"{title}\niteration {step}" if ax is row[0] else f"iteration {step}", fontsize=7)
    fig.tight_layout()
    return fig
