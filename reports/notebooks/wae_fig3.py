# %% [markdown]
# # WAE Figure 3: VAE, WAE-MMD and WAE-GAN on CelebA 64×64
#
# The same layout as Figure 2 (columns VAE | WAE-MMD | WAE-GAN; rows test reconstructions with
# odd rows real, random samples from $N(0, \sigma_z^2 I)$ with $\sigma_z^2 = 2$ for the WAEs,
# test interpolations), trained with the paper's CelebA settings. CelebA is a manual download
# and too large for a CPU: below scale `paper` this figure is not drawn, and the notebook says so.

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import matplotlib.pyplot as plt

from replication.runs import Results
from replication.recipes.plots import autoencoder_panels
from replication.report import figure_path

res = Results("wae", scale, results, extra_deltas)
setup = "celeba"
if setup in res.settings.setups:
    fig = autoencoder_panels(res, setup, f"WAE Figure 3 (CelebA 64x64), scale {scale}")
    fig.savefig(figure_path(reports, scale, "wae/fig3", ".pdf"))
else:
    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, f"WAE Figure 3 (CelebA): not evaluated at scale {scale}\n"
            f"(setups trained: {', '.join(res.settings.setups)}; CelebA runs only at scale paper)",
            ha="center", va="center")
fig.savefig(figure_path(reports, scale, "wae/fig3"), dpi=130)
