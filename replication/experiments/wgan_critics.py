"""WGAN Figure 2: the optimal minimax-GAN discriminator vs the optimal WGAN critic on two
1-D Gaussians (real N(-5, 1), fake N(+5, 1)), WGAN_WGANGP.md section 2.3.

Task ``critic`` (runs ``<kind>_s<replicate>``): the engine trains the network against the
fixed fake distribution (no generator) until the logged convergence criterion holds or the
step cap is reached. Then the trained network is evaluated in float64 on a grid over [-8, 8]
and on held-out samples:

- GAN: D(x) = sigmoid(logit(x)) and |dD/dx| (the discriminator's probability output);
- WGAN: f(x) in the harness's sign convention (high on real, the paper's f) and |df/dx|.
  The paper's figure plots the WGAN code's netD = -f; the notebook plots -f and says so.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import torch
from torch import nn

from replication.data.batches import SamplerSource
from replication.data.toy import gaussian_1d
from replication.experiments import Results, RunContext
from replication.io import write_frame
from replication.train import Sources, Trainer, merged


def trainer(ctx: RunContext, kind: str, on_iteration=None) -> Trainer:
    s = ctx.settings
    sources = Sources(
        real=SamplerSource(gaussian_1d(s["real"]["mean"], s["real"]["std"]), s["training"]["batch_size"],
                           ctx.device, ctx.seed_for("data/real")),
        fake=SamplerSource(gaussian_1d(s["fake"]["mean"], s["fake"]["std"]), s["training"]["batch_size"],
                           ctx.device, ctx.seed_for("data/fake")))
    return ctx.trainer(merged(s["training"], s["methods"][kind]), {"critic": s["network"]}, sources,
                       on_iteration=on_iteration)


def evaluate(critic: nn.Module, kind: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value and d value/dx in float64: D = sigmoid(logit) for the GAN, f for the WGAN critic."""
    net = copy.deepcopy(critic).cpu().double().requires_grad_(False)
    xt = torch.tensor(x, dtype=torch.float64).reshape(-1, 1).requires_grad_(True)
    out = net(xt).squeeze(1)
    if kind == "gan":
        out = torch.sigmoid(out)
    (grad,) = torch.autograd.grad(out.sum(), xt)
    return out.detach().numpy(), grad.squeeze(1).numpy()


def normal_pdf(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def critic(ctx: RunContext, kind: str, replicate: int) -> dict:
    s = ctx.settings
    t = trainer(ctx, kind).fit()
    log = pd.read_csv(t.write_outputs(ctx.out_dir)["training"])
    net = t.networks["critic"]

    g = s["grid"]
    x = np.linspace(g["low"], g["high"], g["points"])
    value, grad = evaluate(net, kind, x)
    write_frame(ctx.out_dir / "curve.csv", pd.DataFrame({
        "x": x, "value": value, "grad": grad,
        "density_real": normal_pdf(x, s["real"]["mean"], s["real"]["std"]),
        "density_fake": normal_pdf(x, s["fake"]["mean"], s["fake"]["std"])}))

    held = torch.Generator().manual_seed(ctx.seed_for("heldout"))
    n = s["eval_samples"]
    frames = []
    for name in ("real", "fake"):
        xs = gaussian_1d(s[name]["mean"], s[name]["std"])(n, held).squeeze(1).double().numpy()
        v, dv = evaluate(net, kind, xs)
        frames.append(pd.DataFrame({"x": xs, "sample": name, "value": v, "grad": dv}))
    write_frame(ctx.out_dir / "samples.csv", pd.concat(frames, ignore_index=True))

    max_grad = float(np.abs(grad).max())
    lo, hi = s["between_modes"]
    between = np.abs(grad[(x >= lo) & (x <= hi)])
    fit = np.polyfit(x, value, 1)
    resid = value - np.polyval(fit, x)
    r2 = 1.0 - float(resid.var() / value.var()) if value.var() > 0 else float("nan")
    real_grad, fake_grad = (np.abs(f["grad"].to_numpy()) for f in frames)
    window = s["training"]["convergence"]["window"]
    return {
        "kind": kind, "replicate": replicate, "steps": t.step, "max_steps": t.spec.iterations,
        "converged_at": t.converged_at,
        "max_abs_grad_grid": max_grad,
        "ratio_fake_median": float(np.median(fake_grad)) / max_grad,
        "ratio_fake_mean": float(fake_grad.mean()) / max_grad,
        "ratio_real_median": float(np.median(real_grad)) / max_grad,
        "ratio_between_min": float(between.min()) / max_grad,
        "linear_r2": r2, "linear_slope": float(fit[0]),
        "final_divergence_window_mean": float(log["divergence"].iloc[-window:].mean()),
    }


TASKS = {"critic": critic}


def summarize(res: Results) -> dict:
    s = res.settings
    summary = {r: res.result(r) for r in res.runs()}
    gan, wgan = res.runs(kind="gan"), res.runs(kind="wgan")
    n_seeds = len(s["seeds"])
    files = res.files(res.runs())
    T = s["training"]
    net = s["network"]

    def worst(runs, key, fn):
        return fn(summary[r][key] for r in runs)

    cap_note = (f"cap {T['iterations']} critic steps, batch {T['batch_size']}, "
                f"{net['depth']}x{net['width']} ReLU MLP")
    conv = {r: summary[r]["converged_at"] for r in res.runs()}
    return {
        "gan_grad_ratio_fake": {"value": worst(gan, "ratio_fake_median", max), "file": files,
                                "note": f"worst (largest) over {n_seeds} seeds; {s['eval_samples']} held-out fakes; {cap_note}"},
        "gan_grad_ratio_real": {"value": worst(gan, "ratio_real_median", max), "file": files,
                                "note": f"worst (largest) over {n_seeds} seeds; {s['eval_samples']} held-out reals"},
        "wgan_grad_ratio_fake": {"value": worst(wgan, "ratio_fake_median", min), "file": files,
                                 "note": f"worst (smallest) over {n_seeds} seeds; {s['eval_samples']} held-out fakes; {cap_note}"},
        "wgan_grad_ratio_between": {"value": worst(wgan, "ratio_between_min", min), "file": files,
                                    "note": f"worst over {n_seeds} seeds; x in {s['between_modes']}"},
        "wgan_linear_r2": {"value": worst(wgan, "linear_r2", min), "file": files,
                           "note": f"worst over {n_seeds} seeds; {s['grid']['points']} grid points on [{s['grid']['low']}, {s['grid']['high']}]"},
        "critics_converged": {"value": all(v is not None for v in conv.values()), "file": files,
                              "note": "converged at critic step: " + ", ".join(f"{r} {v}" for r, v in conv.items())
                                      + f" (Plateau {T['convergence']}; {cap_note})"},
    }
