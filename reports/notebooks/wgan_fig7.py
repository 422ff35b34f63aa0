# %% [markdown]
# # WGAN Figure 7: samples with an MLP generator (4 linear layers, 512 units, ReLU)
#
# Left: WGAN (weight clipping, RMSProp); right: the standard GAN (pytorch/examples dcgan:
# non-saturating loss, Adam). DCGAN critic / discriminator in both. Paper: "WGAN still produces
# samples, of lower quality than with the DCGAN generator and of higher quality than the standard
# GAN's, which shows a significant degree of mode collapse; no WGAN run collapses."
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
sheets, rows, curves = outcome_figures(res, table, {"wgan": "WGAN", "gan": "Standard GAN"}, {"generator": "mlp"},
                                       "wgan/fig7", reports, scale)
rows

# %%
pd.DataFrame(res.measured()).T
