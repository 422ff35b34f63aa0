"""WGAN Figures 5, 6 and 7: samples after training, WGAN (left) vs the standard GAN (right),
with three generators and the DCGAN critic / discriminator throughout (WGAN_WGANGP.md
sections 2.0, 2.1, 2.4): the DCGAN generator (Figure 5, both methods work: the positive
control), the constant-filter generator without batch norm (Figure 6: WGAN works, the GAN
fails) and the MLP generator (Figure 7: WGAN works, the GAN mode-collapses).

Task ``train`` (runs ``<method>_<generator>_s<seed>``): the engine trains the pair as the
method's training block says, evaluating at its cadence, at step 0 and at the last iteration
(the quality probe on ``quality.samples`` fresh samples, and a sample grid of one fixed noise
batch). With the labelled proxy classifier (smoke, small) the probe measures FID, class
coverage, class-histogram entropy, effective classes and intra-class FID
(``replication.metrics.class_measures``); with Inception (paper, LSUN has no labels) FID only.

``EVALUATE`` (the generic evaluation job, from the final checkpoint alone) measures the final
generator on its own samples. ``outcome`` turns those measures into works / poor / collapses / fails
by the pre-registered thresholds of ``outcome`` in the settings; ``judge`` turns the runs'
outcomes into the claims (a method's failure with another generator counts only beside its
own positive control, the DCGAN generator). The notebooks (wgan_fig5, wgan_fig6, wgan_fig7)
draw the sample sheets through ``figure``.
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from replication.data import at_resolution, load_images, to_symmetric_range
from replication.data.batches import ImageSource, SamplerSource
from replication.data.toy import gaussian_noise
from replication.errors import ReplicationError
from replication.experiments import Results, RunContext
from replication.metrics.proxy import calibrated_proxy_at, proxy_run
from replication.train import EvalData, Sources
from replication.train.evaluation import draw_samples

FIGURES = {"dcgan": "wgan/fig5", "nobn": "wgan/fig6", "mlp": "wgan/fig7"}


# -- data, networks, quality ----------------------------------------------------------------


def images(data: dict, split: str | None = None):
    """The data set's split (uint8 images at the run's resolution, and labels or None)."""
    loaded = load_images(data["dataset"], split or data["split"])
    return at_resolution(loaded.images, data["resolution"]), loaded.labels


def networks(settings: dict, generator: str, channels: int) -> dict:
    """Registry specs of the run's pair: the shape (resolution, channels, nz) from the data."""
    shape = {"resolution": settings["data"]["resolution"], "channels": channels}
    return {"generator": {**settings["networks"]["generators"][generator], **shape, "nz": settings["nz"]},
            "critic": {**settings["networks"]["critic"], **shape}}


def quality_setup(ctx: RunContext) -> tuple:
    """(extractor, reference): Inception and the statistics of random training images at paper;
    the calibrated proxy and the held-out images' statistics overall and per class below."""
    from replication.metrics import class_reference, inception_extractor, reference_statistics

    s, q = ctx.settings, ctx.settings["quality"]
    if q["extractor"] not in s["outcome"]:
        raise ReplicationError(f"quality.extractor: unknown extractor {q['extractor']!r}; choose one of "
                               f"{', '.join(s['outcome'])}")
    real, labels = images(s["data"], q["reference"]["split"])
    n = q["reference"]["images"]
    if n > len(real):
        raise ReplicationError(f"quality.reference.images = {n} but the {q['reference']['split']} split has "
                               f"{len(real)}")
    order = torch.randperm(len(real), generator=torch.Generator().manual_seed(ctx.seed_for("reference")))
    keep = order[:n].sort().values
    name = f"{s['data']['dataset']}/{q['reference']['split']}[{n}]"
    if q["extractor"] == "inception":
        extractor = inception_extractor()
        return extractor, reference_statistics(to_symmetric_range(real[keep]), extractor, name, rule=q["uint8_rule"],
                                               keep_features=False)
    extractor = calibrated_proxy_at(ctx.upstream(proxy_run(s["data"]["dataset"])))
    if labels is None:
        raise ReplicationError(f"{s['data']['dataset']} has no labels: the proxy's class measures need them")
    return extractor, class_reference(to_symmetric_range(real[keep]), labels[keep], extractor, name,
                                      rule=q["uint8_rule"])


def quality_measures(samples: torch.Tensor, extractor, reference: dict, quality: dict) -> dict[str, float]:
    """Class measures (FID, coverage, entropy, effective classes, intra-class FID) of generated
    images with a labelled reference, else FID alone."""
    from replication.metrics import class_measures, evaluate_samples

    B, rule = quality["batch_size"], quality["uint8_rule"]
    if "classes" in reference:
        return class_measures(samples, extractor, reference, rule=rule, batch_size=B,
                              min_class_samples=quality["min_class_samples"])
    records = evaluate_samples(samples, extractor, metrics=("fid",), reference=reference, rule=rule, batch_size=B)
    return {r["metric"].lower(): float(r["value"]) for r in records}


def probe(extractor, reference: dict, quality: dict):
    """The quality probe during training: ``quality_measures`` of ``quality.samples`` fresh samples."""
    return lambda ev: quality_measures(ev.fake_samples(quality["samples"], quality["batch_size"]), extractor,
                                       reference, quality)


def EVALUATE(ctx: RunContext, networks: dict) -> dict:
    """The outcome's measures from the final generator alone (rerunnable from pulled checkpoints):
    ``quality_measures`` of ``quality.samples`` samples from a seeded noise stream of its own."""
    s, q = ctx.settings, ctx.settings["quality"]
    extractor, reference = quality_setup(ctx)
    samples = draw_samples(networks["generator"], gaussian_noise(s["nz"]), q["samples"], q["batch_size"],
                           ctx.seed_for("evaluate/samples"), ctx.device)
    return {**quality_measures(samples, extractor, reference, q), "samples": len(samples),
            "reference": reference["name"], "proxy": extractor.proxy}


# -- the task and the final evaluation ---------------------------------------------------------


def train(ctx: RunContext, method: str, generator: str, seed: int) -> dict:
    s = ctx.settings
    if method not in s["methods"]:
        raise ReplicationError(f"unknown method {method!r}; methods: {', '.join(s['methods'])}")
    real, _ = images(s["data"])
    summary = train_pair(ctx, s["methods"][method], networks(s, generator, real.shape[1]), real)
    return {"method": method, "generator": generator, "seed": seed, **summary}


def train_pair(ctx: RunContext, training: dict, network_specs: dict, real) -> dict:
    """One GAN/WGAN training of a generator/critic pair on real uint8 images, with the quality
    probe at every evaluation; final networks and logs into the run folder (also the cells of
    wgangp_lsun_architectures). ``data.drop_last``: whether an epoch's smaller last batch is
    dropped (the gradient penalty mixes real and fake batches, so it needs full ones)."""
    s, B = ctx.settings, training["batch_size"]
    sources = Sources(real=ImageSource(real, B, ctx.seed_for("data/real"), ctx.device, drop_last=s["data"]["drop_last"]),
                      noise=SamplerSource(gaussian_noise(s["nz"]), B, ctx.device, ctx.seed_for("data/noise")))
    extractor, reference = quality_setup(ctx)
    t = ctx.trainer(training, network_specs, sources, eval_data=EvalData(noise=gaussian_noise(s["nz"])),
                    probes={"quality": probe(extractor, reference, s["quality"])})
    t.fit()
    t.write_outputs(ctx.out_dir)
    return {"iterations": t.step, "extractor": extractor.name, "proxy": extractor.proxy,
            "reference": reference["name"]}


TASKS = {"train": train}


# -- outcomes and claims --------------------------------------------------------------------------


def thresholds(settings: dict, proxy: bool) -> dict:
    return settings["outcome"]["proxy" if proxy else "inception"]


def outcome(metrics: dict, limits: dict) -> str:
    """works / poor / collapses / fails by the pre-registered thresholds: the quality gate first
    (intra-class FID with a labelled classifier, FID otherwise), collapse only among runs that
    pass it, then works (FID) or poor (recognisable and diverse, FID above the works bound)."""
    gate = ("intra_fid", limits["gate_intra_fid"]) if "gate_intra_fid" in limits else ("fid", limits["gate_fid"])
    value = metrics.get(gate[0])
    if value is None or not math.isfinite(value) or value > gate[1]:
        return "fails"
    if "collapse_effective_classes" in limits and metrics["effective_classes"] <= limits["collapse_effective_classes"]:
        return "collapses"
    return "works" if metrics["fid"] <= limits["works_fid"] else "poor"


def outcomes(res: Results, factor: str = "generator") -> pd.DataFrame:
    """One row per run: method, ``factor`` (the generator here, the architecture in
    wgangp_lsun_architectures), seed, the final checkpoint's measures (the evaluation job's) and
    the outcome."""
    rows = []
    for run in res.runs():
        p, result = res.params(run), res.result(run)
        final = res.json(run, "final_metrics.json")["metrics"]
        rows.append({"run": run, "method": p["method"], factor: p[factor], "seed": p["seed"],
                     "proxy": result["proxy"], **final,
                     "outcome": outcome(final, thresholds(res.settings, result["proxy"]))})
    return pd.DataFrame(rows)


def describe(row) -> str:
    """One run's outcome and measures, for a claim's note (also the cells of wgangp_lsun_architectures)."""
    parts = [f"FID {row['fid']:.4g}"]
    if "intra_fid" in row and pd.notna(row.get("intra_fid")):
        parts += [f"intra-class FID {row['intra_fid']:.4g}", f"effective classes {row['effective_classes']:.3g}",
                  f"coverage {row['coverage']:.2g}"]
    return f"{row['run']}: {row['outcome']} ({', '.join(parts)})"


def measures_header(res: Results, proxy: bool) -> str:
    return (f"{'proxy' if proxy else 'Inception'} measures of the final checkpoint (evaluation job), "
            f"{res.settings['quality']['samples']} samples")


def summarize(res: Results) -> dict:
    table = outcomes(res)
    proxy = bool(table["proxy"].iloc[0])
    return judge(table, thresholds(res.settings, proxy), measures_header(res, proxy),
                 res.files(res.runs(), "final_metrics.json"))


def judge(table: pd.DataFrame, limits: dict, header: str, files: str) -> dict:
    """The claims from the runs' outcomes (one row per run: method, generator, seed, outcome and
    the measures). Every claim must hold for every seed in the table."""
    is_ = {(r.method, r.generator, r.seed): r.outcome for r in table.itertuples()}
    seeds = sorted(table["seed"].unique())
    collapse_measured = "collapse_effective_classes" in limits
    no_labels = f"no collapse measure: {header.split(' ')[0]} features carry no class labels"

    def note(frame: pd.DataFrame, extra: str = "") -> str:
        return f"{header}: " + "; ".join(describe(r) for _, r in frame.iterrows()) + extra

    def every(method: str, generator: str, result: str) -> bool:
        return all(is_[(method, generator, s)] == result for s in seeds)

    # Each method's positive control: it works with the DCGAN generator under the same budget.
    # A method's failure with another generator is judged only beside its own working control
    # (under-training is not failure).
    controls = {m: every(m, "dcgan", "works") for m in ("wgan", "gan")}
    control_note = "; positive controls (DCGAN generator): " + ", ".join(
        f"{m.upper()} {is_[(m, 'dcgan', s)]}" for m in ("wgan", "gan") for s in seeds)
    out: dict = {}

    # Figure 5, the positive control itself: both methods work with the DCGAN generator
    out["dcgan_both_work"] = {"value": controls["wgan"] and controls["gan"], "file": files,
                              "note": note(table[table["generator"] == "dcgan"])}

    # Figures 6 and 7: WGAN works where the GAN fails / collapses
    for key, generator, gan_outcome in (("nobn_wgan_works_gan_fails", "nobn", "fails"),
                                        ("mlp_wgan_works_gan_collapses", "mlp", "collapses")):
        frame = table[table["generator"] == generator]
        if not (controls["wgan"] and controls["gan"]):
            out[key] = {"value": None, "reason": "a method that does not work with the DCGAN generator under the same "
                                                 "budget says nothing by failing here; " + note(frame, control_note)}
        elif gan_outcome == "collapses" and not collapse_measured:
            out[key] = {"value": None, "reason": no_labels}
        else:
            out[key] = {"value": every("wgan", generator, "works") and every("gan", generator, gan_outcome),
                        "file": files, "note": note(frame, control_note)}

    # "In no experiment did we see evidence of mode collapse for the WGAN algorithm": collapse is
    # judged on the WGAN runs that pass the quality gate (a failed run's samples cannot show it)
    wgan = table[table["method"] == "wgan"]
    judged = wgan[wgan["outcome"] != "fails"]
    if not collapse_measured:
        out["no_wgan_collapse"] = {"value": None, "reason": no_labels}
    elif judged.empty:
        out["no_wgan_collapse"] = {"value": None, "reason": "no WGAN run passes the quality gate, so none can show "
                                                            "collapse; " + note(wgan)}
    else:
        out["no_wgan_collapse"] = {"value": bool((judged["outcome"] != "collapses").all()), "file": files,
                                   "note": note(wgan, f"; judged on {len(judged)} of {len(wgan)} WGAN runs (those "
                                                      "passing the quality gate)")}
    return out


# -- figures (the notebooks) ---------------------------------------------------------------------------


def final_grid(res: Results, run: str):
    """The run's last sample grid (one fixed noise batch, the final generator) as a path."""
    grids = sorted(res.path(run, "samples").glob("step_*.png"))
    if not grids:
        raise ReplicationError(f"no sample grids in {res.path(run, 'samples')}: rebuild the run with snakemake")
    return grids[-1]


def figure(res: Results, generator: str, reports: str):
    """The paper's layout: WGAN's sample sheet on the left, the standard GAN's on the right (one
    row per seed), each titled with its outcome and measures; saved as the artifact's PNG/PDF."""
    import matplotlib.pyplot as plt
    from matplotlib.image import imread

    from replication.report import figure_path

    table = outcomes(res).set_index("run")
    seeds = res.settings["seeds"]
    fig, axes = plt.subplots(len(seeds), 2, figsize=(9, 4.8 * len(seeds)), squeeze=False)
    for i, seed in enumerate(seeds):
        for j, method in enumerate(("wgan", "gan")):
            run = res.run(method=method, generator=generator, seed=seed)
            ax = axes[i, j]
            ax.imshow(imread(final_grid(res, run)), cmap="gray")
            ax.set_axis_off()
            row = table.loc[run]
            extra = (f", intra {row['intra_fid']:.0f}, {row['effective_classes']:.1f} classes"
                     if "intra_fid" in row and pd.notna(row["intra_fid"]) else "")
            ax.set_title(f"{'WGAN' if method == 'wgan' else 'Standard GAN'} (seed {seed}): {row['outcome']}\n"
                         f"FID {row['fid']:.0f}{extra}", fontsize=9)
    fig.suptitle(f"{FIGURES[generator]} ({generator} generator, DCGAN critic; scale {res.scale})", fontsize=10)
    fig.tight_layout()
    for suffix in (".png", ".pdf"):
        fig.savefig(figure_path(reports, res.scale, FIGURES[generator], suffix), dpi=130)
    return fig


def outcome_table(res: Results, generator: str, reports: str) -> pd.DataFrame:
    """The generator's runs with their outcomes and measures, saved as the artifact's CSV."""
    from replication.report import figure_path

    table = outcomes(res)
    table = table[table["generator"] == generator].drop(columns=["step"], errors="ignore")
    table.to_csv(figure_path(reports, res.scale, FIGURES[generator], ".csv"), index=False)
    return table


def curves_figure(res: Results, generator: str, reports: str):
    """FID (and with the proxy, intra-class FID and effective classes) at every evaluation of the
    generator's runs, saved beside the artifact (part ``curves``)."""
    import matplotlib.pyplot as plt

    from replication.report import figure_path

    curves = quality_curves(res, generator)
    columns = [c for c in ("fid", "intra_fid", "effective_classes") if c in curves]
    fig, axes = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 3.2), squeeze=False)
    for ax, column in zip(axes[0], columns):
        for run, frame in curves.groupby("run"):
            ax.plot(frame["step"], frame[column], marker="o", ms=3, label=run)
        ax.set(xlabel="generator iterations", ylabel=column,
               yscale="log" if column != "effective_classes" else "linear")
        ax.legend(fontsize=7)
    features = "proxy" if "intra_fid" in curves else "Inception"
    fig.suptitle(f"Measures during training ({features} features, scale {res.scale})", fontsize=10)
    fig.tight_layout()
    fig.savefig(figure_path(reports, res.scale, FIGURES[generator], part="curves"), dpi=130)
    return fig


def quality_curves(res: Results, generator: str) -> pd.DataFrame:
    """Every evaluation of the generator's runs (FID and, with the proxy, the class measures)."""
    frames = [res.frame(run, "evaluation.csv").assign(run=run, method=res.params(run)["method"])
              for run in res.runs(generator=generator)]
    return pd.concat(frames, ignore_index=True)
