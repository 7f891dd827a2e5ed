"""Where one training step's time goes: op time summed by module and by op type, forward and backward.

Builds a model of the paper's scale (`mian_keras.random_batch.paper_scale_spec`, T = 30, batch 256)
in a TensorFlow graph, runs its training step traced (`RunOptions.FULL_TRACE`) and sums each op's
time by the module it belongs to (the model's top-level layer, "grad" for its backward ops) and by op
type. The sums are op times on 2 cores, so they add up to more than the step's wall time when ops
overlap. The optimizer is the graph's own Adam (`tf.compat.v1.train.AdamOptimizer`, the same dense
update of the embedding tables as Keras' Adam); its rows are the `Adam/...` modules.

Usage: python bench/step_profile.py [--model mian] [--hparams JSON] [--top 25] [--within ibim]
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import collections
import json
import time

import numpy as np
import tensorflow as tf

from mian_keras import FeatureSpec, HParams, build_model, hparams_for
from mian_keras.random_batch import paper_scale_spec, planted_labels, random_batch

BATCH = 256
TRACED_STEPS = 5


def traced_step(model_name: str, spec: FeatureSpec, hp: HParams):
    """The graph's training step on one random batch of `spec`: (session, train op, feeds)."""
    tf.compat.v1.disable_eager_execution()
    lengths = np.random.default_rng(0).integers(0, spec.sequence_length + 1, BATCH)
    batch = random_batch(spec, BATCH, seed=0, history_lengths=lengths)
    labels = tf.constant(planted_labels(batch).reshape(-1, 1), tf.float32)
    inputs = {
        k: tf.compat.v1.placeholder(tf.as_dtype(v.dtype), shape=v.shape, name=k) for k, v in batch.items()
    }
    logit = build_model(model_name, spec, hp)(inputs, training=True)
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logit))
    train = tf.compat.v1.train.AdamOptimizer(hp.learning_rate).minimize(loss)
    session = tf.compat.v1.Session()
    session.run(tf.compat.v1.global_variables_initializer())
    return session, train, {inputs[k]: v for k, v in batch.items()}


def module_of(node: str) -> tuple[str, str]:
    """("fwd" or "grad", the model's top-level layer or the optimizer's update) of an op's name."""
    parts = node.split("/")
    if parts[0] == "gradients":
        return "grad", "/".join(parts[1:3])
    return "fwd", "/".join(parts[:2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="mian")
    parser.add_argument("--hparams", default="{}", help="JSON of HParams overrides")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--within", help="also list the single ops whose names contain this (a module)")
    args = parser.parse_args()
    hp = hparams_for(args.model, json.loads(args.hparams))
    spec = paper_scale_spec()
    session, train, feeds = traced_step(args.model, spec, hp)
    for _ in range(5):
        session.run(train, feeds)  # warm up
    started = time.perf_counter()
    for _ in range(20):
        session.run(train, feeds)
    step_ms = (time.perf_counter() - started) / 20 * 1000

    by_module, by_type, within = collections.Counter(), collections.Counter(), collections.Counter()
    for _ in range(TRACED_STEPS):
        metadata = tf.compat.v1.RunMetadata()
        options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
        session.run(train, feeds, options=options, run_metadata=metadata)
        for device in metadata.step_stats.dev_stats:
            for node in device.node_stats:
                ms = node.all_end_rel_micros / 1000 / TRACED_STEPS
                op_type = (
                    node.timeline_label.split(" = ")[1].split("(")[0] if " = " in node.timeline_label else "?"
                )
                direction, module = module_of(node.node_name)
                by_module[(direction, module)] += ms
                by_type[op_type] += ms
                if args.within and args.within in node.node_name:
                    within[(direction, node.node_name.removeprefix("gradients/"), op_type)] += ms

    print(f"{args.model}, batch {BATCH}, T = {spec.sequence_length}: {step_ms:.1f} ms per step (wall), "
          f"{sum(by_type.values()):.1f} ms of op time")  # fmt: skip
    print("\nby module (fwd: forward and the optimizer's updates, grad: backward)")
    for (direction, module), ms in by_module.most_common(args.top):
        print(f"{ms:8.2f} ms  {direction:4s}  {module}")
    print("\nby op type")
    for op_type, ms in by_type.most_common(args.top):
        print(f"{ms:8.2f} ms  {op_type}")
    if args.within:
        print(f"\nsingle ops within {args.within!r}")
        for (direction, name, op_type), ms in within.most_common(args.top):
            print(f"{ms:8.2f} ms  {direction:4s}  {op_type:16s} {name}")


if __name__ == "__main__":
    main()
