# %% [markdown]
# # WGAN Figure 6: samples with a constant-filter generator without batch norm
#
# The generator has no batch normalization and a constant number of filters (64 at paper) at
# every layer; the critic keeps batch norm.
#
# Left: WGAN (weight clipping, RMSProp); right: the standard GAN (pytorch/examples dcgan:
# non-saturating loss, Adam). DCGAN critic / discriminator in both. Paper: "The standard GAN
# failed to learn while the WGAN still was able to produce samples."
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
sheets, rows, curves = outcome_figures(res, table, {"wgan": "WGAN", "gan": "Standard GAN"}, {"generator": "nobn"},
                                       "wgan/fig6", reports, scale)
rows

# %%
pd.DataFrame(res.measured()).T
