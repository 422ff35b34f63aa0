# %% [markdown]
# # WGAN-GP Table 3: inception scores on CIFAR-10, unsupervised and supervised
#
# gan_cifar_resnet.py's ResNet WGAN-GP trained twice: unsupervised (plain batch norm, no
# classifier head) and supervised with AC-GAN label information (conditional batch norm in G,
# a classifier head on the critic). The table prints the paper's rows — every row but
# "WGAN-GP ResNet" is **cited** by the paper from other work — with ours beside them: IS as
# mean ± std over 10 unshuffled splits of the final checkpoint's samples (uniform labels),
# computed by the separate evaluation job. FID and KID of the same samples against the
# training split are **our supplement** (the paper has none). At scales below `paper` the
# calibrated proxy classifier on Fashion-MNIST (padded to 32×32, grey repeated to 3 channels)
# replaces Inception on CIFAR-10: those numbers are proxy scores, comparable only with each
# other, never with the published column.

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import matplotlib.pyplot as plt
import pandas as pd

from replication.runs import Results
from replication.experiments.wgangp_cifar_resnet import MODELS, final_rows
from replication.report import figure_path

LABELS = {"unconditional": "Unsupervised", "conditional": "Supervised (AC-GAN)"}
OURS = "WGAN-GP ResNet"
# WGAN-GP Table 3 [P]: (method, IS, std or None, cited?) per column, in the
# paper's order; every row but WGAN-GP's own is cited from another paper.
TABLE3 = {
    "unconditional": [("ALI (in DFM paper)", 5.34, 0.05, True), ("BEGAN", 5.62, None, True),
                      ("DCGAN (in SGAN paper)", 6.16, 0.07, True), ("Improved GAN (-L+HA)", 6.86, 0.06, True),
                      ("EGAN-Ent-VI", 7.07, 0.10, True), ("DFM", 7.72, 0.13, True), (OURS, 7.86, 0.07, False)],
    "conditional": [("SteinGAN", 6.35, None, True), ("DCGAN (with labels, in SteinGAN paper)", 6.58, None, True),
                    ("Improved GAN", 8.09, 0.07, True), ("AC-GAN", 8.25, 0.07, True),
                    ("SGAN-no-joint", 8.37, 0.08, True), (OURS, 8.42, 0.10, False), ("SGAN", 8.59, 0.12, True)],
}

res = Results("wgangp_cifar_resnet", scale, results, extra_deltas)
settings = res.settings
rows = final_rows(res)
proxy = bool(rows.proxy.all())
features = "proxy classifier" if proxy else "TF-Inception"


def pm(mean, std, digits=2):
    return "—" if pd.isna(mean) else f"{mean:.{digits}f}" + ("" if std is None or pd.isna(std) else f" ± {std:.{digits}f}")


table = []
for model in MODELS:
    for method, value, std, cited in TABLE3[model]:
        table.append({"column": LABELS[model], "method": method, "IS (published)": pm(value, std),
                      "source": "cited in WGAN-GP Table 3" if cited else "WGAN-GP Table 3 (the paper's own)",
                      "IS (ours)": "", "FID (ours, supplement)": "", "KID (ours, supplement)": ""})
        if method == OURS:
            for r in rows[rows.model == model].itertuples():
                table.append({"column": LABELS[model], "method": f"{OURS}, this reproduction (seed {r.seed})",
                              "IS (published)": "", "source": f"ours, scale {scale}, {features}",
                              "IS (ours)": pm(r.is_mean, r.is_std), "FID (ours, supplement)": f"{r.fid:.3f}",
                              "KID (ours, supplement)": pm(r.kid_mean, r.kid_std, 4)})
table = pd.DataFrame(table)
first = rows.iloc[0]
protocol = (f"Scale {scale}: {settings.data.dataset} ({settings.data.split}), width "
            f"{settings.networks['generator']['width']} (paper 128), {first.iterations} generator iterations "
            f"(paper 100,000), final checkpoint. IS: {first.n_samples} samples generated 100 at a time, uint8 by "
            f"((x+1)·255.99/2), 10 consecutive unshuffled splits, mean ± std over the splits "
            f"({settings.evaluation.protocol}), {features}"
            + (" — proxy IS, not comparable with the published column" if proxy else " (torch-fidelity inception-v3-compat)")
            + f". FID and KID (ours): the same samples against {first.reference}; KID mean ± std over "
            f"{settings.evaluation.kid.subsets} subsets of {settings.evaluation.kid.subset_size}.")
table.to_csv(figure_path(reports, scale, "wgan_gp/table3", ".csv"), index=False)
figure_path(reports, scale, "wgan_gp/table3", ".md").write_text(table.to_markdown(index=False) + "\n\n" + protocol + "\n")
print(protocol)
table

# %% [markdown]
# Training-time curves (the code's every-1,000-iteration log; here every
# `training.evaluation.every`): IS and FID of `evaluation.curve_samples` fresh samples per point,
# and the final checkpoint of each model on the same noise (the supervised model with the code's
# fixed labels, one class per column).

# %%
frame = pd.concat([res.frame(run, "evaluation.csv").assign(run=run, **{k: res.params(run)[k] for k in ("model", "seed")})
                   for run in res.runs(task="train")], ignore_index=True)
colors = {"unconditional": "tab:blue", "conditional": "tab:orange"}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for model in MODELS:  # the table's column order
    for seed in settings.seeds:
        run = frame[(frame.model == model) & (frame.seed == seed)]
        axes[0].plot(run.step, run["is"], color=colors[model], label=f"{LABELS[model]} (seed {seed})")
        axes[1].plot(run.step, run["fid"], color=colors[model], label=f"{LABELS[model]} (seed {seed})")
axes[0].set(xlabel="Generator iterations", ylabel="Inception Score" + (" (proxy classifier)" if proxy else ""))
axes[1].set(xlabel="Generator iterations", ylabel="FID" + (" (proxy features)" if proxy else ""), yscale="log")
axes[0].legend(fontsize=8)
fig.suptitle(f"scale {scale}: {settings.data.dataset}, width {settings.networks['generator']['width']}, "
             f"{settings.evaluation.curve_samples} samples per point", fontsize=9)
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wgan_gp/table3", part="curves"), dpi=130)

first_seed = settings.seeds[0]
fig, axes = plt.subplots(1, len(MODELS), figsize=(5 * len(MODELS), 5.2))
for ax, model in zip(axes, MODELS):
    run = res.run(task="train", model=model, seed=first_seed)
    ax.imshow(plt.imread(res.path(run, "final_grid.png")))
    ax.set_title(f"{LABELS[model]}, final checkpoint", fontsize=9)
    ax.axis("off")
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wgan_gp/table3", part="samples"), dpi=130, bbox_inches="tight")

# %%
pd.DataFrame(res.measured()).T
