"""WGAN-GP Table 3: the CIFAR-10 ResNet of gan_cifar_resnet.py, unsupervised and supervised
(AC-GAN), with the inception-score protocol of the paper (WGAN_WGANGP.md sections 6.2, 1.8).

Task ``train`` (runs ``<model>_s<seed>``, evaluated): the engine trains the registry's
``resnet_cifar_g`` / ``resnet_cifar_d`` with the shared training block and the model's delta
(``conditional``: conditional batch norm in G, the critic's AC-GAN head, ``training.acgan``).
Real batches are dequantised as gan_cifar_resnet.py does and, for the conditional model, carry
their labels (the critic step generates its fakes for them; the generator step draws uniform
labels). Every ``training.evaluation.every`` iterations (step 0 too) the probe ``quality`` logs
IS (10 unshuffled splits) and FID of ``evaluation.curve_samples`` fresh samples, and a grid of
the fixed noise batch is saved; after training, ``final_grid.png`` shows both models on the same
noise (the conditional one with the code's fixed labels 0..9 repeated).

``EVALUATE`` (the generic evaluation job, from the final checkpoint alone, so a reviewer can
rerun it from pulled checkpoints): IS as mean ± std over 10 splits of ``evaluation.samples``
samples with uniformly drawn labels (protocol ``wgan_gp_is``), and FID and KID of the same
samples against the training split: our supplement, not in the paper. TF-Inception at paper,
the calibrated proxy classifier below it (proxy numbers never meet the published ones).

``summarize`` measures the claims; the notebook (wgan_gp_table3) prints Table 3 beside ours.
"""

from __future__ import annotations

import math

import pandas as pd
import torch
from torch import nn

from replication.data import load_images, rgb_at_resolution
from replication.data.batches import ImageSource, SamplerSource
from replication.data.toy import gaussian_noise, labelled_gaussian_noise
from replication.errors import ReplicationError
from replication.experiments import Results, RunContext, stable_seed
from replication.metrics.fidelity import PROTOCOLS
from replication.metrics.proxy import extractor_of_kind, proxy_run
from replication.train import EvalData, Sources, merged
from replication.train.evaluation import draw_samples, generate_from, quality_probe

MODELS = ("unconditional", "conditional")  # Table 3's two columns: unsupervised, supervised
LABELS = {"unconditional": "Unsupervised", "conditional": "Supervised (AC-GAN)"}
OURS = "WGAN-GP ResNet"
# WGAN-GP Table 3 [P] (WGAN_WGANGP.md s6.2): (method, IS, std or None, cited?) per column, in the
# paper's order; every row but WGAN-GP's own is cited from another paper.
TABLE3 = {
    "unconditional": [("ALI (in DFM paper)", 5.34, 0.05, True), ("BEGAN", 5.62, None, True),
                      ("DCGAN (in SGAN paper)", 6.16, 0.07, True), ("Improved GAN (-L+HA)", 6.86, 0.06, True),
                      ("EGAN-Ent-VI", 7.07, 0.10, True), ("DFM", 7.72, 0.13, True), (OURS, 7.86, 0.07, False)],
    "conditional": [("SteinGAN", 6.35, None, True), ("DCGAN (with labels, in SteinGAN paper)", 6.58, None, True),
                    ("Improved GAN", 8.09, 0.07, True), ("AC-GAN", 8.25, 0.07, True),
                    ("SGAN-no-joint", 8.37, 0.08, True), (OURS, 8.42, 0.10, False), ("SGAN", 8.59, 0.12, True)],
}


# -- settings, data, features ----------------------------------------------------------------------

def model_setup(settings: dict, model: str) -> tuple[dict, dict]:
    """(training block, network specs) of one model: its deltas over the shared ones."""
    if model not in settings["models"]:
        raise ReplicationError(f"unknown model {model!r}; models: {', '.join(settings['models'])}")
    delta = settings["models"][model]
    return merged(settings["training"], delta.get("training")), merged(settings["networks"], delta.get("networks"))


def classes_of(networks: dict) -> int:
    """Label classes of a conditional generator (0: unconditional)."""
    return networks["generator"].get("num_classes", 0)


def noise_sampler(networks: dict):
    """z ~ N(0, I), with labels ~ U{0..classes-1} for a conditional generator."""
    nz, classes = networks["generator"]["nz"], classes_of(networks)
    return labelled_gaussian_noise(nz, classes) if classes else gaussian_noise(nz)


def training_set(data: dict, labelled: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """uint8 N x 3 x 32 x 32 images (CIFAR-10; the Fashion-MNIST stand-in zero-padded and its grey
    repeated to 3 channels) and, for a conditional model, their labels."""
    images = load_images(data["dataset"], data["split"])
    if labelled and images.labels is None:
        raise ReplicationError(f"{data['dataset']}/{data['split']} has no labels: the conditional model needs them")
    return rgb_at_resolution(images.images, data["resolution"]), images.labels if labelled else None


def features_of(ctx: RunContext):
    """TF-Inception at paper, else this scale's calibrated proxy classifier (settings say which)."""
    return extractor_of_kind(ctx.settings["evaluation"]["features"], ctx.upstream(proxy_run("fashion-mnist")),
                             "evaluation.features")


def reference_of(ctx: RunContext, extractor, keep_features: bool) -> dict:
    """FID statistics of the training split (or a seeded subset of ``evaluation.reference.images``),
    the same for every run of the experiment (TTUR's CIFAR-10 convention: all 50k training images)."""
    from replication.metrics import reference_statistics

    s, R = ctx.settings, ctx.settings["evaluation"]["reference"]
    images, _ = training_set({**s["data"], "split": R["split"]}, labelled=False)
    if R["images"] is not None and R["images"] < len(images):
        g = torch.Generator().manual_seed(stable_seed(s["seed"], ctx.experiment, "reference"))
        images = images[torch.randperm(len(images), generator=g)[: R["images"]]]
    name = f"{s['data']['dataset']}/{R['split']} ({len(images)} images)"
    return reference_statistics(images, extractor, name, keep_features=keep_features,
                                batch_size=s["evaluation"]["batch_size"])


# -- the task ----------------------------------------------------------------------------------------

def train(ctx: RunContext, model: str, seed: int) -> dict:
    s, E = ctx.settings, ctx.settings["evaluation"]
    training, networks = model_setup(s, model)
    classes = classes_of(networks)
    images, labels = training_set(s["data"], labelled=classes > 0)
    sources = Sources(
        real=ImageSource(images, training["batch_size"], ctx.seed_for("data/real"), ctx.device, drop_last=True,
                         labels=labels, dequantize=s["data"]["dequantize"]),
        noise=SamplerSource(noise_sampler(networks), training["batch_size"], ctx.device, ctx.seed_for("data/noise")))
    extractor = features_of(ctx)
    protocol = {**PROTOCOLS[E["protocol"]], "metrics": ("is", "fid")}
    probe = quality_probe(extractor, reference_of(ctx, extractor, keep_features=False), n=E["curve_samples"],
                          batch_size=E["batch_size"], **protocol)
    t = ctx.trainer(training, networks, sources, eval_data=EvalData(noise=noise_sampler(networks)),
                    probes={"quality": probe})
    t.fit()
    curve = pd.read_csv(t.write_outputs(ctx.out_dir)["evaluation"])
    write_final_grid(ctx, t.networks["generator"], networks)
    first, last = curve.iloc[0], curve.iloc[-1]
    return {"model": model, "seed": seed, "iterations": int(t.step), "classes": classes,
            "training_images": len(images), "curve_samples": E["curve_samples"],
            "is_start": float(first["is"]), "fid_start": float(first["fid"]),
            "is_last_evaluation": float(last["is"]), "fid_last_evaluation": float(last["fid"]),
            "extractor": extractor.name, "proxy": extractor.proxy}


def write_final_grid(ctx: RunContext, generator: nn.Module, networks: dict) -> None:
    """``final_grid.png``: the final generator on a noise batch shared by every run of the
    experiment; a conditional generator gets gan_cifar_resnet.py's fixed labels, 0..9 repeated
    (one class per column of a 10-wide grid)."""
    from torchvision.utils import save_image

    n, classes = ctx.settings["training"]["evaluation"]["grid"], classes_of(networks)
    g = torch.Generator().manual_seed(stable_seed(ctx.settings["seed"], ctx.experiment, "final_grid"))
    z = torch.randn(n, networks["generator"]["nz"], generator=g)
    noise = (z, torch.arange(n) % classes) if classes else z
    generator.train()
    images = generate_from(generator, noise, ctx.device).float().cpu()
    save_image(((images + 1) / 2).clamp(0, 1), ctx.out_dir / "final_grid.png", nrow=classes or int(math.sqrt(n)))


TASKS = {"train": train}


def EVALUATE(ctx: RunContext, networks: dict[str, nn.Module]) -> dict:
    """Table 3's number from the final generator alone: IS (mean ± std over the protocol's 10
    unshuffled splits) of ``evaluation.samples`` samples, with FID and KID of the same samples."""
    from replication.metrics import evaluate_protocol

    s, E, p = ctx.settings, ctx.settings["evaluation"], ctx.params
    _, specs = model_setup(s, p["model"])
    generator = networks["generator"]
    if getattr(generator, "num_classes", None) != classes_of(specs):
        raise ReplicationError(f"the checkpoint's generator has {getattr(generator, 'num_classes', None)} classes, "
                               f"the {p['model']} model {classes_of(specs)}: it belongs to another model")
    extractor = features_of(ctx)
    reference = reference_of(ctx, extractor, keep_features=True)
    samples = draw_samples(generator, noise_sampler(specs), E["samples"], E["batch_size"],
                           ctx.seed_for("evaluate/samples"), ctx.device)
    records = evaluate_protocol(E["protocol"], samples, extractor, reference, metrics=("is", "fid", "kid"),
                                kid_subsets=E["kid"]["subsets"], kid_subset_size=E["kid"]["subset_size"],
                                batch_size=E["batch_size"])
    by = {r["metric"]: r for r in records}
    return {"model": p["model"], "seed": p["seed"], "n_samples": len(samples),
            "is_mean": by["IS"]["value"], "is_std": by["IS"]["std"], "splits": by["IS"]["splits"],
            "fid": by["FID"]["value"], "kid_mean": by["KID"]["value"], "kid_std": by["KID"]["std"],
            "reference": reference["name"], "records": records}


# -- measured values for the claims ----------------------------------------------------------------

def final_rows(res: Results) -> pd.DataFrame:
    """One row per training run: its final metrics (evaluation job) and the ends of its curve."""
    rows = []
    for run in res.runs(task="train"):
        final = res.json(run, "final_metrics.json")["metrics"]
        curve = res.frame(run, "evaluation.csv")
        rows.append({"run": run, "model": final["model"], "seed": final["seed"], "n_samples": final["n_samples"],
                     "is_mean": final["is_mean"], "is_std": final["is_std"], "fid": final["fid"],
                     "kid_mean": final["kid_mean"], "kid_std": final["kid_std"], "reference": final["reference"],
                     "proxy": final["records"][0]["proxy"], "extractor": final["records"][0]["extractor"],
                     "iterations": int(curve["step"].iloc[-1]), "is_start": float(curve["is"].iloc[0]),
                     "fid_start": float(curve["fid"].iloc[0]), "fid_last_evaluation": float(curve["fid"].iloc[-1])})
    return pd.DataFrame(rows)


def curves(res: Results) -> pd.DataFrame:
    """Every run's evaluation rows with its model and seed."""
    return pd.concat([res.frame(run, "evaluation.csv").assign(run=run, **{k: res.params(run)[k] for k in ("model", "seed")})
                      for run in res.runs(task="train")], ignore_index=True)


def trained(row, fraction: float) -> bool:
    """The run's FID at its last evaluation is at most ``fraction`` of its step-0 FID (same sample count)."""
    return row.fid_last_evaluation <= fraction * row.fid_start


def summarize(res: Results) -> dict:
    s, M = res.settings, res.settings["measures"]
    rows = final_rows(res)
    files = res.files(list(rows.run), "final_metrics.json") + ", " + res.files(list(rows.run), "evaluation.csv")
    first = rows.iloc[0]
    protocol = (f"{first.n_samples} samples, 10 unshuffled splits ({s['evaluation']['protocol']}), "
                f"{'proxy classifier (not comparable with Inception numbers)' if first.proxy else 'TF-Inception'}; "
                f"final checkpoint after {first.iterations} generator iterations; FID/KID against {first.reference}")
    out = {}
    for model, key in (("unconditional", "unsupervised_is"), ("conditional", "supervised_is")):
        mine = rows[rows.model == model]
        out[key] = {"value": float(mine.is_mean.mean()), "start": float(mine.is_start.mean()), "file": files,
                    "note": "; ".join(f"seed {r.seed}: IS {r.is_mean:.3f} ± {r.is_std:.3f}" for r in mine.itertuples())
                            + f" (mean over {len(mine)} seed(s)); {protocol}"}
    values, starts, notes = [], [], []
    for seed in s["seeds"]:
        u, c = (rows[(rows.model == m) & (rows.seed == seed)].iloc[0] for m in MODELS)
        untrained = [m for m, r in zip(MODELS, (u, c)) if not trained(r, M["trained_fraction"])]
        values.append(float("nan") if untrained else 1.0 - c.fid / u.fid)
        starts.append(1.0 - c.fid_start / u.fid_start)
        notes.append(f"seed {seed}: FID conditional {c.fid:.3f} vs unconditional {u.fid:.3f}, KID "
                     f"{c.kid_mean:.4g} vs {u.kid_mean:.4g} (last-evaluation FID / step-0 FID: "
                     f"{c.fid_last_evaluation / c.fid_start:.2f} and {u.fid_last_evaluation / u.fid_start:.2f})"
                     + (f" NOT TRAINED: {', '.join(untrained)} (FID not below {M['trained_fraction']:g} x its step-0 FID)"
                        if untrained else ""))
    out["conditional_fid_gain"] = {"value": values, "start": starts, "file": files,
                                   "note": "; ".join(notes) + f"; {protocol}"}
    return out
