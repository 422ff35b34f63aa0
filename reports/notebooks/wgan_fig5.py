# %% [markdown]
# # WGAN Figure 5: samples with the DCGAN generator
#
# Left: WGAN (weight clipping, RMSProp); right: the standard GAN (pytorch/examples dcgan:
# non-saturating loss, Adam). DCGAN critic / discriminator in both. Paper: "Both algorithms
# produce high quality samples (the positive control of Figures 6 and 7)."
#
# Each sheet is the generator at its last iteration on one fixed noise batch (the run's last
# sample grid). Above each sheet: the run's outcome by the pre-registered thresholds of the
# settings (`outcome`: works / poor / collapses / fails) and its measures on fresh samples (FID;
# with the proxy classifier at smoke/small also intra-class FID and the effective number of
# classes). Below: the measures at every evaluation, and the claims of this figure.

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import pandas as pd

from replication.runs import Results
from replication.recipes.outcomes import outcomes
from replication.recipes.plots import outcome_figures

res = Results("wgan_stability", scale, results, extra_deltas)
table = outcomes(res, "generator", res.features)
sheets, rows, curves = outcome_figures(res, table, {"wgan": "WGAN", "gan": "Standard GAN"}, {"generator": "dcgan"},
                                       "wgan/fig5", reports, scale)
rows

# %%
pd.DataFrame(res.measured()).T
