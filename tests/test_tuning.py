"""One training setup: a Tuner trial trains as the Trainer trains (mian.stages.trainer.fit_arguments):
the same global batch under the same strategy, the same shuffled batches in the same order, the same
early stopping on the same metric name.

Both run under MirroredStrategy over two replicas (the CPU split in two logical devices, which
TensorFlow fixes when it starts: a fresh process), where the global batch is twice the configured
per-replica batch: a trial that took the configured batch as its batch would read other batches.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from mian.config.pipeline_config import TrainingConfig
from mian.stages.trainer import shuffle_seed

pytestmark = pytest.mark.e2e

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SEARCH_AND_TRAIN = textwrap.dedent(
    """
    import json, os, sys
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import numpy as np
    import tensorflow as tf
    (cpu,) = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from mian.config.pipeline_config import TrainingConfig, TuningConfig
    from mian.stages.trainer import distribution_strategy, shuffle_seed, train
    from mian.stages.tuning import search
    from mian_keras.random_batch import planted_labels, random_batch
    from tests.conftest import small_spec

    out = sys.argv[1]
    spec = small_spec()
    train_x, eval_x = random_batch(spec, 1500, seed=1), random_batch(spec, 300, seed=2)
    train_y, eval_y = planted_labels(train_x, seed=1), planted_labels(eval_x, seed=2)
    training = TrainingConfig(model="din", epochs=2, batch_size=32, patience=2, hparams={"dropout": 0.1})
    seed = shuffle_seed(training, "transform-output", ["a/Split-train/*"])
    logs = {"trial": [], "trainer": []}

    def recorded(log):
        # The train split shuffled as the Trainer's input is; each batch's row numbers appended to log.
        def make(batch_size, epochs):
            rows = np.arange(len(train_y), dtype=np.int64)
            dataset = tf.data.Dataset.from_tensor_slices((rows, train_x, train_y))
            dataset = dataset.shuffle(len(train_y), seed=seed).repeat(epochs).batch(batch_size)

            def note(batch_rows):
                log.append([int(r) for r in batch_rows.numpy()])
                return batch_rows

            def strip(batch_rows, x, y):
                noted = tf.py_function(note, [batch_rows], tf.int64)
                with tf.control_dependencies([noted]):
                    return {k: tf.identity(v) for k, v in x.items()}, y

            return dataset.map(strip)

        return make

    def eval_data(batch_size, epochs):
        return tf.data.Dataset.from_tensor_slices((eval_x, eval_y)).batch(batch_size)

    strategy = distribution_strategy()
    # The search's one choice is the Trainer's own value: the same hyperparameters.
    tuning = TuningConfig(enabled=True, trials=1, epochs=2, search_space={"dropout": [0.1]})
    best = search(spec, training, tuning, recorded(logs["trial"]), eval_data, os.path.join(out, "search"),
                  strategy=strategy)
    train(spec, training, recorded(logs["trainer"]), eval_data, os.path.join(out, "run"),
          os.path.join(out, "backup"), strategy)
    print(json.dumps({"best": best, "replicas": strategy.num_replicas_in_sync, **logs}))
    """
)


def test_a_trial_sees_the_batches_the_trainer_sees_for_the_same_hyperparameters(tmp_path):
    ran = subprocess.run(
        [sys.executable, "-c", SEARCH_AND_TRAIN, str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": REPO},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ran.returncode == 0, ran.stderr[-4000:]
    result = json.loads(ran.stdout.strip().splitlines()[-1])
    assert result["best"] == {"dropout": 0.1} and result["replicas"] == 2
    # Both read the train split the same way: the click rate's one pass (a batch of all 1,500), then
    # 2 epochs of the global batch, 2 x 32 (the last 28), the same rows in the same order.
    assert result["trial"] == result["trainer"]
    assert [len(b) for b in result["trainer"]] == [1500] + 2 * ([64] * 23 + [28])
    assert result["trainer"][1] != result["trainer"][25]  # each epoch reshuffled


def test_without_a_configured_seed_the_shuffling_is_the_datas_not_a_draw():
    unseeded = TrainingConfig()
    files = ["root/Transform/transformed_examples/7/Split-train/*"]
    assert shuffle_seed(unseeded, "graph/7", files) == shuffle_seed(unseeded, "graph/7", list(files))
    assert shuffle_seed(unseeded, "graph/7", files) != shuffle_seed(unseeded, "graph/8", files)
    assert shuffle_seed(TrainingConfig(seed=3), "graph/7", files) == 3
