"""Which versions the server swaps in: a version taking another dataset's inputs is refused."""

import logging

import numpy as np
import tensorflow as tf

from mian.serving.model_versions import ModelVersions


def save_version(path, inputs: dict, scale: float) -> None:
    """A SavedModel whose serving_raw signature takes `inputs` ({name: dtype}) and returns a constant
    probability per example, `scale`."""
    specs = {name: tf.TensorSpec([None], dtype, name=name) for name, dtype in inputs.items()}

    class Module(tf.Module):
        @tf.function(input_signature=[specs])
        def serve_raw(self, features):
            first = next(iter(features.values()))
            return {"probability": tf.fill([tf.shape(first)[0], 1], scale)}

    module = Module()
    tf.saved_model.save(
        module, str(path), signatures={"serving_raw": module.serve_raw.get_concrete_function()}
    )


def answer(versions: ModelVersions, inputs: dict) -> float:
    loaded = versions.get()
    tensors = {name: tf.constant(["x"] if dtype == tf.string else [1.0]) for name, dtype in inputs.items()}
    return float(np.asarray(loaded.signatures["serving_raw"](**tensors)["probability"]).reshape(-1)[0])


OURS = {"item_id": tf.string, "gender": tf.string, "price": tf.float32}
THEIRS = {"item_id": tf.string, "city": tf.string, "price": tf.float32}


def test_a_version_with_other_inputs_is_not_swapped_in_and_requests_keep_their_answers(tmp_path, caplog):
    save_version(tmp_path / "mian" / "1", OURS, 0.25)
    versions = ModelVersions(str(tmp_path), "mian")
    versions.refresh()
    assert versions.loaded() == [1] and answer(versions, OURS) == 0.25

    save_version(tmp_path / "mian" / "2", THEIRS, 0.75)
    with caplog.at_level(logging.ERROR, logger="mian.serving"):
        versions.refresh()
    assert versions.loaded() == [1] and answer(versions, OURS) == 0.25
    (message,) = [r.getMessage() for r in caplog.records]
    assert "version 2 of mian takes other inputs than version 1" in message
    assert "new inputs city" in message and "missing inputs gender" in message
    assert "--accept-signature-change" in message

    caplog.clear()
    versions.refresh()  # refused once, not retried (nor logged) while its files stay the same
    assert versions.loaded() == [1] and not caplog.records

    save_version(tmp_path / "mian" / "3", OURS, 0.5)  # the same inputs: swapped in
    versions.refresh()
    assert versions.loaded() == [1, 3] and answer(versions, OURS) == 0.5


def test_a_changed_signature_is_served_when_accepted(tmp_path):
    save_version(tmp_path / "mian" / "1", OURS, 0.25)
    save_version(tmp_path / "mian" / "2", {**OURS, "price": tf.string}, 0.75)
    refusing = ModelVersions(str(tmp_path), "mian")
    refusing.refresh()
    assert refusing.loaded() == [1]  # price retyped
    accepting = ModelVersions(str(tmp_path), "mian", accept_signature_change=True)
    accepting.refresh()
    assert accepting.loaded() == [1, 2]
