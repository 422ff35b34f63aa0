"""WGAN Figure 2: the optimal minimax-GAN discriminator vs the optimal WGAN critic on two
1-D Gaussians (real N(-5, 1), fake N(+5, 1)), WGAN_WGANGP.md section 2.3.

Runs ``gan_s<seed>`` and ``wgan_s<seed>``: the shared adversarial trainer with a fixed
generator (``train_generator=False``; the generator is the identity applied to a noise
stream that samples the fake distribution), trained until the logged convergence criterion
(``Plateau`` on the per-step divergence estimate) holds or the step cap is reached. Then the
trained network is evaluated in float64 on a grid over [-8, 8] and on held-out samples:

- GAN: D(x) = sigmoid(logit(x)) and |dD/dx| (the discriminator's probability output);
- WGAN: f(x) in the harness's sign convention (high on real, the paper's f) and |df/dx|.
  The paper's figure plots the WGAN code's netD = -f; the notebook plots -f and says so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from torch import nn

from replication.data.batches import SamplerSource
from replication.data.toy import gaussian_1d
from replication.experiments import RunContext, SummaryContext
from replication.io import write_frame
from replication.nets import MLP
from replication.train.adversarial import AdversarialSettings, AdversarialTrainer
from replication.train.convergence import Plateau
from replication.train.optim import build_optimizer
from replication.train.schedule import CriticSchedule

KINDS = {"gan": "gan_minimax", "wgan": "wgan"}


def runs(settings: dict) -> list[str]:
    return [f"{kind}_s{seed}" for kind in KINDS for seed in settings["seeds"]]


def _parse(run: str) -> tuple[str, int]:
    kind, seed = run.rsplit("_s", 1)
    return kind, int(seed)


def build_trainer(settings: dict, kind: str, seed: int, device: torch.device, state_dir,
                  on_iteration=None, progress: str = "wgan_critics") -> AdversarialTrainer:
    """The shared trainer on the two-Gaussians problem; one logged row per critic step."""
    s = settings
    torch.manual_seed(seed)
    critic = MLP(1, 1, s["width"], s["depth"], init="torch").to(device)
    o = s["critic_optimizer"] if kind == "wgan" else s["discriminator_optimizer"]
    opt_d = build_optimizer(o["name"], critic.parameters(), o["lr"], betas=o.get("betas", (0.5, 0.999)))
    adv = AdversarialSettings(
        objective=KINDS[kind], iterations=s["max_steps"], train_generator=False,
        lipschitz="clip" if kind == "wgan" else "none", clip_value=s["clip_value"], clip_timing=s["clip_timing"],
        schedule=CriticSchedule(n_critic=1), log_every=s["log_every"], checkpoint_every=s["checkpoint_every"])
    real = SamplerSource(gaussian_1d(s["real"]["mean"], s["real"]["std"]), s["batch_size"], device, seed + 1)
    fake = SamplerSource(gaussian_1d(s["fake"]["mean"], s["fake"]["std"]), s["batch_size"], device, seed + 2)
    return AdversarialTrainer(nn.Identity(), critic, None, opt_d, real, fake, adv, state_dir,
                              stop=Plateau(**s["convergence"]), on_iteration=on_iteration,
                              progress=progress)


def evaluate(critic: nn.Module, kind: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value and d value/dx in float64: D = sigmoid(logit) for the GAN, f for the WGAN critic."""
    net = _double(critic)
    xt = torch.tensor(x, dtype=torch.float64).reshape(-1, 1).requires_grad_(True)
    out = net(xt).squeeze(1)
    if kind == "gan":
        out = torch.sigmoid(out)
    (grad,) = torch.autograd.grad(out.sum(), xt)
    return out.detach().numpy(), grad.squeeze(1).numpy()


def _double(module: nn.Module) -> nn.Module:
    import copy
    return copy.deepcopy(module).double().requires_grad_(False)


def normal_pdf(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def run(ctx: RunContext) -> dict:
    s = ctx.settings
    kind, seed = _parse(ctx.run)
    trainer = build_trainer(s, kind, ctx.seed(1000 * seed + (0 if kind == "gan" else 500)), ctx.device, ctx.state_dir,
                            progress=f"wgan_critics/{ctx.run}")
    log = pd.read_csv(trainer.fit())
    write_frame(ctx.out_dir / "training.csv", log)
    critic = trainer.critic.cpu()

    g = s["grid"]
    x = np.linspace(g["low"], g["high"], g["points"])
    value, grad = evaluate(critic, kind, x)
    curve = pd.DataFrame({"x": x, "value": value, "grad": grad,
                          "density_real": normal_pdf(x, s["real"]["mean"], s["real"]["std"]),
                          "density_fake": normal_pdf(x, s["fake"]["mean"], s["fake"]["std"])})
    write_frame(ctx.out_dir / "curve.csv", curve)

    held = torch.Generator().manual_seed(ctx.seed(10_000 + seed))
    n = s["eval_samples"]
    samples = {"real": gaussian_1d(s["real"]["mean"], s["real"]["std"])(n, held).squeeze(1).double().numpy(),
               "fake": gaussian_1d(s["fake"]["mean"], s["fake"]["std"])(n, held).squeeze(1).double().numpy()}
    frames = []
    for name, xs in samples.items():
        v, dv = evaluate(critic, kind, xs)
        frames.append(pd.DataFrame({"x": xs, "sample": name, "value": v, "grad": dv}))
    write_frame(ctx.out_dir / "samples.csv", pd.concat(frames, ignore_index=True))

    max_grad = float(np.abs(grad).max())
    lo, hi = s["between_modes"]
    between = np.abs(grad[(x >= lo) & (x <= hi)])
    fit = np.polyfit(x, value, 1)
    resid = value - np.polyval(fit, x)
    r2 = 1.0 - float(resid.var() / value.var()) if value.var() > 0 else float("nan")
    fake_grad = np.abs(frames[1]["grad"].to_numpy())
    real_grad = np.abs(frames[0]["grad"].to_numpy())
    return {
        "kind": kind, "seed": seed, "steps": trainer.step, "max_steps": s["max_steps"],
        "converged_at": trainer.stop.converged_at,
        "max_abs_grad_grid": max_grad,
        "ratio_fake_median": float(np.median(fake_grad)) / max_grad,
        "ratio_fake_mean": float(fake_grad.mean()) / max_grad,
        "ratio_real_median": float(np.median(real_grad)) / max_grad,
        "ratio_between_min": float(between.min()) / max_grad,
        "linear_r2": r2, "linear_slope": float(fit[0]),
        "final_divergence_window_mean": float(log["divergence"].iloc[-s["convergence"]["window"]:].mean()),
    }


def summarize(ctx: SummaryContext) -> dict:
    s = ctx.settings
    d = ctx.results_dir
    res = {r: ctx.result(r)["summary"] for r in ctx.runs}
    gan = [r for r in ctx.runs if r.startswith("gan_")]
    wgan = [r for r in ctx.runs if r.startswith("wgan_")]
    n_seeds = len(s["seeds"])
    files = ", ".join(str(d / r / "result.json") for r in ctx.runs)

    def worst(runs_, key, fn):
        values = [res[r][key] for r in runs_]
        return fn(values)

    cap_note = f"cap {s['max_steps']} critic steps, batch {s['batch_size']}, {s['depth']}x{s['width']} ReLU MLP"
    conv = {r: res[r]["converged_at"] for r in ctx.runs}
    out = {
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
                                      + f" (Plateau {s['convergence']}; {cap_note})"},
    }
    return out
