"""The models leave this project behind: SavedModel in a fresh process, and XLA compilation."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from mian_keras import MODELS, attention_model, build_model, compile_model
from mian_keras.random_batch import random_batch
from tests.conftest import for_model

# Runs pipelines, servers or training end to end: skipped by `make unit`.
pytestmark = pytest.mark.e2e

# Loads the SavedModels with TensorFlow alone and proves the project was never imported: one process
# for every model, since starting TensorFlow costs more than loading a model.
LOADER = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf
    models = json.loads(sys.argv[1])
    served = {}
    for name, (path, inputs_file) in models.items():
        with open(inputs_file) as f:
            raw = json.load(f)
        serve = tf.saved_model.load(path).signatures["serving_default"]
        args = {key: tf.constant(v["values"], dtype=v["dtype"]) for key, v in raw.items()}
        served[name] = {k: v.numpy().tolist() for k, v in serve(**args).items()}
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("mian", "mian_keras"))
    print(json.dumps({"outputs": served, "leaked": leaked}))
    """
)


@pytest.fixture(scope="module")
def served_elsewhere(tmp_path_factory, spec, hparams):
    """Every model saved, then served by a fresh process without the project: (expected, report)."""
    expected, models = {}, {}
    for name in MODELS:
        directory = tmp_path_factory.mktemp(name)
        model = build_model(name, spec, for_model(name, hparams))
        batch = random_batch(spec, 6, seed=3, history_lengths=[0, 1, 2, 3, 5, 6])
        expected[name] = model(batch, training=False).numpy()
        model.save(str(directory / "saved_model"), save_format="tf")
        inputs_file = directory / "inputs.json"
        inputs_file.write_text(
            json.dumps({k: {"values": v.tolist(), "dtype": str(v.dtype)} for k, v in batch.items()})
        )
        models[name] = (str(directory / "saved_model"), str(inputs_file))
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    loader = elsewhere / "load.py"
    loader.write_text(LOADER)
    # A clean environment: no PYTHONPATH, run from a temp dir, and the project uninstalled from view.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-S", str(loader), json.dumps(models)],
        cwd=elsewhere,
        env={**env, "PYTHONPATH": _site_packages_without_project()},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return expected, json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", list(MODELS))
def test_saved_model_serves_in_a_fresh_process_without_project_code(served_elsewhere, name):
    expected, report = served_elsewhere
    assert report["leaked"] == []
    (served,) = report["outputs"][name].values()
    np.testing.assert_allclose(np.array(served), expected[name], rtol=1e-5, atol=1e-5)


def _site_packages_without_project() -> str:
    """The interpreter's library paths, minus the source tree of this project (its editable install)."""
    project = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.pathsep.join(p for p in sys.path if p and os.path.abspath(p) != project and os.path.isdir(p))


@pytest.mark.parametrize("name", list(MODELS))
def test_xla_compiled_model_gives_the_same_outputs(spec, hparams, name):
    model = build_model(name, spec, for_model(name, hparams))
    batch = {k: tf.constant(v) for k, v in random_batch(spec, 8, seed=4).items()}
    eager = model(batch, training=False).numpy()
    compiled = tf.function(lambda b: model(b, training=False), jit_compile=True)
    np.testing.assert_allclose(compiled(batch).numpy(), eager, rtol=1e-5, atol=1e-6)


def test_mian_trains_under_xla(spec, hparams):
    model = compile_model(build_model("mian", spec, hparams), hparams, jit_compile=True)
    batch = random_batch(spec, 32, seed=5)
    labels = (batch["item_id"] % 2).astype(np.float32)
    history = model.fit(batch, labels, batch_size=32, epochs=3, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_attention_outputs_survive_the_saved_model(tmp_path, spec, hparams):
    model = attention_model(build_model("mian", spec, hparams))
    batch = random_batch(spec, 3, seed=6, history_lengths=[0, 2, 6])
    expected = model(batch)
    model.save(str(tmp_path / "attention"), save_format="tf")
    served = tf.saved_model.load(str(tmp_path / "attention")).signatures["serving_default"](
        **{k: tf.constant(v) for k, v in batch.items()}
    )
    for key in ("probability", "gim_weights", "ibim_weights", "iuim_weights", "icim_weights"):
        np.testing.assert_allclose(served[key].numpy(), expected[key].numpy(), rtol=1e-5, atol=1e-6)
