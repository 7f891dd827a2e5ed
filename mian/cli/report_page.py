"""A run's report as one self-contained HTML page (images embedded): what the run did, read back from
ML Metadata and the artifacts it points to (mian.cli.run_report), so that a person opens one file, or
sends it, instead of reading terminal lines and TFMA/TFDV artifacts.

Sections: the gate's decision and the pushed version; the components with their state and seconds;
the ingestion's books (rows read, rejected per reason, examples per split); a statistics summary of
the splits (TFDV's statistics, a row per feature); the test metrics overall and per slice, with the
baseline the gate compared with; the calibration plot; the Trainer's learning curve; a few cases of
MIAN's attention. A section whose component did not run (or ran before the data existed) says so.
"""

from __future__ import annotations

import base64
import glob
import html
import json
import os
import tempfile
from collections.abc import Callable

from mian.cli.run_report import MIN_SLICE_SIZE, RunReport, natural_order
from mian.data.ingest import accounting
from mian.names import AUC, GAUC, LOGLOSS
from mian.stages.trainer import HISTORY_FILE
from mian.tools import figures

# Calibration buckets merged for the plot: TFMA's histogram has 1,000 (a handful of examples each).
CALIBRATION_BUCKETS = 20
ATTENTION_CASES = 6
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.blessed { color: #1b5e20; font-weight: bold; } .rejected { color: #b71c1c; font-weight: bold; }
.note { color: #666; } img { max-width: 100%; }
"""


def report_path(output_root: str, pipeline_name: str, run_id: str) -> str:
    """<output_root>/reports/<pipeline>/<run>.html, the run id's colons (a time of day) made dashes."""
    name = run_id.replace(":", "-")
    return os.path.join(os.path.abspath(output_root), "reports", pipeline_name, f"{name}.html")


def write_report_page(report: RunReport, pipeline_name: str, path: str, slice_features: list[str]) -> str:
    """Writes the page of `report` to `path`; returns `path`."""
    sections = [
        ("Decision", _decision(report)),
        ("Components", _components(report)),
        ("Ingestion", _ingestion(report)),
        ("Statistics of the splits", _statistics(report)),
        ("Test metrics", _metrics(report, slice_features)),
        ("Calibration", _calibration(report)),
        ("Learning curve", _learning_curve(report)),
        ("MIAN's attention", _attention(report)),
    ]
    title = f"mian run {report.run_id} of pipeline {pipeline_name}"
    body = "".join(f'<h2 id="{_anchor(name)}">{name}</h2>\n{content}\n' for name, content in sections)
    page = (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head>\n<body><h1>{html.escape(title)}</h1>\n{body}</body></html>\n"
    )
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(page)
    return path


def _anchor(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower())


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _uri(report: RunReport, component: str, key: str) -> str | None:
    artifact = report.outputs.get(component, {}).get(key)
    return artifact.uri if artifact is not None else None


def _image(draw: Callable[[str], None], alt: str) -> str:
    """A figure drawn by `draw(png_path)`, embedded in the page."""
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "figure.png")
        draw(path)
        with open(path, "rb") as f:
            encoded = base64.b64encode(f.read()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def _decision(report: RunReport) -> str:
    if report.blessed is None:
        verdict = '<p class="rejected">The Evaluator did not run: nothing was judged or pushed.</p>'
    elif report.blessed:
        verdict = '<p class="blessed">BLESSED</p>'
    else:
        failures = "".join(f"<li>{html.escape(f)}</li>" for f in report.gate_failures)
        verdict = f'<p class="rejected">NOT blessed</p><ul>{failures}</ul>'
    baseline = (
        f"Compared with the served model {report.baseline} (test AUC {report.baseline_auc:.4f})."
        if report.baseline and report.baseline_auc is not None
        else "No served model to compare with: gated on the absolute floor alone."
    )
    pushed = f"Pushed: {report.pushed_path}" if report.pushed_path else "Pushed: nothing (no blessed model)."
    drift = "".join(_note(f"drift let through (gates.drift: warn): {line}") for line in report.drift)
    return verdict + _note(baseline) + f"<p>{html.escape(pushed)}</p>" + drift


def _components(report: RunReport) -> str:
    rows = [[c.component, c.state, f"{c.seconds:.1f}"] for c in report.components]
    total = sum(c.seconds for c in report.components)
    return _table(["component", "state", "seconds"], rows) + _note(f"{total:.1f} s in the components.")


def _ingestion(report: RunReport) -> str:
    uri = _uri(report, "ClickLogExampleGen", "rejected")
    if uri is None:
        return _note("ClickLogExampleGen did not run.")
    stats = accounting.load_stats(uri)
    rows = []
    for table in accounting.TABLES:
        reasons = accounting.rejected(stats, table)
        detail = ", ".join(f"{n:,} {reason}" for reason, n in sorted(reasons.items())) or "none"
        rows.append([table, f"{stats.get(f'{table}.read', 0):,}", f"{sum(reasons.values()):,}", detail])
    splits = accounting.examples_by_split(stats)
    return (
        _table(["table", "rows read", "rejected", "rejected per reason"], rows)
        + _table(["split", "examples"], [[s, f"{n:,}"] for s, n in splits.items()])
        + _note(f"Rejected rows and their reasons: {uri}")
    )


def _statistics(report: RunReport) -> str:
    import tensorflow_data_validation as tfdv

    uri = _uri(report, "StatisticsGen", "statistics")
    if uri is None:
        return _note("StatisticsGen did not run.")
    found = {}
    for path in glob.glob(os.path.join(uri, "Split-*", "FeatureStats.pb")):
        (dataset,) = tfdv.load_stats_binary(path).datasets
        found[os.path.basename(os.path.dirname(path)).removeprefix("Split-")] = dataset
    order = [s for s in ("train", "eval", "test") if s in found] + sorted(
        set(found) - {"train", "eval", "test"}
    )
    splits = {split: found[split] for split in order}
    if not splits:
        return _note(f"No statistics under {uri}.")
    header = ["feature"] + [f"{split} ({d.num_examples:,} examples)" for split, d in splits.items()]
    names = list(dict.fromkeys(f.path.step[-1] for d in splits.values() for f in d.features))
    rows = []
    for name in names:
        row = [name]
        for dataset in splits.values():
            feature = next((f for f in dataset.features if f.path.step[-1] == name), None)
            row.append(_feature_summary(feature, dataset.num_examples) if feature is not None else "-")
        rows.append(row)
    return _table(header, rows) + _note(
        "Categorical: distinct values; numerical: mean ± sd; and missing share."
    )


def _feature_summary(feature, examples: int) -> str:
    if feature.HasField("num_stats"):
        stats, common = feature.num_stats, feature.num_stats.common_stats
        text = f"{stats.mean:.3g} ± {stats.std_dev:.3g}"
    else:
        stats, common = feature.string_stats, feature.string_stats.common_stats
        text = f"{stats.unique:,} values"
    missing = common.num_missing / examples if examples else 0.0
    return f"{text}, {missing:.0%} missing" if missing else text


def _metrics(report: RunReport, slice_features: list[str]) -> str:
    if not report.metrics:
        return _note("The Evaluator did not run.")
    header = ["slice", "examples", "AUC", "GAUC", "logloss", "calibration"]

    def row(name: str, values: dict) -> list:
        return [name, f"{values.get('example_count', 0):,.0f}"] + [
            f"{values[k]:.4f}" if k in values else "-" for k in (AUC, GAUC, LOGLOSS, "calibration")
        ]

    rows = [row("overall", report.overall)]
    for feature in slice_features:
        slices = [(k[0][1], v) for k, v in report.metrics.items() if k and k[0][0] == feature]
        for value, values in sorted(slices, key=lambda kv: natural_order(kv[0])):
            if values.get("example_count", 0) >= MIN_SLICE_SIZE:
                rows.append(row(f"{feature}={value}", values))
    return _table(header, rows) + _note(
        f"Slices under {MIN_SLICE_SIZE} examples are left out. GAUC: the impression-weighted mean of "
        "per-user AUC (users with one label class left out)."
    )


def _calibration(report: RunReport) -> str:
    import tensorflow_model_analysis as tfma

    uri = _uri(report, "Evaluator", "evaluation")
    if uri is None:
        return _note("The Evaluator did not run.")
    buckets = []
    for plots in tfma.load_plots(uri):
        if plots.slice_key.single_slice_keys:
            continue
        for kv in plots.plot_keys_and_values:
            if kv.key.model_name in ("", tfma.CANDIDATE_KEY) and kv.value.HasField(
                "calibration_histogram_buckets"
            ):
                buckets = list(kv.value.calibration_histogram_buckets.buckets)
    merged = _merged_buckets(buckets, CALIBRATION_BUCKETS)
    if not merged:
        return _note("No calibration plot in the evaluation.")
    return _image(lambda path: figures.calibration(merged, path), "calibration plot")


def _merged_buckets(buckets, count: int) -> list[tuple[float, float, float]]:
    """TFMA's calibration histogram merged into about `count` buckets of equal examples: (mean
    prediction, click rate, examples) each."""
    filled = [b for b in buckets if b.num_weighted_examples.value > 0]
    total = sum(b.num_weighted_examples.value for b in filled)
    merged, examples, labels, predictions = [], 0.0, 0.0, 0.0
    for bucket in filled:
        examples += bucket.num_weighted_examples.value
        labels += bucket.total_weighted_label.value
        predictions += bucket.total_weighted_refined_prediction.value
        if examples >= total / count:
            merged.append((predictions / examples, labels / examples, examples))
            examples = labels = predictions = 0.0
    if examples:
        merged.append((predictions / examples, labels / examples, examples))
    return merged


def _learning_curve(report: RunReport) -> str:
    uri = _uri(report, "Trainer", "model_run")
    path = os.path.join(uri, HISTORY_FILE) if uri else ""
    if not path or not os.path.exists(path):
        return _note("The Trainer did not run.")
    with open(path) as f:
        history = json.load(f)["epochs"]
    curves = {"eval AUC after each epoch": {"eval AUC": history.get("val_auc", [])}}
    losses = {"train loss": history.get("loss", []), "eval loss": history.get("val_loss", [])}
    loss_curves = {"loss after each epoch": losses}
    return _image(lambda p: figures.learning_curves(curves, p), "eval AUC per epoch") + _image(
        lambda p: figures.learning_curves(loss_curves, p, metric="loss", best=min), "loss per epoch"
    )


def _attention(report: RunReport) -> str:
    from mian.tools.explain import attention_of

    model = _uri(report, "Trainer", "model")
    examples = _uri(report, "TrainingWindow", "examples") or _uri(report, "ClickLogExampleGen", "examples")
    test_files = sorted(glob.glob(os.path.join(examples, "Split-test", "*"))) if examples else []
    if model is None or not test_files:
        return _note("No trained model or no test split.")
    try:
        cases = attention_of(os.path.join(model, "Format-Serving"), test_files[0], ATTENTION_CASES)
    except ValueError as reason:  # a model other than MIAN has no attention to show
        return _note(str(reason))
    return _image(lambda p: figures.attention_heatmaps(cases, p), "MIAN's attention") + _note(
        f"The first {len(cases)} test examples: which representations the prediction leans on (GIM) and "
        "which earlier clicks matter for the candidate (IBIM); the paper's Figure 6."
    )
