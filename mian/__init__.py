"""mian: raw click logs in, a blessed MIAN CTR model serving over gRPC out."""
