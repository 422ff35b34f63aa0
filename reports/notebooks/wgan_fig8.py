# %% [markdown]
# # WGAN Figure 8 (appendix E): the standard GAN's generator cost against generator iterations
#
# The same GAN runs as Figure 4 (pytorch/examples DCGAN procedure with the three network
# pairs). Plotted, as in the paper, the generator cost $-\log D(G(z))$ (`errG` of the
# non-saturating loss), logged once per generator iteration (light) and median-filtered with
# the paper's width (dark). **Our addition:** the sample-quality score (FID; proxy features
# below scale `paper`) at every evaluation on the right axis. The sample grids of these runs
# are in Figure 4's notebook.

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import pandas as pd

from replication.runs import Results
from replication.experiments.wgan_curves import checkpoints, gan_panels, panels_of
from replication.recipes.plots import loss_panels
from replication.report import figure_path

res = Results("wgan_curves", scale, results, extra_deltas)
settings = res.settings
seed = settings.seeds[0]
panels = gan_panels(res, seed)

# %%
score = f"{'proxy ' if res.features == 'proxy' else ''}{settings.quality.metric.upper()}"
fig = loss_panels(panels_of(res, panels), "generator_loss", "generator_cost_smoothed", "generator cost $-\\log D(G(z))$",
                  score, settings.quality.metric, settings.curves.median_width)
fig.suptitle(f"GAN generator cost vs generator iterations (scale {scale}, {settings.data.dataset})", fontsize=10, y=1.0)
fig.savefig(figure_path(reports, scale, "wgan/fig8"), dpi=130, bbox_inches="tight")
fig.savefig(figure_path(reports, scale, "wgan/fig8", ".pdf"), bbox_inches="tight")

# %%
table = pd.concat([checkpoints(res, run).assign(run=run, panel=title) for title, run in panels.items()])
table[["run", "panel", "step", settings.quality.metric, "estimate", "generator_cost"]].to_csv(
    figure_path(reports, scale, "wgan/fig8", ".csv"), index=False)
table

# %%
pd.DataFrame(res.measured()).T
