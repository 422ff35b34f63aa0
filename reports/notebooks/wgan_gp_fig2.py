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

from replication.experiments import Results
from replication.experiments.wgangp_lsun_architectures import cells, figure, score_table
from replication.report import figure_path

res = Results("wgangp_lsun_architectures", scale, results, extra_deltas)
figure(res, reports);

# %%
table = cells(res)
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
