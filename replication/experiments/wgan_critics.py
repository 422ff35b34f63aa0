"""WGAN Figure 2 (WGAN Section 3): the optimal minimax-GAN discriminator vs the optimal WGAN
critic on two 1-D Gaussians (real N(-5, 1), fake N(+5, 1)).

Task ``critic`` (runs ``<kind>_s<replicate>``): the engine trains the network against the
fixed fake distribution (no generator) until the logged convergence criterion holds or the
step cap is reached. The network is evaluated in float64 on a grid over [-8, 8] and on
held-out samples, once untrained (before ``fit()``, the measures' ``start``) and once trained:

- GAN: D(x) = sigmoid(logit(x)) and |dD/dx| (the discriminator's probability output);
- WGAN: f(x) in the harness's sign convention (high on real, the paper's f) and |df/dx|.
  The paper's figure plots the WGAN code's netD = -f; the notebook plots -f and says so.

The untrained network is the one the engine builds from the run's seeds (for the WGAN critic:
PyTorch's initialisation, not yet clipped, since clipping follows each step).
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
from replication.runs import Results, RunContext
from replication.io import write_frame
from replication.train import Sources, Trainer


def trainer(ctx: RunContext, kind: str, on_iteration=None) -> Trainer:
    s, training = ctx.settings, ctx.settings.methods[kind].training
    sources = Sources(
        real=SamplerSource(gaussian_1d(s.real.mean, s.real.std), training.batch_size, ctx.device,
                           ctx.seed_for("data/real")),
        fake=SamplerSource(gaussian_1d(s.fake.mean, s.fake.std), training.batch_size, ctx.device,
                           ctx.seed_for("data/fake")))
    return ctx.make_trainer(training, {"critic": s.network}, sources, on_iteration=on_iteration)


def evaluate(critic: nn.Module, kind: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value and d value/dx in float64: D = sigmoid(logit) for the GAN, f for the WGAN critic.

    dD/dx = sigmoid(l) sigmoid(-l) dl/dx, written so: autograd's sigmoid'(l) = s (1 - s) rounds
    1 - s to exactly 0 once l > 37, which would report a saturated-but-finite slope as a dead 0."""
    net = copy.deepcopy(critic).cpu().double().requires_grad_(False)
    xt = torch.tensor(x, dtype=torch.float64).reshape(-1, 1).requires_grad_(True)
    out = net(xt).squeeze(1)
    (grad,) = torch.autograd.grad(out.sum(), xt)
    grad = grad.squeeze(1).detach()
    if kind == "gan":
        logit = out.detach()
        out, grad = torch.sigmoid(logit), torch.sigmoid(logit) * torch.sigmoid(-logit) * grad
    return out.detach().numpy(), grad.numpy()


def normal_pdf(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def measures(net: nn.Module, kind: str, x: np.ndarray, held: dict[str, np.ndarray], between: tuple) -> dict:
    """The claims' measures of one network: the value and slope on the grid ``x`` and at the
    held-out samples, slope ratios to the grid's steepest point, and the R^2 of a line fit."""
    value, grad = evaluate(net, kind, x)
    at = {name: evaluate(net, kind, xs) for name, xs in held.items()}
    max_grad = float(np.abs(grad).max())
    lo, hi = between
    fit = np.polyfit(x, value, 1)
    resid = value - np.polyval(fit, x)
    r2 = 1.0 - float(resid.var() / value.var()) if value.var() > 0 else float("nan")
    real_grad, fake_grad = (np.abs(at[name][1]) for name in ("real", "fake"))
    return {"value": value, "grad": grad, "at": at, "summary": {
        "max_abs_grad_grid": max_grad,
        "ratio_fake_median": float(np.median(fake_grad)) / max_grad,
        "ratio_fake_mean": float(fake_grad.mean()) / max_grad,
        "ratio_real_median": float(np.median(real_grad)) / max_grad,
        "ratio_between_min": float(np.abs(grad[(x >= lo) & (x <= hi)]).min()) / max_grad,
        "linear_r2": r2, "linear_slope": float(fit[0])}}


def critic(ctx: RunContext, kind: str, replicate: int) -> dict:
    s = ctx.settings
    x = np.linspace(s.grid.low, s.grid.high, s.grid.points)
    held_rng = torch.Generator().manual_seed(ctx.seed_for("heldout"))
    held = {name: gaussian_1d(law.mean, law.std)(s.eval_samples, held_rng).squeeze(1).double().numpy()
            for name, law in (("real", s.real), ("fake", s.fake))}
    between = tuple(s.between_modes)

    t = trainer(ctx, kind)
    # the engine builds the networks from their seeds; fit() resumes or trains, so before it
    # the trainer holds the untrained network: the measures at step 0
    start = measures(t.networks["critic"], kind, x, held, between)
    t.fit()
    log = pd.read_csv(t.write_outputs(ctx.out_dir)["training"])
    end = measures(t.networks["critic"], kind, x, held, between)

    write_frame(ctx.out_dir / "curve.csv", pd.DataFrame({
        "x": x, "value": end["value"], "grad": end["grad"],
        "density_real": normal_pdf(x, s.real.mean, s.real.std),
        "density_fake": normal_pdf(x, s.fake.mean, s.fake.std),
        "value_start": start["value"], "grad_start": start["grad"]}))
    write_frame(ctx.out_dir / "samples.csv", pd.concat(
        [pd.DataFrame({"x": xs, "sample": name, "value": end["at"][name][0], "grad": end["at"][name][1]})
         for name, xs in held.items()], ignore_index=True))

    window = t.spec.convergence.window
    return {
        "kind": kind, "replicate": replicate, "steps": t.iteration, "max_steps": t.spec.iterations,
        "converged_at": t.converged_at, **end["summary"],
        "final_divergence_window_mean": float(log["divergence"].iloc[-window:].mean()),
        "start": start["summary"],  # the same measures of the untrained network (step 0)
    }


TASKS = {"critic": critic}


def summarize(res: Results) -> dict:
    s = res.settings
    summary = {r: res.result(r) for r in res.runs()}
    gan, wgan = res.runs(kind="gan"), res.runs(kind="wgan")
    n_seeds = len(s.seeds)
    files = res.files(res.runs())
    T = s.training
    net = s.network

    def worst(runs, key, fn, at=None):
        return fn((summary[r][at] if at else summary[r])[key] for r in runs)

    def entry(runs, key, fn, note):
        """Worst case over seeds after training; ``start``: the same of the untrained networks."""
        return {"value": worst(runs, key, fn), "start": worst(runs, key, fn, "start"), "file": files, "note": note}

    cap_note = (f"cap {T['iterations']} critic steps, batch {T['batch_size']}, "
                f"{net['depth']}x{net['width']} {net['activation']} MLP")
    conv = {r: summary[r]["converged_at"] for r in res.runs()}
    return {
        "gan_grad_ratio_fake": entry(gan, "ratio_fake_median", max,
                                     f"worst (largest) over {n_seeds} seeds; {s.eval_samples} held-out fakes; {cap_note}"),
        "gan_grad_ratio_real": entry(gan, "ratio_real_median", max,
                                     f"worst (largest) over {n_seeds} seeds; {s.eval_samples} held-out reals"),
        "wgan_grad_ratio_fake": entry(wgan, "ratio_fake_median", min,
                                      f"worst (smallest) over {n_seeds} seeds; {s.eval_samples} held-out fakes; {cap_note}"),
        "wgan_grad_ratio_between": entry(wgan, "ratio_between_min", min,
                                         f"worst over {n_seeds} seeds; x in {list(s.between_modes)}"),
        "wgan_linear_r2": entry(wgan, "linear_r2", min,
                                f"worst over {n_seeds} seeds; {s.grid.points} grid points on [{s.grid.low}, {s.grid.high}]"),
        "critics_converged": {"value": all(v is not None for v in conv.values()), "file": files,
                              "note": "converged at critic step: " + ", ".join(f"{r} {v}" for r, v in conv.items())
                                      + f" (Plateau {T['convergence']}; {cap_note})"},
    }
