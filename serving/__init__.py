"""A model server that speaks TF Serving's gRPC API for the pipeline's pushed SavedModels.

TF Serving's own binary cannot be installed on every machine mian runs on; this server implements the
same `tensorflow.serving.PredictionService` (Predict, Classify, GetModelMetadata) and `ModelService`
(GetModelStatus) from the tensorflow-serving-api protos, so clients work against either.
"""
