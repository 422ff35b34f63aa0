# %% [markdown]
# # WGAN-GP Figure 1b: gradient norms and weights of deep critics on the Swiss roll
#
# WGANs with 12-layer ReLU generators and critics (width 512, no normalisation) on the
# Swiss roll, with weight clipping $c \in \{0.1, 0.01, 0.001\}$ and with the gradient
# penalty. Left: $\log_{10}$ of the norm of the critic loss's gradient
# ($E f(\text{fake}) - E f(\text{real})$, without the penalty term) with respect to the
# output of each Linear layer, from the critic output (13) to the first layer (1), at the
# stated training step (solid) and at initialisation (dotted, for reference), in float64;
# a dead layer (norm exactly 0) cannot be drawn on the log axis and is listed in the legend.
# Right: the critic's weights at step 0 (grey) and at the same step (colour), clipping
# $c = 0.01$ (initialised inside $\pm c$, a stated deviation: tflib's init would put ~91% of
# the weights at $\pm c$ with the first clamp) and gradient penalty (tflib init).

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


def is_gp(run):
    return res.params(run)["method"] == "gp"


deep = sorted(res.runs(task="deep"), key=lambda r: (is_gp(r), 0 if is_gp(r) else -res.params(r)["clip_value"]))
label = {r: "gradient penalty" if is_gp(r) else f"weight clipping (c = {res.params(r)['clip_value']:g})" for r in deep}
clip_colors = {0.001: "tab:blue", 0.01: "tab:orange", 0.1: "tab:green"}
color = {r: "tab:red" if is_gp(r) else clip_colors.get(res.params(r)["clip_value"]) for r in deep}

# %%
fig = plt.figure(figsize=(12, 3.8))
ax = fig.add_subplot(1, 3, 1)
frames = []
for r in deep:
    norms = res.frame(r, "layer_norms.csv")
    step = norms.measured_at.max()
    at = norms[norms.measured_at == step]
    init = norms[norms.measured_at == 0]
    dead = int((at.grad_norm == 0).sum())
    with np.errstate(divide="ignore"):
        ax.plot(at.layer, np.log10(at.grad_norm), "o-", ms=3, color=color[r],
                label=label[r] + (f" ({dead} dead layers)" if dead else ""))
        ax.plot(init.layer, np.log10(init.grad_norm), ":", color=color[r], alpha=0.6)
    frames.append(norms.assign(run=r))
ax.invert_xaxis()
ax.set_xticks([13, 10, 7, 4, 1])
ax.set(xlabel="Discriminator layer", ylabel="Gradient norm (log$_{10}$ scale)",
       title=f"at generator iteration {step} (dotted: init)")
ax.legend(fontsize=7)
panels = ((res.runs(task="deep", method="clip", clip_value=0.01), "weight clipping (c = 0.01)", (-0.02, 0.02)),
          (res.runs(task="deep", method="gp"), "gradient penalty", (-0.5, 0.5)))
for k, (runs, title, xlim) in enumerate(panels):
    ax = fig.add_subplot(1, 3, 2 + k)
    if not runs:
        ax.set_title(f"{title}: not run at this scale", fontsize=9)
        continue
    (r,) = runs
    hist = res.frame(r, "weights_histogram.csv")
    final, start = hist[hist.measured_at == hist.measured_at.max()], hist[hist.measured_at == 0]
    ax.bar(start.left, start["count"], width=start.right - start.left, align="edge", color="grey", alpha=0.5,
           label="step 0")
    ax.bar(final.left, final["count"], width=final.right - final.left, align="edge", color=color[r], alpha=0.8,
           label=f"iteration {final.measured_at.max()}")
    ax.set(xlim=xlim, xlabel="Weights", ylabel="count", title=label[r])
    ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wgan_gp/fig1b"), dpi=130)

# %%
table = pd.concat(frames, ignore_index=True)
table.to_csv(figure_path(reports, scale, "wgan_gp/fig1b", ".csv"), index=False)
with np.errstate(divide="ignore"):
    shown = table.pivot_table(index="layer", columns=["run", "measured_at"], values="grad_norm").apply(np.log10).round(2)
shown

# %%
pd.DataFrame(res.measured()).T
