# %% [markdown]
# # WGAN-GP Figure 1b: gradient norms and weights of deep critics on the Swiss roll
#
# WGANs with 12-layer ReLU generators and critics (width 512, no normalisation) on the
# Swiss roll, with weight clipping $c \in \{0.1, 0.01, 0.001\}$ and with the gradient
# penalty. Left: $\log_{10}$ of the norm of the critic loss's gradient
# ($E f(\text{fake}) - E f(\text{real})$, without the penalty term) with respect to the
# output of each Linear layer, from the critic output (13) to the first layer (1), at the
# stated training step (solid) and at initialisation (dotted, for reference). Right: the
# critic's weights at the same step, clipping $c = 0.01$ and gradient penalty.

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"

# %%
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from replication.report import figure_path

d = Path(results) / scale / "wgangp_toy"
measured = json.loads((d / "measured.json").read_text())
deep = sorted((p.name for p in d.iterdir() if p.is_dir() and p.name.startswith("deep_")),
              key=lambda r: (r == "deep_gp", -float(r.removeprefix("deep_c")) if r != "deep_gp" else 0))
label = {r: ("gradient penalty" if r == "deep_gp" else f"weight clipping (c = {r.removeprefix('deep_c')})") for r in deep}
color = {"deep_c0.001": "tab:blue", "deep_c0.01": "tab:orange", "deep_c0.1": "tab:green", "deep_gp": "tab:red"}

# %%
fig = plt.figure(figsize=(12, 3.8))
ax = fig.add_subplot(1, 3, 1)
frames = []
for r in deep:
    norms = pd.read_csv(d / r / "layer_norms.csv")
    step = norms.measured_at.max()
    at = norms[norms.measured_at == step]
    init = norms[norms.measured_at == 0]
    ax.plot(at.layer, np.log10(at.grad_norm), "o-", ms=3, color=color.get(r), label=label[r])
    ax.plot(init.layer, np.log10(init.grad_norm), ":", color=color.get(r), alpha=0.6)
    frames.append(norms.assign(run=r))
ax.invert_xaxis()
ax.set_xticks([13, 10, 7, 4, 1])
ax.set(xlabel="Discriminator layer", ylabel="Gradient norm (log$_{10}$ scale)",
       title=f"at generator iteration {step} (dotted: init)")
ax.legend(fontsize=7)
for k, (r, xlim) in enumerate((("deep_c0.01", (-0.02, 0.02)), ("deep_gp", (-0.5, 0.5)))):
    ax = fig.add_subplot(1, 3, 2 + k)
    if not (d / r).exists():
        ax.set_title(f"{label.get(r, r)}: not run at this scale", fontsize=9)
        continue
    hist = pd.read_csv(d / r / "weights_histogram.csv")
    ax.bar(hist.left, hist["count"], width=hist.right - hist.left, align="edge", color=color[r])
    ax.set(xlim=xlim, xlabel="Weights", ylabel="count", title=label[r])
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wgan_gp/fig1b"), dpi=130)

# %%
table = pd.concat(frames, ignore_index=True)
table.to_csv(figure_path(reports, scale, "wgan_gp/fig1b", ".csv"), index=False)
table.pivot_table(index="layer", columns=["run", "measured_at"], values="grad_norm").apply(np.log10).round(2)

# %%
pd.DataFrame(measured).T
