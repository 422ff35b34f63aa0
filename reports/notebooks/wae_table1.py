# %% [markdown]
# # WAE Table 1: FID and sharpness of VAE, WAE-MMD, WAE-GAN and the true data
#
# **FID** (protocol `wae_fid`): decoded prior draws (batch norm in inference mode) against the
# statistics of the training split; uint8 by round((x+1)·127.5). At scale `paper`: CelebA
# 64×64 and torch-fidelity's TF-Inception pool3; below it: the Table 1 setup's stand-in data
# (Fashion-MNIST) and the harness's **proxy classifier** features — proxy numbers are
# comparable only with each other, never with the published row. **Sharpness**: variance of
# the 3×3 Laplace response (VALID) of the greyscale image, mean over samples, pixel scale as
# stated. "True data": held-out test images through the same pipeline. Computed by the
# separate evaluation job from the final checkpoints.

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import pandas as pd

from replication.runs import Results
from replication.experiments.wae import PUBLISHED
from replication.report import figure_path

res = Results("wae", scale, results, extra_deltas)
settings = res.settings
setup = settings.table
E = settings.evaluation
ours = pd.read_csv(res.dir / "table1.csv")
names = {"vae": "VAE", "wae_mmd": "WAE-MMD", "wae_gan": "WAE-GAN", "true_data": "True data"}
rows = []
for model in [*settings.models, "true_data"]:
    mine = ours[ours.model == model]
    rows.append({"algorithm": names[model], "FID (published, CelebA, Inception)": PUBLISHED["fid"][model],
                 f"FID (ours, {res.features})": mine.fid.mean(),
                 "sharpness (published)": PUBLISHED["sharpness"][model], "sharpness (ours)": mine.sharpness.mean(),
                 "seeds": int(mine.seed.notna().sum()) or None})
table = pd.DataFrame(rows)
table.to_csv(figure_path(reports, scale, "wae/table1", ".csv"), index=False)
protocol = (f"Scale {scale}, setup {setup} on {getattr(settings, setup).data.name}; FID of {E.fid_samples} samples "
            f"({res.features} features) against the training split; sharpness over {E.sharpness_samples} images "
            f"on {E.sharpness_pixel_range} pixels; model rows averaged over {len(settings.seeds)} seed(s).")
figure_path(reports, scale, "wae/table1", ".md").write_text(table.to_markdown(index=False, floatfmt=".4g")
                                                            + "\n\n" + protocol + "\n")
print(protocol)
table

# %%
pd.DataFrame(res.measured()).T
