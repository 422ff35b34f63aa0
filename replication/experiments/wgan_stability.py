"""WGAN Figures 5, 6 and 7 (WGAN Section 4.3 [P]; main.py and models/ [C]): samples after training, WGAN (left) vs the
standard GAN (right), with three generators and the DCGAN critic / discriminator throughout: the
DCGAN generator (Figure 5, both methods work: the positive control), the constant-filter
generator without batch norm (Figure 6: WGAN works, the GAN fails) and the MLP generator
(Figure 7: WGAN works, the GAN mode-collapses).

Task ``train`` (runs ``<method>_<generator>_s<seed>``): the image-GAN recipe trains the pair with
the method's training block, evaluating the quality probe (``replication.recipes.images``) and a
sample grid at its cadence. ``EVALUATE`` measures the final generator alone; ``summarize`` turns
the runs' outcomes (``replication.recipes.outcomes``: works / poor / collapses / fails by the
pre-registered ``outcome`` thresholds) into the claims.
"""

from __future__ import annotations

from replication.data.toy import gaussian_noise
from replication.runs import Results, RunContext
from replication.recipes import images
from replication.recipes.outcomes import BROKEN, every, measures_header, note, outcomes, progress, rows_where

FIGURES = {"dcgan": "wgan/fig5", "nobn": "wgan/fig6", "mlp": "wgan/fig7"}
METHODS = ("wgan", "gan")  # the figures' left and right columns
BASELINE = "dcgan"          # each method's positive control


def networks(settings, generator: str, channels: int) -> dict:
    """Registry specs of the run's pair at the data's shape."""
    shape = {"resolution": settings.data.resolution, "channels": channels}
    return {"generator": {**settings.networks.generators[generator], **shape, "nz": settings.nz},
            "critic": {**settings.networks.critic, **shape}}


def train(ctx: RunContext, method: str, generator: str, seed: int) -> dict:
    s = ctx.settings
    real, _ = images.load(s.data)
    t, _ = images.train_pair(ctx, s.methods[method].training, networks(s, generator, real.shape[1]), s.data, real,
                             probes={"quality": images.quality_probe(ctx, s.data, s.quality)})
    return {"method": method, "generator": generator, "seed": seed, "iterations": t.iteration,
            "extractor": ctx.features}


TASKS = {"train": train}


def EVALUATE(ctx: RunContext, networks: dict) -> dict:
    return images.final_quality(ctx, networks["generator"], ctx.settings.data, ctx.settings.quality,
                                gaussian_noise(ctx.settings.nz))


def summarize(res: Results) -> dict:
    fid = {run: progress(res, run, "fid") for run in res.runs()}
    return judge(outcomes(res, "generator", res.features), res.settings.outcome[res.features],
                 measures_header(res, res.features), res.files(res.runs(), "final_metrics.json"), fid)


def judge(table, limits, header: str, files: str, fid: dict | None = None) -> dict:
    """The claims from the runs' outcomes (one row per run: method, generator, seed, outcome and
    the measures); every claim must hold for every seed. ``fid``: each run's training progress
    ({run: recipes.outcomes.progress}), for the claims layer's trained rule."""
    def runs(roles: dict) -> dict:  # {run: role} -> the entry's runs (none without progress)
        return {r: {**fid[r], "role": role} for r, role in roles.items()} if fid else {}

    def of(**where) -> list[str]:
        return list(rows_where(table, **where)["run"])

    baselines = {r: "control" for r in of(generator=BASELINE)}
    collapse_measured = limits.collapse_effective_classes is not None or limits.collapse_recall is not None
    unmeasured = f"no collapse measure: the outcome thresholds of {header.split(' ')[0]} features register none"
    # A run expected to fail is judged beside its method's positive control (the DCGAN generator
    # under the same budget), which must have trained: the claims layer's rule (runs' roles).
    control_note = "; positive controls (DCGAN generator): " + ", ".join(
        f"{r.method.upper()} {r.outcome}" for r in table[table["generator"] == BASELINE].itertuples())
    out: dict = {"dcgan_both_work": {"value": all(every(table, "works", method=m, generator=BASELINE) for m in METHODS),
                                     "file": files, "note": note(header, table[table["generator"] == BASELINE]),
                                     "runs": runs(dict.fromkeys(of(generator=BASELINE), "works"))}}
    for key, generator, gan_outcome in (("nobn_wgan_works_gan_fails", "nobn", BROKEN),  # failed to learn
                                        ("mlp_wgan_works_gan_collapses", "mlp", "collapses")):
        frame = table[table["generator"] == generator]
        if gan_outcome == "collapses" and not collapse_measured:
            out[key] = {"value": None, "reason": unmeasured}
        else:
            out[key] = {"value": every(table, "works", method="wgan", generator=generator)
                        and every(table, gan_outcome, method="gan", generator=generator),
                        "file": files, "note": note(header, frame, control_note),
                        "runs": runs({**baselines, **dict.fromkeys(of(method="wgan", generator=generator), "works"),
                                      **dict.fromkeys(of(method="gan", generator=generator), "fails")})}
    # "In no experiment did we see evidence of mode collapse for the WGAN algorithm": judged on the
    # WGAN runs that do not fail (past the quality gate, or collapsed before it: a failed run's
    # samples cannot show it)
    wgan = table[table["method"] == "wgan"]
    judged = wgan[wgan["outcome"] != "fails"]
    if not collapse_measured:
        out["no_wgan_collapse"] = {"value": None, "reason": unmeasured}
    elif judged.empty:
        out["no_wgan_collapse"] = {"value": None, "reason": "no WGAN run passes the quality gate, so none can show "
                                                            "collapse; " + note(header, wgan)}
    else:
        out["no_wgan_collapse"] = {"value": bool((judged["outcome"] != "collapses").all()), "file": files,
                                   "runs": runs(dict.fromkeys(judged["run"], "works")),
                                   "note": note(header, wgan, f"; judged on {len(judged)} of {len(wgan)} WGAN runs "
                                                              "(those not failing)")}
    return out
