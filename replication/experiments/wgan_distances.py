"""WGAN Figure 1 (EM vs JS for parallel lines) and the KL / EMD exercise tables.

Tasks
- ``curves``: W, JS, KL, TV over the theta grid, analytic, with W also estimated from samples
  by exact optimal transport (POT) and its sampling spread from repeated draws.
- ``js_bound``: at selected theta, a discriminator trained by the engine against the fixed
  P_theta gives the JS lower bound 1/2 L + log 2 (the WGAN paper's Figure 4 quantity) on
  held-out samples (the engine's ``divergence`` probe).
- ``critic_gradients``: theta held fixed while each critic trains; dL_G/dtheta at every step.
  The claims on vanishing / persisting gradients rest on this task: at the same fixed theta,
  the fraction of its own peak gradient each critic still gives theta after training.
- ``learn`` (``learn_<objective>``): theta learned from theta0 through a trained critic:
  WGAN (clipping), minimax GAN, and the non-saturating "-log D" GAN. A figure, and the WGAN
  convergence claim; how far theta drifts under the minimax GAN is set by the SGD learning
  rate as much as by the vanishing gradient, so it carries no claim.
- ``exercise``: KL and EMD tables of small discrete distributions (an exercise on the distances of
  WGAN Section 2, parts 3.1-3.3), with scipy.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import scipy.stats
import torch

from replication.data.batches import SamplerSource
from replication.data.toy import parallel_line, uniform_noise
from replication.runs import Results, RunContext
from replication.io import write_frame
from replication.metrics.transport import exact_w1
from replication.objectives import generator_loss
from replication.settings import merge, parse, plain
from replication.settings.training import TrainingSpec
from replication.train import EvalData, Sources, Trainer


# -- Figure 1: analytic curves and the sample estimate of W ------------------------------

def theta_grid(n: int) -> np.ndarray:
    return np.linspace(-1.0, 1.0, n)


def sample_line(theta: float, n: int, generator: torch.Generator) -> np.ndarray:
    return parallel_line(theta)(n, generator).double().numpy()


def curves(ctx: RunContext) -> dict:
    s = ctx.settings
    gen = torch.Generator().manual_seed(ctx.seed_for("ot"))
    rows = []
    for theta in theta_grid(s.theta_points):
        estimates = [exact_w1(sample_line(0.0, s.ot_samples, gen), sample_line(theta, s.ot_samples, gen))
                     for _ in range(s.ot_repeats)]
        off = theta != 0.0
        rows.append({"theta": theta, "w_analytic": abs(theta), "js_analytic": math.log(2) if off else 0.0,
                     "kl_analytic": math.inf if off else 0.0, "tv_analytic": 1.0 if off else 0.0,
                     "w_estimate_mean": float(np.mean(estimates)), "w_estimate_sd": float(np.std(estimates, ddof=1)),
                     "w_estimate_first": estimates[0]})
    frame = pd.DataFrame(rows)
    write_frame(ctx.out_dir / "curves.csv", frame)
    error = frame["w_estimate_first"] - frame["w_analytic"]
    return {"w_max_abs_error": float(error.abs().max()), "ot_samples": s.ot_samples}


# -- JS lower bound from trained discriminators ----------------------------------------

def js_bound(ctx: RunContext) -> dict:
    s = ctx.settings
    B = s.js_bound.batch_size
    rows = []
    for i, theta in enumerate(s.js_thetas):
        name = f"theta_{i}"
        sources = Sources(real=SamplerSource(parallel_line(0.0), B, ctx.device, ctx.seed_for(f"{name}/data/real")),
                          fake=SamplerSource(parallel_line(float(theta)), B, ctx.device, ctx.seed_for(f"{name}/data/fake")))
        held_out = EvalData(real=parallel_line(0.0), fake=parallel_line(float(theta)))
        t = ctx.make_trainer(s.js_bound, {"critic": s.critic_network}, sources, name=name, eval_data=held_out).fit()
        log = pd.read_csv(t.evaluator.log_path)
        rows.append({"theta": float(theta), "js_bound": float(log["divergence_heldout"].iloc[-1]),
                     "js_bound_start": float(log.loc[log["step"] == 0, "divergence_heldout"].iloc[0]),
                     "js_analytic": math.log(2) if theta != 0 else 0.0, "steps": t.iteration})
    write_frame(ctx.out_dir / "js_bound.csv", pd.DataFrame(rows))
    return {"thetas": len(rows)}


# -- Learning theta through a critic ---------------------------------------------------

def _theta_probe(ev) -> dict:
    return {"theta": float(ev.networks["generator"].theta.detach()[0])}


def _theta_grad_probe(ev) -> dict:
    """dL_G/dtheta on a fresh evaluation batch at the current critic (no update). The critic is
    evaluated in float64 (a copy), so a saturated discriminator's gradient is measured rather
    than rounded to 0 by float32's sigmoid (exp(-88)): the claims divide and take logs of it."""
    g = ev.networks["generator"]
    critic = copy.deepcopy(ev.networks["critic"]).double()
    fake_out = critic(g(ev.data.noise(ev.spec.samples, ev.generator).to(ev.device)).double())
    (grad,) = torch.autograd.grad(generator_loss(ev.step.spec.objective, fake_out), g.theta)
    return {"theta_grad": float(grad[0])}


PROBES = {"theta": _theta_probe, "theta_grad": _theta_grad_probe}


def _theta_trainer(ctx: RunContext, training: TrainingSpec, theta0: float, name: str = "") -> Trainer:
    s = ctx.settings
    B = training.batch_size
    prefix = f"{name}/" if name else ""
    sources = Sources(real=SamplerSource(parallel_line(0.0), B, ctx.device, ctx.seed_for(prefix + "data/real")),
                      noise=SamplerSource(uniform_noise(1), B, ctx.device, ctx.seed_for(prefix + "data/noise")))
    networks = {"generator": {**s.theta_generator, "theta0": float(theta0)}, "critic": s.critic_network}
    return ctx.make_trainer(training, networks, sources, name=name, eval_data=EvalData(noise=uniform_noise(1)),
                            probes=PROBES)


def critic_gradients(ctx: RunContext) -> dict:
    """theta held fixed; each critic trains towards optimality and we watch dL_G/dtheta."""
    s, G = ctx.settings, ctx.settings.critic_gradients
    frames = []
    for objective, method in s.learn.methods.items():
        for j, theta in enumerate(G.thetas):
            training = fixed_theta(method.training, G.training)
            t = _theta_trainer(ctx, training, theta, name=f"{objective}_{j}").fit()
            frames.append(pd.read_csv(t.evaluator.log_path).assign(objective=objective, theta_fixed=theta))
    write_frame(ctx.out_dir / "critic_gradients.csv", pd.concat(frames, ignore_index=True))
    return {"critic_steps": G.training["iterations"]}


def fixed_theta(training: TrainingSpec, delta: dict) -> TrainingSpec:
    """A method's training block with ``critic_gradients.training`` over it (theta held fixed)."""
    return parse(TrainingSpec, merge(plain(training), delta, "critic_gradients.training", new_keys=True),
                 "critic_gradients.training")


def learn(ctx: RunContext, objective: str) -> dict:
    t = _theta_trainer(ctx, ctx.settings.learn.methods[objective].training, ctx.settings.theta_generator["theta0"])
    t.fit()
    # evaluation.csv: theta and dL_G/dtheta at every generator iteration (step 0 = before training)
    trajectory = pd.read_csv(t.write_outputs(ctx.out_dir)["evaluation"])
    return {"theta_final": float(trajectory["theta"].iloc[-1]), "objective": objective}


# -- Exercise tables: KL and EMD of small discrete distributions (WGAN Section 2) -------------

EXERCISE = {
    # part: (distributions on supports 0..n-1, pairs, whether KL is asked)
    "3.1": ({"P": [0.5, 0.5], "Q": [0.75, 0.25], "R": [0.25, 0.75]},
            [("P", "Q"), ("Q", "P"), ("P", "P"), ("P", "R"), ("Q", "R")], True),
    "3.2": ({"P": [0.5, 0.5, 0], "Q": [0.33, 0.33, 0.33], "R": [0.5, 0.5, 0, 0], "S": [0, 0, 0.5, 0.5]},
            [("P", "Q"), ("Q", "P"), ("R", "S")], True),
    "3.3": ({"P": [0.25, 0.75, 0], "Q": [0, 0.75, 0.25], "R": [0, 0.25, 0.75], "S": [0, 0, 0.25, 0.75]},
            [("P", "Q"), ("P", "R"), ("Q", "R"), ("P", "S"), ("R", "S")], False),
}


def exercise_table() -> pd.DataFrame:
    rows = []
    for part, (dists, pairs, with_kl) in EXERCISE.items():
        for a, b in pairs:
            p, q = np.asarray(dists[a], float), np.asarray(dists[b], float)
            n = max(len(p), len(q))  # supports 0..n-1 with unit spacing; pad with zero mass
            p, q = np.pad(p, (0, n - len(p))), np.pad(q, (0, n - len(q)))
            note = []
            for name, w in ((a, p), (b, q)):
                if not math.isclose(w.sum(), 1.0):
                    note.append(f"{name} sums to {w.sum():g}, renormalised")
            p, q = p / p.sum(), q / q.sum()
            support = np.arange(n, dtype=float)
            kl = float(scipy.stats.entropy(p, q)) if with_kl else math.nan  # nats; inf where q misses mass of p
            kl_reverse = float(scipy.stats.entropy(q, p)) if with_kl else math.nan
            emd = float(scipy.stats.wasserstein_distance(support, support, p, q))
            rows.append({"part": part, "pair": f"{a}, {b}", "kl_nats": kl, "kl_reverse_nats": kl_reverse,
                         "kl_symmetry": _symmetry(kl, kl_reverse) if with_kl else None,
                         "emd": emd, "note": "; ".join(note)})
    return pd.DataFrame(rows)


def _symmetry(kl: float, kl_reverse: float) -> str:
    """'both infinite' is not evidence of symmetry: inf = inf says nothing about the pair."""
    if math.isinf(kl) and math.isinf(kl_reverse):
        return "both infinite"
    return "symmetric" if np.isclose(kl, kl_reverse) else "asymmetric"


def exercise(ctx: RunContext) -> dict:
    frame = exercise_table()
    write_frame(ctx.out_dir / "exercise.csv", frame)
    return {"rows": len(frame)}


TASKS = {"curves": curves, "js_bound": js_bound, "critic_gradients": critic_gradients, "learn": learn,
         "exercise": exercise}


# -- Measured values for the claims ------------------------------------------------------

def summarize(res: Results) -> dict:
    s, out = res.settings, {}
    path = res.path("curves", "curves.csv")
    curves = res.frame("curves", "curves.csv")
    error = (curves["w_estimate_first"] - curves["w_analytic"]).abs()
    out["w_max_abs_error"] = {"value": float(error.max()), "file": str(path),
                              "note": f"n={s.ot_samples} per side, {len(curves)} theta"}
    path = res.path("js_bound", "js_bound.csv")
    js = res.frame("js_bound", "js_bound.csv")
    far = js[js["theta"].abs() >= s.js_far_theta]
    out["js_bound_min_far"] = {"value": float(far["js_bound"].min()), "start": float(far["js_bound_start"].min()),
                               "file": str(path), "note": f"min over |theta| >= {s.js_far_theta}; "
                                                          "start: the untrained discriminator (step 0)"}
    at_zero = js[js["theta"] == 0]
    out["js_bound_at_zero"] = {
        "value": float(at_zero["js_bound"].abs().max()) if len(at_zero) else None,
        "start": float(at_zero["js_bound_start"].abs().max()) if len(at_zero) else None, "file": str(path),
        "note": "|bound| at theta = 0 after training; start: the untrained discriminator (step 0)"}
    window = s.learn.grad_window
    for run in res.runs(task="learn"):
        objective = res.params(run)["objective"]
        traj = res.frame(run, "evaluation.csv")
        tail = traj["theta"].iloc[-max(1, len(traj) // 10):]
        out[f"theta_final_{objective}"] = {"value": float(tail.abs().mean()), "start": float(abs(traj["theta"].iloc[0])),
                                           "file": str(res.path(run, "evaluation.csv")),
                                           "note": "mean |theta| over the last 10% of generator iterations"}
        warm = traj["theta_grad"].iloc[: max(1, window)].abs()
        out[f"theta_grad_{objective}"] = {"value": float(warm.median()), "start": float(abs(traj["theta_grad"].iloc[0])),
                                          "file": str(res.path(run, "evaluation.csv")),
                                          "note": f"median |dL_G/dtheta| over the first {window} evaluations (step 0 = before training)"}
    path = res.path("critic_gradients", "critic_gradients.csv")
    grads = res.frame("critic_gradients", "critic_gradients.csv")
    thetas = [float(t) for t in s.critic_gradients.thetas]
    kept = {objective: {theta: retained(grads[(grads["objective"] == objective) & (grads["theta_fixed"] == theta)])
                        for theta in thetas}
            for objective in s.learn.methods}
    for objective, per_theta in kept.items():
        worst = max if objective == "gan_minimax" else min  # the claim's side: vanishing / persisting
        ratios = {theta: r["retained"] for theta, r in per_theta.items()}
        theta_w = worst(ratios, key=ratios.get)
        clipped = _clipped(s, objective)
        out[f"grad_retained_{objective}"] = {
            "value": ratios[theta_w], "file": str(path),
            "note": (f"mean |dL_G/dtheta| over the last 10% of critic steps / its peak over critic steps >= 1, "
                     f"worst case over theta (theta {theta_w:g}); "
                     + ("no start: at step 0 the critic is the unclipped initial network (clamped only before "
                        "the first step), outside the clipped family; " if clipped else "start: step 0 / the same peak; ")
                     + "per theta " + "; ".join(f"{t:g}: |g| step 0 {r['start']:.3g}, peak {r['peak']:.3g}, "
                                                f"tail {r['tail']:.3g}" for t, r in per_theta.items()))}
        if not clipped:
            out[f"grad_retained_{objective}"]["start"] = per_theta[theta_w]["start_retained"]
    if {"wgan", "gan_minimax"} <= set(kept):
        gap = [_log10(kept["wgan"][t]["retained"]) - _log10(kept["gan_minimax"][t]["retained"]) for t in thetas]
        out["grad_retained_log10_gap"] = {
            "value": gap, "file": str(path),
            "note": ("per fixed theta " + ", ".join(f"{t:g}" for t in thetas) + ": log10 of the fraction of its "
                     "peak gradient the WGAN critic retains minus the same for the minimax discriminator"
                     + ("; no start: at step 0 the WGAN critic is the unclipped initial network"
                        if _clipped(s, "wgan") else ""))}
    return out


def retained(curve: pd.DataFrame) -> dict:
    """|dL_G/dtheta| of one critic's training at fixed theta: at step 0, its peak over critic
    steps >= 1 and its mean over the last 10% of them; ``retained`` = tail / peak. Step 0 is
    left out of the peak: there the WGAN critic is the unclipped initial network (main.py
    clamps before each critic step), not a member of the clipped family whose gradient we follow."""
    curve = curve.sort_values("step")
    g = curve["theta_grad"].abs().to_numpy(dtype=float)
    trained = g[curve["step"].to_numpy() >= 1]
    if len(trained) == 0:  # no critic step taken: the curve is its start
        trained = g
    peak, tail = float(trained.max()), float(trained[-max(1, len(trained) // 10):].mean())
    scale = max(peak, 1e-300)
    return {"start": float(g[0]), "peak": peak, "tail": tail, "retained": tail / scale, "start_retained": float(g[0]) / scale}


def _clipped(s, objective: str) -> bool:
    lipschitz = s.learn.methods[objective].training.lipschitz
    return lipschitz.method == "clip" and lipschitz.timing == "before"


def _log10(x: float) -> float:
    return math.log10(x) if x > 0 else -math.inf
