"""Parameters and training speed of MIAN, DIN, DIEN and DCN, measured side by side in one run.

Section 4.5 of the paper: MIAN takes about 1.18x DIN's time per epoch and 0.91x DIEN's. This prints the
parameter counts outside the embedding tables at the paper's sequence length (T = 30, 8 heads) with the
library's defaults (or `--hparams`), the training steps per second (through `fit`, as the Trainer
trains) and the forward pass alone (inference, through `predict`) per batch. The models are timed in
interleaved rounds so that a slow moment of this noisy machine falls on all of them alike; the ratio to
DIN is the figure to compare.

Histories are drawn uniformly from 0 to `--longest-history` clicks (default T): a batch's longest
history is then about that, which is what the models' cut of the padding steps (HParams.trim_padding)
depends on. On the profile-rich synthetic set, whose users are mostly new, it averages 5-7 of 30.

Usage: python bench/model_speed.py [--rounds 5] [--steps 20] [--models mian din dien dcn]
           [--batch-size 128] [--hparams JSON] [--jit-compile] [--longest-history N]
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import statistics
import time

import numpy as np
import tensorflow as tf

from mian_keras import build_model, compile_model, hparams_for
from mian_keras.model_size import parameter_counts
from mian_keras.random_batch import paper_scale_spec, planted_labels, random_batch

PAPER_SECONDS_PER_EPOCH = {"din": 3143, "mian": 3700, "dien": 4073}
PASSES = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["mian", "din", "dien", "dcn"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--steps", type=int, default=20, help="distinct batches; a round trains on them PASSES times"
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--jit-compile", action="store_true", help="compile the train steps with XLA")
    parser.add_argument("--hparams", default="{}", help="JSON of HParams overrides for every model")
    parser.add_argument("--longest-history", type=int, help="histories of 0 to N clicks (default: T)")
    args = parser.parse_args()

    spec = paper_scale_spec()
    overrides = json.loads(args.hparams)
    longest = spec.sequence_length if args.longest_history is None else args.longest_history
    lengths = [np.random.default_rng(s).integers(0, longest + 1, args.batch_size) for s in range(args.steps)]
    batches = [
        random_batch(spec, args.batch_size, seed=s, history_lengths=lengths[s]) for s in range(args.steps)
    ]
    # The batches as the Trainer's `fit` reads them (a cached dataset): Keras' `train_on_batch` adds a
    # per-call cost of its own (MIAN 47.5 against 30.3 ms a step through `fit`, DIN 20.7 against 12.1)
    # that the Trainer never pays and that would dilute the ratio. A round passes over the batches
    # PASSES times in one `fit`, so that the call's own fixed cost (about 0.1 s) is spread thin.
    features = {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
    labels = np.concatenate([planted_labels(b) for b in batches]).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((features, labels)).batch(args.batch_size).cache()
    inputs = data.map(lambda x, y: x)

    models = {}
    for name in args.models:
        hp = hparams_for(name, overrides)
        model = compile_model(build_model(name, spec, hp), hp, jit_compile=args.jit_compile)
        # Trace every batch's shapes (the padding cut makes them differ) and build the optimizer.
        model.fit(data, verbose=0)
        model.predict(inputs, verbose=0)
        models[name] = model

    seconds = {name: [] for name in models}
    forward = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(data.repeat(PASSES), verbose=0)
            seconds[name].append((time.perf_counter() - start) / (PASSES * args.steps))
            start = time.perf_counter()
            model.predict(inputs.repeat(PASSES), verbose=0)
            forward[name].append((time.perf_counter() - start) / (PASSES * args.steps))

    print(
        f"T={spec.sequence_length}, batch={args.batch_size}, heads={hp.num_heads}, "
        f"MLP={hp.mlp_units}, XLA={args.jit_compile}, histories of 0-{longest} clicks, "
        f"{args.rounds} rounds x {PASSES * args.steps} steps"
    )
    print(
        f"{'model':<6} {'params (no emb)':>15} {'emb params':>11} {'steps/s':>8} {'ms/step':>8} "
        f"{'time vs DIN':>11} {'paper vs DIN':>12} {'fwd ms':>7} {'fwd vs DIN':>10}"
    )
    reference = statistics.median(seconds["din"]) if "din" in seconds else None
    forward_reference = statistics.median(forward["din"]) if "din" in forward else None
    for name, model in models.items():
        counts = parameter_counts(model)
        per_step = statistics.median(seconds[name])
        ratio = f"{per_step / reference:.2f}x" if reference else "-"
        paper = PAPER_SECONDS_PER_EPOCH.get(name)
        paper_ratio = f"{paper / PAPER_SECONDS_PER_EPOCH['din']:.2f}x" if paper else "-"
        per_forward = statistics.median(forward[name])
        forward_ratio = f"{per_forward / forward_reference:.2f}x" if forward_reference else "-"
        print(
            f"{name:<6} {counts['other']:>15,} {counts['embedding']:>11,} {1 / per_step:>8.1f} "
            f"{1000 * per_step:>8.1f} {ratio:>11} {paper_ratio:>12} {1000 * per_forward:>7.1f} "
            f"{forward_ratio:>10}"
        )


if __name__ == "__main__":
    main()
