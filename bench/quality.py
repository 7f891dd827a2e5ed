"""The paper's evaluation (Tables 2-4, section 4.5) on our data: every model, MIAN's ablations, seeds.

    .venv/bin/python bench/quality.py [--datasets movielens sequence-rich profile-rich] [--seeds 3]
        [--models lr wdl ...] [--no-ablations] [--epochs 10] [--tune TRIALS] [--out bench/results] [--smoke]
        [--user-id-feature] [--redraw]

Per dataset, the pipeline itself (`mian run`'s LocalDagRunner pipeline: ingestion, validation,
Transform) makes the splits and vocabularies once; every model then trains with the Trainer's own
`mian.stages.trainer.train` (early stopping on the eval split's AUC) on Transform's output, and is scored
once on the test split. Writes OUT/quality.csv (dataset, model, seed, auc, logloss, epochs, seconds,
examples/s), OUT/curves.csv (eval AUC after each epoch), OUT/quality.md (mean and standard deviation
per model, MIAN against the best baseline, the speed ratios of section 4.5), OUT/quality.png (test AUC
with error bars, matplotlib) and OUT/curves.png (eval AUC per epoch of every model, the first seed, the
paper's Figure 5). `--redraw` draws the two figures again from the CSVs.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import glob
import json
import os
import re
import shlex
import statistics
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import tensorflow as tf  # noqa: E402
import tensorflow_transform as tft  # noqa: E402
import tf_keras as keras  # noqa: E402
import yaml  # noqa: E402

from mian.config.dataset_config import config_path  # noqa: E402
from mian.config.pipeline_config import (  # noqa: E402
    PipelineConfig,
    TrainingConfig,
    TuningConfig,
    VocabularyConfig,
)
from mian.numbered_dirs import newest_numbered  # noqa: E402
from mian.pipeline.local_runner import run  # noqa: E402
from mian.stages.epoch_timer import EPOCH_SECONDS  # noqa: E402
from mian.stages.trainer import HISTORY_FILE, train, transformed_dataset_fn  # noqa: E402
from mian.stages.transform import model_feature_spec, transform_custom_config  # noqa: E402
from mian.stages.tuning import search  # noqa: E402
from mian.tools import figures  # noqa: E402
from mian_keras import ABLATIONS, MODELS, MIANParams  # noqa: E402

MOVIELENS = os.path.join(os.path.dirname(REPO), "shared", "data", "ml-100k")
# Synthetic sets shaped like the paper's two kinds of data (the generator's fields are fixed: three
# user fields, two context fields and three derived from the time; they differ in history length).
SYNTHETIC = {
    # Long histories, like Amazon: users active most days, few new or returning users.
    "sequence-rich": {"users": 1300, "items": 800, "days": 30, "seed": 1, "daily_activity": 0.8,
                      "impressions_per_active_day": 5.0, "new_user_share": 0.02, "inactive_user_share": 0.02},
    # Short or empty histories, like the commercial data: rare visits, many new users.
    "profile-rich": {"users": 26000, "items": 800, "days": 30, "seed": 2, "daily_activity": 0.08,
                     "impressions_per_active_day": 3.0, "new_user_share": 0.4, "inactive_user_share": 0.2},
    # Profile-driven clicks from regular users: ~20 train examples a user, where an id can memorize.
    "frequent-users": {"users": 3000, "items": 800, "days": 30, "seed": 4, "daily_activity": 0.4,
                       "impressions_per_active_day": 3.0, "new_user_share": 0.1, "inactive_user_share": 0.1},
}  # fmt: skip
# Eval and test days of the synthetic sets: at least 20,000 test examples each, so that an AUC
# difference of 0.005 is beyond the test split's noise.
SYNTHETIC_SPLIT = {"eval_days": 4, "test_days": 4}
SMOKE = {"users": 150, "items": 60, "days": 8, "seed": 3}
# A dataset's with-user-id variant (issue 35): the same data, the user id a user field of every model,
# as in the paper's Amazon sets. `--user-id-feature` adds it beside each dataset; any script taking a
# dataset name takes DATASET+user-id.
USER_ID_VARIANT = "+user-id"
# Table 2's baselines, then two beyond it built from TF Recommenders' layers (DCN-V2, DLRM).
BASELINES = ("lr", "wdl", "dcn", "deepfm", "xdeepfm", "din", "dien", "dcn_v2", "dlrm")
SPEED_MODELS = ("din", "dien", "mian")
RESULT_FILE = "result.json"
CURVES_FILE = "curves.csv"
TUNED_FILE = "tuned.json"
PAPER_ROW = "mian (paper 4.3)"


def ablation_row(ablation: str) -> str:
    """The row of MIAN with one of ABLATIONS' switches changed."""
    return f"mian {ablation}"


def prepare(dataset: str, work: str, vocabulary: dict | None = None) -> tuple[str, str, dict]:
    """Runs the pipeline once on the dataset up to Transform; returns Transform's output (transform graph dir,
    transformed examples dir) and the custom_config Transform ran with. `vocabulary` (VocabularyConfig's
    fields) changes Transform's vocabularies, in a pipeline of its own."""
    data = os.path.join(work, "data", dataset)
    source = dataset.removesuffix(USER_ID_VARIANT)
    if not os.path.exists(config_path(data)):
        if source == "movielens":
            from mian.data.movielens import import_movielens

            import_movielens(MOVIELENS, data)
        else:
            from mian.data.synthetic import GeneratorConfig, generate

            generate(data, GeneratorConfig(**(SMOKE if source == "smoke" else SYNTHETIC[source])))
            if source != "smoke":
                _edit_dataset_config(data, lambda config: {**config, "split": SYNTHETIC_SPLIT})
        if dataset != source:
            _edit_dataset_config(data, _with_user_id)
    vocabulary = vocabulary or {}
    suffix = "".join(f"-{key}-{value}" for key, value in sorted(vocabulary.items()))
    config = PipelineConfig(
        data_dir=data,
        pipeline_name=f"quality-{dataset}{suffix}",
        output_root=os.path.join(work, "runs"),
        vocabulary=VocabularyConfig(**vocabulary),
    )
    run(config, until="Transform")  # the models are trained here, not by the pipeline's Trainer
    root = os.path.join(config.pipeline_root, "Transform")
    graph, examples = (
        newest_numbered(os.path.join(root, "transform_graph")),
        newest_numbered(os.path.join(root, "transformed_examples")),
    )
    return graph, examples, transform_custom_config(config.dataset(), config.vocabulary)


def _edit_dataset_config(data_dir: str, edit) -> None:
    with open(config_path(data_dir)) as f:
        config = yaml.safe_load(f)
    with open(config_path(data_dir), "w") as f:
        yaml.safe_dump(edit(config), f, sort_keys=False)


def _with_user_id(config: dict) -> dict:
    """The dataset config with its user id column first among the user fields."""
    user_id = config.get("user_id", "user_id")
    return {**config, "user_columns": {user_id: "categorical", **config.get("user_columns", {})}}


def variants(
    models: list[str], ablations: bool, overrides: dict | None = None, paper: bool = True
) -> dict[str, tuple[str, dict]]:
    """{row name: (registry model, HParams overrides)}: the models, section 4.3's MIAN (unless not
    `paper`), then MIAN's ablations; `overrides` apply to every row but section 4.3's."""
    overrides = overrides or {}
    rows = {name: (name, dict(overrides)) for name in models}
    if paper and "mian" in models:
        paper = dataclasses.asdict(MIANParams.paper())
        rows[PAPER_ROW] = ("mian", {k: list(v) if isinstance(v, tuple) else v for k, v in paper.items()})
    if ablations and "mian" in models:
        rows.update(
            {ablation_row(name): ("mian", {**overrides, **change}) for name, change in ABLATIONS.items()}
        )
    return rows


def split_files(examples: str) -> dict[str, list[str]]:
    return {s: glob.glob(os.path.join(examples, f"Split-{s}", "*")) for s in ("train", "eval", "test")}


def datasets(spec, schema, files: dict, shuffle_buffer: int = 0, seed: int = 0) -> dict:
    """The splits' dataset functions; the train split's batches shuffled through `shuffle_buffer`
    examples (0: in the split's order, the Trainer's default; TrainingConfig.shuffle_buffer)."""
    data = {s: transformed_dataset_fn(f, schema, spec.label) for s, f in files.items()}
    if shuffle_buffer:
        data["train"] = transformed_dataset_fn(
            files["train"], schema, spec.label, shuffle_seed=seed, shuffle_buffer=shuffle_buffer
        )
    return data


def train_and_test(spec, schema, files: dict, train_rows: int, model: str, hparams: dict, seed: int,
                   epochs: int, steps: int | None, run_dir: str,
                   shuffle_buffer: int = 0) -> dict:  # fmt: skip
    data = datasets(spec, schema, files, shuffle_buffer, seed)
    training = TrainingConfig(
        model=model, hparams=hparams, epochs=epochs, batch_size=256, steps_per_epoch=steps
    )
    keras.utils.set_random_seed(seed)
    started = time.perf_counter()
    trained = train(spec, training, data["train"], data["eval"], run_dir, os.path.join(run_dir, "backup"),
                    strategy=tf.distribute.get_strategy())  # fmt: skip
    seconds = time.perf_counter() - started
    results = trained.evaluate(data["test"](256, 1), return_dict=True, verbose=0)
    history = _read_json(os.path.join(run_dir, HISTORY_FILE))["epochs"]
    trained_epochs = len(history["loss"])
    # The first epoch also traces the tf.functions: the steady rate is the median of the later ones.
    epoch_seconds = statistics.median(history[EPOCH_SECONDS][1:] or history[EPOCH_SECONDS])
    return {
        "auc": results["auc"],
        "logloss": results["logloss"],
        "epochs": trained_epochs,
        "seconds": seconds,
        "seconds_per_epoch": epoch_seconds,
        "examples_per_second": (steps * 256 if steps else train_rows) / epoch_seconds,
        "val_auc": history["val_auc"],
    }


def tuned(spec, schema, files: dict, model: str, hparams: dict, trials: int, epochs: int, steps: int | None,
          model_dir: str, shuffle_buffer: int = 0) -> dict:  # fmt: skip
    """The best values of a `trials`-trial search for this model (kept in MODEL_DIR/tuned.json, so that
    --resume does not search again)."""
    path = os.path.join(model_dir, TUNED_FILE)
    if os.path.exists(path):
        return _read_json(path)
    data = datasets(spec, schema, files, shuffle_buffer)
    training = TrainingConfig(model=model, hparams=hparams, epochs=epochs, batch_size=256)
    tuning = TuningConfig(enabled=True, trials=trials, epochs=epochs, steps_per_epoch=steps)
    keras.utils.set_random_seed(0)
    best = search(spec, training, tuning, data["train"], data["eval"], os.path.join(model_dir, "search"))
    os.makedirs(model_dir, exist_ok=True)
    with open(path, "w") as f:
        json.dump(best, f)
    return best


def _read_json(path: str):
    with open(path) as f:
        return json.load(f)


def write_report(rows: list[dict], out: str, command: str, wall_seconds: float, resumed: int) -> None:
    os.makedirs(out, exist_ok=True)
    fields = ["dataset", "model", "seed", "auc", "logloss", "epochs", "seconds", "seconds_per_epoch",
              "examples_per_second"]  # fmt: skip
    with open(os.path.join(out, "quality.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    training_minutes = sum(r["seconds"] for r in rows) / 60
    if resumed == len(rows):  # nothing trained in this invocation: its wall time says nothing
        timing = (
            f"every model's result read from earlier invocations ({training_minutes:.0f} minutes of training)"
        )
    else:
        timing = (
            f"{wall_seconds / 60:.0f} minutes wall on 2 CPU cores in this invocation;"
            f" {training_minutes:.0f} minutes of training for {len(rows)} models"
            + (f", {resumed} of them trained by an earlier invocation and resumed" if resumed else "")
        )
    lines = [f"# Quality on our data\n\nCommand: `{command}`: {timing}.\n"]
    summary = _summary(rows)
    for dataset, models in summary.items():
        lines += [f"\n## {dataset}\n",
                  "| model | test AUC | test logloss | epochs | s/epoch | examples/s | tuned values |",
                  "|---|---|---|---|---|---|---|"]  # fmt: skip
        for model, s in models.items():
            auc, logloss = s["auc"], s["logloss"]
            lines.append(
                f"| {model} | {auc[0]:.4f} ± {auc[1]:.4f} | {logloss[0]:.4f} ± {logloss[1]:.4f}"
                f" | {s['epochs']:.1f} | {s['seconds_per_epoch']:.1f} | {s['examples_per_second']:.0f}"
                f" | {_values(s['tuned'])} |"
            )
        baselines = {m: s for m, s in models.items() if m in BASELINES}
        if "mian" in models and baselines:
            best = max(baselines, key=lambda m: baselines[m]["auc"][0])
            change = (models["mian"]["auc"][0] - baselines[best]["auc"][0]) / baselines[best]["auc"][0]
            lines.append(f"\nMIAN against the best baseline ({best}): {change:+.2%} test AUC.")
        if all(m in models for m in SPEED_MODELS):
            din, dien, mian = (models[m]["seconds_per_epoch"] for m in ("din", "dien", "mian"))
            lines.append(
                f"Seconds per epoch relative to DIN: MIAN {mian / din:.2f}x (paper 1.18x), DIEN "
                f"{dien / din:.2f}x; MIAN/DIEN {mian / dien:.2f}x (paper 0.91x)."
            )
    with open(os.path.join(out, "quality.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    _write_curves(rows, os.path.join(out, CURVES_FILE))
    draw_figures(out)


def _values(tuned: dict | None) -> str:
    """The tuned hyperparameters of a row, short; "-" for a row that was not tuned."""
    if not tuned:
        return "-"
    return ", ".join(f"{k} {v:.2g}" if isinstance(v, float) else f"{k} {v}" for k, v in sorted(tuned.items()))


def _summary(rows: list[dict]) -> dict:
    summary: dict = {}
    for row in rows:
        summary.setdefault(row["dataset"], {}).setdefault(row["model"], []).append(row)
    for models in summary.values():
        for model, runs in models.items():
            models[model] = {
                "auc": _mean_sd([r["auc"] for r in runs]),
                "logloss": _mean_sd([r["logloss"] for r in runs]),
                "epochs": statistics.mean(r["epochs"] for r in runs),
                "seconds_per_epoch": statistics.mean(r["seconds_per_epoch"] for r in runs),
                "examples_per_second": statistics.mean(r["examples_per_second"] for r in runs),
                "tuned": runs[0].get("tuned"),
            }
    return summary


def draw_figures(out: str) -> list[str]:
    """OUT/quality.png and OUT/curves.png from OUT/quality.csv and OUT/curves.csv (when present): the
    figures of a finished run can be drawn again without training (`--redraw`). Returns their paths."""
    with open(os.path.join(out, "quality.csv"), newline="") as f:
        rows = [{**r, "auc": float(r["auc"])} for r in csv.DictReader(f)]
    aucs: dict = {}
    for row in rows:
        aucs.setdefault(row["dataset"], {}).setdefault(row["model"], []).append(row["auc"])
    drawn = [os.path.join(out, "quality.png")]
    figures.auc_bars(
        {d: {m: _mean_sd(values) for m, values in per.items()} for d, per in aucs.items()}, drawn[0]
    )
    curves_csv = os.path.join(out, CURVES_FILE)
    if os.path.exists(curves_csv):
        curves: dict = {}
        with open(curves_csv, newline="") as f:
            for row in csv.DictReader(f):
                if row["seed"] == "0":
                    curves.setdefault(row["dataset"], {}).setdefault(row["model"], []).append(
                        float(row["eval_auc"])
                    )
        drawn.append(os.path.join(out, "curves.png"))
        figures.learning_curves(curves, drawn[-1])
    return drawn


def _mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def _write_curves(rows: list[dict], path: str) -> None:
    """Eval AUC after each epoch of every trained model, a row per (dataset, model, seed, epoch)."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["dataset", "model", "seed", "epoch", "eval_auc"])
        for row in rows:
            for epoch, value in enumerate(row.get("val_auc", []), start=1):
                writer.writerow([row["dataset"], row["model"], row["seed"], epoch, value])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", nargs="+", default=["movielens", *SYNTHETIC])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--no-ablations", action="store_true")
    parser.add_argument("--no-paper-row", action="store_true", help="leave out section 4.3's MIAN")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--work", default="runs/quality", help="data and pipeline runs go here")
    parser.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    parser.add_argument(
        "--resume", action="store_true", help="reuse the results of models already trained in --work"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny synthetic data, 1 epoch of 3 steps")
    parser.add_argument(
        "--tune",
        type=int,
        default=0,
        metavar="TRIALS",
        help="give every model the same random search of TRIALS trials over the pipeline's default search "
        "space, selected on eval; its seeds then train with the best values (section 4.3's row keeps its "
        "settings; MIAN's ablations train with MIAN's best values)",
    )
    parser.add_argument(
        "--shuffle-buffer",
        type=int,
        default=0,
        metavar="N",
        help="train every model on batches shuffled through N examples (0: the split's order, as the "
        "Trainer does by default)",
    )
    parser.add_argument(
        "--hparams",
        type=json.loads,
        default={},
        metavar="JSON",
        help="HParams overrides for every row but section 4.3's, e.g. a candidate default measured "
        "against the current one",
    )
    parser.add_argument(
        "--vocabulary",
        type=json.loads,
        default={},
        metavar="JSON",
        help="Transform's vocabulary settings, e.g. '{\"user_id_frequency_threshold\": 5}'",
    )
    parser.add_argument(
        "--user-id-feature",
        action="store_true",
        help=f"beside each dataset, its variant with the user id as a feature (DATASET{USER_ID_VARIANT})",
    )
    parser.add_argument(
        "--redraw", action="store_true", help="draw OUT's figures again from its CSVs, training nothing"
    )
    args = parser.parse_args(argv)
    if args.redraw:
        print("wrote " + ", ".join(draw_figures(args.out)))
        return
    names = ["smoke"] if args.smoke else args.datasets
    if args.user_id_feature:
        names = [n for name in names for n in (name, name + USER_ID_VARIANT)]
    steps = 3 if args.smoke else None
    epochs = 1 if args.smoke else args.epochs
    started = time.perf_counter()
    command = "python bench/quality.py " + shlex.join(argv or sys.argv[1:])
    rows, resumed = [], 0
    for dataset in names:
        graph, examples, transform_config = prepare(dataset, os.path.abspath(args.work), args.vocabulary)
        tft_output = tft.TFTransformOutput(graph)
        spec = model_feature_spec(tft_output, transform_config)
        schema = tft_output.transformed_metadata.schema
        files = split_files(examples)
        # Counted once per dataset: every model reads the same train split.
        train_rows = sum(1 for _ in tf.data.TFRecordDataset(files["train"], compression_type="GZIP"))
        tuned_mian: dict = {}
        ablation_rows = {ablation_row(ablation) for ablation in ABLATIONS}
        for name, (model, hparams) in variants(
            args.models, not args.no_ablations, args.hparams, paper=not args.no_paper_row
        ).items():
            model_dir = os.path.join(os.path.abspath(args.work), "models", dataset, re.sub(r"\W+", "-", name))
            # Section 4.3's row keeps its exact settings; an ablation changes one switch of the tuned MIAN
            # (Tables 3-4 compare under one setting); every other row gets the same search.
            best = {}
            if args.tune and name in ablation_rows:
                best = tuned_mian
            elif args.tune and name != PAPER_ROW:
                best = tuned(
                    spec,
                    schema,
                    files,
                    model,
                    hparams,
                    args.tune,
                    epochs,
                    steps,
                    model_dir,
                    args.shuffle_buffer,
                )
                if name == "mian":
                    tuned_mian = best
            hparams = {**hparams, **best}
            found = {"tuned": best} if best else {}
            for seed in range(args.seeds):
                run_dir = os.path.join(model_dir, str(seed))
                done = os.path.join(run_dir, RESULT_FILE)
                if args.resume and os.path.exists(done):
                    rows.append({**_read_json(done), **found})
                    resumed += 1
                    continue
                result = train_and_test(
                    spec,
                    schema,
                    files,
                    train_rows,
                    model,
                    hparams,
                    seed,
                    epochs,
                    steps,
                    run_dir,
                    args.shuffle_buffer,
                )
                rows.append({"dataset": dataset, "model": name, "seed": seed, **result, **found})
                with open(done, "w") as f:
                    json.dump(rows[-1], f)
                print(
                    f"{dataset} {name} seed {seed}: test AUC {result['auc']:.4f}, logloss "
                    f"{result['logloss']:.4f} ({result['epochs']} epochs, {result['seconds']:.0f} s)",
                    flush=True,
                )
                # Rewritten after every model, so that a long run stopped halfway has its report.
                write_report(rows, args.out, command, time.perf_counter() - started, resumed)
    write_report(rows, args.out, command, time.perf_counter() - started, resumed)
    print(f"wrote {args.out}/quality.csv, quality.md, quality.png, curves.png")


if __name__ == "__main__":
    main()
