"""The Evaluator's report run: the candidate's every metric on the slices the gate does not judge
(eval_config.report_config), in a process of its own while the Evaluator's TFMA run gates
(components/baseline_model/evaluator.py).

    python -m mian.stages.slice_evaluation MODEL EXAMPLES OUTPUT CONFIG

MODEL is the candidate's SavedModel, EXAMPLES a file pattern of raw tf.Examples (the test split),
OUTPUT where TFMA writes its metrics and plots, CONFIG a file holding the EvalConfig as JSON.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow as tf
import tensorflow_model_analysis as tfma
from google.protobuf import json_format


def evaluate_slices(model: str, examples: str, output: str, config: tfma.EvalConfig) -> None:
    shared = tfma.default_eval_shared_model(model, eval_config=config)
    tfma.run_model_analysis(
        eval_shared_model=shared, eval_config=config, data_location=examples, output_path=output
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for name in ("model", "examples", "output", "config"):
        parser.add_argument(name)
    args = parser.parse_args(argv)
    with tf.io.gfile.GFile(args.config) as f:
        config = json_format.Parse(f.read(), tfma.EvalConfig())
    evaluate_slices(args.model, args.examples, args.output, config)


if __name__ == "__main__":
    main()
