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
from replication.recipes.plots import measure_curves, seeds_by_method
from replication.report import figure_path

res = Results("wgan_stability", scale, results, extra_deltas)
generator, artifact = "mlp", "wgan/fig7"
table = outcomes(res, "generator", res.features)
fig = seeds_by_method(res, table, {"wgan": "WGAN", "gan": "Standard GAN"}, {"generator": generator},
                      f"{artifact} ({generator} generator, DCGAN critic; scale {scale})")
for suffix in (".png", ".pdf"):
    fig.savefig(figure_path(reports, scale, artifact, suffix), dpi=130)

# %%
rows = table[table["generator"] == generator]
rows.to_csv(figure_path(reports, scale, artifact, ".csv"), index=False)
rows

# %%
evaluations = pd.concat([res.frame(run, "evaluation.csv").assign(run=run) for run in res.runs(generator=generator)])
features = "proxy" if res.features == "proxy" else "Inception"
fig = measure_curves(evaluations, f"Measures during training ({features} features, scale {scale})")
fig.savefig(figure_path(reports, scale, artifact, part="curves"), dpi=130)

# %%
pd.DataFrame(res.measured()).T
