# %% [markdown]
# # WGAN-GP Table 4: a character-level language model with a continuous generator
#
# The generator maps $z \sim N(0, I_{128})$ to a softmax over the vocabulary at each of 32
# positions and the critic reads that softmax directly (real lines are one-hot): no sampling
# step. Generated lines are decoded by argmax at each position, as `gan_language.py` does.
#
# * **Table 4**: the paper's published samples (Billion Word, width 512, 200,000 generator
#   iterations) beside ours at this scale: the argmax lines of a fixed noise batch through each
#   run's final generator (WGAN-GP and the standard GAN objective with the same networks). The
#   padding character is `` ` `` and the 'unk' token is shown as `�`.
# * **n-gram JS over training**: the Jensen-Shannon divergence (bits) between the character
#   n-gram model (n = 1..4) of freshly generated lines and that of the held-out text, every
#   evaluation step, with the real-vs-real floor (the same number of real training lines against
#   the same reference; mean and ±1 sd over repeated draws) as the dashed line and band.

# %% tags=["parameters"]
scale = "small"
results = "results"
reports = "reports"
extra_deltas = None  # the runs' extra setting deltas (YAML), if they had any

# %%
import html

import matplotlib.pyplot as plt
import pandas as pd

from replication.runs import Results
from replication.report import figure_path

res = Results("wgangp_language", scale, results, extra_deltas)
s = res.settings
orders = s.ngram.orders
floor_run = res.run(task="floor")
floor = res.result(floor_run)
train_runs = res.runs(task="train")
methods = list(s.methods)
label = {"wgangp": "WGAN-GP", "gan": "standard GAN objective"}
final = {r: res.json(r, "final_metrics.json")["metrics"] for r in train_runs}
curves = {r: res.frame(r, "evaluation.csv") for r in train_runs}
width = s.networks["generator"]["width"]
protocol = (f"Scale `{scale}`: {s.data.dataset} ({floor['train_lines']} training lines, {floor['heldout_lines']} "
            f"held-out lines, vocabulary {floor['vocab']} tokens), width {width} (paper 512), 5 residual blocks, "
            f"{s.training['iterations']} generator iterations, batch {s.training['batch_size']}; JS of "
            f"{s.ngram.samples} argmax-decoded samples (batches of {s.ngram.batch_size}) against the "
            f"held-out text, every {s.training['evaluation']['every']} iterations (replication.metrics.ngram, "
            f"the official NgramLanguageModel / js_with); floor over {floor['draws']} draws of "
            f"{floor['samples']} training lines.")

# %% [markdown]
# ## Table 4: samples

# %%
n_lines = s.table.lines
columns = {"published (Billion Word, width 512)": list(s.published_samples)[:n_lines]}
for method in methods:
    first = res.runs(task="train", method=method)[0]
    columns[f"{label[method]} ({first}, ours)"] = final[first]["lines"][:n_lines]
table = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()}).fillna("")
table.to_csv(figure_path(reports, scale, "wgan_gp/table4", ".csv"), index=False)
markdown = (table.map(lambda line: f"<code>{html.escape(line, quote=False).replace('|', '&#124;')}</code>" if line else "")
            .to_markdown(index=False)
            + f"\n\nArgmax lines of a fixed batch of {n_lines} noise vectors through each run's final generator. "
            + protocol + "\n")
figure_path(reports, scale, "wgan_gp/table4", ".md").write_text(markdown)
table.style.set_properties(**{"font-family": "monospace", "white-space": "pre", "text-align": "left"})

# %% [markdown]
# ## n-gram JS over training

# %%
fig, axes = plt.subplots(1, len(orders), figsize=(4 * len(orders), 3.6), sharex=True)
colors = {"wgangp": "tab:red", "gan": "tab:blue"}
styles = ["-", "--", ":", "-."]
for ax, n in zip(axes, orders):
    for method in methods:
        for k, run in enumerate(res.runs(task="train", method=method)):
            c = curves[run]
            ax.plot(c["step"], c[f"js{n}"], styles[k % len(styles)], color=colors.get(method), lw=1.2,
                    label=f"{label[method]} s{res.params(run)['seed']}")
    mean, sd = floor[f"js{n}_mean"], floor[f"js{n}_sd"]
    ax.axhline(mean, color="k", ls="--", lw=1, label="real-vs-real floor")
    ax.axhspan(mean - sd, mean + sd, color="grey", alpha=0.3)
    ax.set(title=f"JS-{n}", xlabel="generator iteration", ylim=(0, 1.02))
axes[0].set_ylabel("JS divergence (bits)")
axes[-1].legend(fontsize=7)
fig.tight_layout()
fig.savefig(figure_path(reports, scale, "wgan_gp/table4", ".png", "ngram"), dpi=130)
fig.savefig(figure_path(reports, scale, "wgan_gp/table4", ".pdf", "ngram"))

# %%
rows = []
for run in train_runs:
    c = curves[run]
    for when, row in (("initialisation", c.iloc[0]), ("last evaluation", c.iloc[-1])):
        rows.append({"run": run, "method": label[res.params(run)["method"]], "measured at": f"{when} (step {int(row.step)})",
                     **{f"JS-{n}": row[f"js{n}"] for n in orders}, "mean max softmax": row["softmax_max"]})
    rows.append({"run": run, "method": label[res.params(run)["method"]], "measured at": "final checkpoint (evaluate rule)",
                 **{f"JS-{n}": final[run][f"js{n}"] for n in orders}, "mean max softmax": final[run]["softmax_max"]})
rows.append({"run": floor_run, "method": "real training lines", "measured at": f"floor, mean of {floor['draws']} draws",
             **{f"JS-{n}": floor[f"js{n}_mean"] for n in orders}})
js_table = pd.DataFrame(rows)
js_table.to_csv(figure_path(reports, scale, "wgan_gp/table4", ".csv", "ngram"), index=False)
figure_path(reports, scale, "wgan_gp/table4", ".md", "ngram").write_text(
    js_table.to_markdown(index=False, floatfmt=".4f") + "\n\nThe paper publishes no JS values (Table 4 shows samples). "
    + protocol + "\n")
js_table.round(4)

# %%
pd.DataFrame(res.measured()).T
