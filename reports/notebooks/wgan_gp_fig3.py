# %% [markdown]
# # WGAN-GP Figure 3: inception score over generator iterations and over training time
#
# gan_cifar.py's DCGAN-like generator and critic trained four ways: WGAN with weight
# clipping (TF RMSProp), WGAN-GP with the same RMSProp and learning rate, WGAN-GP with Adam,
# and DCGAN (non-saturating GAN, Adam). Every point is the inception score of 1,000 fresh
# samples split into 10 (the 1k-sample IS of the paper's figure, biased low against
# 50k-sample scores); at scales below `paper` the calibrated proxy classifier on
# Fashion-MNIST (padded to 32×32) replaces Inception on CIFAR-10, so the values are proxy
# IS, comparable only within this figure. Left: against generator iterations; right:
# against the run's own training time (evaluations excluded) — process CPU time for runs
# on a CPU, wall-clock time on a GPU; the axis label says which. One line per run: the
# seeds of a method share its colour.

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import matplotlib.pyplot as plt
import pandas as pd

from replication.runs import Results
from replication.experiments.wgangp_cifar_curves import CLOCK_COLUMN, METHODS
from replication.report import figure_path

LABELS = {"clip": "Weight clipping", "gp_rmsprop": "Gradient Penalty (RMSProp)",
          "gp_adam": "Gradient Penalty (Adam)", "dcgan": "DCGAN"}

res = Results("wgangp_cifar_curves", scale, results, extra_deltas)
settings = res.settings
frames = []
for run in res.runs(task="train"):  # every run's evaluation rows, with the time axis of its clock
    summary, rows = res.result(run), res.frame(run, "evaluation.csv")
    frames.append(rows.assign(run=run, method=summary["method"], seed=summary["seed"], clock=summary["clock"],
                              seconds=rows[CLOCK_COLUMN[summary["clock"]]]))
frame = pd.concat(frames, ignore_index=True)
summaries = pd.DataFrame([res.result(r) for r in res.runs(task="train")])
proxy = bool(summaries["proxy"].all())
clocks = set(summaries["clock"])
colors = {"clip": "tab:blue", "gp_rmsprop": "tab:orange", "gp_adam": "tab:green", "dcgan": "tab:red"}
styles = ["-", "--", ":", "-."]

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
for method in METHODS:
    for k, seed in enumerate(settings.seeds):
        run = frame[(frame.method == method) & (frame.seed == seed)]
        label = LABELS[method] if k == 0 else None
        axes[0].plot(run.step, run["is"], styles[k % 4], color=colors[method], label=label)
        axes[1].plot(run.seconds, run["is"], styles[k % 4], color=colors[method], label=label)
ylabel = "Inception Score" + (" (proxy classifier)" if proxy else "")
time_label = ("Wall-clock time (in seconds)" if clocks == {"wall"} else
              "Training time (process CPU seconds)" if clocks == {"cpu"} else
              "Training time (seconds; mixed clocks: " + ", ".join(sorted(clocks)) + ")")
axes[0].set(xlabel="Generator iterations", ylabel=ylabel)
axes[1].set(xlabel=time_label)
axes[0].ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
axes[0].legend(loc="lower right", fontsize=8)
seeds_note = ", ".join(f"{s} ({styles[k % 4]})" for k, s in enumerate(settings.seeds))
fig.suptitle(f"scale {scale}: {settings.data.dataset}, width {settings.networks['generator']['width']}, "
             f"seeds {seeds_note}", fontsize=9)
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wgan_gp/fig3"), dpi=130)
fig.savefig(figure_path(reports, scale, "wgan_gp/fig3", ".pdf"))

# %% [markdown]
# Samples of the fixed noise batch at the last evaluation (first seed), one grid per method,
# as the generator emits them (3 channels; below `paper` the real images are grey repeated to
# 3 channels, and the proxy classifier scores the channels' mean).

# %%
first = settings.seeds[0]
fig, axes = plt.subplots(1, len(METHODS), figsize=(3.2 * len(METHODS), 3.4))
for ax, method in zip(axes, METHODS):
    run = res.run(task="train", method=method, seed=first)
    grids = sorted(res.path(run, "samples").glob("step_*.png"))
    ax.imshow(plt.imread(grids[-1]))
    ax.set_title(f"{LABELS[method]}\niteration {int(grids[-1].stem.split('_')[1])}", fontsize=8)
    ax.axis("off")
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wgan_gp/fig3", part="samples"), dpi=130, bbox_inches="tight")

# %% [markdown]
# The points of both panels, and per run: step-0 and final scores (mean over the last
# `measures.final_fraction` of the run) and the training time per generator iteration.

# %%
frame.drop(columns=["run"]).to_csv(figure_path(reports, scale, "wgan_gp/fig3", ".csv"), index=False)
table = summaries[["method", "seed", "iterations", "is_start", "final_score", "train_seconds", "seconds_per_iteration",
                   "clock", "extractor", "samples_per_score"]].round(4)
table.to_csv(figure_path(reports, scale, "wgan_gp/fig3", ".csv", part="runs"), index=False)
figure_path(reports, scale, "wgan_gp/fig3", ".md", part="runs").write_text(table.to_markdown(index=False) + "\n")
table

# %%
pd.DataFrame(res.measured()).T
