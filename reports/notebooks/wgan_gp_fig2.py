# %% [markdown]
# # WGAN-GP Figure 2: seven architectures x four methods
#
# Rows: the seven generator / critic pairs of `gan_64x64.py` (baseline DCGAN; no-BN constant-filter
# generator; 4-layer 512-unit MLP generator; no normalization in either network; gated
# multiplicative nonlinearities; tanh everywhere; 101-layer ResNet). Columns: DCGAN, LSGAN, WGAN
# (clipping), WGAN-GP, each with its own recommended hyperparameters. Paper: "We only succeeded in
# training every architecture with a shared set of hyperparameters using WGAN-GP."
#
# Each sheet is the generator at its last iteration on one fixed noise batch. Above each sheet: the
# cell's outcome by the pre-registered thresholds of the settings (`outcome`, the same as
# wgan_stability's: works / poor / collapses / fails) and its FID (proxy FID at smoke/small,
# Inception FID at paper). Below: the table of scores per cell, and the claims.

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import pandas as pd

from replication.runs import Results
from replication.recipes.outcomes import outcomes, score_table
from replication.recipes.plots import final_grid, sample_sheets
from replication.report import figure_path

res = Results("wgangp_lsun_architectures", scale, results, extra_deltas)
table = outcomes(res, "architecture", res.features)
seed = res.settings.seeds[0]
rows, methods = list(dict.fromkeys(table["architecture"])), list(dict.fromkeys(table["method"]))
titles = {"dcgan": "DCGAN", "lsgan": "LSGAN", "wgan": "WGAN (clipping)", "wgangp": "WGAN-GP"}
indexed = table.set_index("run")
cell = lambda run: (final_grid(res, run), f"{indexed.loc[run, 'outcome']}, FID {indexed.loc[run, 'fid']:.0f}")  # noqa: E731
cells = [[cell(found[0]) if found else None  # a sub-grid (extra deltas selecting runs) leaves cells blank
          for method in methods for found in [res.runs(method=method, architecture=architecture, seed=seed)]]
         for architecture in rows]
fig = sample_sheets(cells, rows=rows, columns=[titles.get(m, m) for m in methods], size=(2.6, 2.8), fontsize=8,
                    title=f"wgan_gp/fig2: architectures x methods (seed {seed}, scale {scale})")
for suffix in (".png", ".pdf"):
    fig.savefig(figure_path(reports, scale, "wgan_gp/fig2", suffix), dpi=110)

# %%
table.drop(columns=["step"], errors="ignore").to_csv(figure_path(reports, scale, "wgan_gp/fig2", ".csv"), index=False)
score_table(table, "fid").round(1)

# %%
score_table(table, "outcome")

# %%
if "intra_fid" in table:
    display(score_table(table, "intra_fid").round(1))  # noqa: F821 (IPython)
    display(score_table(table, "effective_classes").round(2))  # noqa: F821

# %%
pd.DataFrame(res.measured()).T
