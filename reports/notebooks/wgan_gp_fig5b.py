# %% [markdown]
# # WGAN-GP Figure 5b: the critic overfits a 1,000-image subset
#
# gan_mnist.py's WGANs trained on a random 1,000-image subset of the training split (solid)
# and, as the negative control, on the whole training split (faint), everything else equal.
# Left: gradient penalty; right: weight clipping. Each panel shows the **negative critic loss,
# GP term included** (what gan_mnist.py logs as `disc_cost`, negated): on the training batches
# (the logged loss of each iteration's last critic step, averaged over blocks of iterations,
# as the code's plot flush does) and on the validation split (the engine's `critic_loss`
# probe, batches of 50 as the code's dev cost). At scales below `paper` the data are
# Fashion-MNIST instead of MNIST and the networks are narrower (see the scale file).

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import matplotlib.pyplot as plt
import pandas as pd

from replication.runs import Results
from replication.report import figure_path

res = Results("wgangp_overfitting", scale, results, extra_deltas)
s = res.settings
titles = {"gp": "WGAN-GP (gradient penalty)", "clip": "WGAN (weight clipping)"}

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
frames = []
for ax, method in zip(axes, ("gp", "clip")):
    for train_set, alpha in (("subset", 1.0), ("full", 0.35)):
        run = res.run(method=method, train_set=train_set)
        curves = res.frame(run, "curves.csv")
        label = f"{s.subset.size}-image subset" if train_set == "subset" else "full training split (control)"
        ax.plot(curves.step, curves.train, color="tab:blue", alpha=alpha, label=f"training, {label}")
        ax.plot(curves.step, curves.valid, color="tab:green", alpha=alpha, label=f"validation, {label}")
        frames.append(curves.assign(method=method, train_set=train_set, run=run))
    ax.set(xlabel="Generator iterations", ylabel="Negative critic loss (GP term included)" if method == "gp"
           else "Negative critic loss", title=f"{titles[method]}, {s.dataset} ({scale})")
    ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wgan_gp/fig5b"), dpi=130)
fig.savefig(figure_path(reports, scale, "wgan_gp/fig5b", ".pdf"))

# %%
table = pd.concat(frames, ignore_index=True)
table.to_csv(figure_path(reports, scale, "wgan_gp/fig5b", ".csv"), index=False)
table.pivot_table(index="step", columns=["method", "train_set"], values=["train", "valid"]).round(3).tail(10)

# %%
measured = res.measured()
pd.DataFrame({k: measured[k] for k in ("gp_divergence", "clip_divergence", "gp_train_rises_valid_falls")}).T
