"""Finding a request's model version and signature, and running it (batched or not).

Errors carry TF Serving's status code names, which the gRPC services abort with and the REST
endpoint turns into HTTP statuses: INVALID_ARGUMENT (unknown signature, missing, unknown or mistyped
input, wrong shape, unreadable tf.Example), NOT_FOUND (unknown model or version), UNAVAILABLE (no
version loaded yet), INTERNAL.
"""

from __future__ import annotations

import contextlib
import logging
import threading

import numpy as np
import tensorflow as tf

from mian.names import DEFAULT_SIGNATURE
from mian.serving.batching import Batcher
from mian.serving.model_versions import LoadedVersion, ModelVersions, VersionNotFound
from mian.serving.tensors import InvalidInput

log = logging.getLogger("mian.serving")


class RequestError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class Inference:
    def __init__(self, versions: ModelVersions, batcher_options: dict | None):
        self.versions = versions
        self.direct_calls = 0
        self.requests = 0
        # Requests whose handler started and finished, for the shutdown's account of draining.
        self.started = 0
        self.finished = 0
        self._count_lock = threading.Lock()
        self.batcher = Batcher(self._call, **batcher_options) if batcher_options is not None else None

    @staticmethod
    def _call(key, inputs: dict) -> dict:
        loaded, signature = key
        outputs = loaded.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})
        return {k: v.numpy() for k, v in outputs.items()}

    @contextlib.contextmanager
    def handling(self):
        """Counts a request from its handler's start to its end."""
        with self._count_lock:
            self.started += 1
        try:
            yield
        finally:
            with self._count_lock:
                self.finished += 1

    @property
    def in_flight(self) -> int:
        return self.started - self.finished

    @property
    def model_calls(self) -> int:
        return self.direct_calls + (self.batcher.model_calls if self.batcher else 0)

    def resolve(self, name: str, version: int | None) -> LoadedVersion:
        if name != self.versions.name:
            raise RequestError("NOT_FOUND", f"unknown model {name!r}")
        try:
            return self.versions.get(version)
        except VersionNotFound as error:
            raise RequestError("NOT_FOUND" if version is not None else "UNAVAILABLE", str(error)) from None

    @staticmethod
    def signature(loaded: LoadedVersion, name: str) -> str:
        name = name or DEFAULT_SIGNATURE
        if name not in loaded.signatures:
            raise RequestError(
                "INVALID_ARGUMENT", f"unknown signature {name!r}; the model has {sorted(loaded.signatures)}"
            )
        return name

    def run(self, loaded: LoadedVersion, signature: str, inputs: dict[str, np.ndarray]) -> dict:
        with self._count_lock:
            self.requests += 1
            self.direct_calls += self.batcher is None
        key = (loaded, signature)
        try:
            if self.batcher is None:
                return self._call(key, inputs)
            return self.batcher.submit(key, inputs)
        except (tf.errors.InvalidArgumentError, InvalidInput, ValueError) as error:
            raise RequestError("INVALID_ARGUMENT", _first_line(error)) from None
        except Exception as error:
            log.exception("inference failed")
            raise RequestError("INTERNAL", _first_line(error)) from None


def _first_line(error: Exception) -> str:
    text = (getattr(error, "message", None) or str(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__
