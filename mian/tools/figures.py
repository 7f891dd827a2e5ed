"""The figures mian draws, with matplotlib (Agg, no display): the quality table's AUCs, learning curves,
MIAN's attention (the paper's Figure 6) and a calibration plot. Each takes plain numbers and writes a
PNG; `Figure` objects are used directly, without pyplot's global state, so that threads may draw."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.figure import Figure

# MIAN red, its variants orange, the baselines from a qualitative map without either.
MIAN_COLOR = "#c62828"
VARIANT_COLOR = "#ef8a17"


def model_colors(models: list[str]) -> dict[str, str]:
    baselines = [m for m in models if not m.startswith("mian")]
    tab10 = matplotlib.colormaps["tab10"]
    palette = [tab10(i) for i in (0, 2, 4, 5, 6, 7, 8, 9)]  # not orange or red: MIAN's
    colors = {m: matplotlib.colors.to_hex(palette[i % len(palette)]) for i, m in enumerate(baselines)}
    for model in models:
        if model == "mian":
            colors[model] = MIAN_COLOR
        elif model.startswith("mian"):
            colors[model] = VARIANT_COLOR
    return colors


def auc_bars(summary: dict[str, dict[str, tuple[float, float]]], path: str, metric: str = "test AUC") -> None:
    """One panel per dataset, on its own scale (models differ by a fraction of a point): a bar per model
    at its mean, a whisker of one standard deviation, and the mean written on the bar.

    `summary`: {dataset: {model: (mean, standard deviation)}}."""
    models = list(dict.fromkeys(m for per in summary.values() for m in per))
    colors = model_colors(models)
    figure = Figure(figsize=(1.2 + 0.55 * len(models) * len(summary), 4.6), layout="constrained")
    axes = figure.subplots(1, len(summary), squeeze=False)[0]
    for ax, (dataset, per) in zip(axes, summary.items(), strict=True):
        names = [m for m in models if m in per]
        means = np.array([per[m][0] for m in names])
        sds = np.array([per[m][1] for m in names])
        x = np.arange(len(names))
        ax.bar(x, means, yerr=sds, capsize=3, color=[colors[m] for m in names], edgecolor="black", lw=0.5)
        low, high = float((means - sds).min()), float((means + sds).max())
        margin = max(0.004, (high - low) * 0.25)
        ax.set_ylim(low - margin, high + margin)
        for xi, mean, sd in zip(x, means, sds, strict=True):
            ax.text(
                xi,
                mean + sd + margin * 0.08,
                f"{mean:.4f}",
                ha="center",
                va="bottom",
                fontsize=7,
                rotation=90,
            )
        ax.set_xticks(x, names, rotation=45, ha="right", fontsize=8)
        ax.set_title(dataset)
        ax.set_ylabel(f"{metric} (mean ± 1 sd)")
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    figure.savefig(path, dpi=130)


def learning_curves(
    curves: dict[str, dict[str, list[float]]], path: str, metric: str = "eval AUC", best=max
) -> None:
    """One panel per dataset, a line per model: `metric` after each epoch (`curves`: {dataset: {model:
    [value per epoch]}}); each line's best epoch (by `best`: max for an AUC, min for a loss) is marked."""
    figure = Figure(figsize=(5.2 * len(curves), 4.2), layout="constrained")
    axes = figure.subplots(1, len(curves), squeeze=False)[0]
    for ax, (dataset, per) in zip(axes, curves.items(), strict=True):
        colors = model_colors(list(per))
        for model, values in per.items():
            epochs = np.arange(1, len(values) + 1)
            ax.plot(epochs, values, marker="o", ms=3, lw=1.4, color=colors[model], label=model)
            if values:
                chosen = values.index(best(values))
                ax.plot(epochs[chosen], values[chosen], marker="*", ms=10, color=colors[model])
        ax.set_title(dataset)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    figure.savefig(path, dpi=130)


def attention_heatmaps(cases: list[dict], path: str) -> None:
    """MIAN's attention for a few cases (mian.tools.explain.attention_of), as the paper's Figure 6: the
    GIM weights over the representations of Eq. 14 (Eq. 15) and the IBIM weights over the behaviors,
    newest first (Eq. 7), a row per case, each weight written in its cell, a colour bar each."""
    names = list(cases[0]["gim_weights"])
    steps = max(1, max(len(c["ibim_weights"]) for c in cases))
    gim = np.array([[c["gim_weights"][n] for n in names] for c in cases])
    ibim = np.full((len(cases), steps), np.nan)
    for i, case in enumerate(cases):
        ibim[i, : len(case["ibim_weights"])] = case["ibim_weights"]
    rows = [f"#{c['case']} item {c['item_id']}  p={c['probability']:.2f}" for c in cases]
    figure = Figure(
        figsize=(3.5 + 0.55 * (len(names) + steps), 1.6 + 0.45 * len(cases)),
        layout="constrained",
    )
    left, right = figure.subplots(1, 2, width_ratios=[len(names), steps])
    _heatmap(left, gim, rows, names, "GIM weights over representations (Eq. 15)", figure)
    _heatmap(
        right, ibim, None, [str(t + 1) for t in range(steps)], "IBIM weights over behaviors (Eq. 7)", figure
    )
    right.set_xlabel("behavior, newest first")
    figure.savefig(path, dpi=130)


def _heatmap(ax, values: np.ndarray, rows: list[str] | None, columns: list[str], title: str, figure) -> None:
    image = ax.imshow(values, cmap="Blues", vmin=0.0, vmax=float(np.nanmax(values)), aspect="auto")
    slanted = rows is not None  # the representations' names are long; the behaviors' numbers short
    ax.set_xticks(np.arange(len(columns)), columns, rotation=45 if slanted else 0,
                  ha="right" if slanted else "center", fontsize=8)  # fmt: skip
    ax.set_yticks(np.arange(values.shape[0]), rows or [""] * values.shape[0], fontsize=8)
    ax.set_title(title, fontsize=10)
    middle = float(np.nanmax(values)) / 2
    for (i, j), value in np.ndenumerate(values):
        if not np.isnan(value):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6.5,
                    color="white" if value > middle else "black")  # fmt: skip
    figure.colorbar(image, ax=ax, shrink=0.9, label="weight")


def calibration(buckets: list[tuple[float, float, float]], path: str) -> None:
    """Observed click rate against mean predicted probability per bucket of predictions (`buckets`:
    (mean prediction, click rate, examples)), the diagonal for a calibrated model, and the examples
    per bucket below."""
    figure = Figure(figsize=(5.0, 5.6), layout="constrained")
    top, bottom = figure.subplots(2, 1, height_ratios=[3, 1], sharex=True)
    predicted, observed, counts = (np.array(column, dtype=float) for column in zip(*buckets, strict=True))
    limit = float(max(predicted.max(), observed.max())) * 1.05
    top.plot([0, limit], [0, limit], ls="--", color="grey", lw=1, label="calibrated")
    top.scatter(predicted, observed, s=12 + 60 * counts / counts.max(), color=MIAN_COLOR, label="buckets")
    top.set_ylabel("observed click rate")
    top.set_title("calibration on the test split")
    top.grid(alpha=0.3)
    top.legend(fontsize=8)
    bottom.bar(predicted, counts, width=limit / max(20, len(predicted) * 1.5), color="#607d8b")
    bottom.set_xlabel("mean predicted probability")
    bottom.set_ylabel("examples")
    bottom.set_xlim(0, limit)
    figure.savefig(path, dpi=130)
