"""WGAN-GP Figure 1 (WGAN-GP Sections 3.1-3.2 [P]; gan_toy.py [C]): value surfaces of optimal critics on toy data (1a),
per-layer gradient norms and weight histograms of deep critics on the Swiss roll (1b).

Tasks (runs declared in workflow/config/experiments/wgangp_toy.yaml)
- ``surface`` (``surface_<dataset>_<method>``): the critic ``surface.networks.critic`` trained by
  the engine against gan_toy.py's FIXED_GENERATOR (no generator network; the ``fake`` source
  yields the same real batch + N(0, I) noise) until the logged criterion (Plateau and slope,
  replication.train.convergence) holds or the cap is reached; methods are deltas over
  ``surface.training``: ``clip`` (c = 0.01, TF RMSProp 5e-5), ``gp`` (lambda = 10, the paper)
  and ``gp_code`` (lambda = 0.1, gan_toy.py; reported separately). Writes the critic on a grid
  over [-range, range]^2, held-out samples, the W1 estimate E f(real) - E f(fake) on held-out
  samples (compared in ``summarize`` with k W1_OT, k = 1 + W1_OT / (2 lambda), the penalised
  optimum's bias), and the share of the exact OT potential's variance on those held-out points
  that the critic explains (``replication.metrics.transport.w1_potential``), each also at step 0.
- ``ot`` (``ot_<dataset>``): exact W1 (POT) between held-out real and fake samples at the same
  n, repeated draws for its sampling spread: the reference for the critics' W1 estimates.
- ``deep`` (``deep_c<c>``, ``deep_gp``): a WGAN (``deep.networks``: 12-layer ReLU generator and
  critic) on the Swiss roll with clipping at the run's c, or GP; per-layer norms of the critic
  loss's gradient w.r.t. each Linear layer's output at initialisation (step 0) and at the
  stated step (``deep.training.iterations``), in float64 with dead layers counted, and the
  critic's weight histogram at both; with ``deep.init_within_clip`` a clipped critic starts
  inside +-c (registry ``init_bound``), so a pile-up at +-c is training's doing.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import torch
from torch import nn

from replication.data.batches import BatchSource, NoisyCopy, Remembering, SamplerSource, TensorSource
from replication.data.toy import TOY_2D, gaussian_noise, swiss_roll, twenty_five_gaussians_set
from replication.runs import Results, RunContext
from replication.io import write_frame
from replication.metrics.transport import exact_w1, w1_potential
from replication.nets import linear_output_gradient_norms
from replication.settings import merge, parse, plain
from replication.settings.training import TrainingSpec
from replication.train import Sources, Trainer


# -- data ---------------------------------------------------------------------------------

def law(settings, dataset: str):
    """Sampler of the dataset's law (held-out draws; 25 Gaussians: the law behind the fixed set)."""
    params = {k: v for k, v in settings.data[dataset].items() if k != "per_mode"}
    return TOY_2D[dataset](**params)


def real_source(ctx: RunContext, dataset: str, batch_size: int) -> BatchSource:
    """Training batches as gan_toy.py draws them: fresh samples each batch, except the fixed
    100,000-point 25-Gaussians set, shuffled once and then iterated in the same order forever
    (``reshuffle=False``; the last partial batch of each pass is dropped, as gan_toy.py's
    ``range(len(dataset) / BATCH_SIZE)`` does)."""
    s = ctx.settings
    if dataset == "25gaussians":
        data = twenty_five_gaussians_set(torch.Generator().manual_seed(ctx.seed_for("data/real")), **s.data[dataset])
        return TensorSource(data.to(ctx.device), batch_size, ctx.seed_for("data/order"), reshuffle=False)
    return SamplerSource(law(s, dataset), batch_size, ctx.device, ctx.seed_for("data/real"))


def held_out(settings, dataset: str, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Independent held-out draws: real ~ P_r, fake ~ P_r * N(0, sigma^2 I) (its own P_r draw)."""
    sample = law(settings, dataset)
    real = sample(n, generator)
    fake = sample(n, generator) + settings.fixed_generator_noise * torch.randn(n, 2, generator=generator)
    return real, fake


# -- Figure 1a: value surfaces ------------------------------------------------------------

def surface_trainer(ctx: RunContext, dataset: str, method: str, on_iteration=None) -> Trainer:
    s, m = ctx.settings, ctx.settings.surface.methods[method]
    real = Remembering(real_source(ctx, dataset, m.training.batch_size))
    fake = NoisyCopy(real, s.fixed_generator_noise, ctx.seed_for("data/fake"))
    return ctx.make_trainer(m.training, m.networks, Sources(real=real, fake=fake), on_iteration=on_iteration)


def grid_points(settings) -> tuple[np.ndarray, torch.Tensor]:
    axis = np.linspace(-settings.grid.range, settings.grid.range, settings.grid.points)
    xx, yy = np.meshgrid(axis, axis, indexing="ij")
    return axis, torch.tensor(np.stack([xx.ravel(), yy.ravel()], 1), dtype=torch.float32)


def quadratic_r2(points: np.ndarray, values: np.ndarray) -> float:
    """Share of the surface's variance explained by a least-squares quadratic in (x, y)
    (features 1, x, y, x^2, xy, y^2): how far the critic is from a second-moment function."""
    x, y = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
    design = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], 1)
    v = values.astype(np.float64)
    coef, *_ = np.linalg.lstsq(design, v, rcond=None)
    resid = v - design @ coef
    return float(1.0 - resid.var() / v.var()) if v.var() > 0 else float("nan")


def explained_share(values: np.ndarray, reference: np.ndarray) -> float:
    """Share of the reference's variance explained by a line in the values: corr(values, ref)^2,
    counted only for a positive correlation (0 otherwise: a critic ordered against the optimal
    potential explains none of it)."""
    v, r = np.asarray(values, np.float64), np.asarray(reference, np.float64)
    if v.std() == 0 or r.std() == 0:
        return 0.0
    corr = float(np.corrcoef(v, r)[0, 1])
    return max(corr, 0.0) ** 2


def surface(ctx: RunContext, dataset: str, method: str) -> dict:
    s = ctx.settings
    n = s.eval_samples
    real, fake = held_out(s, dataset, n, torch.Generator().manual_seed(ctx.seed_for("heldout")))
    # Figure 1a's "simple approximations to the optimal functions": how much of the exact OT
    # potential's variance on the data support (these held-out real + fake points) a critic explains
    phi_real, phi_fake, w_ot = w1_potential(real.double().numpy(), fake.double().numpy())
    phi = np.concatenate([phi_real, phi_fake])

    def on_heldout(net: nn.Module) -> tuple[float, float, float]:
        """(E f(real) - E f(fake), its sd, share of the OT potential's variance explained)."""
        net = copy.deepcopy(net).cpu().requires_grad_(False)
        with torch.no_grad():
            f_real, f_fake = net(real).squeeze(1).double(), net(fake).squeeze(1).double()
        return (float(f_real.mean() - f_fake.mean()), float(np.sqrt(f_real.var().item() / n + f_fake.var().item() / n)),
                explained_share(torch.cat([f_real, f_fake]).numpy(), phi))

    t = surface_trainer(ctx, dataset, method)
    # Step 0: before fit() the trainer holds the initial weights (a resumed run rebuilds them
    # from the same seed), so these start values are the same on a fresh and a resumed run.
    w_init, _, explained_init = on_heldout(t.networks["critic"])
    t.fit()
    log = pd.read_csv(t.write_outputs(ctx.out_dir)["training"])
    critic = copy.deepcopy(t.networks["critic"]).cpu().requires_grad_(False)

    _, pts = grid_points(s)
    with torch.no_grad():
        values = critic(pts).squeeze(1).numpy()
    write_frame(ctx.out_dir / "surface.csv", pd.DataFrame({"x": pts[:, 0].numpy(), "y": pts[:, 1].numpy(), "value": values}))
    w_est, w_sd, explained = on_heldout(critic)
    k = s.figure_samples
    write_frame(ctx.out_dir / "samples.csv", pd.concat([
        pd.DataFrame({"x": real[:k, 0].numpy(), "y": real[:k, 1].numpy(), "sample": "real"}),
        pd.DataFrame({"x": fake[:k, 0].numpy(), "y": fake[:k, 1].numpy(), "sample": "fake"})], ignore_index=True))
    return {"dataset": dataset, "method": method, "iterations": t.iteration, "cap": t.spec.iterations,
            "critic_steps": int(log["critic_steps"].sum()) if len(log) else 0, "converged_at": t.converged_at,
            "w1_critic": w_est, "w1_critic_sd": w_sd, "eval_samples": n, "w1_critic_at_init": w_init,
            "ot_potential_explained": explained, "ot_potential_explained_at_init": explained_init,
            "w1_ot_same_points": w_ot,
            "quadratic_r2": quadratic_r2(pts.numpy(), values)}


def ot(ctx: RunContext, dataset: str) -> dict:
    s = ctx.settings
    n, rows = s.eval_samples, []
    gen = torch.Generator().manual_seed(ctx.seed_for("heldout"))
    for r in range(s.ot_repeats):
        real, fake = held_out(s, dataset, n, gen)
        rows.append({"draw": r, "w1_ot": exact_w1(real.double().numpy(), fake.double().numpy())})
    frame = pd.DataFrame(rows)
    write_frame(ctx.out_dir / "ot.csv", frame)
    return {"dataset": dataset, "n": n, "repeats": len(frame), "w1_ot_mean": float(frame["w1_ot"].mean()),
            "w1_ot_sd": float(frame["w1_ot"].std(ddof=1)) if len(frame) > 1 else float("nan")}


# -- Figure 1b: deep critics on the Swiss roll ----------------------------------------------

def deep_setup(settings, method: str, clip_value: float | None = None) -> tuple[TrainingSpec, dict]:
    """(training block, networks) of one deep run: the method's, at the run's clip value c; with
    ``deep.init_within_clip`` a clipped critic starts inside +-c (registry ``init_bound`` = c:
    tflib's uniform layers rescaled to +-c), so the first clamp does not by itself put the
    weights at +-c."""
    D, m = settings.deep, settings.deep.methods[method]
    training, networks = m.training, m.networks
    if method == "clip":
        if clip_value is None:
            raise ValueError("a deep clipping run needs its clip_value (runs: deep_c{clip_value})")
        training = parse(TrainingSpec, merge(plain(training), {"lipschitz": {"clip_value": float(clip_value)}},
                                             "deep"), "deep.training")
    if D.init_within_clip and training.lipschitz.method == "clip":  # whatever the method's name
        networks = {**networks, "critic": {**networks["critic"], "init_bound": float(training.lipschitz.clip_value)}}
    return training, networks


def deep_trainer(ctx: RunContext, method: str, clip_value: float | None = None, on_iteration=None) -> Trainer:
    s = ctx.settings
    training, networks = deep_setup(s, method, clip_value)
    B, nz = training.batch_size, networks["generator"]["nz"]
    sources = Sources(
        real=SamplerSource(swiss_roll(**s.data["swissroll"]), B, ctx.device, ctx.seed_for("data/real")),
        noise=SamplerSource(gaussian_noise(nz), B, ctx.device, ctx.seed_for("data/noise")))
    return ctx.make_trainer(training, networks, sources, on_iteration=on_iteration)


def critic_layer_norms(critic: nn.Module, generator: nn.Module, settings, seed: int,
                       device: torch.device) -> np.ndarray:
    """Mean over ``deep.measure_batches`` fresh batches of ||d L / d a_l|| for every Linear
    output a_l of the critic (input side first), L = E f(fake) - E f(real), the critic's
    Wasserstein loss without the penalty term, on one batch of real and one of generated
    points (the training batch size). The same ``seed`` gives the same batches at every step.
    Computed on float64 copies of both networks (CPU), so a norm of 0 is a dead layer (no unit
    passes any gradient), not a float32 underflow."""
    D = settings.deep
    critic64 = copy.deepcopy(critic).cpu().double().requires_grad_(False)
    generator64 = copy.deepcopy(generator).cpu().double().requires_grad_(False)
    gen = torch.Generator().manual_seed(seed)
    sample, B, nz = swiss_roll(**settings.data["swissroll"]), D.training["batch_size"], D.networks["generator"]["nz"]
    norms = []
    for _ in range(D.measure_batches):
        real = sample(B, gen).double()
        with torch.no_grad():
            fake = generator64(gaussian_noise(nz)(B, gen).double())
        x = torch.cat([real, fake])  # no normalisation in the critic: one pass equals two
        norms.append(linear_output_gradient_norms(critic64, x, lambda out: out[B:].mean() - out[:B].mean()))
    return torch.stack(norms).mean(0).numpy()


def growth(norms: np.ndarray) -> tuple[float, int]:
    """(log10 ||dL/da_1|| - log10 ||dL/da_last||, number of dead layers (norm exactly 0)); with a
    dead layer the first is not finite (-inf or nan): no growth or decay can be read off."""
    dead = int(np.sum(norms == 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        value = float(np.log10(norms[0]) - np.log10(norms[-1]))
    return value, dead


def critic_weights(critic: nn.Module) -> list[np.ndarray]:
    """Every Linear weight matrix of the critic (no biases), flattened, float64, one per layer."""
    return [m.weight.detach().flatten().cpu().double().numpy() for m in critic.modules() if isinstance(m, nn.Linear)]


def weight_stats(layers: list[np.ndarray], bins: int, clip_value: float | None, step: int) -> tuple[pd.DataFrame, dict]:
    """Histogram of all weights over +-1.05 max|w| (+-1.05 c for a clipped critic) and the share
    of all weights at their layer's bound, |w| >= 0.99 bound, the bound being c for a clipped
    critic and the layer's own max|w| otherwise (a uniform layer has 1% there, a pile-up more)."""
    weights = np.concatenate(layers)
    top = float(np.abs(weights).max())
    span = 1.05 * (clip_value if clip_value is not None else top)
    counts, edges = np.histogram(weights, bins=bins, range=(-span, span))
    at_bound = sum(int(np.sum(np.abs(w) >= 0.99 * (clip_value if clip_value is not None else np.abs(w).max())))
                   for w in layers)
    frame = pd.DataFrame({"left": edges[:-1], "right": edges[1:], "count": counts, "measured_at": step})
    return frame, {"weight_max_abs": top, "weight_share_at_bound": at_bound / len(weights)}


def deep(ctx: RunContext, method: str, clip_value: float | None = None) -> dict:
    s, D = ctx.settings, ctx.settings.deep
    t = deep_trainer(ctx, method, clip_value)
    training, networks = deep_setup(s, method, clip_value)
    c = training.lipschitz.clip_value if training.lipschitz.method == "clip" else None
    seed = ctx.seed_for("measure")
    # Step 0: the trainer's networks before fit() are the initial weights (fit() resumes from
    # a checkpoint only inside it), so this is the same on a fresh and on a resumed run.
    at_init = critic_layer_norms(t.networks["critic"], t.networks["generator"], s, seed, ctx.device)
    init_weights = critic_weights(t.networks["critic"])
    t.fit()
    log = pd.read_csv(t.write_outputs(ctx.out_dir)["training"])
    at_step = critic_layer_norms(t.networks["critic"], t.networks["generator"], s, seed, ctx.device)
    layers = np.arange(1, len(at_step) + 1)
    write_frame(ctx.out_dir / "layer_norms.csv", pd.DataFrame(
        {"layer": np.concatenate([layers, layers]), "grad_norm": np.concatenate([at_init, at_step]),
         "measured_at": [0] * len(layers) + [t.iteration] * len(layers)}))

    weights = critic_weights(t.networks["critic"])
    hist_init, stats_init = weight_stats(init_weights, D.histogram_bins, c, 0)
    hist, stats = weight_stats(weights, D.histogram_bins, c, t.iteration)
    write_frame(ctx.out_dir / "weights_histogram.csv", pd.concat([hist_init, hist], ignore_index=True))
    grow, dead = growth(at_step)
    grow_init, dead_init = growth(at_init)
    return {"method": method, "clip_value": clip_value if method == "clip" else None, "constraint_clip": c,
            "measured_at_iteration": t.iteration,
            "critic_steps": int(log["critic_steps"].sum()) if len(log) else 0,
            "log10_norm_input_minus_output": grow, "dead_layers": dead,
            "log10_norm_input_minus_output_at_init": grow_init, "dead_layers_at_init": dead_init,
            "init_bound": networks["critic"].get("init_bound"),
            "weights": int(sum(len(w) for w in weights)), **stats,
            "weight_max_abs_at_init": stats_init["weight_max_abs"],
            "weight_share_at_bound_at_init": stats_init["weight_share_at_bound"]}


TASKS = {"surface": surface, "ot": ot, "deep": deep}


# -- measured values for the claims -------------------------------------------------------

def deep_key(params: dict) -> str:
    """Claim-key suffix of a deep run: ``gp``, or ``c<c>`` without the dot (c0.01 -> c001)."""
    return "gp" if params["method"] == "gp" else f"c{params['clip_value']:g}".replace(".", "")


def penalty_scale(w1: float, gp_lambda: float) -> float:
    """k = 1 + W1 / (2 lambda): the penalised optimum is about k f* (f* the optimal 1-Lipschitz
    critic), since k W1 - lambda (k - 1)^2 is largest there; its estimate is k W1."""
    return 1.0 + w1 / (2.0 * gp_lambda)


def summarize(res: Results) -> dict:
    s, S = res.settings, res.settings.surface
    critic = S.networks["critic"]
    shape = f"critic {critic['depth']}x{critic['width']}; paper 3x512"
    out: dict = {}
    n = s.eval_samples

    def surface_run(dataset, method):
        return res.run(task="surface", dataset=dataset, method=method)

    for method in ("gp", "gp_code"):
        if method not in S.methods:
            continue
        T = S.methods[method].training
        lam = T.lipschitz.gp_lambda
        devs, starts, notes, names = [], [], [], []
        for dataset in s.datasets:
            sr, orun = surface_run(dataset, method), res.run(task="ot", dataset=dataset)
            sv, ot_ = res.result(sr), res.result(orun)
            w1 = ot_["w1_ot_mean"]
            k = penalty_scale(w1, lam)
            devs.append(abs(sv["w1_critic"] / k - w1))
            starts.append(abs(sv["w1_critic_at_init"] / k - w1))
            notes.append(f"{dataset}: critic {sv['w1_critic']:.4f} (sd {sv['w1_critic_sd']:.4f}) vs k W1 = "
                         f"{k:.3f} x {w1:.4f} = {k * w1:.4f} (OT sd {ot_['w1_ot_sd']:.4f}, {ot_['repeats']} draws)")
            names += [sr, orun]
        out[f"w1_abs_dev_{method}"] = {
            "value": max(devs), "start": max(starts), "file": res.files(names),
            "note": f"lambda = {lam:g}, k = 1 + W1/(2 lambda), n = {n} held-out per side; " + "; ".join(notes)
                    + f" (cap {T.iterations} iterations, {shape})"}

    main = [surface_run(ds, m) for ds in s.datasets for m in ("clip", "gp")]
    conv = {r: (res.result(r)["converged_at"], res.result(r)["cap"]) for r in main}
    label = {r: f"{res.params(r)['dataset']}_{res.params(r)['method']}" for r in main}
    out["surfaces_converged"] = {
        "value": all(c is not None for c, _ in conv.values()), "file": res.files(main),
        "note": "converged at iteration (cap): " + ", ".join(f"{label[r]} {c} ({cap})" for r, (c, cap) in conv.items())
                + f"; {S.training['critic_schedule']['n_critic']} critic steps per iteration"
                + f"; criterion {S.training['convergence']}; {shape}"}

    ex = {(ds, m): res.result(surface_run(ds, m)) for ds in s.datasets for m in ("clip", "gp")}
    out["clip_simpler_than_gp"] = {
        "value": min(ex[ds, "gp"]["ot_potential_explained"] - ex[ds, "clip"]["ot_potential_explained"]
                     for ds in s.datasets),
        "start": min(ex[ds, "gp"]["ot_potential_explained_at_init"] - ex[ds, "clip"]["ot_potential_explained_at_init"]
                     for ds in s.datasets),
        "file": res.files(main),
        "note": "share of the OT potential's variance on held-out real + fake explained, gp - clip per dataset: " + ", ".join(
            f"{ds} {ex[ds, 'gp']['ot_potential_explained']:.3f} - {ex[ds, 'clip']['ot_potential_explained']:.3f}"
            for ds in s.datasets)
            + "; secondary, quadratic-fit R2 on the grid (clip, gp): " + ", ".join(
            f"{ds} {ex[ds, 'clip']['quadratic_r2']:.3f}, {ex[ds, 'gp']['quadratic_r2']:.3f}" for ds in s.datasets)}

    for run in res.runs(task="deep"):
        key, summary = deep_key(res.params(run)), res.result(run)
        dead = summary["dead_layers"]
        out[f"deep_growth_{key}"] = {
            "value": summary["log10_norm_input_minus_output"], "start": summary["log10_norm_input_minus_output_at_init"],
            "file": str(res.path(run, "layer_norms.csv")),
            "note": f"at generator iteration {summary['measured_at_iteration']} ({summary['critic_steps']} critic steps); "
                    f"at initialisation {summary['log10_norm_input_minus_output_at_init']:+.2f}"
                    f" (dead layers {summary['dead_layers_at_init']}); float64 norms"
                    + (f"; DEAD: {dead} of the critic's layers pass no gradient (norm exactly 0), so no growth "
                       "or decay can be read off" if dead else "; no dead layers")}
        start, end = summary["weight_share_at_bound_at_init"], summary["weight_share_at_bound"]
        bound = (f"|w| >= 0.99 c, c = {summary['constraint_clip']:g}" if summary["constraint_clip"] is not None
                 else "|w| >= 0.99 max|w| of its layer")
        out[f"deep_weights_at_bound_{key}"] = {
            # no "start": the measure is the change since step 0 (0 there by definition)
            "value": end - start, "file": res.files([run]),
            "note": f"share of the {summary['weights']} critic weights at the bound ({bound}): {start:.4f} at step 0 "
                    f"(critic init_bound {summary['init_bound']}), {end:.4f} at iteration "
                    f"{summary['measured_at_iteration']}; max |w| {summary['weight_max_abs_at_init']:.4g} -> "
                    f"{summary['weight_max_abs']:.4g}"}
    return out
