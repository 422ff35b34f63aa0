"""WGAN-GP Figure 5 (WGAN-GP Section 5.6 [P]; gan_mnist.py [C]): the negative critic loss as a training curve (5a) and the
critic's overfitting seen in it (5b).

Tasks (runs declared in workflow/config/experiments/wgangp_overfitting.yaml)
- ``overfit`` (``<method>_<train_set>``): gan_mnist.py's WGAN (``gp``: gradient penalty, or
  ``clip``: weight clipping with batch norm) trained by the engine on ``subset`` (a seeded random
  1,000-image subset of the training split, ``ImageSet.random_subset``) or on ``full`` (the whole
  training split: the negative control beside it). The engine logs the training critic loss of
  every iteration (the last critic step's loss, GP term included) and its ``critic_loss`` probe
  evaluates the same loss on the validation split every ``evaluation.every`` iterations
  (gan_mnist.py's dev_disc_cost: batches of 50, GP term included).
- ``loss_curve`` (``fig5a_<dataset>``, scale paper only): a WGAN-GP on LSUN bedrooms (section
  8's 64x64 DCGAN with a layer-norm critic), the same logs. Below paper, Figure 5a's stand-in is
  the run ``gp_full`` (Fashion-MNIST, gan_mnist.py networks), and the reports say so.

Each run writes ``curves.csv``: ``train`` = -(the logged training critic loss averaged over
blocks of iterations, gan_mnist.py's plot flush), ``valid`` = -(the probe at the block's end).
Everything judged or drawn is this negative critic loss, the sign of the paper's figure.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import torch

from replication.data import ImageSet, load_images, to_symmetric_range, to_unit_range
from replication.data.batches import BatchSource, ImageSource, SamplerSource, TensorSource
from replication.errors import ReplicationError
from replication.runs import Results, RunContext
from replication.data.toy import gaussian_noise
from replication.io import write_frame
from replication.train import EvalData, Sources

STAND_IN = {"method": "gp", "train_set": "full"}  # Figure 5a's run below scale paper


# -- data ---------------------------------------------------------------------------------

def training_images(settings, train_set: str) -> ImageSet:
    """The training split, or its seeded random subset (tflib mnist_generator(limit=1000))."""
    train = load_images(settings.dataset, settings.splits["train"])
    return train if train_set == "full" else train.random_subset(settings.subset.size, settings.subset.seed)


def image_sampler(images: torch.Tensor, scale: Callable) -> Callable:
    """``n`` distinct images in a random order (all of them when n is the set's size), scaled."""
    def sample(n: int, generator: torch.Generator) -> torch.Tensor:
        return scale(images[torch.randperm(len(images), generator=generator)[:n]])
    return sample


# -- curves ---------------------------------------------------------------------------------

def curves(training: pd.DataFrame, evaluation: pd.DataFrame, block: int) -> pd.DataFrame:
    """One row per block of ``block`` iterations ending at ``step``: ``train`` = -(mean logged
    training critic loss over the block's iterations), ``valid`` = -(the critic_loss probe at
    ``step``); step 0 (before training) has the validation value only."""
    by_block = training.groupby(training["step"] // block)["critic_loss"]
    train = -by_block.mean()[by_block.count() == block]  # whole blocks only
    train.index = (train.index + 1) * block
    valid = -evaluation.set_index("step")["critic_loss_heldout"]
    frame = pd.concat([train.rename("train"), valid.rename("valid")], axis=1).sort_index()
    return frame.rename_axis("step").reset_index()


def train_and_log(ctx: RunContext, training, networks: dict, real: BatchSource, eval_real: Callable,
                  block: int) -> tuple[int, pd.DataFrame]:
    """The engine's run with the validation probe, then its declared outputs and curves.csv."""
    noise = gaussian_noise(networks["generator"]["nz"])
    sources = Sources(real=real, noise=SamplerSource(noise, training.batch_size, ctx.device, ctx.seed_for("data/noise")))
    t = ctx.make_trainer(training, networks, sources, eval_data=EvalData(real=eval_real, noise=noise)).fit()
    written = t.write_outputs(ctx.out_dir)
    frame = curves(pd.read_csv(written["training"]), pd.read_csv(written["evaluation"]), block)
    write_frame(ctx.out_dir / "curves.csv", frame)
    return t.iteration, frame


# -- tasks ----------------------------------------------------------------------------------

def overfit(ctx: RunContext, method: str, train_set: str) -> dict:
    """Figure 5b: one method on the 1,000-image subset or on the full training split (pixels in [0, 1])."""
    s, m = ctx.settings, ctx.settings.methods[method]
    train = training_images(s, train_set)
    valid = load_images(s.dataset, s.splits["valid"])
    real = TensorSource(to_unit_range(train.images[:]).to(ctx.device), m.training.batch_size, ctx.seed_for("data/real"))
    steps, frame = train_and_log(ctx, m.training, m.networks, real, image_sampler(valid.images, to_unit_range),
                                 s.curves.block)
    return {"method": method, "train_set": train_set, "train_images": len(train), "valid_images": len(valid),
            "iterations": steps, "final": frame.iloc[-1].to_dict()}


def loss_curve(ctx: RunContext, dataset: str) -> dict:
    """Figure 5a: a WGAN-GP on LSUN bedrooms, pixels in [-1, 1] (scale paper). The probe's
    'validation' images are drawn from the training set, as the authors' loader's were."""
    F = ctx.settings.fig5a
    images = load_images(dataset, "train").images
    real = ImageSource(images, F.training.batch_size, ctx.seed_for("data/real"), ctx.device, drop_last=True)
    steps, frame = train_and_log(ctx, F.training, F.networks, real, image_sampler(images, to_symmetric_range),
                                 F.curve.block)
    return {"dataset": dataset, "train_images": len(images), "iterations": steps, "final": frame.iloc[-1].to_dict()}


TASKS = {"overfit": overfit, "loss_curve": loss_curve}


# -- measures ---------------------------------------------------------------------------------

def last(frame: pd.DataFrame, span: int) -> pd.DataFrame:
    """The blocks ending in the last ``span`` iterations (step > final step - span)."""
    return frame[frame["step"] > frame["step"].max() - span].dropna()


def relative_gap(frame: pd.DataFrame, window: int) -> dict:
    """Mean training and validation estimates over the last ``window`` iterations and their gap
    as a share of the training estimate: (train - valid) / |train|."""
    end = last(frame, window)
    train, valid = float(end["train"].mean()), float(end["valid"].mean())
    return {"train": train, "valid": valid, "gap": (train - valid) / abs(train) if train else float("nan"),
            "blocks": len(end)}


def trends(frame: pd.DataFrame, span: int) -> dict:
    """Least-squares change of each estimate across the last ``span`` iterations, as a share of
    the training estimate's mean level there (+ rising, - falling)."""
    end = last(frame, span)
    level = abs(float(end["train"].mean()))
    out = {"level": level, "blocks": len(end)}
    for col in ("train", "valid"):
        slope = np.polyfit(end["step"], end[col], 1)[0] if len(end) > 1 else float("nan")
        out[col] = float(slope * span / level) if level else float("nan")
    return out


def window_means(frame: pd.DataFrame, window: int, block: int) -> pd.Series:
    """Means of the training estimate over consecutive windows of ``window`` iterations (whole
    windows of ``window / block`` blocks only), indexed by the window's number."""
    train = frame.dropna(subset=["train"])
    by_window = train.groupby((train["step"] - 1) // window)["train"]
    return by_window.mean()[by_window.count() == window // block]


def decrease_and_flatness(frame: pd.DataFrame, window: int, block: int, flat_windows: int) -> dict:
    """Figure 5a's shape from the training estimate's window means M_k: the decrease, the drop
    from the highest window to the last as a share of the highest, (max M - M_last) / max M; and
    the flatness, |least-squares slope over the last ``flat_windows`` windows' blocks| divided
    by the mean rate of descent from the highest window to the last (per iteration, between the
    windows' centres): 0 for a flat end, 1 for a curve still falling at its average rate,
    infinite without descent."""
    means = window_means(frame, window, block)
    if len(means) < max(2, flat_windows):
        return {"decrease": None, "flatness": None, "windows": len(means)}
    peak, final = float(means.max()), float(means.iloc[-1])
    end = last(frame.dropna(subset=["train"]), window * flat_windows)
    slope = float(np.polyfit(end["step"], end["train"], 1)[0])
    span = (means.index[-1] - means.idxmax()) * window
    rate = (peak - final) / span if span else 0.0
    return {"decrease": (peak - final) / abs(peak), "flatness": abs(slope) / rate if rate > 0 else float("inf"),
            "peak": peak, "peak_window_end": int((means.idxmax() + 1) * window), "last": final,
            "end_slope": slope, "descent_rate": rate, "windows": len(means)}


def summarize(res: Results) -> dict:
    s = res.settings
    C, N = s.curves, s.training["iterations"]
    frames = {r: res.frame(r, "curves.csv") for r in res.runs(task="overfit")}
    budget = (f"; {N} generator iterations, critic width {s.networks['critic']['width']} "
              f"(Figure 5b: 20,000 iterations at width 64)")
    out = {}
    for method in s.methods:
        sub, full = res.run(method=method, train_set="subset"), res.run(method=method, train_set="full")
        g, c = relative_gap(frames[sub], C.window), relative_gap(frames[full], C.window)
        out[f"{method}_divergence"] = {
            "value": g["gap"] - c["gap"], "file": res.files([sub, full], "curves.csv"),
            "note": (f"relative gap (train - valid) / |train| of the negative critic loss over the last {C.window} "
                     f"iterations: subset {g['gap']:.3f} (train {g['train']:.3f}, valid {g['valid']:.3f}), "
                     f"full training set {c['gap']:.3f} (train {c['train']:.3f}, valid {c['valid']:.3f})" + budget)}
    sub, full = res.run(method="gp", train_set="subset"), res.run(method="gp", train_set="full")
    t, c = trends(frames[sub], N // 2), trends(frames[full], N // 2)
    out["gp_train_rises_valid_falls"] = {
        "value": min(t["train"], -t["valid"]), "file": res.files([sub, full], "curves.csv"),
        "note": (f"change over the last {N // 2} iterations (least squares) as a share of the training level: "
                 f"subset train {t['train']:+.3f}, valid {t['valid']:+.3f} (level {t['level']:.3f}); full training "
                 f"set train {c['train']:+.3f}, valid {c['valid']:+.3f}" + budget)}
    out.update(fig5a_measures(res))
    return out


def fig5a_measures(res: Results) -> dict:
    """Figure 5a's decrease and flatness: the LSUN run at paper, the stand-in run below it."""
    F = res.settings.fig5a
    runs = res.runs(task="loss_curve")
    run = runs[0] if runs else res.run(task="overfit", **STAND_IN)
    label = (f"LSUN bedrooms ({run})" if runs else
             f"stand-in: WGAN-GP on the full {res.settings.dataset} training split, gan_mnist.py networks ({run})")
    if len(runs) > 1:
        raise ReplicationError(f"wgangp_overfitting: Figure 5a reads one run, got {runs}")
    frame = res.frame(run, "curves.csv")
    block = F.curve.block if runs else res.settings.curves.block
    window = F.curve.window
    if window % block:
        raise ReplicationError(f"wgangp_overfitting: fig5a.curve.window {window} is not a multiple of the block {block}")
    m = decrease_and_flatness(frame, window, block, F.curve.flat_windows)
    note = (f"{label}; training estimate -critic loss (GP term included) in windows of {window} iterations "
            f"({m['windows']} windows)")
    if m["decrease"] is None:
        reason = f"too few windows of {window} iterations ({m['windows']}) to judge Figure 5a's shape"
        return {k: {"value": None, "reason": reason, "file": res.files([run], "curves.csv")} for k in
                ("fig5a_decrease", "fig5a_flatness")}
    shape = (f"; highest window mean {m['peak']:.3f} (window ending at {m['peak_window_end']}), "
             f"last {m['last']:.3f}")
    return {"fig5a_decrease": {"value": m["decrease"], "file": res.files([run], "curves.csv"), "note": note + shape},
            "fig5a_flatness": {"value": m["flatness"], "file": res.files([run], "curves.csv"),
                               "note": note + shape + (f"; slope over the last {F.curve.flat_windows} windows "
                                                       f"{m['end_slope']:.3g} per iteration vs mean descent "
                                                       f"{m['descent_rate']:.3g} per iteration")}}
