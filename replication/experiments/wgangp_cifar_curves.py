"""WGAN-GP Figure 3 (WGAN-GP Section 5.3 [P]; gan_cifar.py [C]): the inception score of four methods over
generator iterations and over training time, with gan_cifar.py's DCGAN-like pair on CIFAR-10.

Task ``train`` (runs ``<method>_s<seed>``: weight clipping, GP with RMSProp, GP with Adam,
DCGAN): the image-GAN recipe trains the registry pair with the method's training block and,
every ``evaluation.every`` generator iterations (step 0 too), scores the inception score of fresh
samples on the scale's features with the Figure 3 protocol, saves a grid of the fixed noise
batch, and records the run's own training time so far (evaluation and checkpoints excluded).
The time axis is process CPU time on a CPU (jobs share the machine) and wall-clock time on an
accelerator (CPU time does not see GPU work); each run records which.

``summarize`` measures the claims from the evaluation curves: final scores (mean over the last
``measures.final_fraction`` of the run) ordered across seeds, the iteration at which clipping
and GP-RMSProp reach a common level, and the training time DCGAN and GP-Adam take to reach
a common level (Figure 3 right: 'converges more slowly in wall-clock time').
"""

from __future__ import annotations


import pandas as pd
import torch

from replication.runs import Results, RunContext
from replication.metrics.fidelity import PROTOCOLS
from replication.recipes import images
from replication.recipes.outcomes import progress
from replication.train.evaluation import quality_probe

METHODS = ("clip", "gp_rmsprop", "gp_adam", "dcgan")  # the legend order of Figure 3
CLOCK_COLUMN = {"cpu": "train_seconds_cpu", "wall": "train_seconds_wall"}


def clock_of(device: torch.device) -> str:
    """The time axis: process CPU time on a CPU, wall-clock time on an accelerator."""
    return "cpu" if device.type == "cpu" else "wall"


def train(ctx: RunContext, method: str, seed: int) -> dict:
    s, I = ctx.settings, ctx.settings.inception_score
    m, extractor = s.methods[method], ctx.extractor()
    real, _ = images.load(s.data)
    probe = lambda: quality_probe(extractor, None, n=I.samples, batch_size=I.batch_size,  # noqa: E731
                                  **PROTOCOLS[I.protocol])
    t, written = images.train_pair(ctx, m.training, m.networks, s.data, real, probes={"inception_score": probe})
    curve, clock = pd.read_csv(written["evaluation"]), clock_of(ctx.device)
    seconds = float(curve[CLOCK_COLUMN[clock]].iloc[-1])
    return {"method": method, "seed": seed, "iterations": t.iteration, "clock": clock,
            "train_seconds": seconds, "seconds_per_iteration": seconds / t.iteration if t.iteration else float("nan"),
            "is_start": float(curve["is"].iloc[0]), "is_last": float(curve["is"].iloc[-1]),
            "final_score": final_score(curve, s.measures.final_fraction), "evaluations": len(curve),
            "extractor": extractor.name, "proxy": extractor.proxy, "weights_sha256": extractor.weights_sha256,
            "samples_per_score": I.samples, "protocol": I.protocol}


TASKS = {"train": train}


# -- measures on the curves (summary and notebook) --------------------------------------------

def final_score(curve: pd.DataFrame, fraction: float) -> float:
    """Mean IS over the evaluations in the last ``fraction`` of the run's iterations."""
    last = int(curve["step"].max())
    return float(curve.loc[curve["step"] >= (1 - fraction) * last, "is"].mean())


def first_reaching(curve: pd.DataFrame, level: float, every: int) -> int:
    """The first evaluated iteration with IS >= level; one evaluation interval past the last
    iteration if the run never reaches it (a lower bound on when it would)."""
    hit = curve.loc[curve["is"] >= level, "step"]
    return int(hit.iloc[0]) if len(hit) else int(curve["step"].max()) + every


def summarize(res: Results) -> dict:
    s = res.settings
    M, seeds = s.measures, s.seeds
    every = s.methods[METHODS[0]].training.evaluation.every
    runs = {(m, seed): res.run(task="train", method=m, seed=seed) for m in METHODS for seed in seeds}
    result = {key: res.result(run) for key, run in runs.items()}
    curve = {key: res.frame(run, "evaluation.csv") for key, run in runs.items()}
    files = res.files(list(runs.values()), "evaluation.csv")
    first = result[METHODS[0], seeds[0]]
    protocol = (f"{first['samples_per_score']}-sample IS ({first['protocol']}, "
                f"{'proxy classifier' if first['proxy'] else 'TF-Inception'}); final score = mean over the last "
                f"{M.final_fraction:g} of {first['iterations']} iterations")

    def trained(*methods: str) -> dict:  # the runs a claim needs to have trained (the claims layer checks)
        return {runs[m, seed]: progress(res, runs[m, seed], "is", lower_is_better=False)
                for m in methods for seed in seeds}

    def ordering(better: str, worse: str, must_train: tuple[str, ...]) -> dict:
        values, starts, notes = [], [], []
        for seed in seeds:
            a, b = result[better, seed], result[worse, seed]
            values.append(a["final_score"] - b["final_score"])
            starts.append(a["is_start"] - b["is_start"])
            notes.append(f"seed {seed}: {a['final_score']:.3f} - {b['final_score']:.3f}")
        return {"value": values, "start": starts, "file": files, "note": "; ".join(notes) + f"; {protocol}",
                "runs": trained(*must_train)}

    out = {
        "final_gp_adam_minus_dcgan": ordering("gp_adam", "dcgan", ("gp_adam", "dcgan")),
        "final_dcgan_minus_gp_rmsprop": ordering("dcgan", "gp_rmsprop", ("dcgan",)),
        "final_gp_rmsprop_minus_clip": ordering("gp_rmsprop", "clip", ("gp_rmsprop",)),
    }

    def level(*keys) -> float:  # the lowest of the runs' levels: each run's start + level_fraction of its gain
        return min(result[k]["is_start"] + M.level_fraction * (result[k]["final_score"] - result[k]["is_start"])
                   for k in keys)

    values, notes = [], []
    for seed in seeds:
        gp, clip = result["gp_rmsprop", seed], result["clip", seed]
        T, at = gp["iterations"], level(("gp_rmsprop", seed))
        t_gp, t_clip = (first_reaching(curve[m, seed], at, every) for m in ("gp_rmsprop", "clip"))
        values.append((t_clip - t_gp) / T if T else float("nan"))
        notes.append(f"seed {seed}: level {at:.3f}, GP-RMSProp at {t_gp}, clipping at {t_clip}"
                     + (" (never: counted one interval past the end)" if t_clip > clip["iterations"] else "")
                     + f" of {T}")
    out["gp_earlier_than_clip"] = {"value": values, "file": files, "note": "; ".join(notes) + f"; {protocol}",
                                   "runs": trained("gp_rmsprop")}

    # WGAN-GP Figure 3 (right): DCGAN converges sooner in training time than GP-Adam; both reach a
    # common level (the lower of their levels), and the time each took to reach it is compared
    values, notes = [], []
    for seed in seeds:
        at = level(("dcgan", seed), ("gp_adam", seed))
        t = {m: seconds_to_reach(curve[m, seed], at, CLOCK_COLUMN[result[m, seed]["clock"]])
             for m in ("dcgan", "gp_adam")}
        values.append(t["gp_adam"] / t["dcgan"] - 1 if t["dcgan"] > 0 else float("nan"))
        notes.append(f"seed {seed}: level {at:.3f} reached after {t['dcgan']:.0f} s (DCGAN) and {t['gp_adam']:.0f} s "
                     f"(GP-Adam) of {result['dcgan', seed]['clock']} training time")
    out["dcgan_sooner_in_time"] = {"value": values, "file": files, "runs": trained("dcgan", "gp_adam"),
                                   "note": "; ".join(notes) + f"; {protocol}"}
    return out


def seconds_to_reach(curve: pd.DataFrame, level: float, clock: str) -> float:
    """The training time at the first evaluation with IS >= level (the run's last if never)."""
    hit = curve.loc[curve["is"] >= level, clock]
    return float(hit.iloc[0] if len(hit) else curve[clock].iloc[-1])
