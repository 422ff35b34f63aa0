# %% [markdown]
# # Calibration of the metric stack
#
# Before the metrics judge any model they are checked on real data.
#
# * **Proxy features** (scales smoke and small): a small CNN trained on Fashion-MNIST
#   (`proxy.pt` of run `proxy_fashion-mnist`, the extractor every later experiment loads). Left: its confusion matrix on the official test set. Right: proxy
#   FID between two disjoint random halves of the training set (the null: same distribution,
#   same sample sizes) against FID between a training subset and the test set.
# * **Inception features** (scale paper): IS of CIFAR-10 train and FID(train, test) with
#   torch-fidelity's TF-compatible Inception, against the published calibration values.
#
# Proxy numbers and Inception numbers are different units: they are never compared.

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
from replication.io import read_json
from replication.report import figure_path

sns.set_theme(style="white", context="notebook")
res = Results("metrics_calibration", scale, results, extra_deltas)
(proxy_run,) = res.runs(task="proxy")
(reference_run,) = res.runs(task="reference")
(inception_run,) = res.runs(task="inception")
confusion = res.frame(proxy_run, "confusion.csv").set_index("true_class")
proxy = res.result(proxy_run)
null = res.frame(reference_run, "null.csv")
reference = read_json(res.path(reference_run, "reference.json"))["records"]
inception = read_json(res.path(inception_run, "inception.json"))
measured = res.measured()

# %%
fig, (ax_c, ax_n) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [1.1, 1]})
rates = confusion.div(confusion.sum(axis=1), axis=0)
per_class = np.diag(rates.to_numpy())
sns.heatmap(rates, ax=ax_c, cmap="Blues", vmin=0, vmax=1, annot=rates.round(2).to_numpy(), fmt="",
            annot_kws={"fontsize": 6}, cbar_kws={"label": "fraction of the true class"})
ax_c.set_yticklabels([f"{c} ({a:.0%})" for c, a in zip(rates.index, per_class)], rotation=0, fontsize=8)
ax_c.set_xticklabels(rates.columns, rotation=45, ha="right", fontsize=8)
ax_c.set(xlabel="predicted", ylabel="true class (per-class accuracy)",
         title=f"Proxy classifier on Fashion-MNIST test: accuracy {proxy['test_accuracy']:.2%}\n"
               f"({proxy['n_train']} training images, {proxy['epochs']} epoch(s), {proxy['n_test']} test images)")
ax_c.title.set_fontsize(10)

fid = next(r for r in reference if r["metric"] == "FID")
test = next(r for r in reference if r["metric"] == "FID null-test p-value")
bins = np.histogram_bin_edges(np.concatenate([null.fid_null, null.fid_cross]), bins=30)
ax_n.hist(null.fid_null, bins=bins, color="grey", alpha=0.7,
          label=f"null: FID(train A$_k$, train B$_k$), {len(null)} draws")
ax_n.hist(null.fid_cross, bins=bins, color="C1", alpha=0.5, label="FID(train A$_k$, test), same draws")
ax_n.axvline(test["median_cross"], color="C3", lw=2,
             label=f"median train-vs-test {test['median_cross']:.3g} (p = {test['value']:.3g})")
ax_n.axvline(test["null_q95"], color="k", ls=":", lw=1, label=f"null 95th percentile {test['null_q95']:.3g}")
ax_n.set(xlabel=f"proxy FID ({test['subset_size']} vs {test['subset_size']} images, 32-d proxy features)",
         ylabel="draws", title="Train vs test under proxy features (proxy units, not Inception FID)")
ax_n.title.set_fontsize(10)
ax_n.legend(fontsize=7)
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "metrics/calibration"), dpi=130)

# %% [markdown]
# ## Table: every calibration number with its features and protocol
# Inception rows are filled at scale paper only; below it they give the reason.

# %%
rows = []
for r in reference:
    rows.append({"features": "proxy", "metric": r["metric"], "input1": r["input1"], "n1": r["n1"],
                 "input2": r["input2"], "n2": r["n2"], "value": r["value"], "std": r["std"],
                 "published": None, "extractor_sha256": r["weights_sha256"], "note": ""})
if inception["evaluated"]:
    published = {"IS": 11.24, "FID": 3.1508}
    for r in inception["records"]:
        rows.append({"features": "Inception", "metric": r["metric"], "input1": r["input1"], "n1": r["n_samples"],
                     "input2": r["reference"], "n2": r["n_reference"], "value": r["value"], "std": r["std"],
                     "published": published[r["metric"]], "extractor_sha256": r["weights_sha256"],
                     "note": r["protocol"]})
else:
    for metric, inputs in (("IS", ("cifar10/train", None)), ("FID", ("cifar10/train", "cifar10/test"))):
        rows.append({"features": "Inception", "metric": metric, "input1": inputs[0], "n1": None, "input2": inputs[1],
                     "n2": None, "value": None, "std": None, "published": {"IS": 11.24, "FID": 3.1508}[metric],
                     "extractor_sha256": None, "note": f"not evaluated: {inception['reason']}"})
table = pd.DataFrame(rows).astype({"n1": "Int64", "n2": "Int64"})
table.to_csv(figure_path(reports, scale, "metrics/calibration", ".csv"), index=False)
table

# %%
pd.DataFrame(measured).T
