# %% [markdown]
# # WAE Figure 2: VAE, WAE-MMD and WAE-GAN on MNIST
#
# Columns: VAE | WAE-MMD | WAE-GAN, trained with the paper's MNIST settings (below scale
# `paper`: on Fashion-MNIST, at reduced width, for fewer iterations; see the settings). Rows:
# **test reconstructions** (odd rows: held-out test images; even rows: their reconstructions),
# **random samples** (decoded draws from the prior $P_Z = N(0, \sigma_z^2 I)$, the same draw
# for every model), **test interpolations** (codes of pairs of test images interpolated
# linearly, end points included). All from the final networks, batch norm in inference mode.

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import pandas as pd

from replication.runs import Results
from replication.recipes.plots import autoencoder_panels
from replication.report import figure_path

res = Results("wae", scale, results, extra_deltas)
settings = res.settings
setup = "mnist"
data = getattr(settings, setup).data.name

# %%
fig = autoencoder_panels(res, setup, f"WAE Figure 2 setup (MNIST settings) on {data}, scale {scale}")
fig.savefig(figure_path(reports, scale, "wae/fig2"), dpi=130)
fig.savefig(figure_path(reports, scale, "wae/fig2", ".pdf"))

# %% [markdown]
# Held-out reconstruction error during training (evaluation probe `reconstruction`: summed
# squared pixel error per image, mean over held-out images, beside predicting each image by the
# mean image) — the curve that shows where training flattens at this scale.

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6.5, 3.6))
for run in res.runs(task="train", setup=setup):
    ev = res.frame(run, "evaluation.csv")
    ax.plot(ev.step, ev.reconstruction_heldout, marker="o", ms=3, label=run)
ax.plot(ev.step, ev.mean_image_error_heldout, color="grey", ls="--", label="mean-image baseline")
ax.set(xlabel="iteration", ylabel="held-out reconstruction error", yscale="log")
ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wae/fig2", part="reconstruction_curve"), dpi=130)

# %%
rows = [{"run": r, **{k: v for k, v in res.json(r, "final_metrics.json")["metrics"].items()
                     if k in ("reconstruction_error", "mean_image_error", "reconstruction_ratio")}}
        for r in res.runs(task="train", setup=setup)]
table = pd.DataFrame(rows)
table.to_csv(figure_path(reports, scale, "wae/fig2", ".csv"), index=False)
table
