# %% [markdown]
# # WGAN-GP Figure 1a: value surfaces of optimal critics on toy data
#
# Critics (2→512→512→512→1 ReLU, tflib init) trained until a logged convergence criterion
# holds, against gan_toy.py's fixed generator (fake = real batch + $N(0, I)$), with weight
# clipping ($c = 0.01$, top row) and with the gradient penalty ($\lambda = 10$, the paper,
# middle row). The bottom row is the released code's $\lambda = 0.1$, reported separately.
# Contours of the critic on a 128×128 grid over $[-3, 3]^2$; real points orange '+',
# generated (fixed-generator) points green '+'. The table compares each critic's W1
# estimate $E f(\text{real}) - E f(\text{fake})$ on held-out samples with exact optimal
# transport on held-out samples of the same size, corrected for the penalty's bias: the
# penalised optimum is about $k f^*$ with $k = 1 + W_1 / (2\lambda)$, so a GP critic's
# estimate divided by $k$ is compared with $W_1$. "explained" is the share of the exact OT
# potential's variance on the held-out real + fake points that the critic explains
# (corr$^2$; at initialisation in brackets): Figure 1a's "simple approximations to the
# optimal functions" read on the data support.

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from replication.runs import Results
from replication.report import figure_path

res = Results("wgangp_toy", scale, results, extra_deltas)
S = res.settings.surface
datasets = [res.params(r)["dataset"] for r in res.runs(task="ot")]
titles = {"8gaussians": "8 Gaussians", "25gaussians": "25 Gaussians", "swissroll": "Swiss Roll"}


def method_label(method):
    lip = S.methods[method].training.lipschitz
    if lip.method == "clip":
        return f"weight clipping ($c$ = {lip.clip_value:g})"
    text = f"gradient penalty ($\\lambda$ = {lip.gp_lambda:g})"
    return text if method == "gp" else f"code's $\\lambda$ = {lip.gp_lambda:g} (extra)"


methods = [(m, method_label(m)) for m in S.methods]  # rows: clip, gp (the paper), gp_code (extra)


def load(run):
    return res.frame(run, "surface.csv"), res.frame(run, "samples.csv"), res.result(run)


# %%
fig, axes = plt.subplots(len(methods), len(datasets), figsize=(3.3 * len(datasets), 3.3 * len(methods)), squeeze=False)
rows = []
for j, ds in enumerate(datasets):
    (ot_run,) = res.runs(task="ot", dataset=ds)
    ot = res.result(ot_run)
    for i, (method, label) in enumerate(methods):
        ax = axes[i, j]
        (run,) = res.runs(task="surface", dataset=ds, method=method)
        surface, samples, summary = load(run)
        axis = np.unique(surface.x)
        values = surface.value.to_numpy().reshape(len(axis), len(axis))  # [i, j] = (x_i, y_j)
        ax.contour(axis, axis, values.T, levels=15, cmap="viridis", linewidths=0.8)
        real, fake = samples[samples["sample"] == "real"], samples[samples["sample"] == "fake"]
        ax.scatter(real.x, real.y, marker="+", c="orange", s=12, lw=0.8)
        ax.scatter(fake.x, fake.y, marker="+", c="green", s=12, lw=0.6, alpha=0.5)
        ax.set(xlim=(axis[0], axis[-1]), ylim=(axis[0], axis[-1]), xticks=[], yticks=[], aspect="equal")
        conv = summary["converged_at"]
        lip = S.methods[method].training.lipschitz
        k = 1 + ot["w1_ot_mean"] / (2 * lip.gp_lambda) if lip.method == "gp" else None
        ax.set_title(f"{titles.get(ds, ds)}\n{label}" if i == 0 else label, fontsize=9)
        ax.text(0.02, 0.02, f"conv. {conv if conv is not None else 'no'} / cap {summary['cap']} it.\n"
                f"W est. {summary['w1_critic']:.3f}" + (f" /k = {summary['w1_critic'] / k:.3f}" if k else "")
                + f" (OT {ot['w1_ot_mean']:.3f})\nexplained {summary['ot_potential_explained']:.2f}"
                f" (init {summary['ot_potential_explained_at_init']:.2f})", transform=ax.transAxes, fontsize=7,
                bbox=dict(fc="white", alpha=0.7, lw=0))
        rows.append({"dataset": ds, "method": method, "iterations": summary["iterations"], "cap": summary["cap"],
                     "converged_at": conv, "w1_critic": summary["w1_critic"], "w1_critic_sd": summary["w1_critic_sd"],
                     "w1_ot_mean": ot["w1_ot_mean"], "w1_ot_sd": ot["w1_ot_sd"], "ot_draws": ot["repeats"],
                     "k": k, "abs_dev_corrected": abs(summary["w1_critic"] / k - ot["w1_ot_mean"]) if k else None,
                     "ot_potential_explained": summary["ot_potential_explained"],
                     "ot_potential_explained_at_init": summary["ot_potential_explained_at_init"],
                     "quadratic_r2": summary["quadratic_r2"]})
fig.suptitle(f"Critic value surfaces (scale {scale})", fontsize=10)
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wgan_gp/fig1a"), dpi=130)

# %%
table = pd.DataFrame(rows)
table.to_csv(figure_path(reports, scale, "wgan_gp/fig1a", ".csv"), index=False)
table

# %%
pd.DataFrame(res.measured()).T
