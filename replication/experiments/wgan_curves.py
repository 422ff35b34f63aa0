"""WGAN Figures 3, 4 and 8 (WGAN Section 4.2 and Appendix E [P]; main.py [C]): does the loss a method logs track the quality
of its samples?

Task ``train`` (one run per method x model pair x seed; the WGAN MLP + MLP pair once per learning
rate of the sweep): the image-GAN recipe trains the pair with the method's training block; the
engine logs every generator iteration the critic's estimate (``divergence``: -Loss_D for WGAN,
the JS bound 1/2 L + log 2 for the GAN) and the generator cost (``generator_loss``); the quality
probe scores fresh samples at every evaluation, with a sample grid of one fixed noise batch.

``summarize`` median-filters the logged curves (width ``curves.median_width``), reads each
filtered curve at the evaluations and measures the claims: rank correlation of estimate and FID,
the between-run ordering at the same iterations, the chosen failing learning rate and its flat
estimate, and the GAN curves judged on the GAN runs that improved.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from replication.errors import ReplicationError
from replication.runs import Results, RunContext
from replication.recipes import images
from replication.recipes.outcomes import progress

GAN_TITLES = {"mlp_dcgan": "MLP generator, DCGAN discriminator", "dcgan_dcgan": "DCGAN generator, DCGAN discriminator",
              "mlp_mlp": "MLP generator, MLP discriminator"}


def network_spec(settings, name: str, channels: int) -> dict:
    """A registry spec from ``networks.<name>`` at the data's resolution and channels (and nz for
    generators)."""
    if name not in settings.networks:
        raise ReplicationError(f"models: unknown network {name!r}; settings.networks has {', '.join(settings.networks)}")
    spec = {**settings.networks[name], "resolution": settings.data.resolution, "channels": channels}
    return {**spec, "nz": settings.nz} if spec["arch"].endswith("_g") else spec


def train(ctx: RunContext, method: str, model: str, seed: int, lr: float | None = None) -> dict:
    s = ctx.settings
    training = s.methods[method].training
    if lr is not None:  # the sweep: both networks at this learning rate
        training = dataclasses.replace(training, optimizers={k: dataclasses.replace(o, lr=lr)
                                                             for k, o in training.optimizers.items()})
    real, _ = images.load(s.data)
    networks = {role: network_spec(s, s.models[model][role], real.shape[1]) for role in ("generator", "critic")}
    t, written = images.train_pair(ctx, training, networks, s.data, real,
                                   probes={"quality": images.quality_probe(ctx, s.data, s.quality)})
    evaluation, metric = pd.read_csv(written["evaluation"]), s.quality.metric
    return {"method": method, "model": model, "seed": seed, "lr": training.optimizers["critic"].lr,
            "iterations": t.iteration, f"{metric}_start": float(evaluation[metric].iloc[0]),
            f"{metric}_final": float(evaluation[metric].iloc[-1]), "extractor": ctx.features,
            "proxy": ctx.features == "proxy"}


TASKS = {"train": train}


# -- curves at evaluations (summary and notebooks) ----------------------------------------------

def smoothed(values, width: int) -> np.ndarray:
    """The paper's width-``width`` centred median filter (edges repeat the end values)."""
    import scipy.ndimage

    values = np.asarray(values, dtype=float)
    return scipy.ndimage.median_filter(values, size=min(width, len(values)), mode="nearest") if len(values) else values


def curves(res: Results, run: str) -> pd.DataFrame:
    """The run's per-iteration log with the median-filtered estimate and generator cost."""
    log, width = res.frame(run, "training.csv"), res.settings.curves.median_width
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


def panels_of(res: Results, panels: dict[str, str]) -> dict:
    """{title: (filtered log, checkpoints)} of {title: run}, for ``recipes.plots.loss_panels``."""
    return {title: (curves(res, run), checkpoints(res, run)) for title, run in panels.items()}


def spearman(a, b) -> float:
    import scipy.stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(scipy.stats.spearmanr(a, b).statistic)


def score(res: Results, run: str, at: str) -> float:
    """The run's quality score at its first evaluation (``at="start"``, step 0) or its last."""
    ev = res.frame(run, "evaluation.csv")[res.settings.quality.metric]
    return float(ev.iloc[0] if at == "start" else ev.iloc[-1])


def failed(res: Results, run: str) -> bool:
    """The sweep's criterion (quality only): FID at every evaluation after step 0 stays above
    ``fail_ratio`` x the run's FID at step 0."""
    later = checkpoints(res, run)[res.settings.quality.metric]
    return len(later) > 0 and bool((later > res.settings.lr_sweep.fail_ratio * score(res, run, "start")).all())


def chosen_failing_run(res: Results, seed: int) -> str | None:
    """The run of the smallest swept learning rate that failed, or None."""
    runs = sorted(res.runs(method="wgan", model="mlp_mlp", seed=seed), key=lambda r: res.params(r)["lr"])
    return next((r for r in runs if failed(res, r)), None)


def relative_range(res: Results, run: str) -> float:
    """(max - min) / |median| of the filtered estimate from ``curves.flat_from`` of training on."""
    log = curves(res, run)
    return relative_range_of(log.loc[log["step"] >= res.settings.curves.flat_from * len(log), "estimate_smoothed"])


def relative_range_of(values) -> float:
    """(max - min) / |median|; a constant curve is flat (0) whatever its level, a moving curve
    around a zero median infinitely far from flat, no values NaN."""
    values = np.asarray(values, dtype=float)
    if not len(values):
        return float("nan")
    spread, middle = float(values.max() - values.min()), abs(float(np.median(values)))
    if spread == 0:
        return 0.0
    return spread / middle if middle else float("inf")


def live(res: Results, run: str) -> bool:
    """Whether the run's critic is alive where flatness is read: a critic whose output went
    constant logs -Loss_D = 0 exactly at every step, a flat estimate that says nothing."""
    log = res.frame(run, "training.csv")
    return bool((log.loc[log["step"] >= res.settings.curves.flat_from * len(log), "divergence"] != 0).any())


def improved(res: Results, run: str) -> bool:
    return (len(res.frame(run, "evaluation.csv")) > 1
            and score(res, run, "final") <= res.settings.curves.improved_ratio * score(res, run, "start"))


def gan_panels(res: Results, seed: int) -> dict[str, str]:
    """Figures 4 and 8: {panel title: run} of the GAN runs, each title saying whether its quality improved."""
    runs = {m: res.run(method="gan", model=m, seed=seed) for m in res.settings.models}
    return {GAN_TITLES[m] + ("" if improved(res, r) else " (quality did not improve)"): r for m, r in runs.items()}


# -- claims ---------------------------------------------------------------------------------

def summarize(res: Results) -> dict:
    s, C = res.settings, res.settings.curves
    metric = s.quality.metric
    label = f"{'proxy ' if res.features == 'proxy' else ''}{metric.upper()}"
    working = {seed: [res.run(method="wgan", model=m, seed=seed) for m in ("mlp_dcgan", "dcgan_dcgan")]
               for seed in s.seeds}
    working_runs = {r: progress(res, r, metric) for rs in working.values() for r in rs}
    out: dict = {}

    # Figure 3: the WGAN estimate tracks quality over evaluations, in both working runs
    rho = {r: spearman(checkpoints(res, r)["estimate"], checkpoints(res, r)[metric]) for rs in working.values() for r in rs}
    n_eval = {r: len(checkpoints(res, r)) for r in rho}
    out["wgan_estimate_fid_spearman"] = {
        "value": float(np.min(list(rho.values()))), "file": res.files(list(rho)), "runs": working_runs,
        "note": f"Spearman rho of the median-filtered (width {C.median_width}) -Loss_D and {label} over the "
                "evaluations after step 0: " + ", ".join(f"{r} {v:.3f} ({n_eval[r]} evaluations)" for r, v in rho.items())}

    # Figure 3: between runs at the same iterations (MLP generator above the DCGAN generator in both)
    diffs, notes = [], []
    for seed, (mlp, dcgan) in working.items():
        a, b = checkpoints(res, mlp), checkpoints(res, dcgan)
        start = C.compare_from * s.methods["wgan"].training.iterations
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
                                   "runs": working_runs,
                                   "note": "; ".join(notes) or "no common evaluations"}

    # Figure 3 bottom: the failing MLP + MLP run (smallest swept rate that fails by quality)
    chosen = {seed: chosen_failing_run(res, seed) for seed in s.seeds}
    sweep = [r for seed in s.seeds for r in res.runs(method="wgan", model="mlp_mlp", seed=seed)]
    sweep_note = ", ".join(f"lr {res.params(r)['lr']:g}: {'fails' if failed(res, r) else 'learns'} "
                           f"(min {label} after step 0 {checkpoints(res, r)[metric].min():.4g} vs step 0 "
                           f"{score(res, r, 'start'):.4g}; relative range {relative_range(res, r):.3g})" for r in sweep)
    if any(r is None for r in chosen.values()):
        out["wgan_failing_run_flat"] = {"value": None, "reason": f"no swept learning rate failed by the criterion ({sweep_note})",
                                        "runs": {r: {**v, "role": "control"} for r, v in working_runs.items()}}
    else:
        ranges = {r: relative_range(res, r) for r in chosen.values()}
        reference = {r: relative_range(res, r) for rs in working.values() for r in rs}
        out["wgan_failing_run_flat"] = {
            "value": float(np.max(list(ranges.values()))), "file": res.files(list(ranges)),
            "runs": {**{r: {**v, "role": "control"} for r, v in working_runs.items()},
                     **{r: {**progress(res, r, metric, role="fails"), "live": live(res, r)} for r in ranges}},
            "note": f"chosen: {', '.join(ranges)}; relative range (max - min) / median of the filtered -Loss_D from "
                    f"{C.flat_from:g} of training: " + ", ".join(f"{r} {v:.3g}" for r, v in ranges.items())
                    + "; the working runs for reference: " + ", ".join(f"{r} {v:.3g}" for r, v in reference.items())
                    + f"; sweep: {sweep_note}"}

    # Figures 4 and 8: the GAN's JS estimate and generator cost, judged on GAN runs that improved
    gan = res.runs(method="gan")
    good = [r for r in gan if improved(res, r)]
    gan_note = ", ".join(f"{r}: {label} {score(res, r, 'start'):.4g} -> {score(res, r, 'final'):.4g}" for r in gan)
    if not good:
        out["gan_curves_do_not_track"] = {  # the claims layer's wording: no run it could judge trained
            "value": None, "reason": f"did not train: no GAN run improved its {label} on step 0 by "
                                     f"x{1 / res.settings.curves.improved_ratio:g} ({gan_note})"}
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
            "runs": {r: progress(res, r, metric) for r in good},
            "note": "Spearman rho with " + label + " over the evaluations after step 0: "
                    + ", ".join(f"{r} {q} {v:.3f}" for (r, q), v in cells.items())
                    + "; mean filtered JS estimate over the second half / log 2: "
                    + ", ".join(f"{r} {v:.3f}" for r, v in saturation.items()) + f"; runs: {gan_note}"}
    return out
