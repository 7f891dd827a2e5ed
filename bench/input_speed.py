"""The Trainer's input pipeline alone: examples per second of reading Transform's output as the Trainer
does (TFXIO, batched parsing, prefetch), against a model's training step on the same batches.

    .venv/bin/python bench/input_speed.py [--dataset sequence-rich] [--work runs/quality] [--model mian]

The dataset is the one the quality benchmark prepares (bench/quality.py). Prints examples/s of two
passes over the train split (the first warms the file cache), of a pass over an in-memory cache of
the parsed batches, and of the model's train step, so that the share of the input in an epoch shows.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow_transform as tft
from quality import prepare, split_files

from mian.stages.trainer import transformed_dataset_fn
from mian.stages.transform import model_feature_spec
from mian_keras import build_model, compile_model, hparams_for


def rate(dataset, step=None) -> float:
    started, examples = time.perf_counter(), 0
    for features, labels in dataset:
        if step is not None:
            step(features, labels)
        examples += int(labels.shape[0])
    return examples / (time.perf_counter() - started)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="sequence-rich")
    parser.add_argument("--work", default="runs/quality")
    parser.add_argument("--model", default="mian")
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args(argv)
    graph, examples, transform_config = prepare(args.dataset, os.path.abspath(args.work))
    tft_output = tft.TFTransformOutput(graph)
    spec = model_feature_spec(tft_output, transform_config)
    make = transformed_dataset_fn(
        split_files(examples)["train"], tft_output.transformed_metadata.schema, spec.label
    )
    for n in (1, 2):
        print(f"input, pass {n}: {rate(make(args.batch_size, 1)):,.0f} examples/s")
    cached = make(args.batch_size, 1).cache()
    rate(cached)
    print(f"input, from an in-memory cache: {rate(cached):,.0f} examples/s")
    hp = hparams_for(args.model)
    model = compile_model(build_model(args.model, spec, hp), hp)
    batches = list(cached.take(40))
    model.train_on_batch(*batches[0])  # trace before timing
    print(f"{args.model} train step: {rate(batches, model.train_on_batch):,.0f} examples/s")


if __name__ == "__main__":
    sys.exit(main())
