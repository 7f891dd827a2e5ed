"""Directories named by numbers: TF Serving's model versions, TFX's artifact directories (named by
the execution id that wrote them)."""

from __future__ import annotations

import os

import tensorflow as tf


def numbers_under(directory: str) -> list[int]:
    """The numeric entries of `directory`, ascending; [] when it does not exist. Works on any
    filesystem tf.io.gfile knows (local, GCS, HDFS), as the pushed model's destination may be one."""
    if not tf.io.gfile.isdir(directory):
        return []
    names = (name.rstrip("/") for name in tf.io.gfile.listdir(directory))
    return sorted(int(name) for name in names if name.isdigit())


def newest_numbered(directory: str) -> str | None:
    """The path of the highest-numbered entry of `directory`, or None when there is none."""
    numbers = numbers_under(directory)
    return os.path.join(directory, str(numbers[-1])) if numbers else None
