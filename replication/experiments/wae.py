"""WAE Figures 2-3 and Table 1 (WAE Section 4 [P]): VAE vs WAE-MMD vs WAE-GAN (tolstikhin/wae wae.py [C]).

Task ``train`` (runs ``<model>_<setup>_s<seed>``, evaluated): the engine's auto-encoder step
trains one model of one setup (MNIST or CelebA settings; Fashion-MNIST data below paper); the
run then draws its Figure 2/3 panels from the final networks (``figures.npz``: test
reconstructions with odd rows real, random samples from a fixed prior draw, test interpolations).
``EVALUATE`` (the generic evaluation job, from the final checkpoints only) computes Table 1's
FID (protocol ``wae_fid``) and sharpness of decoded prior draws, and the test reconstruction
error beside the mean-image baseline. Task ``true_data`` gives Table 1's "true data" row.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from replication.data import load_images, to_symmetric_range, to_unit_range
from replication.data.batches import SamplerSource, TensorSource
from replication.runs import Results, RunContext, stable_seed
from replication.io import write_frame
from replication.nets.wae import DATASETS as WAE_DATASETS
from replication.recipes.outcomes import progress
from replication.train import EvalData, Sources
from replication.train.autoencoder import decode_prior, encode, reconstruction_errors

PUBLISHED = {  # WAE Table 1 (CelebA) [P]; rows keyed by model
    "fid": {"vae": 63.0, "wae_mmd": 55.0, "wae_gan": 42.0, "true_data": 2.0},
    "sharpness": {"vae": 3e-3, "wae_mmd": 6e-3, "wae_gan": 6e-3, "true_data": 2e-2},
}


# -- the settings of one run ----------------------------------------------------------------------

def data_range(settings, setup: str) -> tuple[float, float]:
    return tuple(getattr(settings, setup).training["autoencoder"]["data_range"])


def images(settings, setup: str, split: str) -> torch.Tensor:
    """A split of the setup's data as uint8 (as packed; read-only): ``scaled`` turns a batch of it
    into floats in the data range. CelebA's training split is 2.2 GB so, 9 GB as floats."""
    d = getattr(settings, setup).data
    return load_images(d.name, getattr(d, split)).images


def scaled(settings, setup: str):
    """uint8 images -> floats in the setup's data range ([0, 1] or [-1, 1])."""
    return to_unit_range if data_range(settings, setup) == (0.0, 1.0) else to_symmetric_range


def mean_image(data: torch.Tensor, scale, chunk: int = 10_000) -> torch.Tensor:
    """The mean image of uint8 ``data`` in the data range, summed a chunk at a time in float64."""
    total = sum(part.double().sum(0) for part in data.split(chunk))
    return scale(total / len(data))


def prior(prior_var: float, latent: int):
    """P_Z = N(0, prior_var I) as a sampler (n, generator) -> n x latent."""
    scale = math.sqrt(prior_var)
    return lambda n, g: torch.randn(n, latent, generator=g) * scale


def heldout(data: torch.Tensor, scale):
    """Evaluation sampler over held-out uint8 images (a fresh random subset per call, scaled)."""
    return lambda n, g: scale(data[torch.randperm(len(data), generator=g)[:n]])


def latent_of_spec(networks: dict) -> int:
    """d_z of the decoder spec (the registry's per-dataset default unless given)."""
    dec = networks["decoder"]
    return dec.get("latent") or WAE_DATASETS[dec["dataset"]]["latent"]


def decoder_logits(networks_spec: dict) -> bool:
    return bool(networks_spec["decoder"].get("logits", False))


# -- tasks ------------------------------------------------------------------------------------------

def train(ctx: RunContext, setup: str, model: str, seed: int) -> dict:
    s = ctx.settings
    m = getattr(s, setup).models[model]
    training, networks, ae = m.training, m.networks, m.training.autoencoder
    train_x, test_x, scale = images(s, setup, "train"), images(s, setup, "test"), scaled(s, setup)
    p_z = prior(ae.prior_var, latent_of_spec(networks))
    sources = Sources(  # the code's per-iteration np.random.choice: independent batches, no epochs
        real=TensorSource(train_x.to(ctx.device), training.batch_size, ctx.seed_for("data/real"),
                          with_replacement=True, transform=scale),  # uint8 on the device, scaled per batch
        noise=SamplerSource(p_z, training.batch_size, ctx.device, ctx.seed_for("data/prior")))
    trainer = ctx.make_trainer(training, networks, sources,
                               eval_data=EvalData(real=heldout(test_x, scale), noise=p_z))
    trainer.fit()
    log = trainer.write_outputs(ctx.out_dir)
    figure_panels(ctx, trainer.networks, test_x, scale, p_z, decoder_logits(networks), tuple(ae.data_range))
    rows = pd.read_csv(log["training"])
    tail = rows.iloc[-min(len(rows), training.log_every):] if len(rows) else rows
    return {"setup": setup, "model": model, "seed": seed, "steps": trainer.iteration, "iterations": training.iterations,
            "pretrain_steps": int(rows["pretrain_steps"].iloc[0]) if len(rows) else 0,
            "pretrain_loss": float(rows["pretrain_loss"].iloc[0]) if len(rows) else None,
            "final_reconstruction": float(tail["reconstruction"].mean()) if len(rows) else None,
            "final_penalty": float(tail["penalty"].mean()) if len(rows) else None}


def figure_panels(ctx: RunContext, networks: dict, test_x: torch.Tensor, scale, p_z, logits: bool,
                  value_range) -> None:
    """Figure 2/3 panels of one model: test reconstructions (odd rows real), random samples from a
    fixed prior draw, and linear interpolations between the codes of pairs of test images; the test
    images and the prior draw are the same for every model of the setup (seeded by the setup)."""
    f = ctx.settings.figures
    batch, device = ctx.settings.evaluation.batch_size, ctx.device
    setup_seed = lambda purpose: stable_seed(ctx.settings.seed, ctx.experiment, ctx.params["setup"], purpose)  # noqa: E731
    g = torch.Generator().manual_seed(setup_seed("figures/test"))  # the same test images for every model
    cols, rows = f.columns, f.reconstruction_rows
    picked = scale(test_x[torch.randperm(len(test_x), generator=g)[: cols * rows // 2 + 2 * f.interpolation_rows]])
    real = picked[: cols * rows // 2]
    rec = decode_prior(networks["decoder"], encode(networks["encoder"], real, device, batch), logits, value_range,
                       device, batch)
    grid = torch.stack([real.view(rows // 2, cols, *real.shape[1:]), rec.view(rows // 2, cols, *rec.shape[1:])], 1)
    fixed = torch.Generator().manual_seed(setup_seed("figures/prior"))
    samples = decode_prior(networks["decoder"], p_z(f.sample_grid ** 2, fixed), logits, value_range, device, batch)
    ends = picked[cols * rows // 2:]
    codes = encode(networks["encoder"], ends, device, batch)
    a, b = codes[0::2], codes[1::2]
    t = torch.linspace(0, 1, f.interpolation_steps).view(1, -1, 1)
    path = (a.unsqueeze(1) * (1 - t) + b.unsqueeze(1) * t).flatten(0, 1)
    interp = decode_prior(networks["decoder"], path, logits, value_range, device, batch)
    lo, hi = value_range

    def unit(x):
        return ((x - lo) / (hi - lo)).clamp(0, 1).numpy().astype(np.float32)

    np.savez_compressed(ctx.out_dir / "figures.npz",
                        reconstructions=unit(grid.flatten(0, 1).view(rows, cols, *real.shape[1:])),
                        samples=unit(samples.view(f.sample_grid, f.sample_grid, *samples.shape[1:])),
                        interpolations=unit(interp.view(f.interpolation_rows, f.interpolation_steps, *interp.shape[1:])))


def reference(ctx: RunContext, setup: str, extractor, train_x: torch.Tensor) -> dict:
    """FID statistics of the setup's uint8 training split (or a seeded subset of reference_images),
    a batch at a time (the uint8 pixels are what round((x+1) 127.5) gives back from the floats)."""
    from replication.metrics.fidelity import reference_statistics

    n, d = ctx.settings.evaluation.reference_images, getattr(ctx.settings, setup).data
    if n is not None and n < len(train_x):  # the same subset for every run of the setup
        g = torch.Generator().manual_seed(stable_seed(ctx.settings.seed, ctx.experiment, setup, "reference"))
        train_x = train_x[torch.randperm(len(train_x), generator=g)[:n]]
    return reference_statistics(train_x, extractor, f"{d.name}/{d.train} ({len(train_x)} images)", rule="round",
                                keep_features=False, batch_size=ctx.settings.evaluation.batch_size)


def quality(ctx: RunContext, setup: str, samples: torch.Tensor, extractor, ref: dict) -> dict:
    """Table 1's two numbers for a set of images: FID (protocol wae_fid) and mean sharpness."""
    from replication.metrics.fidelity import evaluate_protocol
    from replication.metrics.sharpness import sharpness

    E = ctx.settings.evaluation
    value_range = data_range(ctx.settings, setup)
    (fid,) = evaluate_protocol("wae_fid", samples, extractor, ref, value_range=value_range, batch_size=E.batch_size)
    sharp = sharpness(samples[: E.sharpness_samples], value_range=value_range, pixel_range=tuple(E.sharpness_pixel_range))
    return {"fid": float(fid["value"]), "sharpness": sharp, "fid_record": fid,
            "sharpness_samples": min(len(samples), E.sharpness_samples),
            "sharpness_pixel_range": list(E.sharpness_pixel_range)}


def EVALUATE(ctx: RunContext, networks: dict) -> dict:
    s, p = ctx.settings, ctx.params
    setup, model = p["setup"], p["model"]
    m, E = getattr(s, setup).models[model], s.evaluation
    logits, value_range = decoder_logits(m.networks), data_range(s, setup)
    train_x, test_x, scale = images(s, setup, "train"), images(s, setup, "test"), scaled(s, setup)
    extractor = ctx.extractor()
    ref = reference(ctx, setup, extractor, train_x)
    g = torch.Generator().manual_seed(ctx.seed_for("evaluate/prior"))
    z = prior(m.training.autoencoder.prior_var, latent_of_spec(m.networks))(E.fid_samples, g)
    samples = decode_prior(networks["decoder"], z, logits, value_range, ctx.device, E.batch_size)
    out = quality(ctx, setup, samples, extractor, ref)
    out.update(reconstruction_errors(networks, scale(test_x[: E.reconstruction_images]), logits, value_range,
                                     ctx.device, E.batch_size, mean_image(train_x, scale)))
    return {"setup": setup, "model": model, "seed": p["seed"], "n_samples": len(samples), **out}


def true_data(ctx: RunContext, setup: str) -> dict:
    """Table 1's last row: held-out test images in place of samples, against the same reference."""
    s = ctx.settings
    train_x, test_x = images(s, setup, "train"), images(s, setup, "test")
    extractor = ctx.extractor()
    g = torch.Generator().manual_seed(ctx.seed_for("test_images"))
    x = scaled(s, setup)(test_x[torch.randperm(len(test_x), generator=g)[: s.evaluation.fid_samples]])
    return {"setup": setup, "n_samples": len(x), **quality(ctx, setup, x, extractor, reference(ctx, setup, extractor, train_x))}


TASKS = {"train": train, "true_data": true_data}


# -- summary ------------------------------------------------------------------------------------------

def table(res: Results, setup: str) -> tuple[dict, dict]:
    """{model: [final metrics per seed]} and the true-data result of one setup."""
    rows = {m: [res.json(r, "final_metrics.json")["metrics"] for r in res.runs(setup=setup, model=m)]
            for m in res.settings.models}
    return rows, res.result(res.run(task="true_data", setup=setup))


def summarize(res: Results) -> dict:
    s = res.settings
    setup = s.table
    rows, true = table(res, setup)
    seeds = len(s.seeds)
    files = res.files(res.runs(setup=setup, task="train"), "final_metrics.json") + ", " + \
        res.files([res.run(task="true_data", setup=setup)])
    E, features, data = s.evaluation, res.features, getattr(s, setup).data
    where = (f"setup {setup} on {data.name}; {features} features, FID of {E.fid_samples} "
             f"samples vs {rows[s.models[0]][0]['fid_record']['reference']}; {seeds} seed(s)")

    def per_seed(fn) -> list[float]:
        return [fn({m: rows[m][k] for m in rows}) for k in range(seeds)]

    table_rows = [{"model": m, "seed": r["seed"], "fid": r["fid"], "sharpness": r["sharpness"],
                   "reconstruction_ratio": r["reconstruction_ratio"]} for m in rows for r in rows[m]]
    table_rows.append({"model": "true_data", "seed": None, "fid": true["fid"], "sharpness": true["sharpness"],
                       "reconstruction_ratio": None})
    write_frame(res.dir / "table1.csv", pd.DataFrame(table_rows))
    fids = "; ".join(f"{r['model']} FID {r['fid']:.4g}, sharpness {r['sharpness']:.3g}" for r in table_rows)

    def rel_gap(worse: str, better: str):
        return per_seed(lambda r: (r[worse]["fid"] - r[better]["fid"]) / r[worse]["fid"])

    def sharper(r):
        wae = min(r["wae_mmd"]["sharpness"], r["wae_gan"]["sharpness"])
        return math.log(wae / r["vae"]["sharpness"]) if wae > 0 and r["vae"]["sharpness"] > 0 else float("nan")

    ratios = {m: max(r["reconstruction_ratio"] for r in rows[m]) for m in rows}
    too_sharp = max(r["sharpness"] for m in rows for r in rows[m]) / true["sharpness"]
    paper_note = None if data.name == "celeba" and features == "inception" else \
        f"Table 1 is CelebA with Inception features; this build has {data.name} and {features} features"

    def published_deviation(metric: str, fn) -> dict:
        if paper_note:
            return {"value": None, "reason": paper_note, "file": files}
        ours = {m: float(np.mean([r[metric] for r in rows[m]])) for m in rows} | {"true_data": true[metric]}
        dev = max(fn(ours[m], PUBLISHED[metric][m]) for m in ours)
        return {"value": dev, "file": files, "note": ", ".join(f"{m} {ours[m]:.4g} (published {PUBLISHED[metric][m]:g})"
                                                            for m in ours)}

    # every model must have learned to reconstruct (its held-out error at the last evaluation against step 0)
    learned = {r: progress(res, r, "reconstruction_heldout") for r in res.runs(setup=setup, task="train")}
    out = {
        "fid_mmd_below_vae": {"value": rel_gap("vae", "wae_mmd"), "file": files,
                              "note": f"(FID_VAE - FID_WAE-MMD) / FID_VAE per seed; {fids}; {where}"},
        "fid_gan_not_above_mmd": {"value": rel_gap("wae_mmd", "wae_gan"), "file": files,
                                  "note": f"(FID_WAE-MMD - FID_WAE-GAN) / FID_WAE-MMD per seed; {fids}; {where}"},
        "wae_sharper_than_vae": {"value": per_seed(sharper), "file": files,
                                 "note": f"log(min WAE sharpness / VAE sharpness) per seed; {fids}; {where}; "
                                         f"sharpness on {list(E.sharpness_pixel_range)} pixels"},
        "sharpness_vs_true_data": {"value": too_sharp, "file": files,
                                   "note": f"max over models and seeds of sharpness / true data's ({true['sharpness']:.3g}); "
                                           f"{fids}"},
        "reconstruction_vs_mean_image": {"value": max(ratios.values()), "file": files,
                                         "note": "test reconstruction error / mean-image baseline's, worst seed: "
                                                 + ", ".join(f"{m} {v:.3f}" for m, v in ratios.items())
                                                 + f" ({E.reconstruction_images} test images; {where})"},
        "table1_fid_deviation": published_deviation("fid", lambda a, b: abs(a - b)),
        "table1_sharpness_deviation": published_deviation("sharpness", lambda a, b: abs(math.log10(a / b))
                                                          if a > 0 else float("inf")),
    }
    for entry in out.values():
        entry.setdefault("runs", learned)
    return out
