"""Figures that several report notebooks draw (matplotlib; each notebook saves its own files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from replication.errors import ReplicationError
from replication.io import load_arrays


def final_grid(res, run: str) -> Path:
    """The run's last sample grid (one fixed noise batch, the final generator)."""
    grids = sorted(res.path(run, "samples").glob("step_*.png"))
    if not grids:
        raise ReplicationError(f"no sample grids in {res.path(run, 'samples')}: rebuild the run with snakemake")
    return grids[-1]


def sample_sheets(cells: list[list[tuple[Path, str]]], *, rows: list[str] = (), columns: list[str] = (),
                  title: str = "", size: tuple[float, float] = (4.5, 4.8), fontsize: int = 9):
    """A grid of sample sheets: ``cells[i][j] = (image path, title)``, or None for a cell without a
    run (a sub-grid selected by extra deltas: left blank); optional row and column labels."""
    import matplotlib.pyplot as plt
    from matplotlib.image import imread

    fig, axes = plt.subplots(len(cells), len(cells[0]), figsize=(size[0] * len(cells[0]), size[1] * len(cells)),
                             squeeze=False)
    for i, line in enumerate(cells):
        for j, cell in enumerate(line):
            ax = axes[i, j]
            path, text = cell or (None, "not run")
            if path is not None:
                ax.imshow(imread(path), cmap="gray")
            ax.set_xticks([]), ax.set_yticks([])
            ax.set_title(text, fontsize=fontsize)
            if i == 0 and columns:
                ax.set_xlabel(columns[j], fontsize=9)
                ax.xaxis.set_label_position("top")
            if j == 0 and rows:
                ax.set_ylabel(rows[i], fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))  # keep 0.35 in above the grid for the title
    return fig


def outcome_title(row) -> str:
    """A run's outcome and measures as a sheet's title."""
    extra = (f", intra {row['intra_fid']:.0f}, {row['effective_classes']:.1f} classes"
             if "intra_fid" in row and pd.notna(row["intra_fid"]) else "")
    return f"{row['outcome']}, FID {row['fid']:.0f}{extra}"


def seeds_by_method(res, table: pd.DataFrame, methods: dict[str, str], where: dict, title: str):
    """Sample sheets of the runs matching ``where``: one row per seed, one column per method
    (``methods``: {method: label}), each titled with its outcome (``table``: recipes.outcomes)."""
    rows = table.set_index("run")
    cells = [[(final_grid(res, run), f"{label} (seed {seed}): " + outcome_title(rows.loc[run]))
              for method, label in methods.items() for run in [res.run(method=method, seed=seed, **where)]]
             for seed in res.settings.seeds]
    return sample_sheets(cells, title=title)


def outcome_figures(res, table: pd.DataFrame, methods: dict[str, str], where: dict, artifact: str, reports,
                    scale: str) -> tuple:
    """An outcome figure's three outputs, written where the artifact's files go: the sample sheets
    (seeds x methods), the runs' outcome rows (csv) and their measures over training (the
    ``curves`` part). Returns (sheets, rows, curves)."""
    from replication.report import figure_path

    label = ", ".join(f"{k} {v}" for k, v in where.items())
    sheets = seeds_by_method(res, table, methods, where, f"{artifact} ({label}; scale {scale})")
    for suffix in (".png", ".pdf"):
        sheets.savefig(figure_path(reports, scale, artifact, suffix), dpi=130)
    rows = table
    for column, value in where.items():
        rows = rows[rows[column] == value]
    rows.to_csv(figure_path(reports, scale, artifact, ".csv"), index=False)
    evaluations = pd.concat([res.frame(run, "evaluation.csv").assign(run=run) for run in res.runs(**where)])
    features = "proxy" if res.features == "proxy" else "Inception"
    curves = measure_curves(evaluations, f"Measures during training ({features} features, scale {scale})")
    curves.savefig(figure_path(reports, scale, artifact, part="curves"), dpi=130)
    return sheets, rows, curves


def measure_curves(frame: pd.DataFrame, title: str):
    """FID (and, where measured, intra-class FID, effective classes, recall and the duplicate
    rate) at every evaluation, one line per run (``frame``: evaluation rows with a ``run`` column)."""
    import matplotlib.pyplot as plt

    columns = [c for c in ("fid", "intra_fid", "effective_classes", "recall", "duplicates") if c in frame]
    ncols = min(3, len(columns))
    nrows = -(-len(columns) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False)
    for ax in axes.flat[len(columns):]:
        ax.axis("off")
    for ax, column in zip(axes.flat, columns):
        for run, rows in frame.groupby("run"):
            ax.plot(rows["step"], rows[column], marker="o", ms=3, label=run)
        ax.set(xlabel="generator iterations", ylabel=column,
               yscale="log" if column in ("fid", "intra_fid") else "linear")
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def loss_panels(panels: dict[str, tuple[pd.DataFrame, pd.DataFrame]], column: str, smoothed: str, label: str,
                score: str, metric: str, width: int, reference_line: float | None = None):
    """One panel per run: a logged curve (light), its median filter (dark) and the quality score
    at the evaluations on a right axis. ``panels``: {title: (training log, evaluation rows)}."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(panels), 1, figsize=(7.5, 3.0 * len(panels)), squeeze=False)
    for ax, (title, (log, evaluations)) in zip(axes[:, 0], panels.items()):
        ax.plot(log["step"], log[column], color="tab:blue", alpha=0.25, lw=0.5, label=label)
        ax.plot(log["step"], log[smoothed], color="tab:blue", lw=1.5, label=f"median filter {width}")
        if reference_line is not None:
            ax.axhline(reference_line, color="k", ls="--", lw=0.8, label=f"{reference_line:.3f}")
        ax.set(ylabel=label, title=title)
        right = ax.twinx()
        right.plot(evaluations["step"], evaluations[metric], "o-", color="tab:red", ms=3, lw=1, label=score)
        right.set_ylabel(score, color="tab:red")
        handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
        ax.legend(handles, [h.get_label() for h in handles], fontsize=7, loc="best")
    axes[-1, 0].set_xlabel("generator iterations")
    fig.tight_layout()
    return fig


def grids_over_training(res, panels: dict[str, str]):
    """The fixed-noise sample grid of each run (``panels``: {title: run}) at its first, middle
    and last evaluation."""
    import matplotlib.pyplot as plt
    from PIL import Image

    fig, axes = plt.subplots(len(panels), 3, figsize=(7.5, 2.6 * len(panels)), squeeze=False)
    for row, (title, run) in zip(axes, panels.items()):
        steps = sorted(int(p.stem.split("_")[1]) for p in res.path(run, "samples").glob("step_*.png"))
        for ax, step in zip(row, (steps[0], steps[len(steps) // 2], steps[-1])):
            ax.imshow(Image.open(res.path(run, f"samples/step_{step:07d}.png")))
            ax.set(xticks=[], yticks=[])
            ax.set_title(f"{title}\niteration {step}" if ax is row[0] else f"iteration {step}", fontsize=7)
    fig.tight_layout()
    return fig


def tile(panel: np.ndarray) -> np.ndarray:
    """rows x cols x C x H x W images in [0, 1] -> one (rows H) x (cols W) [x 3] array with 1-pixel gaps."""
    rows, cols, c, h, w = panel.shape
    out = np.ones((rows * (h + 1) - 1, cols * (w + 1) - 1, c), dtype=np.float32)
    for i in range(rows):
        for j in range(cols):
            out[i * (h + 1):i * (h + 1) + h, j * (w + 1):j * (w + 1) + w] = panel[i, j].transpose(1, 2, 0)
    return out[..., 0] if c == 1 else out


def autoencoder_panels(res, setup: str, title: str):
    """WAE Figure 2/3 layout: columns VAE | WAE-MMD | WAE-GAN (first seed), rows test reconstructions
    (odd rows real), random samples, test interpolations; from each run's figures.npz."""
    import matplotlib.pyplot as plt

    models, seed = res.settings.models, res.settings.seeds[0]
    names = {"vae": "VAE", "wae_mmd": "WAE-MMD", "wae_gan": "WAE-GAN"}
    rows = (("reconstructions", "Test reconstructions"), ("samples", "Random samples"),
            ("interpolations", "Test interpolations"))
    fig, axes = plt.subplots(3, len(models), figsize=(3.4 * len(models), 10.5), squeeze=False)
    for j, model in enumerate(models):
        panels = load_arrays(res.path(res.run(task="train", setup=setup, model=model, seed=seed), "figures.npz"))
        for i, (key, label) in enumerate(rows):
            ax = axes[i, j]
            ax.imshow(tile(panels[key]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if i == 0:
                ax.set_title(names.get(model, model))
            if j == 0:
                ax.set_ylabel(label)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
