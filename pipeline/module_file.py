"""The pipeline's module file: the Transform component's `preprocessing_fn`, the Tuner's `tuner_fn` and
the Trainer's `run_fn`.

The components name these functions by their import path (`mian.pipeline.module_file.preprocessing_fn`),
so the installed package serves them both on this machine and in the pipeline's container image.
"""

from mian.stages.trainer import run_fn
from mian.stages.transform import preprocessing_fn
from mian.stages.tuning import tuner_fn

__all__ = ["preprocessing_fn", "run_fn", "tuner_fn"]
