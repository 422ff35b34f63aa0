# %% [markdown]
# # WGAN-GP Table 2 / Table 5: random architectures, standard GAN vs WGAN-GP
#
# Architectures sampled from Table 1's space (nonlinearity, depth, normalisation and base
# filter count, for the generator and the critic independently), each trained once with the
# standard GAN and once with WGAN-GP (Appendix B). For every minimum inception score, the
# table counts the architectures that only the GAN, only WGAN-GP, both or neither trained
# above it, ours beside the published counts (of 200), with the Bonferroni-adjusted p-value
# of Fisher's exact test per cell. At scales below `paper` the scores are the proxy
# classifier's IS on Fashion-MNIST, and the thresholds are the published ones rescaled to the
# proxy by the rule fixed in the settings (`rescale`): the published counts are then a shape
# to compare with, not a number to meet. The figures show both methods' score distributions
# and one point per architecture (GAN vs WGAN-GP).

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
from replication.experiments.wgangp_architectures import LABELS, METHODS, OUTCOMES, study
from replication.report import figure_path

res = Results("wgangp_architectures", scale, results, extra_deltas)
settings = res.settings
st = study(res)
features = "proxy classifier" if st["proxy"] else "TF-Inception"
counts, published, comparison = st["counts"], st["published"], st["comparison"]
n = len(st["scores"])

table = pd.DataFrame({"min. score (paper)": counts["published_threshold"],
                      "threshold here": counts["threshold"].round(3)})
for outcome in OUTCOMES:
    cells = comparison[comparison["outcome"] == outcome].reset_index(drop=True)
    table[f"{outcome} (published, of {int(published[list(OUTCOMES)].iloc[0].sum())})"] = published[outcome]
    table[f"{outcome} (ours, of {n})"] = counts[outcome]
    table[f"{outcome} p (Bonferroni)"] = cells["p_bonferroni"].round(4)
protocol = (f"Scale {scale}: {settings.data.dataset}, {n} sampled architectures (sampler seed "
            f"{settings.sampler.seed}) x 2 methods, {settings.training['iterations']} generator iterations, "
            f"base filter counts {settings.sampler.space['width']} (paper 32, 64, 128). Final IS of "
            f"{settings.evaluation.samples} samples per run from the final checkpoint, 10 unshuffled splits "
            f"({settings.evaluation.protocol}), {features}"
            + (f"; thresholds rescaled to the proxy (real held-out images: proxy IS {st['real']['is_mean']:.3f}), "
               "not comparable with Inception scores" if st["proxy"] else "")
            + f". Baseline DCGAN (positive control, outside the counts): GAN {st['baseline']['gan']:.3f}, "
              f"WGAN-GP {st['baseline']['wgangp']:.3f} (the paper's standard DCGAN: 7.24).")
table.to_csv(figure_path(reports, scale, "wgan_gp/table2", ".csv"), index=False)
figure_path(reports, scale, "wgan_gp/table2", ".md").write_text(table.to_markdown(index=False) + "\n\n" + protocol + "\n")
print(protocol)
table

# %% [markdown]
# The count comparison the claim judges: at Table 2's headline thresholds, two one-sided tests
# (TOST) that our share of 'only WGAN-GP' and of 'both' is within the registered margin of the
# published share (settings `judging`); the claim takes the largest p.

# %%
st["equivalence"].round(4).to_csv(figure_path(reports, scale, "wgan_gp/table2", ".csv", part="equivalence"), index=False)
st["equivalence"].round(4)

# %% [markdown]
# The sampled architectures with their parameter counts (the `architectures` run's result
# file; the list is reproducible from the sampler's seed).

# %%
architectures = pd.read_csv(res.path(res.run(task="sample"), "architectures.csv"))
architectures.merge(st["scores"][["architecture", *METHODS]], on="architecture", how="left")

# %% [markdown]
# Score distributions of the two methods (the thresholds as vertical lines) and one point per
# architecture, GAN against WGAN-GP: points above the diagonal are architectures that WGAN-GP
# trained better.

# %%
scores = st["scores"]
fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
top = max(scores[list(METHODS)].max().max(), st["baseline"][list(METHODS)].max(), max(st["thresholds"]))
bins = np.linspace(1.0, 1.0 + (top - 1.0) * 1.03, 25)  # IS >= 1: from the floor to past the top threshold
for method, color in zip(METHODS, ("tab:orange", "tab:blue")):
    axes[0].hist(scores[method], bins=bins, alpha=0.55, color=color, label=LABELS[method])
for t in st["thresholds"]:
    axes[0].axvline(t, color="grey", lw=0.5, alpha=0.5)
axes[0].set(xlabel="final inception score" + (" (proxy)" if st["proxy"] else ""), ylabel="architectures")
axes[0].legend()
axes[1].scatter(scores["gan"], scores["wgangp"], s=18, color="tab:blue", label="sampled architectures")
axes[1].scatter([st["baseline"]["gan"]], [st["baseline"]["wgangp"]], marker="*", s=120, color="tab:red",
                label="baseline DCGAN")
low, high = bins[0], bins[-1]
axes[1].plot([low, high], [low, high], color="grey", lw=0.8)
if st["test_row"] is not None:  # the sign test's threshold: the highest the GAN's baseline clears
    test = st["thresholds"][st["test_row"]]
    axes[1].axvline(test, color="grey", ls="--", lw=0.8)
    axes[1].axhline(test, color="grey", ls="--", lw=0.8, label="test threshold")
axes[1].set(xlabel="GAN inception score", ylabel="WGAN-GP inception score", xlim=(low, high), ylim=(low, high))
axes[1].legend(fontsize=8)
fig.suptitle(f"wgan_gp/table2: {n} architectures, scale {scale}, {features}", fontsize=10)
fig.tight_layout()
for suffix in (".png", ".pdf"):
    fig.savefig(figure_path(reports, scale, "wgan_gp/table2", suffix, part="scores"), dpi=130)

# %%
pd.DataFrame(res.measured()).T
