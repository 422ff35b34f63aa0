"""WGAN-GP Table 4 (WGAN-GP Section 5.5 [P]): a character-level language model whose generator's
softmax goes straight to the critic, no sampling step (gan_language.py, language_helpers.py [C]),
and the standard GAN objective with the same continuous generator (Table 4's caption: "We were
unable to achieve comparable results with the standard GAN objective and a continuous generator").

Tasks (runs declared in workflow/config/experiments/wgangp_language.yaml)
- ``floor``: the real-vs-real floor of the n-gram JS: ``ngram.samples`` random training lines
  against the held-out reference, ``ngram.floor_draws`` draws (gan_language.py's start-up
  baseline, measured against the held-out text like the samples are).
- ``train`` (``<method>_s<seed>``): the engine trains the registry's ``language_g`` /
  ``language_d`` with the shared training block and the method's delta (``wgangp``: the
  paper's; ``gan``: the standard, non-saturating objective); real batches are one-hot, fake
  batches the generator's softmax. The probe ``ngram_js`` logs js1..js4 of ``ngram.samples``
  argmax-decoded samples against the held-out reference (and how one-hot the softmax is) every
  ``training.evaluation.every`` iterations, step 0 included; ``sample_lines`` writes the lines
  of a fixed noise batch at each evaluation.
- ``EVALUATE`` (generic evaluate rule, from the final networks alone): the final JS and the
  Table 4 lines of a fixed noise batch.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd
import torch
from torch import nn

from replication.data.batches import OneHotSource, SamplerSource, TensorSource
from replication.data.load import Corpus, load_corpus
from replication.data.text import UNK
from replication.data.toy import gaussian_noise
from replication.errors import ReplicationError
from replication.runs import Results, RunContext
from replication.io import write_frame, write_text
from replication.metrics.ngram import ngram_counts, ngram_js
from replication.recipes.outcomes import progress
from replication.train import EvalData, Sources, Trainer
from replication.train.convergence import fitted_change
from replication.train.evaluation import EvalContext

SHOWN_UNK = "\ufffd"  # 'unk' is one token; shown as one character so a line stays 32 wide


# -- data ---------------------------------------------------------------------------------

def reference_counts(corpus: Corpus, orders) -> dict:
    """The held-out n-gram counts every JS is measured against (counted once per run)."""
    return {n: ngram_counts(corpus.heldout, n) for n in orders}


def shown(tokens: tuple[str, ...]) -> str:
    return "".join(SHOWN_UNK if t == UNK else t for t in tokens)


# -- networks and sampling ----------------------------------------------------------------------

def network_specs(settings, vocab: int) -> dict:
    """The registry specs with the data's vocabulary and line length filled in."""
    shape = {"vocab": vocab, "seq_len": settings.data.seq_len}
    return {role: {**spec, **shape} for role, spec in settings.networks.items()}


def generate(generator: nn.Module, noise: Callable, n: int, batch_size: int, rng: torch.Generator,
             device: torch.device) -> torch.Tensor:
    """Softmax outputs (n, seq_len, vocab) in batches of ``batch_size`` (gan_language.py draws
    its 640 samples as 10 batches of 64), on the CPU."""
    with torch.no_grad():
        return torch.cat([generator(noise(min(batch_size, n - i), rng).to(device)).float().cpu()
                          for i in range(0, n, batch_size)])


def measures(probs: torch.Tensor, corpus: Corpus, reference: dict, orders) -> dict:
    """js<n> of the argmax-decoded samples against the held-out reference (bits), and the mean
    largest softmax probability (1 for one-hot outputs, 1/vocab for uniform ones)."""
    return {**ngram_js(corpus.decode(probs.argmax(-1)), reference, orders),
            "softmax_max": float(probs.max(-1).values.mean())}


def probes(settings, corpus: Corpus) -> dict:
    g = settings.ngram
    reference = reference_counts(corpus, g.orders)

    def ngram_probe(ev: EvalContext) -> dict:
        probs = generate(ev.networks["generator"], ev.data.noise, g.samples, g.batch_size, ev.generator, ev.device)
        return measures(probs, corpus, reference, g.orders)

    def lines_probe(ev: EvalContext) -> dict:
        with torch.no_grad():
            probs = ev.networks["generator"](ev.fixed_noise.to(ev.device)).cpu()
        path = ev.out_dir / "samples" / f"step_{ev.iteration:07d}.txt"
        write_text(path, "".join(shown(line) + "\n" for line in corpus.decode(probs.argmax(-1))))
        return {}

    return {"ngram_js": ngram_probe, "sample_lines": lines_probe}


# -- tasks ------------------------------------------------------------------------------------

def floor(ctx: RunContext) -> dict:
    s, g = ctx.settings, ctx.settings.ngram
    corpus = load_corpus(s.data)
    reference = reference_counts(corpus, g.orders)
    if len(corpus.train) < g.samples:
        raise ReplicationError(f"{len(corpus.train)} training lines, fewer than ngram.samples = {g.samples}")
    gen = torch.Generator().manual_seed(ctx.seed_for("floor"))
    rows = []
    for draw in range(g.floor_draws):
        pick = torch.randperm(len(corpus.train), generator=gen)[: g.samples]
        rows.append({"draw": draw, **ngram_js(corpus.decode(corpus.train[pick]), reference, g.orders)})
    frame = pd.DataFrame(rows)
    write_frame(ctx.out_dir / "floor.csv", frame)
    out = {"samples": g.samples, "draws": len(frame), "train_lines": len(corpus.train),
           "heldout_lines": len(corpus.heldout), "vocab": corpus.vocab}
    for n in g.orders:
        out[f"js{n}_mean"] = float(frame[f"js{n}"].mean())
        out[f"js{n}_sd"] = float(frame[f"js{n}"].std(ddof=1)) if len(frame) > 1 else float("nan")
    return out


def trainer(ctx: RunContext, method: str, corpus: Corpus | None = None, on_iteration=None) -> Trainer:
    """The engine's trainer of one method: real batches one-hot, z ~ N(0, I), the probes above."""
    s, m = ctx.settings, ctx.settings.methods[method]
    corpus = corpus or load_corpus(s.data)
    B, nz = m.training.batch_size, s.networks["generator"]["nz"]
    sources = Sources(
        real=OneHotSource(TensorSource(corpus.train.to(ctx.device), B, ctx.seed_for("data/real")), corpus.vocab),
        noise=SamplerSource(gaussian_noise(nz), B, ctx.device, ctx.seed_for("data/noise")))
    return ctx.make_trainer(m.training, network_specs(s, corpus.vocab), sources,
                            eval_data=EvalData(noise=gaussian_noise(nz)), probes=probes(s, corpus),
                            on_iteration=on_iteration)


def train(ctx: RunContext, method: str, seed: int) -> dict:
    s = ctx.settings
    corpus = load_corpus(s.data)
    t = trainer(ctx, method, corpus)
    t.fit()
    written = t.write_outputs(ctx.out_dir)
    evaluations = pd.read_csv(written["evaluation"])
    first, last = evaluations.iloc[0], evaluations.iloc[-1]
    orders = s.ngram.orders
    return {"method": method, "seed": seed, "iterations": int(t.iteration), "vocab": corpus.vocab,
            "train_lines": len(corpus.train), "heldout_lines": len(corpus.heldout),
            "evaluated_at": [int(first["step"]), int(last["step"])],
            **{f"js{n}_at_init": float(first[f"js{n}"]) for n in orders},
            **{f"js{n}_last_evaluation": float(last[f"js{n}"]) for n in orders}}


TASKS = {"floor": floor, "train": train}


def EVALUATE(ctx: RunContext, networks: dict[str, nn.Module]) -> dict:
    """The final generator alone: js<n> of ``ngram.samples`` fresh samples and the Table 4 lines
    of a fixed noise batch (``table.lines`` of them), both decoded by argmax."""
    s, g = ctx.settings, ctx.settings.ngram
    corpus = load_corpus(s.data)
    generator, nz = networks["generator"], s.networks["generator"]["nz"]
    if generator.output.out_channels != corpus.vocab:
        raise ReplicationError(f"the generator's vocabulary ({generator.output.out_channels}) is not the corpus' "
                               f"({corpus.vocab}): the checkpoint was trained on other data")
    probs = generate(generator, gaussian_noise(nz), g.samples, g.batch_size,
                     torch.Generator().manual_seed(ctx.seed_for("evaluate/ngram")), ctx.device)
    table = generate(generator, gaussian_noise(nz), s.table.lines, g.batch_size,
                     torch.Generator().manual_seed(ctx.seed_for("evaluate/table")), ctx.device)
    return {**measures(probs, corpus, reference_counts(corpus, g.orders), g.orders),
            "samples": g.samples, "lines": [shown(line) for line in corpus.decode(table.argmax(-1))]}


# -- measured values for the claims -------------------------------------------------------

def gap(final: float, initial: float, floor_value: float) -> float:
    """The share of the distance from the untrained generator to the real-data floor that is
    left: 1 at initialisation, 0 at the floor."""
    return (final - floor_value) / (initial - floor_value)


def curve(res: Results, run: str, column: str) -> pd.Series:
    """A run's evaluation curve of ``column`` (index: generator iteration)."""
    frame = res.frame(run, "evaluation.csv")
    return frame.set_index("step")[column]


def still_falling(values: pd.Series, fraction: float) -> float:
    """The least-squares fitted change of ``values`` over their last ``fraction`` (at least two
    points): negative while the curve still falls."""
    tail = values.iloc[-max(2, int(round(fraction * len(values)))):]
    return fitted_change(tail.to_numpy())


def summarize(res: Results) -> dict:
    s = res.settings
    orders, C = s.ngram.orders, s.comparison
    top = f"js{max(orders)}"
    fl = res.result(res.run(task="floor"))
    floor_value = fl[f"{top}_mean"]
    shape = (f"width {s.networks['generator']['width']} (paper 512), {s.training['iterations']} generator "
             f"iterations, {s.data.dataset}, {s.ngram.samples} samples vs {fl['heldout_lines']} held-out "
             f"lines; real-vs-real floor {top} = {floor_value:.4f} (sd {fl[f'{top}_sd']:.4f}, {fl['draws']} draws)")

    rows = {}
    for run in res.runs(task="train"):
        p, js = res.params(run), curve(res, run, top)
        rows[run] = {"method": p["method"], "seed": p["seed"], "initial": float(js.iloc[0]), "final": float(js.iloc[-1]),
                         "step": int(js.index[-1]), "gap": gap(float(js.iloc[-1]), float(js.iloc[0]), floor_value),
                     "tail_change": still_falling(js, C.plateau_fraction)}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    wgangp, gan = frame[frame.method == "wgangp"], frame[frame.method == "gan"]
    files = res.files(list(rows), "evaluation.csv") + ", " + str(res.path(res.run(task="floor"), "floor.csv"))

    def described(runs: pd.DataFrame) -> str:
        return "; ".join(f"{r}: {v.initial:.4f} at 0 -> {v.final:.4f} at {v.step} (gap {v.gap:.3f})"
                         for r, v in runs.iterrows())

    learned = {r: progress(res, r, top) for r in wgangp.index}  # the WGAN-GP runs the claims need trained
    out = {"wgangp_js4_gap": {
        "value": float(wgangp["gap"].max()), "start": 1.0, "file": files, "runs": learned,
        "note": f"worst (largest) over {len(wgangp)} seeds of ({top}_final - floor) / ({top}_init - floor): "
                + described(wgangp) + f"; {shape}"}}

    paired = wgangp.merge(gan, on="seed", suffixes=("_wgangp", "_gan")).set_index("seed")
    falling = gan[gan["tail_change"] < -C.plateau_tol]
    common = (f"GAN: {described(gan)}; the GAN's {top} changed by "
              + ", ".join(f"{v:+.4f}" for v in gan["tail_change"])
              + f" over the last {C.plateau_fraction:g} of its evaluations; {shape}")
    if len(falling):
        out["gan_minus_wgangp_js4"] = {
            "value": None, "file": files,
            "reason": f"positive control failed: the GAN's {top} was still falling at the end of the budget in "
                      f"{', '.join(falling.index)} (under-training is not failure); " + common}
    else:
        diffs = [float(d) for d in paired["final_gan"] - paired["final_wgangp"]]
        out["gan_minus_wgangp_js4"] = {
            "value": diffs, "file": files, "runs": learned,
            "note": f"per seed {list(paired.index)}: {top}(gan) - {top}(wgangp) = " + ", ".join(f"{d:+.4f}" for d in diffs)
                    + f"; WGAN-GP gaps {', '.join(f'{g:.3f}' for g in paired['gap_wgangp'])}; " + common}
    return out
