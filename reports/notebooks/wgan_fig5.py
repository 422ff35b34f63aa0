# %% [markdown]
# # WGAN Figure 5: samples with the DCGAN generator
#
# Left: WGAN (weight clipping, RMSProp); right: the standard GAN (pytorch/examples dcgan:
# non-saturating loss, Adam). DCGAN critic / discriminator in both. Paper: "Both algorithms
# produce high quality samples (the positive control of Figures 6 and 7)."
#
# Each sheet is the generator at its last iteration on one fixed noise batch (the run's last
# sample grid). Above each sheet: the run's outcome by the pre-registered thresholds of the
# settings (`outcome`: works / poor / collapses / fails) and its measures on fresh samples (FID;
# with the proxy classifier at smoke/small also intra-class FID and the effective number of
# classes). Below: the measures at every evaluation, and the claims of this figure.

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"

# %%
import matplotlib.pyplot as plt
import pandas as pd

from replication.experiments import Results
from replication.experiments.wgan_stability import figure, outcomes, quality_curves
from replication.report import figure_path

res = Results("wgan_stability", scale, results)
generator = "dcgan"
figure(res, generator, reports);

# %%
table = outcomes(res)
table = table[table["generator"] == generator].drop(columns=["step"], errors="ignore")
table.to_csv(figure_path(reports, scale, "wgan/fig5", ".csv"), index=False)
table

# %%
curves = quality_curves(res, generator)
columns = [c for c in ("fid", "intra_fid", "effective_classes") if c in curves]
fig, axes = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 3.2), squeeze=False)
for ax, column in zip(axes[0], columns):
    for run, frame in curves.groupby("run"):
        ax.plot(frame["step"], frame[column], marker="o", ms=3, label=run)
    ax.set(xlabel="generator iterations", ylabel=column, yscale="log" if column != "effective_classes" else "linear")
    ax.legend(fontsize=7)
fig.suptitle(f"Measures during training ({'proxy' if table['proxy'].iloc[0] else 'Inception'} features, scale {scale})",
             fontsize=10)
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wgan/fig5", part="curves"), dpi=130)

# %%
pd.DataFrame(res.measured()).T
