# %% [markdown]
# # WGAN Figure 1: EM vs JS on parallel lines
#
# $P_0$ is the law of $(0, Z)$ and $P_\theta$ the law of $(\theta, Z)$ with $Z \sim U[0,1]$
# (WGAN, Example 1). Left: $W(P_0, P_\theta) = |\theta|$, analytic and estimated from
# samples by exact optimal transport. Right: $JS = \log 2$ for $\theta \neq 0$, with the
# lower bound $\tfrac12 L + \log 2$ reached by trained discriminators. KL is $+\infty$ for
# every $\theta \neq 0$ and cannot be estimated from samples; TV is 1. Bottom: what each
# critic's gradient does to $\theta$ (the claims rest on the fixed-$\theta$ panel; the learned-$\theta$
# trajectories are a figure only).

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from replication.runs import Results
from replication.report import figure_path

sns.set_theme(style="whitegrid", context="notebook")
res = Results("wgan_distances", scale, results, extra_deltas)
settings = res.settings
(curves_run,) = res.runs(task="curves")
(js_run,) = res.runs(task="js_bound")
(grads_run,) = res.runs(task="critic_gradients")
curves = res.frame(curves_run, "curves.csv")
js = res.frame(js_run, "js_bound.csv")
grads = res.frame(grads_run, "critic_gradients.csv")  # step, theta_grad, objective, theta_fixed per critic step
# theta learned through each critic: step, theta, theta_grad at every generator iteration (step 0 = before training)
learn = {res.params(r)["objective"]: res.frame(r, "evaluation.csv") for r in res.runs(task="learn")}
measured = res.measured()

# %%
fig, (ax_w, ax_js) = plt.subplots(1, 2, figsize=(11, 4))
ax_w.plot(curves.theta, curves.w_analytic, color="k", lw=1, label="analytic $|\\theta|$")
ax_w.errorbar(curves.theta, curves.w_estimate_mean, yerr=curves.w_estimate_sd, fmt="o", ms=3,
              label=f"exact OT, n={settings.ot_samples} per side (mean ± sd, {settings.ot_repeats} draws)")
ax_w.set(xlabel="$\\theta$", ylabel="$W(P_0, P_\\theta)$", title="Earth Mover distance")
ax_w.legend(fontsize=8)
off = curves.theta != 0
ax_js.plot(curves.theta[off], curves.js_analytic[off], "o", ms=3, color="k", label="analytic JS")
ax_js.plot([0], [0], "o", ms=3, color="k")
ax_js.plot(js.theta, js.js_bound, "s", ms=6, mfc="none", color="C3", label="trained discriminator: $\\frac{1}{2}L + \\log 2$")
ax_js.axhline(np.log(2), color="grey", ls=":", lw=1)
ax_js.set(xlabel="$\\theta$", ylabel="$JS(P_0, P_\\theta)$", title="Jensen-Shannon divergence", ylim=(-0.05, 0.75))
ax_js.legend(fontsize=8, loc="lower right")
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wgan/fig1"), dpi=130)

# %% [markdown]
# ## Gradients reaching $\theta$
# Left: $\theta$ fixed, the critic trained towards optimality; the minimax GAN's gradient
# vanishes, the $-\log D$ variant's grows without bound, the WGAN critic's settles at a
# constant. Critic steps from 1 on: at step 0 the WGAN critic is the unclipped initial network
# (main.py clamps before each step). The claims compare, at each fixed $\theta$, the share of its
# own peak each critic keeps over the last 10% of steps (`grad_retained_*`, `grad_retained_log10_gap`).
# Right: learning $\theta$ from 1 with the same critic schedule (SGD on $\theta$, lr 1). How far the
# minimax GAN's $\theta$ drifts here depends on the learning rate as much as on the vanishing
# gradient ($\theta$ moves while the discriminator is still unsaturated), so this panel carries
# no minimax claim; only the WGAN run's convergence to 0 is a claim.

# %%
fig, (ax_g, ax_t) = plt.subplots(1, 2, figsize=(11, 4))
names = {"wgan": "WGAN critic (clip 0.01)", "gan_minimax": "GAN, minimax", "gan_ns": "GAN, $-\\log D$ (labelled variant)"}
labels = {objective: names.get(objective, objective) for objective in learn}  # the learn runs, in matrix order
for i, (objective, label) in enumerate(labels.items()):
    for theta, curve in grads[(grads.objective == objective) & (grads.step >= 1)].groupby("theta_fixed"):
        ax_g.plot(curve.step, curve.theta_grad.abs(), color=f"C{i}", alpha=0.5 + 0.5 * (theta == 1.0),
                  label=f"{label}, $\\theta$={theta:g}")
ax_g.set(yscale="log", xlabel="critic steps ($\\theta$ fixed)", ylabel="$|\\partial L_G / \\partial\\theta|$")
ax_g.legend(fontsize=7)
for i, (objective, label) in reversed(list(enumerate(labels.items()))):  # the unstable -log D run underneath
    faint = objective == "gan_ns"
    ax_t.plot(learn[objective].step, learn[objective].theta, color=f"C{i}", lw=0.5 if faint else 1.5,
              alpha=0.4 if faint else 1.0, label=label + (" (oscillates off-scale)" if faint else ""))
ax_t.axhline(0, color="grey", lw=1, ls=":")
ax_t.set(xlabel="generator iterations (0 = before training)", ylabel="$\\theta$", ylim=(-1.5, 1.5))
ax_t.legend(fontsize=8)
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wgan/fig1", part="gradients"), dpi=130)

# %%
table = curves[["theta", "w_analytic", "w_estimate_mean", "w_estimate_sd", "js_analytic", "kl_analytic", "tv_analytic"]]
table.to_csv(figure_path(reports, scale, "wgan/fig1", ".csv"), index=False)
pd.DataFrame({k: {f: v.get(f) for f in ("start", "value", "note")} for k, v in measured.items()}).T
