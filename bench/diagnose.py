"""Why a model trains as it does: gradient and update norms per layer, and eval AUC, through training.

    .venv/bin/python bench/diagnose.py --dataset sequence-rich --models mian din \
        --variant paper='{...}' --variant 'no L2={"embedding_l2": 0}' [--seeds 2] [--epochs 6]

Each model is trained once per variant and seed by the Trainer's own `mian.stages.trainer.train` on the
dataset the quality benchmark prepares (the pipeline's splits and vocabularies; `bench/quality.py`),
selecting on the eval split only. A variant is a set of HParams overrides on top of the preset
(`--preset paper` for section 4.3's settings, `--preset default` for the library's defaults), so that
one change at a time can be measured. At training steps 0, 10, 50, 100 and 200 and at every epoch's
end it records, per top-level layer: the norm of the loss gradient on one fixed training batch
(dropout off) and the norm of the change of the layer's weights since the last record, per step.

Writes OUT/diagnosis-DATASET.json (every record) and OUT/diagnosis-DATASET.md: eval AUC per epoch
per variant and seed, and the gradient and update norms of the first seed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from quality import datasets, prepare, split_files

from mian.config.pipeline_config import TrainingConfig
from mian.stages.trainer import HISTORY_FILE, train
from mian.stages.transform import model_feature_spec
from mian_keras import HParams, hparams_class

PROBE_STEPS = (0, 10, 50, 100, 200)


class GradientProbe(keras.callbacks.Callback):
    """Per top-level layer: the gradient norm on a fixed batch, and the weights' change per step."""

    def __init__(self, features, labels):
        super().__init__()
        self.features, self.labels = features, labels
        self.records: list[dict] = []
        self._last = None
        self._step = 0
        self._epoch = 0

    def _groups(self) -> dict[str, list[int]]:
        groups: dict[str, list[int]] = {}
        for i, variable in enumerate(self.model.trainable_variables):
            groups.setdefault(variable.name.split("/")[0], []).append(i)
        return groups

    def _record(self, epoch: int, step: int) -> None:
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            logits = self.model(self.features, training=False)
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(self.labels, logits))
        gradients = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
        weights = [v.numpy() for v in variables]
        record = {"epoch": epoch, "step": step, "loss": float(loss), "gradient": {}, "update": {}}
        for group, indices in self._groups().items():
            record["gradient"][group] = float(
                np.sqrt(sum(float(tf.reduce_sum(gradients[i] ** 2)) for i in indices))
            )
            if self._last is not None:
                steps = max(1, self._step - self._last[0])
                change = sum(float(np.sum((weights[i] - self._last[1][i]) ** 2)) for i in indices)
                record["update"][group] = float(np.sqrt(change)) / steps
        self._last = (self._step, weights)
        self.records.append(record)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self._step in PROBE_STEPS:
            self._record(self._epoch, self._step)

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1

    def on_epoch_end(self, epoch, logs=None):
        self._record(epoch + 1, self._step)


PRESETS = ("default", "paper")


def preset(name: str, model: str) -> HParams:
    """The model's hyperparameters: its defaults, or section 4.3's (`paper`)."""
    kind = hparams_class(model)
    return kind.paper() if name == "paper" else kind()


def run_variant(spec, schema, files, model, overrides, base: HParams, seed, epochs, patience, run_dir,
                shuffle_buffer: int = 0):  # fmt: skip
    data = datasets(spec, schema, files, shuffle_buffer, seed)
    features, labels = next(iter(data["train"](1024, 1)))
    hparams = {**_as_dict(base), **overrides}
    if hparams.get("click_rate") == "data":
        del hparams["click_rate"]  # the Trainer starts the output bias at the train split's click rate
    training = TrainingConfig(model=model, hparams=hparams, epochs=epochs, batch_size=256, patience=patience)
    keras.utils.set_random_seed(seed)
    probe = GradientProbe(features, tf.cast(labels, tf.float32))
    train(spec, training, data["train"], data["eval"], run_dir, os.path.join(run_dir, "backup"),
          strategy=tf.distribute.get_strategy(), callbacks=(probe,))  # fmt: skip
    with open(os.path.join(run_dir, HISTORY_FILE)) as f:
        history = json.load(f)["epochs"]
    return {"val_auc": history["val_auc"], "loss": history["loss"], "probes": probe.records}


def _as_dict(hp: HParams) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in hp.__dict__.items()}


def write_report(dataset: str, results: list[dict], out: str) -> None:
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f"diagnosis-{dataset}.json"), "w") as f:
        json.dump(results, f, indent=1)
    lines = [f"# Diagnosis on {dataset}\n", "## Eval AUC per epoch (best in bold)\n"]
    for r in results:
        best = max(r["val_auc"])
        curve = " ".join(f"**{v:.4f}**" if v == best else f"{v:.4f}" for v in r["val_auc"])
        lines.append(f"- {r['model']} / {r['variant']} / seed {r['seed']}: {curve}")
    lines.append(
        "\n## Best eval AUC, mean over seeds\n\n| model | variant | best eval AUC | epochs to best |"
    )
    lines.append("|---|---|---|---|")
    by_variant: dict = {}
    for r in results:
        by_variant.setdefault((r["model"], r["variant"]), []).append(r)
    for (model, variant), runs in by_variant.items():
        best = statistics.mean(max(r["val_auc"]) for r in runs)
        when = statistics.mean(1 + int(np.argmax(r["val_auc"])) for r in runs)
        lines.append(f"| {model} | {variant} | {best:.4f} | {when:.1f} |")
    lines.append("\n## Gradient norm | update norm per step, by layer (first seed)\n")
    for r in (r for r in results if r["seed"] == results[0]["seed"]):
        lines.append(f"### {r['model']} / {r['variant']}\n")
        groups = list(r["probes"][0]["gradient"])
        lines.append("| epoch.step | loss | " + " | ".join(groups) + " |")
        lines.append("|---" * (len(groups) + 2) + "|")
        for p in r["probes"]:
            cells = [f"{p['gradient'][g]:.1e} \\| {p['update'].get(g, 0):.1e}" for g in groups]
            lines.append(f"| {p['epoch']}.{p['step']} | {p['loss']:.4f} | " + " | ".join(cells) + " |")
        lines.append("")
    with open(os.path.join(out, f"diagnosis-{dataset}.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="sequence-rich")
    parser.add_argument("--models", nargs="+", default=["mian", "din"])
    parser.add_argument("--preset", choices=PRESETS, default="default")
    parser.add_argument("--only", nargs="*", help="run only these variants (base included if named)")
    parser.add_argument(
        "--variant", action="append", default=[], metavar="NAME=JSON", help="HParams overrides, repeatable"
    )
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--patience", type=int, default=100, help="early stopping; by default none")
    parser.add_argument(
        "--shuffle-buffer", type=int, default=0, help="shuffle the train batches through N examples"
    )
    parser.add_argument("--work", default="runs/quality")
    parser.add_argument("--out", default="runs/diagnosis")
    parser.add_argument("--vocabulary", type=json.loads, default={}, help="Transform's vocabulary settings")
    args = parser.parse_args(argv)
    variants = {"base": {}}
    for item in args.variant:
        name, _, overrides = item.partition("=")
        variants[name] = json.loads(overrides)
    graph, examples, transform_config = prepare(args.dataset, os.path.abspath(args.work), args.vocabulary)
    tft_output = tft.TFTransformOutput(graph)
    spec = model_feature_spec(tft_output, transform_config)
    schema = tft_output.transformed_metadata.schema
    files = split_files(examples)
    if args.only:
        variants = {k: v for k, v in variants.items() if k in args.only}
    results = []
    for model in args.models:
        for name, overrides in variants.items():
            for seed in range(args.seeds):
                run_dir = os.path.join(
                    args.work, "diagnosis", args.dataset, model, re.sub(r"\W+", "-", name), str(seed)
                )
                result = run_variant(
                    spec,
                    schema,
                    files,
                    model,
                    overrides,
                    preset(args.preset, model),
                    seed,
                    args.epochs,
                    args.patience,
                    run_dir,
                    args.shuffle_buffer,
                )
                results.append(
                    {"model": model, "variant": name, "seed": seed, "overrides": overrides, **result}
                )
                print(
                    f"{model} / {name} / seed {seed}: eval AUC "
                    + " ".join(f"{v:.4f}" for v in result["val_auc"]),
                    flush=True,
                )
                write_report(args.dataset, results, args.out)


if __name__ == "__main__":
    sys.exit(main())
