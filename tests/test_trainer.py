"""The Trainer's training loop: MirroredStrategy with two replicas, and resuming a killed training.

Two replicas come from the CPU split into two logical devices. TensorFlow fixes its devices when it
first initializes, so each configuration trains in a fresh process: one with the CPU as one device,
one with it split in two. Both train the same model on the
same data from the same seed with the same global batch; the two-replica run must converge like the
one-replica run.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

# Runs pipelines, servers or training end to end: skipped by `make unit`.
pytestmark = pytest.mark.e2e

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TRAIN = textwrap.dedent(
    """
    import json, os, sys
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow as tf
    replicas, run_dir = int(sys.argv[1]), sys.argv[2]
    (cpu,) = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
    import tf_keras as keras
    from mian.config.pipeline_config import TrainingConfig
    from mian.stages.trainer import train
    from mian_keras.random_batch import planted_labels, random_batch
    from tests.conftest import small_spec

    spec = small_spec()
    train_x = random_batch(spec, 16384, seed=1)
    eval_x = random_batch(spec, 2048, seed=2)
    data = {
        "train": (train_x, planted_labels(train_x, seed=1)),
        "eval": (eval_x, planted_labels(eval_x, seed=2)),
    }

    def dataset(split):
        def make(batch_size, epochs):
            features, labels = data[split]
            ds = tf.data.Dataset.from_tensor_slices((features, labels)).batch(batch_size)
            return ds.repeat() if epochs is None else ds
        return make

    keras.utils.set_random_seed(0)
    # The per-replica batch halves with two replicas: the global batch (and so each step) is the same.
    training = TrainingConfig(model="din", epochs=3, batch_size=128 // replicas, patience=3)
    model = train(spec, training, dataset("train"), dataset("eval"), run_dir, os.path.join(run_dir, "backup"))
    history = json.load(open(os.path.join(run_dir, "history.json")))
    tables = model.get_layer("embedding").tables
    history["lookups"] = {name: table.lookups.numpy().tolist() for name, table in tables.items()}
    print(json.dumps(history))
    """
)


def train_with(replicas: int, tmp_path) -> dict:
    script = tmp_path / "train.py"
    script.write_text(TRAIN)
    result = subprocess.run(
        [sys.executable, str(script), str(replicas), str(tmp_path / f"run{replicas}")],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_two_replicas_train_and_converge_like_one(tmp_path):
    one = train_with(1, tmp_path)
    two = train_with(2, tmp_path)
    assert one["replicas"] == 1 and two["replicas"] == 2
    assert one["global_batch_size"] == two["global_batch_size"] == 128
    for history in (one, two):
        auc = history["epochs"]["val_auc"]
        # Chance is 0.5. The first epoch reads shared rows until its ids are counted (frequency
        # admission), so the floor is the trained model's.
        assert auc[-1] > 0.6, auc
        assert history["epochs"]["loss"][-1] < history["epochs"]["loss"][0]
    # Every replica's look-ups count, once: the ids earn their rows as on one device.
    assert one["lookups"] == two["lookups"]
    assert sum(one["lookups"]["gender"]) == 16384  # the first epoch's, one per train example
    # Same data, seed and global batch: the replicas' summed gradients equal the single device's,
    # up to the order of float additions and dropout draws.
    for metric in ("val_auc", "val_loss"):
        assert abs(one["epochs"][metric][-1] - two["epochs"][metric][-1]) < 0.01, (one, two)


def test_a_killed_training_resumes_from_its_last_finished_epoch(tmp_path):
    import numpy as np
    import tensorflow as tf

    from mian.config.pipeline_config import TrainingConfig
    from mian.stages.trainer import HISTORY_FILE, train
    from mian_keras.random_batch import planted_labels, random_batch
    from tests.conftest import small_spec

    spec = small_spec()
    features = random_batch(spec, 512, seed=1)
    labels = planted_labels(features, seed=1)
    training = TrainingConfig(model="lr", epochs=5, batch_size=64, steps_per_epoch=4, patience=5)

    def data(crash_after: int | None):
        def make(batch_size, epochs):
            ds = tf.data.Dataset.from_tensor_slices((features, labels)).batch(batch_size)
            ds = ds.repeat() if epochs is None else ds
            if crash_after is None:
                return ds
            # The process "dies" in the middle of the third epoch.
            return ds.enumerate().map(
                lambda i, batch: (tf.debugging.assert_less(i, np.int64(crash_after)), batch)[1]
            )

        return make

    backup = str(tmp_path / "backup")
    try:
        train(spec, training, data(crash_after=10), data(None), str(tmp_path / "run1"), backup)
    except tf.errors.InvalidArgumentError:
        pass
    else:
        raise AssertionError("the first training should have died")
    train(spec, training, data(None), data(None), str(tmp_path / "run2"), backup)
    history = json.loads((tmp_path / "run2" / HISTORY_FILE).read_text())
    # Epochs 1 and 2 finished before the crash: the second run trains epochs 3 to 5 only.
    assert len(history["epochs"]["loss"]) == 3
