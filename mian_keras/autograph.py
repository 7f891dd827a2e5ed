"""Keep AutoGraph out of tf-keras's own code, as TensorFlow does for the `keras` package.

AutoGraph rewrites the Python of every function a `tf.function` traces unless the function's module is
on its do-not-convert list. TensorFlow 2.16's list names `keras` but not `tf_keras`, the package Keras 2
moved to, so every first trace of a model's train, test or predict step rewrites tf-keras's training
loop, losses, metrics and optimizer: 13-15 s per model on a 2-core CPU, for code that Keras 2 always ran
unconverted under its old name. Later TensorFlow releases add `tf_keras` to the list; this adds it here.
Our own layers are still converted.
"""

from __future__ import annotations

from tensorflow.python.autograph.core import config


def skip_tf_keras() -> None:
    """Put `tf_keras` on AutoGraph's do-not-convert list (once)."""
    rules = config.CONVERSION_RULES
    if not any(isinstance(r, config.DoNotConvert) and r.matches("tf_keras") for r in rules):
        config.CONVERSION_RULES = (config.DoNotConvert("tf_keras"), *rules)
