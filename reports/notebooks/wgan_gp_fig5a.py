# %% [markdown]
# # WGAN-GP Figure 5a: the negative critic loss decreases and flattens
#
# At scale `paper`: a WGAN-GP on LSUN bedrooms (gan_64x64.py's DCGAN with a layer-norm
# critic). **Below `paper` the curve is a stand-in**: the WGAN-GP run of Figure 5b on the full
# training split (Fashion-MNIST, gan_mnist.py networks), since LSUN is not available offline.
# Shown: the negative critic loss, GP term included, on the training batches (block means of
# the logged loss) and on held-out images (the `critic_loss` probe; on LSUN these are random
# training images, as the authors' loader's "validation" stream was).

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import matplotlib.pyplot as plt
import pandas as pd

from replication.runs import Results
from replication.experiments.wgangp_overfitting import STAND_IN
from replication.report import figure_path

res = Results("wgangp_overfitting", scale, results, extra_deltas)
lsun = res.runs(task="loss_curve")
run = lsun[0] if lsun else res.run(task="overfit", **STAND_IN)
label = "LSUN bedrooms" if lsun else f"STAND-IN (not LSUN):\nfull {res.settings.dataset} training split"
curves = res.frame(run, "curves.csv")

# %%
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(curves.step, curves.train, color="tab:blue", label="training")
ax.plot(curves.step, curves.valid, color="tab:green", label="held-out" if lsun else "validation")
ax.set(xlabel="Generator iterations", ylabel="Negative critic loss (GP term included)",
       title=f"WGAN-GP, {label} (scale {scale})")
ax.legend()
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wgan_gp/fig5a"), dpi=130)
fig.savefig(figure_path(reports, scale, "wgan_gp/fig5a", ".pdf"))
curves.assign(run=run).to_csv(figure_path(reports, scale, "wgan_gp/fig5a", ".csv"), index=False)

# %%
measured = res.measured()
pd.DataFrame({k: measured[k] for k in ("fig5a_decrease", "fig5a_flatness")}).T
