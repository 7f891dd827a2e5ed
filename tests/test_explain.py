"""`mian explain` on an exported MIAN: weights per case sum to one, picture and JSON written."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from mian.names import ATTENTION_NAMES_FILE
from mian.tools.explain import explain
from tests.model_helpers import REPO, push_model, raw_example, run_transform, serialized

# Runs pipelines, servers or training end to end: skipped by `make unit`.
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    temp = tmp_path_factory.mktemp("explain")
    history = [("i1", "c1"), ("i2", "c2"), ("i3", "c1")]
    raw = [raw_example(f"i{n % 4}", f"c{n % 3}", float(n), history=history[: n % 4]) for n in range(20)]
    _, _, tft_output, custom_config = run_transform(raw, raw[:1], str(temp / "tft"))
    path = push_model(str(temp / "serving"), 1, tft_output, custom_config, seed=4)
    examples = temp / "examples.tfrecord"
    with tf.io.TFRecordWriter(str(examples)) as writer:
        for e in raw:
            writer.write(serialized(e))
    return path, str(examples), temp


def test_weights_per_case_sum_to_one_and_the_picture_is_written(exported):
    path, examples, temp = exported
    out = str(temp / "attention.png")
    json_path = explain(path, examples, cases=14, out_png=out)
    cases = json.load(open(json_path))
    assert len(cases) == 14
    assert len(cases[0]["gim_weights"]) == 7  # e_i, e_b, e_s and the four interaction outputs
    for case in cases:
        np.testing.assert_allclose(sum(case["gim_weights"].values()), 1.0, atol=1e-5)
        assert len(case["ibim_weights"]) == len(case["history"]) == case["case"] % 4
        if case["history"]:
            np.testing.assert_allclose(sum(case["ibim_weights"]), 1.0, atol=1e-5)
    image = Image.open(out)
    assert image.format == "PNG" and image.size[0] > 300 and image.size[1] > 14 * 28


def test_the_command_line_writes_both_files(exported):
    path, examples, temp = exported
    out = str(temp / "cli.png")
    command = [sys.executable, "-m", "mian.cli.main", "explain", "--model", path, "--input", examples]
    command += ["--cases", "3", "--out", out]
    subprocess.run(
        command, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": REPO}, timeout=300
    )
    assert len(json.load(open(str(temp / "cli.json")))) == 3 and os.path.getsize(out) > 0


def test_the_item_and_history_features_are_the_ones_the_export_recorded(exported, tmp_path):
    path, examples, _ = exported
    cases = json.load(open(explain(path, examples, cases=6, out_png=str(tmp_path / "a.png"))))
    assert [c["item_id"] for c in cases] == [f"i{n % 4}" for n in range(6)]
    assert cases[3]["history"] == ["i1", "i2", "i3"]
    # A dataset whose item column has another name: explain reads what the export wrote, not item_id.
    renamed = str(tmp_path / "renamed")
    shutil.copytree(path, renamed)
    names_file = os.path.join(renamed, ATTENTION_NAMES_FILE)
    written = json.load(open(names_file))
    assert (written["item_feature"], written["history_feature"]) == ("item_id", "hist_item_id")
    written.update(item_feature="category", history_feature="hist_category")
    json.dump(written, open(names_file, "w"))
    cases = json.load(open(explain(renamed, examples, cases=6, out_png=str(tmp_path / "b.png"))))
    assert [c["item_id"] for c in cases] == [f"c{n % 3}" for n in range(6)]
    assert cases[3]["history"] == ["c1", "c2", "c1"]
