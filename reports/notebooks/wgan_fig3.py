# %% [markdown]
# # WGAN Figure 3: the WGAN estimate against generator iterations
#
# Three panels as in the paper: MLP generator + DCGAN critic, DCGAN generator + DCGAN critic,
# and MLP generator + MLP critic at a high learning rate (the smallest rate of the sweep whose
# run failed by quality alone; the criterion is in the settings). Each panel shows $-$Loss_D
# (the critic's estimate of $W$, logged once per generator iteration; light) and the same curve
# median-filtered with the paper's width (dark). **Our addition:** the sample-quality score
# (FID; proxy features below scale `paper`) at every evaluation on the right axis, and sample
# grids of one fixed noise batch at the first, middle and last evaluation.

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import pandas as pd

from replication.runs import Results
from replication.experiments.wgan_curves import checkpoints, chosen_failing_run, panels_of
from replication.recipes.plots import grids_over_training, loss_panels
from replication.report import figure_path

res = Results("wgan_curves", scale, results, extra_deltas)
settings = res.settings
seed = settings.seeds[0]
panels = {"MLP generator, DCGAN critic": res.run(method="wgan", model="mlp_dcgan", seed=seed),
          "DCGAN generator, DCGAN critic": res.run(method="wgan", model="dcgan_dcgan", seed=seed)}
failing = chosen_failing_run(res, seed)
sweep = res.runs(method="wgan", model="mlp_mlp", seed=seed)
shown = failing or sweep[-1]
panels[f"MLP generator, MLP critic, lr {res.params(shown)['lr']:g} "
       + ("(chosen by the sweep)" if failing else "(no swept rate failed: the highest shown)")] = shown
print(f"scale {scale}, seed {seed}; the sweep's failing MLP + MLP run: {failing}")

# %%
score = f"{'proxy ' if res.features == 'proxy' else ''}{settings.quality.metric.upper()}"


def draw(panels, column, label):
    return loss_panels(panels_of(res, panels), column, "estimate_smoothed", label, score, settings.quality.metric,
                       settings.curves.median_width)


fig = draw(panels, "divergence", "$-$Loss_D (W estimate)")
fig.suptitle(f"WGAN estimate vs generator iterations (scale {scale}, {settings.data.dataset})", fontsize=10, y=1.0)
fig.savefig(figure_path(reports, scale, "wgan/fig3"), dpi=130, bbox_inches="tight")
fig.savefig(figure_path(reports, scale, "wgan/fig3", ".pdf"), bbox_inches="tight")

# %%
fig = grids_over_training(res, panels)
fig.savefig(figure_path(reports, scale, "wgan/fig3", part="samples"), dpi=130, bbox_inches="tight")

# %% [markdown]
# The whole sweep (every swept learning rate of the MLP + MLP pair), for the record:

# %%
fig = draw({f"MLP + MLP, lr {res.params(r)['lr']:g}": r for r in sweep}, "divergence", "$-$Loss_D")
fig.savefig(figure_path(reports, scale, "wgan/fig3", part="sweep"), dpi=110, bbox_inches="tight")

# %%
table = pd.concat([checkpoints(res, run).assign(run=run, panel=title) for title, run in panels.items()])
table.to_csv(figure_path(reports, scale, "wgan/fig3", ".csv"), index=False)
table

# %%
pd.DataFrame(res.measured()).T
