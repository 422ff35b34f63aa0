# %% [markdown]
# # KL divergence vs Earth Mover distance on discrete distributions
#
# An exercise on the distances that WGAN Section 2 compares (parts 3.1-3.3; the distributions are
# listed in `replication/experiments/wgan_distances.py`): supports $0..n-1$ with unit spacing, KL in
# nats (`scipy.stats.entropy`), EMD by `scipy.stats.wasserstein_distance`. In part 3.2,
# $Q = (0.33, 0.33, 0.33)$ does not sum to 1 and is renormalised to $(1/3, 1/3, 1/3)$.
# KL is $+\infty$ wherever the second distribution misses mass of the first; EMD stays
# finite and symmetric. Part 3.3 asks for EMD only. Column `kl_symmetry` compares KL(P, Q)
# with KL(Q, P): "symmetric", "asymmetric", or "both infinite" (which is no evidence of symmetry).

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from replication.runs import Results
from replication.report import figure_path

res = Results("wgan_distances", scale, results, extra_deltas)
(run,) = res.runs(task="exercise")
table = pd.read_csv(res.path(run, "exercise.csv"), dtype={"part": str})  # parts "3.1".. are labels, not numbers
table.to_csv(figure_path(reports, scale, "wgan/exercise_tables", ".csv"), index=False)
table

# %%
sns.set_theme(style="whitegrid")
fig, ax = plt.subplots(figsize=(9, 3.5))
labels = table.part + ": " + table.pair
finite = table.kl_nats.where(table.kl_nats.abs() != float("inf"))
ax.bar(range(len(table)), table.emd, width=0.4, label="EMD", color="C0")
ax.bar([i + 0.4 for i in range(len(table))], finite, width=0.4, label="KL (nats)", color="C1")
for i, kl in enumerate(table.kl_nats):
    if kl == float("inf"):
        ax.text(i + 0.4, 0.05, "∞", ha="center", color="C1", fontsize=14)
ax.set_xticks([i + 0.2 for i in range(len(table))], labels, rotation=45, ha="right", fontsize=8)
ax.legend()
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wgan/exercise_tables"), dpi=130)
