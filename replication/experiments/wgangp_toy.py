"""WGAN-GP Figure 1: value surfaces of optimal critics on toy data (1a), per-layer gradient
norms and weight histograms of deep critics on the Swiss roll (1b). WGAN_WGANGP.md section 4.

Runs
- ``surface_<dataset>_<method>``: a critic (2->512->512->512->1 ReLU, tflib init) trained with
  the shared adversarial trainer against gan_toy.py's FIXED_GENERATOR (fake = the same real
  batch + N(0, I) noise; no generator parameters), until the logged Plateau criterion holds
  or the cap is reached; methods ``clip`` (c = 0.01, TF RMSProp 5e-5), ``gp`` (lambda = 10,
  the paper) and ``gp_code`` (lambda = 0.1, gan_toy.py; reported separately). Writes the
  critic on a 128 x 128 grid over [-3, 3]^2, held-out samples, and the W1 estimate
  E f(real) - E f(fake) on held-out samples.
- ``ot_<dataset>``: exact W1 (POT) between held-out real and fake samples at the same n,
  repeated draws for its sampling spread: the reference for the critics' W1 estimates.
- ``deep_<method>``: a WGAN (12-layer ReLU generator and critic, width 512, tflib init) on
  the Swiss roll with clipping c in {0.1, 0.01, 0.001} or GP; per-layer norms of the critic
  loss's gradient w.r.t. each Linear layer's output at initialisation and at the stated
  training step, and the critic's weight histogram.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from replication.data.batches import BatchSource, SamplerSource, TensorSource
from replication.data.toy import TOY_2D, swiss_roll, twenty_five_gaussians_set
from replication.experiments import RunContext, SummaryContext
from replication.io import write_frame
from replication.metrics.transport import exact_w1
from replication.nets import MLP, linear_output_gradient_norms
from replication.train.adversarial import AdversarialSettings, AdversarialTrainer
from replication.train.convergence import Plateau
from replication.train.optim import build_optimizer
from replication.train.schedule import CriticSchedule

DATASET_OFFSET = {"8gaussians": 0, "25gaussians": 1, "swissroll": 2}
METHOD_OFFSET = {"clip": 0, "gp": 1, "gp_code": 2}
DEEP_OFFSET = {"c0.1": 0, "c0.01": 1, "c0.001": 2, "gp": 3}


def runs(settings: dict) -> list[str]:
    s = settings
    return ([f"surface_{d}_{m}" for d in s["datasets"] for m in s["surface"]["methods"]]
            + [f"ot_{d}" for d in s["datasets"]]
            + [f"deep_{m}" for m in deep_methods(s)])


def deep_methods(settings: dict) -> dict[str, dict]:
    """Figure 1b's critics: ``c<value>`` per clip value, and ``gp``."""
    D = settings["deep"]
    methods = {f"c{c:g}": {"lipschitz": "clip", "clip_value": float(c), **D["clip"]} for c in D["clip_values"]}
    methods["gp"] = {"lipschitz": "gp", **D["gp"]}
    return methods


def run(ctx: RunContext) -> dict:
    kind, _, rest = ctx.run.partition("_")
    if kind == "surface":
        dataset, method = rest.rsplit("_", 1) if not rest.endswith("gp_code") else (rest.removesuffix("_gp_code"), "gp_code")
        return _surface(ctx, dataset, method)
    if kind == "ot":
        return _ot(ctx, rest)
    if kind == "deep":
        return _deep(ctx, rest)
    raise ValueError(ctx.run)


# -- data ---------------------------------------------------------------------------------

def law(settings: dict, dataset: str):
    """Sampler of the dataset's law (held-out draws; 25 Gaussians: the law behind the fixed set)."""
    params = {k: v for k, v in settings["data"][dataset].items() if k != "per_mode"}
    return TOY_2D[dataset](**params)


def real_source(settings: dict, dataset: str, device: torch.device, seed: int) -> BatchSource:
    """Training batches as gan_toy.py draws them: fresh samples each batch, except the fixed
    100,000-point 25-Gaussians set, shuffled once and iterated in batches."""
    if dataset == "25gaussians":
        data = twenty_five_gaussians_set(torch.Generator().manual_seed(seed), **settings["data"][dataset])
        return TensorSource(data.to(device), settings["batch_size"], seed + 1)
    return SamplerSource(law(settings, dataset), settings["batch_size"], device, seed)


class Remembering:
    """A BatchSource that keeps its last batch (for the fixed generator below)."""

    def __init__(self, inner: BatchSource):
        self.inner, self.last = inner, None

    def next(self) -> torch.Tensor:
        self.last = self.inner.next()
        return self.last

    def state_dict(self) -> dict:
        return self.inner.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.inner.load_state_dict(state)


class NoisyCopy:
    """gan_toy.py's FIXED_GENERATOR: the fake batch is the current real batch plus
    ``std`` * N(0, I) noise (with an identity generator in the trainer). The trainer draws
    the real batch first in every critic step, so ``base.last`` is that step's batch."""

    def __init__(self, base: Remembering, std: float, seed: int):
        self.base, self.std = base, std
        self.generator = torch.Generator().manual_seed(seed)

    def next(self) -> torch.Tensor:
        real = self.base.last
        noise = torch.randn(real.shape, generator=self.generator).to(real.device)
        return real + self.std * noise

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


def held_out(settings: dict, dataset: str, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Independent held-out draws: real ~ P_r, fake ~ P_r * N(0, sigma^2 I) (its own P_r draw)."""
    gen = torch.Generator().manual_seed(seed)
    sample = law(settings, dataset)
    real = sample(n, gen)
    fake = sample(n, gen) + settings["fixed_generator_noise"] * torch.randn(n, 2, generator=gen)
    return real, fake


# -- Figure 1a: value surfaces ------------------------------------------------------------

def build_surface_trainer(settings: dict, dataset: str, method: str, device: torch.device, state_dir,
                          seed: int, on_iteration=None, progress: str = "wgangp_toy") -> AdversarialTrainer:
    s, S = settings, settings["surface"]
    m = S["methods"][method]
    torch.manual_seed(seed)
    critic = MLP(2, 1, S["width"], S["depth"], init=S["init"]).to(device)
    opt_d = build_optimizer(m["optimizer"], critic.parameters(), m["lr"], betas=m.get("betas", (0.5, 0.999)))
    adv = AdversarialSettings(
        objective="wgan", iterations=m["iterations"], lipschitz=m["lipschitz"], clip_value=m.get("clip_value", 0.01),
        clip_timing="after", gp_lambda=m.get("gp_lambda", 10.0), schedule=CriticSchedule(n_critic=S["n_critic"]),
        train_generator=False, log_every=S["log_every"], checkpoint_every=S["checkpoint_every"])
    real = Remembering(real_source(s, dataset, device, seed + 1))
    fake = NoisyCopy(real, s["fixed_generator_noise"], seed + 2)
    return AdversarialTrainer(nn.Identity(), critic, None, opt_d, real, fake, adv, state_dir,
                              stop=Plateau(**S["convergence"]), on_iteration=on_iteration, progress=progress)


def grid_points(settings: dict) -> tuple[np.ndarray, torch.Tensor]:
    g = settings["grid"]
    axis = np.linspace(-g["range"], g["range"], g["points"])
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


def _surface(ctx: RunContext, dataset: str, method: str) -> dict:
    s = ctx.settings
    seed = ctx.seed(100 * DATASET_OFFSET[dataset] + METHOD_OFFSET[method])
    trainer = build_surface_trainer(s, dataset, method, ctx.device, ctx.state_dir, seed,
                                    progress=f"wgangp_toy/{ctx.run}")
    log = pd.read_csv(trainer.fit())
    write_frame(ctx.out_dir / "training.csv", log)
    critic = trainer.critic.cpu().requires_grad_(False)

    axis, pts = grid_points(s)
    with torch.no_grad():
        values = critic(pts).squeeze(1).numpy()
    write_frame(ctx.out_dir / "surface.csv", pd.DataFrame({"x": pts[:, 0].numpy(), "y": pts[:, 1].numpy(), "value": values}))

    n = s["eval_samples"]
    real, fake = held_out(s, dataset, n, ctx.seed(10_000 + DATASET_OFFSET[dataset]))
    with torch.no_grad():
        f_real, f_fake = critic(real).squeeze(1).double(), critic(fake).squeeze(1).double()
    w_est = float(f_real.mean() - f_fake.mean())
    w_sd = float(np.sqrt(f_real.var() / n + f_fake.var() / n))
    k = s["figure_samples"]
    write_frame(ctx.out_dir / "samples.csv", pd.concat([
        pd.DataFrame({"x": real[:k, 0].numpy(), "y": real[:k, 1].numpy(), "sample": "real"}),
        pd.DataFrame({"x": fake[:k, 0].numpy(), "y": fake[:k, 1].numpy(), "sample": "fake"})], ignore_index=True))
    m = s["surface"]["methods"][method]
    return {"dataset": dataset, "method": method, "iterations": trainer.step, "cap": m["iterations"],
            "critic_steps": int(log["critic_steps"].sum()), "converged_at": trainer.stop.converged_at,
            "w1_critic": w_est, "w1_critic_sd": w_sd, "eval_samples": n,
            "quadratic_r2": quadratic_r2(pts.numpy(), values)}


def _ot(ctx: RunContext, dataset: str) -> dict:
    s = ctx.settings
    n, rows = s["eval_samples"], []
    for r in range(s["ot_repeats"]):
        real, fake = held_out(s, dataset, n, ctx.seed(20_000 + 100 * DATASET_OFFSET[dataset] + r))
        rows.append({"draw": r, "w1_ot": exact_w1(real.double().numpy(), fake.double().numpy())})
    frame = pd.DataFrame(rows)
    write_frame(ctx.out_dir / "ot.csv", frame)
    return {"dataset": dataset, "n": n, "repeats": len(frame), "w1_ot_mean": float(frame["w1_ot"].mean()),
            "w1_ot_sd": float(frame["w1_ot"].std(ddof=1)) if len(frame) > 1 else float("nan")}


# -- Figure 1b: deep critics on the Swiss roll ----------------------------------------------

def build_deep_nets(settings: dict, seed: int, device: torch.device) -> tuple[nn.Module, nn.Module]:
    """12-layer ReLU generator and critic (no normalisation), tflib initialisation."""
    D = settings["deep"]
    torch.manual_seed(seed)
    generator = MLP(2, 2, D["width"], D["depth"], init=D["init"]).to(device)
    critic = MLP(2, 1, D["width"], D["depth"], init=D["init"]).to(device)
    return generator, critic


def build_deep_trainer(settings: dict, method: str, device: torch.device, state_dir, seed: int,
                       on_iteration=None, progress: str = "wgangp_toy") -> AdversarialTrainer:
    s, D = settings, settings["deep"]
    m = deep_methods(s)[method]
    generator, critic = build_deep_nets(s, seed, device)
    betas = m.get("betas", (0.5, 0.999))
    opt_g = build_optimizer(m["optimizer"], generator.parameters(), m["lr"], betas=betas)
    opt_d = build_optimizer(m["optimizer"], critic.parameters(), m["lr"], betas=betas)
    adv = AdversarialSettings(
        objective="wgan", iterations=D["iterations"], lipschitz=m["lipschitz"], clip_value=m.get("clip_value", 0.01),
        clip_timing="after", gp_lambda=m.get("gp_lambda", 10.0), schedule=CriticSchedule(n_critic=D["n_critic"]),
        log_every=D["log_every"], checkpoint_every=D["checkpoint_every"])
    real = SamplerSource(swiss_roll(**s["data"]["swissroll"]), s["batch_size"], device, seed + 1)
    noise = SamplerSource(lambda n, g: torch.randn(n, 2, generator=g), s["batch_size"], device, seed + 2)
    return AdversarialTrainer(generator, critic, opt_g, opt_d, real, noise, adv, state_dir,
                              on_iteration=on_iteration, progress=progress)


def critic_layer_norms(critic: nn.Module, generator: nn.Module, settings: dict, batches: int, seed: int,
                       device: torch.device) -> np.ndarray:
    """Mean over ``batches`` fresh batches of ||d L / d a_l|| for every Linear output a_l
    of the critic (input side first), L = E f(fake) - E f(real), the critic's Wasserstein
    loss without the penalty term, on one batch of real and one of generated points."""
    gen = torch.Generator().manual_seed(seed)
    sample, B = swiss_roll(**settings["data"]["swissroll"]), settings["batch_size"]
    norms = []
    for _ in range(batches):
        real = sample(B, gen).to(device)
        with torch.no_grad():
            fake = generator(torch.randn(B, 2, generator=gen).to(device))
        x = torch.cat([real, fake])  # no normalisation in the critic: one pass equals two
        norms.append(linear_output_gradient_norms(critic, x, lambda out: out[B:].mean() - out[:B].mean()))
    return torch.stack(norms).double().mean(0).cpu().numpy()


def _deep(ctx: RunContext, method: str) -> dict:
    s, D = ctx.settings, ctx.settings["deep"]
    seed = ctx.seed(1000 + DEEP_OFFSET.get(method, 9))
    init_generator, init_critic = build_deep_nets(s, seed, ctx.device)  # the trainer's initial weights
    at_init = critic_layer_norms(init_critic, init_generator, s, D["measure_batches"], ctx.seed(30_000), ctx.device)
    trainer = build_deep_trainer(s, method, ctx.device, ctx.state_dir, seed, progress=f"wgangp_toy/{ctx.run}")
    log = pd.read_csv(trainer.fit())
    write_frame(ctx.out_dir / "training.csv", log)
    at_step = critic_layer_norms(trainer.critic, trainer.generator, s, D["measure_batches"], ctx.seed(30_000), ctx.device)
    layers = np.arange(1, len(at_step) + 1)
    write_frame(ctx.out_dir / "layer_norms.csv", pd.DataFrame(
        {"layer": np.concatenate([layers, layers]), "grad_norm": np.concatenate([at_init, at_step]),
         "measured_at": [0] * len(layers) + [trainer.step] * len(layers)}))

    weights = torch.cat([m.weight.detach().flatten().cpu() for m in trainer.critic.modules()
                         if isinstance(m, nn.Linear)]).double().numpy()
    top = float(np.abs(weights).max())
    counts, edges = np.histogram(weights, bins=D["histogram_bins"], range=(-1.05 * top, 1.05 * top))
    write_frame(ctx.out_dir / "weights_histogram.csv",
                pd.DataFrame({"left": edges[:-1], "right": edges[1:], "count": counts}))
    m = deep_methods(s)[method]
    bound = m["clip_value"] if m["lipschitz"] == "clip" else top
    delta = float(np.log10(at_step[0]) - np.log10(at_step[-1]))
    return {"method": method, "measured_at_iteration": trainer.step, "critic_steps": int(log["critic_steps"].sum()),
            "log10_norm_input_minus_output": delta,
            "log10_norm_input_minus_output_at_init": float(np.log10(at_init[0]) - np.log10(at_init[-1])),
            "weights": len(weights), "weight_max_abs": top,
            "weight_share_at_bound": float(np.mean(np.abs(weights) >= 0.99 * bound))}


# -- measured values for the claims -------------------------------------------------------

def summarize(ctx: SummaryContext) -> dict:
    s, d = ctx.settings, ctx.results_dir
    res = {r: ctx.result(r)["summary"] for r in ctx.runs}
    out: dict = {}
    n = s["eval_samples"]

    def surface(dataset, method):
        return res[f"surface_{dataset}_{method}"]

    files = lambda names: ", ".join(str(d / r / "result.json") for r in names)  # noqa: E731
    for method in ("gp", "gp_code"):
        if method not in s["surface"]["methods"]:
            continue
        devs, notes, names = [], [], []
        for dataset in s["datasets"]:
            ot = res[f"ot_{dataset}"]
            sv = surface(dataset, method)
            devs.append(abs(sv["w1_critic"] - ot["w1_ot_mean"]))
            notes.append(f"{dataset}: critic {sv['w1_critic']:.4f} (sd {sv['w1_critic_sd']:.4f}) vs OT "
                         f"{ot['w1_ot_mean']:.4f} (sd {ot['w1_ot_sd']:.4f}, {ot['repeats']} draws)")
            names += [f"surface_{dataset}_{method}", f"ot_{dataset}"]
        lam = s["surface"]["methods"][method]["gp_lambda"]
        out[f"w1_abs_dev_{method}"] = {"value": max(devs), "file": files(names),
                                       "note": f"lambda = {lam}, n = {n} held-out per side; " + "; ".join(notes)
                                               + f" (cap {s['surface']['methods'][method]['iterations']} iterations,"
                                               + f" critic {s['surface']['depth']}x{s['surface']['width']}; paper 3x512)"}

    main = [f"surface_{ds}_{m}" for ds in s["datasets"] for m in ("clip", "gp")]
    conv = {r: (res[r]["converged_at"], res[r]["cap"]) for r in main}
    out["surfaces_converged"] = {
        "value": all(c is not None for c, _ in conv.values()), "file": files(main),
        "note": "converged at iteration (cap): " + ", ".join(f"{r.removeprefix('surface_')} {c} ({cap})" for r, (c, cap) in conv.items())
                + f"; {s['surface']['n_critic']} critic steps per iteration; Plateau {s['surface']['convergence']}"
                + f"; critic {s['surface']['depth']}x{s['surface']['width']} (paper 3x512)"}
    gaps = {ds: surface(ds, "clip")["quadratic_r2"] - surface(ds, "gp")["quadratic_r2"] for ds in s["datasets"]}
    out["clip_simpler_than_gp"] = {
        "value": min(gaps.values()), "file": files(main),
        "note": "R2(clip) - R2(gp) per dataset: " + ", ".join(
            f"{ds} {surface(ds, 'clip')['quadratic_r2']:.3f} - {surface(ds, 'gp')['quadratic_r2']:.3f}" for ds in s["datasets"])}

    for method, summary in ((m, res[f"deep_{m}"]) for m in deep_methods(s)):
        key = method.replace(".", "")
        out[f"deep_growth_{key}"] = {
            "value": summary["log10_norm_input_minus_output"], "file": str(d / f"deep_{method}" / "layer_norms.csv"),
            "note": f"at generator iteration {summary['measured_at_iteration']} ({summary['critic_steps']} critic steps); "
                    f"at initialisation {summary['log10_norm_input_minus_output_at_init']:+.2f}"}
        out[f"deep_weights_at_bound_{key}"] = {
            "value": summary["weight_share_at_bound"], "file": str(d / f"deep_{method}" / "result.json"),
            "note": f"{summary['weights']} critic weights; max |w| {summary['weight_max_abs']:.4g}; "
                    f"iteration {summary['measured_at_iteration']}"}
    return out
