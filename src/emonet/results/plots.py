"""Plots people would rather see than read: confusion matrices, training curves, heatmaps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from emonet.files import atomic_path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:  # the temporary name keeps the suffix: the image format
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
    _plt().close(fig)
    return Path(path)


def _matrix(ax, values: np.ndarray, rows: Sequence[str], cols: Sequence[str], text, cmap: str):
    """Draw ``values`` (in [0, 1]) as a coloured grid annotated with the strings in ``text``."""
    im = ax.imshow(values, cmap=cmap, vmin=0, vmax=1)
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            colour = "white" if np.isfinite(values[i, j]) and values[i, j] > 0.6 else "black"
            ax.text(j, i, text[i][j], ha="center", va="center", color=colour, fontsize=8)
    return im


def confusion_png(
    confusion: Sequence[Sequence[int]], labels: Sequence[str], path: Path, title: str = ""
) -> Path:
    """Confusion matrix (rows: truth) with counts, coloured by row-normalised recall."""
    plt = _plt()
    counts = np.asarray(confusion, dtype=np.float64)
    recall = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    size = 1.2 + 0.55 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    text = [[f"{int(c)}" for c in row] for row in counts]
    im = _matrix(ax, recall, labels, labels, text, "Blues")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="recall")
    return _save(fig, path)


def heatmap_png(
    values: np.ndarray, rows: Sequence[str], cols: Sequence[str], path: Path, title: str = ""
) -> Path:
    """A matrix of scores in [0, 1] (e.g. cross-corpus UAR), annotated."""
    plt = _plt()
    size = 1.5 + 0.7 * max(len(rows), len(cols))
    fig, ax = plt.subplots(figsize=(size + 1, size))
    values = np.asarray(values, dtype=np.float64)
    text = [["–" if not np.isfinite(v) else f"{v:.2f}" for v in row] for row in values]
    im = _matrix(ax, values, rows, cols, text, "viridis")
    ax.set_xlabel("evaluated on")
    ax.set_ylabel("head of")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="UAR")
    return _save(fig, path)


def stage_boundaries(metrics: pd.DataFrame) -> list[float]:
    """Epoch positions (halfway between epochs) where a run's training stage changes.

    Uses the ``stage`` column of ``metrics.csv``; a run without it, or with one stage, has none.
    """
    if "stage" not in metrics or "epoch" not in metrics or metrics["stage"].isna().all():
        return []
    per_epoch = metrics.dropna(subset=["stage"]).groupby("epoch", sort=True)["stage"].first()
    epochs, stages = per_epoch.index.to_numpy(), per_epoch.to_numpy()
    return [
        float(epochs[k - 1] + epochs[k]) / 2
        for k in range(1, len(stages))
        if stages[k] != stages[k - 1]
    ]


def curves_figure(
    metrics: pd.DataFrame, title: str = "", chance: Mapping[str, float] | None = None
):
    """Figure of training/devel loss and devel UAR per epoch and corpus, from ``metrics.csv``.

    Every panel has a legend; dotted vertical lines mark stage boundaries (the reference
    schedule's learning-rate stages) and, given ``chance`` (corpus → 1 / classes), dashed
    horizontal lines mark chance UAR. Returns the matplotlib figure (not closed).
    """
    plt = _plt()
    from matplotlib.lines import Line2D

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    has_devel_loss = False
    for k, (corpus, rows) in enumerate(metrics.groupby("corpus", sort=False)):
        colour = colours[k % len(colours)]
        ax1.plot(rows["epoch"], rows["train_loss"], color=colour, label=str(corpus))
        if "devel_loss" in rows and rows["devel_loss"].notna().any():
            has_devel_loss = True
            ax1.plot(rows["epoch"], rows["devel_loss"], color=colour, linestyle="--")
        if "devel_uar" in rows and rows["devel_uar"].notna().any():
            ax2.plot(rows["epoch"], rows["devel_uar"], color=colour, marker=".", label=str(corpus))
    colour_of = {str(c): colours[k % len(colours)]
                 for k, c in enumerate(metrics["corpus"].drop_duplicates())}  # fmt: skip
    levels: dict[float, list[str]] = {}
    for corpus, level in (chance or {}).items():
        levels.setdefault(round(float(level), 6), []).append(str(corpus))
    for level, corpora in sorted(levels.items()):
        colour = colour_of.get(corpora[0], "grey") if len(corpora) == 1 else "grey"
        ax2.axhline(level, color=colour, linestyle="--", linewidth=1,
                    label=f"chance {level:.3f} ({', '.join(corpora)})")  # fmt: skip
    for ax in (ax1, ax2):
        for i, x in enumerate(stage_boundaries(metrics)):
            ax.axvline(x, color="black", linestyle=":", linewidth=1,
                       label="stage boundary" if i == 0 else None)  # fmt: skip
            ax.text(x, 1.0, f"stage {i + 2}", transform=ax.get_xaxis_transform(),
                    fontsize=7, va="bottom", ha="center")  # fmt: skip
    handles, labels = ax1.get_legend_handles_labels()
    handles.append(Line2D([], [], color="black"))
    labels.append("training (solid)")
    if has_devel_loss:
        handles.append(Line2D([], [], color="black", linestyle="--"))
        labels.append("devel (dashed)")
    ax1.legend(handles, labels, fontsize=8)
    if not ax2.get_legend_handles_labels()[0]:
        ax2.text(0.5, 0.5, "no devel scores", ha="center", va="center", transform=ax2.transAxes)
        ax2.plot([], [], label="devel UAR (none logged)")
    ax2.legend(fontsize=8)
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("loss")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("devel UAR")
    fig.suptitle(title)
    return fig


def curves_png(
    metrics: pd.DataFrame, path: Path, title: str = "", chance: Mapping[str, float] | None = None
) -> Path:
    """:func:`curves_figure` saved as a PNG."""
    return _save(curves_figure(metrics, title, chance), path)
