"""Request tensors in, checked against a signature's inputs; outputs back to TensorProtos."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


class InvalidInput(ValueError):
    """A request input that the signature cannot take: the message says which and why."""


def request_inputs(protos, specs: dict) -> dict[str, np.ndarray]:
    """numpy arrays of a request's inputs, each checked for presence, dtype and shape."""
    unknown = sorted(set(protos) - set(specs))
    if unknown:
        raise InvalidInput(f"unknown inputs {unknown}; the signature takes {sorted(specs)}")
    missing = sorted(set(specs) - set(protos))
    if missing:
        raise InvalidInput(f"missing inputs {missing}")
    arrays = {}
    for name, spec in specs.items():
        proto = protos[name]
        if proto.dtype != spec.dtype.as_datatype_enum:
            raise InvalidInput(
                f"input {name!r} must be {spec.dtype.name}, got {tf.dtypes.as_dtype(proto.dtype).name}"
                if proto.dtype
                else f"input {name!r} has no dtype"
            )
        try:
            array = tf.make_ndarray(proto)
        except Exception as error:  # a TensorProto whose content does not match its shape
            raise InvalidInput(f"input {name!r} cannot be read: {error}") from None
        expected = spec.shape.as_list()
        if len(array.shape) != len(expected) or any(
            want is not None and want != got for want, got in zip(expected, array.shape, strict=True)
        ):
            raise InvalidInput(f"input {name!r} must have shape {expected}, got {list(array.shape)}")
        arrays[name] = array
    rows = {len(a) for a in arrays.values()}
    if len(rows) > 1:
        raise InvalidInput(f"inputs disagree on the batch size: {sorted(rows)}")
    if rows == {0}:
        raise InvalidInput("the batch is empty")
    return arrays


def output_protos(outputs: dict[str, np.ndarray], only: list[str] | None = None) -> dict:
    names = list(outputs) if not only else only
    unknown = sorted(set(names) - set(outputs))
    if unknown:
        raise InvalidInput(f"unknown outputs {unknown}; the signature has {sorted(outputs)}")
    return {name: tf.make_tensor_proto(outputs[name]) for name in names}
