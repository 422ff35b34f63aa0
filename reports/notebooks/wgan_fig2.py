# %% [markdown]
# # WGAN Figure 2: optimal discriminator vs optimal critic on two 1-D Gaussians
#
# Real $P_r = N(-5, 1)$, fake $P_g = N(+5, 1)$, the generator held fixed. A minimax GAN
# discriminator (sigmoid output $D$, BCE) and a WGAN critic (weight clipping $c = 0.01$) are
# each trained until a logged convergence criterion holds ("till optimality"), then drawn
# over $x \in [-8, 8]$ with both densities. **Sign convention:** the harness's critic $f$ is
# high on real data (the paper's $f$); the figure, like the WGAN code's `netD`, shows
# $-f$, which increases from the real to the fake mode. Below the figure: the gradients
# $|dD/dx|$ and $|df/dx|$ on a log scale — the discriminator's vanishes over both
# Gaussians, the critic's does not.

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from replication.runs import Results
from replication.report import figure_path

res = Results("wgan_critics", scale, results, extra_deltas)
settings = res.settings
measured = res.measured()
seeds = sorted({res.params(r)["replicate"] for r in res.runs()})  # replicates, each one gan and one wgan run


def run_of(kind, replicate):
    (run,) = res.runs(kind=kind, replicate=replicate)
    return run


first = seeds[0]
curve = {k: res.frame(run_of(k, first), "curve.csv") for k in ("gan", "wgan")}
samples = {k: res.frame(run_of(k, first), "samples.csv") for k in ("gan", "wgan")}
result = {r: res.result(r) for r in res.runs()}

# %%
x = curve["gan"].x
fig, ax = plt.subplots(figsize=(7.5, 4.2))
ax.plot(x, curve["gan"].density_real, color="tab:blue", label="Density of real")
ax.plot(x, curve["gan"].density_fake, color="tab:green", label="Density of fake")
ax.plot(x, curve["gan"].value, color="red", lw=2, label="GAN discriminator $D(x)$")
ax.plot(x, -curve["wgan"].value, color="c", lw=2, label="WGAN critic ($-f$, the code's netD sign)")
k = settings.figure_samples
for name, color in (("real", "tab:blue"), ("fake", "tab:green")):
    pts = samples["gan"][samples["gan"]["sample"] == name].x.iloc[:k]
    ax.plot(pts, np.zeros(len(pts)), "o", ms=3, color=color, alpha=0.6)
ax.set(xlim=(-8, 8), xlabel="$x$")
ax.legend(fontsize=8, loc="upper right")
ax.set_title(f"Optimal discriminator and critic (seed {first}, scale {scale})", fontsize=10)
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wgan/fig2"), dpi=130)

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.6))
for seed in seeds:
    gan = res.frame(run_of("gan", seed), "curve.csv")
    wgan = res.frame(run_of("wgan", seed), "curve.csv")
    lab = seed == first
    ax.plot(gan.x, gan.grad.abs().clip(lower=1e-30), color="red", alpha=0.8, label="$|dD/dx|$, GAN" if lab else None)
    ax.plot(wgan.x, wgan.grad.abs(), color="c", alpha=0.8, label="$|df/dx|$, WGAN critic" if lab else None)
for mean, color in ((settings.real.mean, "tab:blue"), (settings.fake.mean, "tab:green")):
    ax.axvspan(mean - 1, mean + 1, color=color, alpha=0.1)
ax.set(yscale="log", xlim=(-8, 8), ylim=(1e-25, 10), xlabel="$x$", ylabel="gradient magnitude")
ax.set_title(f"Gradients of the trained networks ({len(seeds)} seeds; shaded: mean $\\pm$ 1 sd of each Gaussian)", fontsize=10)
ax.legend(fontsize=8, loc="lower left")
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wgan/fig2", part="gradients"), dpi=130)

# %%
table = pd.DataFrame({"x": x, "density_real": curve["gan"].density_real, "density_fake": curve["gan"].density_fake,
                      "gan_D": curve["gan"].value, "gan_dD_dx": curve["gan"].grad,
                      "wgan_minus_f": -curve["wgan"].value, "wgan_df_dx": curve["wgan"].grad})
table.to_csv(figure_path(reports, scale, "wgan/fig2", ".csv"), index=False)
pd.DataFrame(result).T[["steps", "converged_at", "ratio_fake_median", "ratio_real_median", "ratio_between_min", "linear_r2"]]

# %%
pd.DataFrame(measured).T
