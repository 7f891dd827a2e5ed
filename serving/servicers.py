"""PredictionService (Predict, Classify, GetModelMetadata) and ModelService (GetModelStatus)."""

from __future__ import annotations

import functools

import grpc
import numpy as np
from google.protobuf import any_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from mian.names import EXAMPLES_INPUT, PROBABILITY
from mian.serving.inference import Inference, RequestError
from mian.serving.model_versions import LoadedVersion
from mian.serving.request_log import RequestLog
from mian.serving.tensors import InvalidInput, output_protos, request_inputs


def _aborts_on_request_errors(method):
    """Turns a RequestError (or InvalidInput) into the gRPC status of the same name."""

    @functools.wraps(method)
    def wrapper(self, request, context):
        try:
            with self.inference.handling():
                return method(self, request, context)
        except RequestError as error:
            context.abort(grpc.StatusCode[error.code], str(error))
        except InvalidInput as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))

    return wrapper


def _resolve(inference: Inference, model_spec) -> LoadedVersion:
    return inference.resolve(model_spec.name, _version(model_spec))


def _answering(model_spec, name: str, loaded: LoadedVersion, signature: str) -> None:
    model_spec.name = name
    model_spec.version.value = loaded.version
    model_spec.signature_name = signature


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, inference: Inference, request_log: RequestLog | None = None):
        self.inference = inference
        self.request_log = request_log

    @_aborts_on_request_errors
    def Predict(self, request, context):
        loaded = _resolve(self.inference, request.model_spec)
        signature = self.inference.signature(loaded, request.model_spec.signature_name)
        inputs = request_inputs(request.inputs, loaded.input_specs[signature])
        outputs = self.inference.run(loaded, signature, inputs)
        response = predict_pb2.PredictResponse()
        _answering(response.model_spec, self.inference.versions.name, loaded, signature)
        for name, proto in output_protos(outputs, list(request.output_filter)).items():
            response.outputs[name].CopyFrom(proto)
        if self.request_log:
            self.request_log.predict(request, response)
        return response

    @_aborts_on_request_errors
    def Classify(self, request, context):
        """The signature (serving_default) on the request's tf.Examples: class "1" is a click."""
        loaded = _resolve(self.inference, request.model_spec)
        signature = self.inference.signature(loaded, request.model_spec.signature_name)
        if set(loaded.input_specs[signature]) != {EXAMPLES_INPUT}:
            raise InvalidInput(f"signature {signature!r} does not take tf.Examples")
        if request.input.HasField("example_list_with_context"):
            raise InvalidInput("example_list_with_context is not supported")
        examples = [e.SerializeToString() for e in request.input.example_list.examples]
        if not examples:
            raise InvalidInput("no examples to classify")
        outputs = self.inference.run(loaded, signature, {EXAMPLES_INPUT: np.array(examples, dtype=object)})
        response = classification_pb2.ClassificationResponse()
        _answering(response.model_spec, self.inference.versions.name, loaded, signature)
        for p in outputs[PROBABILITY].reshape(-1):
            classes = response.result.classifications.add().classes
            classes.add(label="0", score=float(1.0 - p))
            classes.add(label="1", score=float(p))
        if self.request_log:
            self.request_log.classify(request, response)
        return response

    @_aborts_on_request_errors
    def GetModelMetadata(self, request, context):
        loaded = _resolve(self.inference, request.model_spec)
        if list(request.metadata_field) != ["signature_def"]:
            raise InvalidInput("metadata_field must be ['signature_def']")
        signature_defs = get_model_metadata_pb2.SignatureDefMap()
        for name, definition in loaded.signature_defs.items():
            signature_defs.signature_def[name].CopyFrom(definition)
        packed = any_pb2.Any()
        packed.Pack(signature_defs)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = self.inference.versions.name
        response.model_spec.version.value = loaded.version
        response.metadata["signature_def"].CopyFrom(packed)
        return response


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, inference: Inference):
        self.inference = inference

    @_aborts_on_request_errors
    def GetModelStatus(self, request, context):
        response = get_model_status_pb2.GetModelStatusResponse()
        for version in model_status(self.inference, request.model_spec.name, _version(request.model_spec)):
            status = response.model_version_status.add()
            status.version = version
            status.state = get_model_status_pb2.ModelVersionStatus.AVAILABLE
        return response


def _version(model_spec) -> int | None:
    return model_spec.version.value if model_spec.HasField("version") else None


def model_status(inference: Inference, name: str, version: int | None) -> list[int]:
    """The loaded versions of the model (or just `version`); every one of them is AVAILABLE."""
    if name != inference.versions.name:
        raise RequestError("NOT_FOUND", f"unknown model {name!r}")
    loaded = inference.versions.loaded()
    if version is not None:
        if version not in loaded:
            raise RequestError("NOT_FOUND", f"version {version} of {name!r} is not loaded")
        return [version]
    return loaded
