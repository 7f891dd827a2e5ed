"""`mian score`: probabilities for raw impressions from a model server, over TF Serving's gRPC API.

Input: TFRecord files of raw tf.Examples (`.tfrecord`, `.tfrecord.gz`, `.gz`), or impressions already
joined with their user and item as CSV or JSON Lines, one column per raw feature (a history as a JSON
list, or in CSV as values joined by `|`), and the impression's `timestamp` (Unix seconds or ISO 8601)
when the model derives a time context (the model derives hour, weekday and season from it). Rows
become tf.Examples (the kinds of the features come from the server's `serving_raw` signature, read
with GetModelMetadata) and are sent to `serving_default` with PredictionServiceStub.Predict, so the
same command works against TF Serving itself.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

import grpc
import tensorflow as tf
from tensorflow_serving.apis import get_model_metadata_pb2, predict_pb2, prediction_service_pb2_grpc

from mian.data.ingest.records import timestamp_seconds
from mian.names import DEFAULT_SIGNATURE, EXAMPLES_INPUT, HISTORY_LENGTH_FEATURE, PROBABILITY, RAW_SIGNATURE

HISTORY_SEPARATOR = "|"
TIMEOUT_SECONDS = 30.0


def channel(target: str, tls_ca: str | None = None) -> grpc.Channel:
    if tls_ca:
        with open(tls_ca, "rb") as f:
            return grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=f.read()))
    return grpc.insecure_channel(target)


def raw_feature_kinds(stub, model_name: str) -> dict[str, int]:
    """{raw feature: DataType} from the model's `serving_raw` signature."""
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = model_name
    response = stub.GetModelMetadata(request, timeout=TIMEOUT_SECONDS)
    signatures = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signatures)
    if RAW_SIGNATURE not in signatures.signature_def:
        raise ValueError(f"the model has no {RAW_SIGNATURE!r} signature to read feature kinds from")
    inputs = signatures.signature_def[RAW_SIGNATURE].inputs
    return {name: info.dtype for name, info in inputs.items() if name != HISTORY_LENGTH_FEATURE}


def row_to_example(row: dict, kinds: dict[str, int], source: str, line: int) -> bytes:
    features = {}
    for name, dtype in kinds.items():
        value = row.get(name)
        values = [] if value in (None, "") else value
        if isinstance(values, str):
            values = values.split(HISTORY_SEPARATOR) if name.startswith("hist_") else [values]
        elif not isinstance(values, list):
            values = [values]
        if dtype == tf.int64.as_datatype_enum:  # the impression's time, the time context's source
            seconds = [timestamp_seconds(v) for v in values]
            if None in seconds:
                raise ValueError(
                    f"{source}, line {line}, field {name!r}: {value!r} is not a time (Unix seconds or "
                    "ISO 8601, after 1970 and before 2200)"
                )
            features[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=seconds))
            continue
        try:
            if dtype == tf.float32.as_datatype_enum:
                features[name] = tf.train.Feature(
                    float_list=tf.train.FloatList(value=[float(v) for v in values])
                )
            else:
                encoded = [str(v).encode() for v in values]
                features[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=encoded))
        except ValueError:
            raise ValueError(f"{source}, line {line}, field {name!r}: {value!r} is not a number") from None
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def read_examples(path: str, feature_kinds) -> Iterator[bytes]:
    """Serialized tf.Examples from a TFRecord file, or made from the rows of a CSV or JSON Lines
    file; `feature_kinds()` gives {raw feature: DataType} (asked only for CSV and JSON Lines)."""
    lowered = path.lower()
    if lowered.endswith((".tfrecord", ".tfrecord.gz", ".gz")):
        compression = "GZIP" if lowered.endswith(".gz") else ""
        for record in tf.data.TFRecordDataset([path], compression_type=compression):
            yield record.numpy()
        return
    kinds = feature_kinds()
    with open(path, newline="") as f:
        if lowered.endswith(".csv"):
            for line, row in enumerate(csv.DictReader(f), start=2):
                yield row_to_example(row, kinds, path, line)
        else:
            for line, text in enumerate(f, start=1):
                if text.strip():
                    yield row_to_example(json.loads(text), kinds, path, line)


def predict(stub, model_name: str, examples: list[bytes]) -> list[float]:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = DEFAULT_SIGNATURE
    request.inputs[EXAMPLES_INPUT].CopyFrom(tf.make_tensor_proto(examples, dtype=tf.string))
    response = stub.Predict(request, timeout=TIMEOUT_SECONDS)
    return tf.make_ndarray(response.outputs[PROBABILITY]).reshape(-1).tolist()


def score(
    target: str, path: str, model_name: str, batch_size: int, tls_ca: str | None = None
) -> Iterator[float]:
    """The click probability of every example of `path`, in order."""
    with channel(target, tls_ca) as open_channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(open_channel)
        batch = []
        for example in read_examples(path, lambda: raw_feature_kinds(stub, model_name)):
            batch.append(example)
            if len(batch) == batch_size:
                yield from predict(stub, model_name, batch)
                batch = []
        if batch:
            yield from predict(stub, model_name, batch)
