"""WGAN-GP Table 2 / Table 5 (WGAN-GP Section 5.1 and Appendix B [P]): architectures sampled at random from
Table 1's space (nonlinearity, depth, normalisation, base filter count; generator and critic
independently), each trained once with the standard GAN and once with WGAN-GP (Appendix B);
for every minimum inception score, how many architectures only the GAN, only WGAN-GP, both
or neither trained above it.

Runs (each one job; a cluster runs them in parallel and an interrupted study resumes at the
missing ones):

- ``architectures`` (task ``sample``): the seeded sampler's list (``replication.nets.sampler``)
  with each network's parameter count, ``architectures.csv``;
- ``real_score``: the IS of real held-out images with the evaluation's protocol and features
  (below paper the anchor that rescales the thresholds to the proxy, settings ``rescale``);
- ``<method>_a<index>`` and ``<method>_baseline`` (task ``train``, evaluated): the image-GAN
  recipe trains the registry's ``table1_g`` / ``table1_d`` pair of one architecture with the method's training
  block (a normalised critic: batch norm for the GAN, layer norm for WGAN-GP, with Appendix B's
  weight decay); ``EVALUATE`` scores the final generator's IS from its checkpoint alone. The
  baseline DCGAN is the comparison's positive control, outside the sampled list.

``summarize`` turns the final scores into the counts per threshold (``counts``), compares them
with the published table (Fisher's exact test per cell, Bonferroni over the cells), runs the
paired sign test at the highest threshold the GAN's baseline DCGAN clears, and bounds "only GAN". The notebook
(wgan_gp_table2) prints the table beside the published counts and draws the score
distributions and the GAN-vs-WGAN-GP scatter.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import torch
from torch import nn

from replication.data import to_symmetric_range
from replication.data.toy import gaussian_noise
from replication.errors import ReplicationError
from replication.runs import Results, RunContext
from replication.io import write_frame
from replication.metrics.fidelity import PROTOCOLS
from replication.nets import count_parameters
from replication.nets.sampler import ROLES, sample_architecture, table1_specs
from replication.recipes import images
from replication.recipes.outcomes import progress
from replication.train.evaluation import quality_probe, sample_batches

METHODS = ("gan", "wgangp")
LABELS = {"gan": "GAN", "wgangp": "WGAN-GP"}
BASELINE = "baseline"
OUTCOMES = ("only_gan", "only_wgangp", "both", "neither")  # Table 2's columns, in its order


# -- architectures ----------------------------------------------------------------------------------

def architecture_key(architecture) -> str:
    return BASELINE if architecture == BASELINE else f"a{int(architecture):03d}"


def factors_of(settings, architecture) -> dict[str, dict]:
    """The sampled factors of architecture ``index`` (or the baseline DCGAN's)."""
    S = settings.sampler
    if architecture == BASELINE:
        return S.baseline
    if isinstance(architecture, bool) or not isinstance(architecture, int) or not 0 <= architecture < S.architectures:
        raise ReplicationError(f"unknown architecture {architecture!r}; choose {BASELINE!r} or an index in "
                               f"0..{S.architectures - 1}")
    try:
        return sample_architecture(S.space, S.seed, architecture)
    except ValueError as err:
        raise ReplicationError(f"sampler: {err}") from None


def run_setup(settings, method: str, architecture) -> tuple:
    """(training block, network specs) of one run: the method's training block, the architecture's
    pair with the method's critic normalisation, and Appendix B's weight decay in the critic's
    optimizer when the sampled critic is normalised."""
    if method not in settings.methods:
        raise ReplicationError(f"unknown method {method!r}; choose one of {', '.join(settings.methods)}")
    factors, m = factors_of(settings, architecture), settings.methods[method]
    networks = table1_specs(factors, nz=settings.nz, critic_norm=m.critic_norm, init=settings.init,
                            channels=settings.data.channels)
    training = m.training
    if factors["critic"]["norm"]:
        critic = dataclasses.replace(training.optimizers["critic"], weight_decay=settings.critic_weight_decay)
        training = dataclasses.replace(training, optimizers={**training.optimizers, "critic": critic})
    return training, networks


def architecture_table(settings) -> pd.DataFrame:
    """One row per architecture (the sampled ones, then the baseline): its factors and the
    parameter counts of its generator and of each method's critic (batch norm and layer norm
    have the same count)."""
    rows = []
    for architecture in [*range(settings.sampler.architectures), BASELINE]:
        factors = factors_of(settings, architecture)
        row = {"architecture": architecture_key(architecture)}
        for role in ROLES:
            row.update({f"{role}_{k}": v for k, v in factors[role].items()})
        for method in settings.methods:
            specs = run_setup(settings, method, architecture)[1]
            row["params_generator"] = count_parameters(specs["generator"])
            row[f"params_critic_{method}"] = count_parameters(specs["critic"])
        rows.append(row)
    return pd.DataFrame(rows)


def sample(ctx: RunContext) -> dict:
    table = architecture_table(ctx.settings)
    write_frame(ctx.out_dir / "architectures.csv", table)
    sampled = table[table["architecture"] != BASELINE]
    return {"architectures": len(sampled), "seed": ctx.settings.sampler.seed,
            "params_generator_median": int(sampled["params_generator"].median()),
            "params_generator_max": int(sampled["params_generator"].max())}


# -- training and evaluation -----------------------------------------------------------------------

def paired(ctx: RunContext, architecture) -> RunContext:
    """The run's context with its random streams seeded by the architecture, not the method: both
    methods of one architecture start from the same weights and read the same batch order."""
    return dataclasses.replace(ctx, run=architecture_key(architecture))


def train(ctx: RunContext, method: str, architecture) -> dict:
    s = ctx.settings
    training, networks = run_setup(s, method, architecture)
    real, _ = images.load(s.data)
    E, extractor = s.evaluation, ctx.extractor()
    probe = lambda: quality_probe(extractor, None, n=E.curve_samples, batch_size=E.batch_size,  # noqa: E731
                                  **PROTOCOLS[E.protocol])
    t, _ = images.train_pair(ctx, training, networks, s.data, real, streams=paired(ctx, architecture),
                             probes={"inception_score": probe})
    return {"method": method, "architecture": architecture_key(architecture), "iterations": int(t.iteration),
            "weight_decay": training.optimizers["critic"].weight_decay}


def inception_score(ctx: RunContext, samples) -> dict:
    """IS of ``samples`` (a tensor or a fidelity ``Stream`` of batches) by the evaluation's protocol."""
    from replication.metrics.fidelity import evaluate_protocol

    E, extractor = ctx.settings.evaluation, ctx.extractor()
    (record,) = evaluate_protocol(E.protocol, samples, extractor, batch_size=E.batch_size)
    return {"is_mean": record["value"], "is_std": record["std"], "n_samples": record["n_samples"],
            "extractor": extractor.name, "proxy": extractor.proxy, "protocol": E.protocol}


def real_score(ctx: RunContext) -> dict:
    """The IS of ``evaluation.samples`` random held-out real images (the same protocol)."""
    s, E = ctx.settings, ctx.settings.evaluation
    real, _ = images.load(s.data, E.real_split)
    if E.samples > len(real):
        raise ReplicationError(f"evaluation.samples = {E.samples} but {s.data.dataset}/{E.real_split} "
                               f"has {len(real)} images")
    g = torch.Generator().manual_seed(ctx.seed_for("real"))
    from replication.metrics.fidelity import Stream

    keep = torch.randperm(len(real), generator=g)[: E.samples]
    batches = (to_symmetric_range(real[i]) for i in keep.split(E.batch_size))  # a batch at a time
    return {"split": E.real_split, **inception_score(ctx, Stream(batches, len(keep)))}


TASKS = {"sample": sample, "real_score": real_score, "train": train}


def EVALUATE(ctx: RunContext, networks: dict[str, nn.Module]) -> dict:
    """The run's final IS from its final generator alone (protocol and features of ``evaluation``)."""
    s, E, p = ctx.settings, ctx.settings.evaluation, ctx.params
    generator = networks["generator"]
    expected = run_setup(s, p["method"], p["architecture"])[1]["generator"]
    if sum(t.numel() for t in generator.parameters()) != count_parameters(expected):
        raise ReplicationError(f"the checkpoint's generator does not match architecture "
                               f"{architecture_key(p['architecture'])} at this scale: retrain the run")
    from replication.metrics.fidelity import Stream

    samples = sample_batches(generator, gaussian_noise(s.nz), E.samples, E.batch_size,
                             paired(ctx, p["architecture"]).seed_for("evaluate/samples"), ctx.device)
    return {"method": p["method"], "architecture": architecture_key(p["architecture"]),
            **inception_score(ctx, Stream(samples, E.samples))}


# -- thresholds, counts and claims -----------------------------------------------------------------

def published_table(settings) -> pd.DataFrame:
    T = settings.table2
    return pd.DataFrame([list(r) for r in T.rows], columns=list(T.columns))


def rescaled(thresholds, real: float | None, rescale, proxy: bool) -> list[float]:
    """The thresholds on this scale's features: as published with Inception; with the proxy,
    t' = 1 + (t - 1) x f x (R' - 1) / (B - 1) (settings ``rescale``: B the paper's DCGAN score,
    f the DCGAN's fraction of the real data's score above the floor 1, R' the proxy's real score)."""
    if not proxy:
        return [float(t) for t in thresholds]
    if real is None or not math.isfinite(real):
        raise ReplicationError("the proxy thresholds need the real_score run's IS")
    factor = rescale.baseline_fraction_of_real * (real - 1.0) / (rescale.baseline_score - 1.0)
    return [1.0 + (float(t) - 1.0) * factor for t in thresholds]


def scores(res: Results) -> pd.DataFrame:
    """One row per architecture: the final IS of its GAN and WGAN-GP runs (evaluation jobs)."""
    rows = {}
    for run in res.runs(task="train"):
        final = res.json(run, "final_metrics.json")["metrics"]
        row = rows.setdefault(final["architecture"], {"architecture": final["architecture"]})
        row[final["method"]] = final["is_mean"]
        row["proxy"] = final["proxy"]
    return pd.DataFrame(list(rows.values()))


def outcome_counts(table: pd.DataFrame, thresholds: list[float]) -> pd.DataFrame:
    """For each threshold, the architectures only the GAN, only WGAN-GP, both or neither trained
    above it (success: IS > threshold, Appendix B)."""
    rows = []
    for t in thresholds:
        gan, wgangp = table["gan"] > t, table["wgangp"] > t
        rows.append({"only_gan": int((gan & ~wgangp).sum()), "only_wgangp": int((~gan & wgangp).sum()),
                     "both": int((gan & wgangp).sum()), "neither": int((~gan & ~wgangp).sum())})
    return pd.DataFrame(rows)


def sign_test(only_wgangp: int, only_gan: int) -> float:
    """One-sided exact sign test over the discordant architectures (ties, both or neither
    succeeding, carry no sign): P(X >= only_wgangp), X ~ Binomial(discordant, 1/2); 1 without any."""
    from scipy.stats import binomtest

    n = only_wgangp + only_gan
    return 1.0 if n == 0 else float(binomtest(only_wgangp, n, 0.5, alternative="greater").pvalue)


def published_comparison(ours: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Per threshold and outcome, ours (of N) against the published count (of the paper's total):
    Fisher's exact test on the 2 x 2 table (this outcome or not, ours or theirs), and its
    p-value times the number of cells (Bonferroni, capped at 1)."""
    from scipy.stats import fisher_exact

    n_ours, n_paper = int(ours.iloc[0].sum()), int(published[list(OUTCOMES)].iloc[0].sum())
    cells = len(ours) * len(OUTCOMES)
    rows = []
    for i, threshold in enumerate(published["threshold"]):
        for outcome in OUTCOMES:
            k, kp = int(ours[outcome].iloc[i]), int(published[outcome].iloc[i])
            p = float(fisher_exact([[k, n_ours - k], [kp, n_paper - kp]]).pvalue)
            rows.append({"threshold": float(threshold), "outcome": outcome, "ours": k, "of": n_ours,
                         "published": kp, "of_published": n_paper, "p": p, "p_bonferroni": min(1.0, p * cells)})
    return pd.DataFrame(rows)


def equivalence(ours: pd.DataFrame, published: pd.DataFrame, judging) -> pd.DataFrame:
    """At the headline thresholds and outcomes, two one-sided tests (TOST) that our share of the
    architectures and the published share differ by less than ``judging.equivalence_margin``:
    normal approximation of the difference of two independent proportions, each share taken with
    one success and one failure added (Agresti-Caffo, so that counts of 0 or all keep a variance);
    p = the larger one-sided p-value. (statsmodels' tost_proportions_2indep does the same test;
    scipy, already a dependency, gives the normal tail.)"""
    from scipy.stats import norm

    n_ours, n_paper = int(ours.iloc[0].sum()), int(published[list(OUTCOMES)].iloc[0].sum())
    margin, rows = judging.equivalence_margin, []
    for i, threshold in enumerate(published["threshold"]):
        if float(threshold) not in judging.headline_thresholds:
            continue
        for outcome in judging.headline_outcomes:
            k, kp = int(ours[outcome].iloc[i]), int(published[outcome].iloc[i])
            a, b = (k + 1) / (n_ours + 2), (kp + 1) / (n_paper + 2)
            se = math.sqrt(a * (1 - a) / (n_ours + 2) + b * (1 - b) / (n_paper + 2))
            diff = k / n_ours - kp / n_paper
            p = float(max(norm.sf((diff + margin) / se), norm.sf((margin - diff) / se)))
            rows.append({"threshold": float(threshold), "outcome": outcome, "ours": k, "of": n_ours,
                         "published": kp, "of_published": n_paper, "difference": diff, "p_tost": p})
    return pd.DataFrame(rows)


def study(res: Results) -> dict:
    """Everything the claims and the notebook read (``study_from`` on this scale's result files)."""
    return study_from(scores(res), res.result(res.run(task="real_score")), res.settings)


def study_from(table: pd.DataFrame, real: dict, settings) -> dict:
    """The scores per sampled architecture, the baseline's, the thresholds on these scores'
    features, our counts beside the published ones (``table``: one row per architecture with the
    GAN's and WGAN-GP's final IS, the baseline's included; ``real``: the real_score result), and
    the test row: the highest threshold the GAN's baseline DCGAN clears (None if none)."""
    proxy = bool(table["proxy"].all())
    published = published_table(settings)
    thresholds = rescaled(published["threshold"], real["is_mean"], settings.rescale, proxy)
    baseline = table[table["architecture"] == BASELINE]
    if baseline.empty:
        raise ReplicationError(f"no {BASELINE} runs: the study needs the baseline DCGAN (its positive control)")
    sampled = table[table["architecture"] != BASELINE].reset_index(drop=True)
    counts = outcome_counts(sampled, thresholds)
    counts.insert(0, "threshold", thresholds)
    counts.insert(0, "published_threshold", published["threshold"].astype(float))
    baseline = baseline.iloc[0]
    cleared = [i for i, t in enumerate(thresholds) if baseline["gan"] > t]
    return {"scores": sampled, "baseline": baseline, "proxy": proxy, "real": real, "thresholds": thresholds,
            "test_row": cleared[-1] if cleared else None, "counts": counts, "published": published,
            "comparison": published_comparison(counts[list(OUTCOMES)], published),
            "equivalence": equivalence(counts[list(OUTCOMES)], published, settings.judging)}


def summarize(res: Results) -> dict:
    s, st = res.settings, study(res)
    files = res.files(res.runs(task="train"), "final_metrics.json") + ", " + res.files([res.run(task="real_score")])
    features = "proxy classifier" if st["proxy"] else "TF-Inception"
    protocol = (f"final IS of {s.evaluation.samples} samples per run ({s.evaluation.protocol}, {features}), "
                f"{len(st['scores'])} sampled architectures x 2 methods, {s.training['iterations']} generator iterations"
                + (f"; thresholds rescaled to the proxy by the settings' rule (real held-out images score "
                   f"{st['real']['is_mean']:.3f})" if st["proxy"] else ""))
    controls = {run: progress(res, run, "is", role="control", lower_is_better=False)
                for run in res.runs(task="train", architecture=BASELINE)}
    return judge(st, s.judging, protocol, files, controls)


def judge(st: dict, judging, protocol: str, files: str, controls: dict | None = None) -> dict:
    """The claims from a study (``study_from``): our counts against the published ones, and the
    sign test with the only-GAN bound at the highest threshold the GAN's baseline DCGAN clears
    (the positive control: not evaluated if it clears none). ``controls``: the baseline runs'
    training progress (``recipes.outcomes.progress``), which the claims layer requires to have
    trained: the architectures that fail under a method are read beside its trained baseline."""
    counts, baseline, n = st["counts"], st["baseline"], len(st["scores"])
    controls = controls or {}
    per_threshold = "; ".join(f"{r.published_threshold:g} (>{r.threshold:.3g}): {r.only_gan}/{r.only_wgangp}/{r.both}/"
                              f"{r.neither}" for r in counts.itertuples())
    out: dict = {}

    tost = st["equivalence"]
    worst = tost.loc[tost["p_tost"].idxmax()]
    out["counts_match_published"] = {
        "value": float(tost["p_tost"].max()), "file": files, "runs": controls,
        "note": (f"largest TOST p over {len(tost)} headline cells (margin {judging.equivalence_margin:g} of the "
                 f"shares): {worst['outcome']} at {worst['threshold']:g}, ours {int(worst['ours'])} of "
                 f"{int(worst['of'])} vs published {int(worst['published'])} of {int(worst['of_published'])} "
                 f"(difference {worst['difference']:+.3f}); counts only GAN / only WGAN-GP / both / neither per "
                 f"threshold: {per_threshold}; {protocol}")}

    # The positive control: the comparison is made at the highest threshold that the GAN's baseline
    # DCGAN clears under the same budget (above it, the GAN's failures may be under-training)
    control = (f"positive control: the GAN's baseline DCGAN scores {baseline['gan']:.3f} (WGAN-GP's "
               f"{baseline['wgangp']:.3f})")
    if st["test_row"] is None:
        out["wgangp_more_often"] = {"value": None, "reason": f"the GAN does not train the baseline DCGAN above the "
                                                             f"lowest threshold, so its failures are not evaluated; "
                                                             f"{control}"}
        return out
    row = counts.iloc[st["test_row"]]
    c = {k: int(row[k]) for k in OUTCOMES}
    p = sign_test(c["only_wgangp"], c["only_gan"])
    worst_gan = counts.loc[counts["only_gan"].idxmax()]
    only_gan_rare = bool((counts["only_gan"] <= judging.only_gan_max_fraction * n).all())
    out["wgangp_more_often"] = {
        "value": bool(p <= judging.alpha and only_gan_rare), "p": p, "file": files, "runs": controls,
        "note": (f"sign test at threshold {row['published_threshold']:g} (> {row['threshold']:.3g}), the highest the "
                 f"GAN's baseline DCGAN clears: only WGAN-GP "
                 f"{c['only_wgangp']}, only GAN {c['only_gan']} (both {c['both']}, neither {c['neither']}: ties), "
                 f"p = {p:.3g} (alpha {judging.alpha:g}); largest only-GAN count {int(worst_gan['only_gan'])} of {n} "
                 f"at {worst_gan['published_threshold']:g} (bound {judging.only_gan_max_fraction:g} x {n}); "
                 f"{control}; {protocol}")}
    return out
