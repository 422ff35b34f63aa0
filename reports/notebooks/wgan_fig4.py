# %% [markdown]
# # WGAN Figure 4: the standard GAN's JS estimate against generator iterations
#
# The GAN runs (pytorch/examples DCGAN procedure, the non-saturating generator loss) with the
# same three network pairs as Figure 3. Plotted, as in the paper, the lower bound of the
# Jensen-Shannon divergence $\frac12 L(D, g_\theta) + \log 2 = \log 2 - \mathrm{errD}/2$, logged
# once per generator iteration (light) and median-filtered with the paper's width (dark); the
# dashed line is $\log 2$, where the estimate saturates. **Our addition:** the sample-quality
# score (FID; proxy features below scale `paper`) at every evaluation on the right axis, and
# sample grids of one fixed noise batch at the first, middle and last evaluation.

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import math

import pandas as pd

from replication.runs import Results
from replication.experiments.wgan_curves import checkpoints, gan_panels, panels_of
from replication.recipes.plots import grids_over_training, loss_panels
from replication.report import figure_path

res = Results("wgan_curves", scale, results, extra_deltas)
settings = res.settings
seed = settings.seeds[0]
panels = gan_panels(res, seed)

# %%
score = f"{'proxy ' if res.features == 'proxy' else ''}{settings.quality.metric.upper()}"
fig = loss_panels(panels_of(res, panels), "divergence", "estimate_smoothed", "JS estimate", score,
                  settings.quality.metric, settings.curves.median_width, reference_line=math.log(2))
fig.suptitle(f"GAN JS estimate vs generator iterations (scale {scale}, {settings.data.dataset})", fontsize=10, y=1.0)
fig.savefig(figure_path(reports, scale, "wgan/fig4"), dpi=130, bbox_inches="tight")
fig.savefig(figure_path(reports, scale, "wgan/fig4", ".pdf"), bbox_inches="tight")

# %%
fig = grids_over_training(res, panels)
fig.savefig(figure_path(reports, scale, "wgan/fig4", part="samples"), dpi=130, bbox_inches="tight")

# %%
table = pd.concat([checkpoints(res, run).assign(run=run, panel=title) for title, run in panels.items()])
table.to_csv(figure_path(reports, scale, "wgan/fig4", ".csv"), index=False)
table

# %%
pd.DataFrame(res.measured()).T
