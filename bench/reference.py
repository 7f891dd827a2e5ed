"""Our models against another library's baselines, under one set of training rules.

    .venv/bin/python bench/reference.py --dataset movielens [--seeds 3] [--ours mian din ...]
        [--theirs DIN DeepFM xDeepFM] [--work runs/quality-v2] [--out bench/results/reference]

The reference library is DeepCTR (`pip install -r bench/requirements-reference.txt`; see
`deepctr_import` for the one adaptation it needs under TF 2.16). Both sides train on the same
splits, read as a new user would read them: the pipeline's transformed examples of the quality
benchmark (`bench/quality.py`'s `prepare`), loaded into memory. The rules are the same for every
model, ours through `mian_keras.build_model` and `compile_model` with the library's default HParams,
theirs with the library's own defaults: batch 256, Adam at 1e-3, at most `--epochs` epochs, early
stopping on the eval split's AUC with patience 2 (best weights restored), one test evaluation.

Writes OUT/reference-DATASET.csv (model, seed, test AUC, logloss, epochs) and OUT/reference-DATASET.md
(mean and standard deviation per model).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import importlib
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow_transform as tft
import tf_keras as keras
from quality import prepare, split_files

from mian.stages.trainer import transformed_dataset_fn
from mian.stages.transform import model_feature_spec
from mian_keras import FeatureSpec, build_model, compile_model, hparams_for

BATCH = 256
PATIENCE = 2
# DeepCTR's DIEN is left out: its GRU is built on TensorFlow internals that TF 2.16 removed
# (`array_ops.stack` in deepctr.contrib.rnn_v2), so it does not run beside this project's TensorFlow.
THEIR_MODELS = ("DIN", "DeepFM", "xDeepFM")
# The history-length input DeepCTR masks a sequence by (its DIEN reads this name, whatever the columns say).
LENGTH = "seq_length"


def deepctr_import():
    """DeepCTR 0.9.3 imports Keras from `tensorflow.python.keras`, which TF 2.16 no longer has; under
    TF_USE_LEGACY_KERAS that Keras is tf_keras, so the old module path is pointed at it."""
    sys.modules["tensorflow.python.keras"] = keras
    for sub in ("layers", "models", "regularizers", "initializers", "backend"):
        sys.modules[f"tensorflow.python.keras.{sub}"] = importlib.import_module(f"tf_keras.{sub}")
    from deepctr import feature_column, models

    return feature_column, models


def load_split(files: list[str], schema, label: str) -> tuple[dict, np.ndarray]:
    """A split of transformed examples as numpy arrays, in file order."""
    parts: dict[str, list] = {}
    labels = []
    for features, y in transformed_dataset_fn(files, schema, label)(8192, 1):
        for name, value in features.items():
            parts.setdefault(name, []).append(value.numpy())
        labels.append(y.numpy())
    return {k: np.concatenate(v) for k, v in parts.items()}, np.concatenate(labels).astype(np.float32)


def their_model(name: str, spec: FeatureSpec, seed: int) -> tuple[keras.Model, list[str]]:
    """DeepCTR's `name` on the spec's fields, with its defaults; and the input names it reads."""
    fc, models = deepctr_import()
    columns = []
    for f in spec.scalar_fields():
        if f.is_categorical:
            columns.append(fc.SparseFeat(f.name, f.vocab_size, embedding_dim=f.embedding_dim))
        else:
            columns.append(fc.DenseFeat(f.name, 1))
    twins = []
    for seq in spec.sequence_fields:
        twin = spec.twin_of(seq)
        if not twin.is_categorical:
            continue
        twins.append(twin.name)
        columns.append(
            fc.VarLenSparseFeat(
                fc.SparseFeat(
                    seq.name, twin.vocab_size, embedding_dim=twin.embedding_dim, embedding_name=twin.name
                ),
                maxlen=spec.sequence_length,
                length_name=LENGTH,
            )
        )
    flat = [c for c in columns if not isinstance(c, fc.VarLenSparseFeat)]
    if name == "DIN":
        model = models.DIN(columns, twins, seed=seed)
    elif name == "DeepFM":
        model = models.DeepFM(flat, flat, seed=seed)
    elif name == "xDeepFM":
        model = models.xDeepFM(flat, flat, seed=seed)
    else:
        raise ValueError(f"unknown reference model {name!r}; known: {THEIR_MODELS}")
    model.compile(
        keras.optimizers.Adam(1e-3),
        "binary_crossentropy",
        metrics=[keras.metrics.AUC(name="auc"), keras.metrics.BinaryCrossentropy(name="logloss")],
    )
    return model, fc.get_feature_names(columns)


def our_model(name: str, spec: FeatureSpec, hparams: dict) -> tuple[keras.Model, list[str]]:
    hp = hparams_for(name, hparams)
    model = compile_model(build_model(name, spec, hp), hp)
    return model, list(spec.input_signature())


def fit_and_test(model: keras.Model, inputs: list[str], splits: dict, epochs: int, shuffle: bool) -> dict:
    def pick(split):
        features, labels = splits[split]
        return {k: features[k] for k in inputs}, labels

    started = time.perf_counter()
    history = model.fit(
        *pick("train"),
        batch_size=BATCH,
        epochs=epochs,
        shuffle=shuffle,
        validation_data=pick("eval"),
        callbacks=[
            keras.callbacks.EarlyStopping(
                monitor="val_auc", mode="max", patience=PATIENCE, restore_best_weights=True
            )
        ],
        verbose=0,
    )
    seconds = time.perf_counter() - started
    results = model.evaluate(*pick("test"), batch_size=4096, return_dict=True, verbose=0)
    return {
        "auc": results["auc"],
        "logloss": results["logloss"],
        "epochs": len(history.history["loss"]),
        "best_epoch": 1 + int(np.argmax(history.history["val_auc"])),
        "seconds": seconds,
        "val_auc": [round(v, 4) for v in history.history["val_auc"]],
    }


def write_report(args: argparse.Namespace, rows: list[dict]) -> None:
    out = args.out
    os.makedirs(out, exist_ok=True)
    name = (
        f"reference-{args.dataset}"
        + ("" if args.shuffle else "-file-order")
        + ("-no-history" if args.no_history else "")
    )
    with open(os.path.join(out, f"{name}.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        f"# {args.dataset}: our models and DeepCTR's under the same rules"
        + (", shuffled every epoch\n" if args.shuffle else ", in the split's order\n"),
        f"Command: `{' '.join(['python', *sys.argv])}`\n",
        "| model | test AUC | test logloss | best epoch | seconds | seeds |",
        "|---|---|---|---|---|---|",
    ]
    by_model: dict[str, list[dict]] = {}
    for row in rows:
        by_model.setdefault(row["model"], []).append(row)
    for model, runs in sorted(by_model.items(), key=lambda kv: -statistics.mean(r["auc"] for r in kv[1])):
        auc = [r["auc"] for r in runs]
        spread = f" ± {statistics.stdev(auc):.4f}" if len(auc) > 1 else ""
        logloss = statistics.mean(r["logloss"] for r in runs)
        lines.append(
            f"| {model} | {statistics.mean(auc):.4f}{spread} | {logloss:.4f}"
            f" | {statistics.mean(r['best_epoch'] for r in runs):.1f}"
            f" | {statistics.mean(r['seconds'] for r in runs):.0f} | {len(runs)} |"
        )
    with open(os.path.join(out, f"{name}.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="movielens")
    parser.add_argument("--ours", nargs="*", default=["mian", "din", "dien", "deepfm", "xdeepfm"])
    parser.add_argument("--theirs", nargs="*", default=list(THEIR_MODELS))
    parser.add_argument("--hparams", default="{}", help="HParams overrides of our models (JSON)")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--no-history", action="store_true", help="every model without the behavior sequence")
    parser.add_argument(
        "--no-shuffle",
        dest="shuffle",
        action="store_false",
        help="train in the split's (time) order every epoch",
    )
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--work", default="runs/quality-v2")
    parser.add_argument("--out", default="bench/results/reference")
    args = parser.parse_args(argv)
    graph, examples, transform_config = prepare(args.dataset, os.path.abspath(args.work))
    tft_output = tft.TFTransformOutput(graph)
    spec = model_feature_spec(tft_output, transform_config)
    if args.no_history:
        spec = dataclasses.replace(spec, sequence_fields=())
    schema = tft_output.transformed_metadata.schema
    splits = {s: load_split(f, schema, spec.label) for s, f in split_files(examples).items()}
    if spec.mask_field is not None:
        # DeepCTR masks a history by its length; ours by the padding id, from which the length follows.
        for features, _ in splits.values():
            features[LENGTH] = (features[spec.mask_field.name] != 0).sum(axis=1)
    rows = []
    for seed in range(args.seeds):
        for library, names in (("mian", args.ours), ("deepctr", args.theirs)):
            for name in names:
                keras.utils.set_random_seed(seed)
                model, inputs = (
                    our_model(name, spec, json.loads(args.hparams))
                    if library == "mian"
                    else their_model(name, spec, seed)
                )
                label = f"{library} {name}" + (
                    f" {args.hparams}" if library == "mian" and args.hparams != "{}" else ""
                )
                row = {
                    "model": label,
                    "seed": seed,
                    **fit_and_test(model, inputs, splits, args.epochs, args.shuffle),
                }
                print(row, flush=True)
                rows.append(row)
                write_report(args, rows)
                keras.backend.clear_session()


if __name__ == "__main__":
    sys.exit(main())
