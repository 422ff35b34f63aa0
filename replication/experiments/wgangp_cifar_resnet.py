"""WGAN-GP Table 3 (WGAN-GP Section 5.4 and Appendix F [P]): the CIFAR-10 ResNet of gan_cifar_resnet.py, unsupervised
and supervised (AC-GAN), with the inception-score protocol of the paper (tflib/inception_score.py).

Task ``train`` (runs ``<model>_s<seed>``, evaluated): the image-GAN recipe trains the registry's
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
samples against the training split: our supplement, not in the paper. The scale's features:
TF-Inception at paper, the calibrated proxy classifier below it (never compared with published numbers).

``summarize`` measures the claims; the notebook (wgan_gp_table3) prints Table 3 beside ours.
"""

from __future__ import annotations

import math

import pandas as pd
import torch
from torch import nn

from replication.data.toy import gaussian_noise, labelled_gaussian_noise
from replication.errors import ReplicationError
from replication.runs import Results, RunContext, stable_seed
from replication.metrics.fidelity import PROTOCOLS
from replication.recipes import images
from replication.recipes.outcomes import progress
from replication.train.evaluation import generate_from, quality_probe, sample_batches

MODELS = ("unconditional", "conditional")  # Table 3's two columns: unsupervised, supervised


# -- settings, data, features ----------------------------------------------------------------------

def classes_of(networks: dict) -> int:
    """Label classes of a conditional generator (0: unconditional)."""
    return networks["generator"].get("num_classes", 0)


def noise_sampler(networks: dict):
    """z ~ N(0, I), with labels ~ U{0..classes-1} for a conditional generator."""
    nz, classes = networks["generator"]["nz"], classes_of(networks)
    return labelled_gaussian_noise(nz, classes) if classes else gaussian_noise(nz)


def reference_of(ctx: RunContext, extractor, keep_features: bool) -> dict:
    """FID statistics of the training split (or a seeded subset of ``evaluation.reference.images``),
    the same for every run of the experiment (TTUR's CIFAR-10 convention: all 50k training images)."""
    from replication.metrics.fidelity import reference_statistics

    s, R = ctx.settings, ctx.settings.evaluation.reference
    real, _ = images.load(s.data, R.split)
    if R.images is not None and R.images < len(real):
        g = torch.Generator().manual_seed(stable_seed(s.seed, ctx.experiment, "reference"))
        real = real[torch.randperm(len(real), generator=g)[: R.images]]
    name = f"{s.data.dataset}/{R.split} ({len(real)} images)"
    return reference_statistics(real, extractor, name, keep_features=keep_features, batch_size=s.evaluation.batch_size)


# -- the task ----------------------------------------------------------------------------------------

def train(ctx: RunContext, model: str, seed: int) -> dict:
    s, E = ctx.settings, ctx.settings.evaluation
    m = s.models[model]
    classes = classes_of(m.networks)
    real, labels = images.load(s.data, labelled=classes > 0)
    extractor = ctx.extractor()
    probe = lambda: quality_probe(extractor, reference_of(ctx, extractor, keep_features=False),  # noqa: E731
                                  n=E.curve_samples, batch_size=E.batch_size,
                                  **{**PROTOCOLS[E.protocol], "metrics": ("is", "fid")})
    t, written = images.train_pair(ctx, m.training, m.networks, s.data, real, labels=labels if classes else None,
                                   noise=noise_sampler(m.networks), probes={"quality": probe})
    curve = pd.read_csv(written["evaluation"])
    write_final_grid(ctx, t.networks["generator"], m.networks)
    first, last = curve.iloc[0], curve.iloc[-1]
    return {"model": model, "seed": seed, "iterations": int(t.iteration), "classes": classes,
            "training_images": len(real), "curve_samples": E.curve_samples,
            "is_start": float(first["is"]), "fid_start": float(first["fid"]),
            "is_last_evaluation": float(last["is"]), "fid_last_evaluation": float(last["fid"]),
            "extractor": extractor.name, "proxy": extractor.proxy}


def write_final_grid(ctx: RunContext, generator: nn.Module, networks: dict) -> None:
    """``final_grid.png``: the final generator on a noise batch shared by every run of the
    experiment; a conditional generator gets gan_cifar_resnet.py's fixed labels, 0..9 repeated
    (one class per column of a 10-wide grid)."""
    from torchvision.utils import save_image

    n, classes = ctx.settings.training["evaluation"]["grid"], classes_of(networks)
    g = torch.Generator().manual_seed(stable_seed(ctx.settings.seed, ctx.experiment, "final_grid"))
    z = torch.randn(n, networks["generator"]["nz"], generator=g)
    noise = (z, torch.arange(n) % classes) if classes else z
    generator.train()
    images = generate_from(generator, noise, ctx.device).float().cpu()
    save_image(((images + 1) / 2).clamp(0, 1), ctx.out_dir / "final_grid.png", nrow=classes or int(math.sqrt(n)))


TASKS = {"train": train}


def EVALUATE(ctx: RunContext, networks: dict[str, nn.Module]) -> dict:
    """Table 3's number from the final generator alone: IS (mean ± std over the protocol's 10
    unshuffled splits) of ``evaluation.samples`` samples, with FID and KID of the same samples."""
    from replication.metrics.fidelity import Stream, evaluate_protocol

    s, E, p = ctx.settings, ctx.settings.evaluation, ctx.params
    specs = s.models[p["model"]].networks
    generator = networks["generator"]
    if getattr(generator, "num_classes", None) != classes_of(specs):
        raise ReplicationError(f"the checkpoint's generator has {getattr(generator, 'num_classes', None)} classes, "
                               f"the {p['model']} model {classes_of(specs)}: it belongs to another model")
    extractor = ctx.extractor()
    reference = reference_of(ctx, extractor, keep_features=True)
    samples = Stream(sample_batches(generator, noise_sampler(specs), E.samples, E.batch_size,
                                    ctx.seed_for("evaluate/samples"), ctx.device), E.samples)
    records = evaluate_protocol(E.protocol, samples, extractor, reference, metrics=("is", "fid", "kid"),
                                kid_subsets=E.kid.subsets, kid_subset_size=E.kid.subset_size, batch_size=E.batch_size)
    by = {r["metric"]: r for r in records}
    return {"model": p["model"], "seed": p["seed"], "n_samples": samples.n,
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


def summarize(res: Results) -> dict:
    s = res.settings
    rows = final_rows(res)
    files = res.files(list(rows.run), "final_metrics.json") + ", " + res.files(list(rows.run), "evaluation.csv")
    first = rows.iloc[0]
    protocol = (f"{first.n_samples} samples, 10 unshuffled splits ({s.evaluation.protocol}), "
                f"{'proxy classifier (not comparable with Inception numbers)' if first.proxy else 'TF-Inception'}; "
                f"final checkpoint after {first.iterations} generator iterations; FID/KID against {first.reference}")
    fid = {run: progress(res, run, "fid") for run in rows.run}  # the runs the claims need trained
    out = {}
    for model, key in (("unconditional", "unsupervised_is"), ("conditional", "supervised_is")):
        mine = rows[rows.model == model]
        out[key] = {"value": float(mine.is_mean.mean()), "start": float(mine.is_start.mean()), "file": files,
                    "runs": {r: fid[r] for r in mine.run},
                    "note": "; ".join(f"seed {r.seed}: IS {r.is_mean:.3f} ± {r.is_std:.3f}" for r in mine.itertuples())
                            + f" (mean over {len(mine)} seed(s)); {protocol}"}
    values, starts, notes = [], [], []
    for seed in s.seeds:
        u, c = (rows[(rows.model == m) & (rows.seed == seed)].iloc[0] for m in MODELS)
        values.append(1.0 - c.fid / u.fid)
        starts.append(1.0 - c.fid_start / u.fid_start)
        notes.append(f"seed {seed}: FID conditional {c.fid:.3f} vs unconditional {u.fid:.3f}, KID "
                     f"{c.kid_mean:.4g} vs {u.kid_mean:.4g}")
    out["conditional_fid_gain"] = {"value": values, "start": starts, "file": files, "runs": fid,
                                   "note": "; ".join(notes) + f"; {protocol}"}
    return out
