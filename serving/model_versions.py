"""The versions of one model: loaded from `<model base>/<name>/<version>/`, newest first, swapped live.

A poller looks for new numeric version directories. A new version is loaded with
`tf.saved_model.load` (no project code) and warmed up, off to the side, by replaying the requests of
its TF Serving warm-up file (written by mian.stages.warmup), or without one by calling each signature
once on blanks; only then is it swapped in, atomically. A request holds the LoadedVersion it started
with, so in-flight requests finish on their version. A version that fails to load or warm up is logged and
skipped (tried again only if its files change) while the current one keeps serving. So is a version
whose signatures take other inputs than the one serving (another dataset's model pushed under this
name would answer every request with all-unknown features), unless the server is told to accept it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from mian.names import DEFAULT_SIGNATURE, WARMUP_FILE
from mian.numbered_dirs import numbers_under
from mian.serving.tensors import request_inputs

log = logging.getLogger("mian.serving")
INTERNAL_SIGNATURES = ("__saved_model_init_op",)


class VersionNotFound(LookupError):
    pass


# eq=False: a version is itself, hashed by identity (the batcher merges requests per version).
@dataclasses.dataclass(frozen=True, eq=False)
class LoadedVersion:
    version: int
    model: object  # what tf.saved_model.load returned; kept alive while requests use its functions
    signatures: dict  # name -> concrete function
    input_specs: dict  # name -> {input: tf.TensorSpec}
    signature_defs: dict  # name -> SignatureDef proto, for GetModelMetadata


def load_version(path: str, version: int) -> LoadedVersion:
    """Load and warm up one version; raises when it cannot serve."""
    model = tf.saved_model.load(path)
    signatures = dict(model.signatures)
    if not signatures:
        raise ValueError(f"{path} has no signatures")
    input_specs = {name: dict(fn.structured_input_signature[1]) for name, fn in signatures.items()}
    requests = read_warmup_requests(path)
    for request in requests:
        name = request.model_spec.signature_name or DEFAULT_SIGNATURE
        if name not in signatures:
            raise ValueError(f"{path}: a warm-up request names signature {name!r}, which it does not have")
        signatures[name](**request_inputs(request.inputs, input_specs[name]))
    if not requests:
        for name, fn in signatures.items():
            fn(**warmup_inputs(input_specs[name]))
    with tf.io.gfile.GFile(os.path.join(path, "saved_model.pb"), "rb") as f:
        saved = saved_model_pb2.SavedModel.FromString(f.read())
    defs = {k: v for k, v in saved.meta_graphs[0].signature_def.items() if k not in INTERNAL_SIGNATURES}
    return LoadedVersion(version, model, signatures, input_specs, defs)


def read_warmup_requests(saved_model_dir: str) -> list[predict_pb2.PredictRequest]:
    """The PredictRequests of a SavedModel's TF Serving warm-up file (mian.stages.warmup writes it); none when
    it has no such file."""
    path = os.path.join(saved_model_dir, WARMUP_FILE)
    if not tf.io.gfile.exists(path):
        return []
    return [
        prediction_log_pb2.PredictionLog.FromString(record.numpy()).predict_log.request
        for record in tf.data.TFRecordDataset(path)
    ]


def warmup_inputs(specs: dict) -> dict:
    """One example of empty strings and zeros in every input's shape."""
    inputs = {}
    for name, spec in specs.items():
        shape = [1 if d is None else d for d in spec.shape.as_list()]
        dtype = spec.dtype.as_numpy_dtype
        inputs[name] = tf.constant(np.full(shape, b"" if spec.dtype == tf.string else 0, dtype=dtype))
    return inputs


def _fingerprint(path: str) -> tuple:
    """Names and sizes of a version's files: a failed version is tried again once these change."""
    return tuple(
        (os.path.join(root, f), os.path.getsize(os.path.join(root, f)))
        for root, _, files in sorted(os.walk(path))
        for f in sorted(files)
    )


def signature_change(serving: LoadedVersion, candidate: LoadedVersion) -> str | None:
    """How `candidate`'s signatures' inputs differ from `serving`'s, or None when they take the same."""
    changes = []
    for name in sorted(set(serving.input_specs) | set(candidate.input_specs)):
        old, new = serving.input_specs.get(name), candidate.input_specs.get(name)
        if old is None or new is None:
            changes.append(f"signature {name} {'added' if old is None else 'removed'}")
            continue
        added, removed = sorted(set(new) - set(old)), sorted(set(old) - set(new))
        retyped = sorted(k for k in set(old) & set(new) if old[k].dtype != new[k].dtype)
        for label, inputs in (("new inputs", added), ("missing inputs", removed), ("retyped", retyped)):
            if inputs:
                changes.append(f"{name}: {label} {', '.join(inputs)}")
    return "; ".join(changes) or None


class ModelVersions:
    """The newest `keep` loaded versions of a model, refreshed every `poll_seconds`.

    A version whose inputs differ from the serving one's is refused unless `accept_signature_change`.
    """

    def __init__(
        self,
        base: str,
        name: str,
        poll_seconds: float = 2.0,
        keep: int = 2,
        accept_signature_change: bool = False,
    ):
        self.directory = os.path.join(base, name)
        self.name = name
        self.poll_seconds = poll_seconds
        self.keep = keep
        self.accept_signature_change = accept_signature_change
        self._versions: dict[int, LoadedVersion] = {}
        self._failed: dict[int, tuple] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll_forever, daemon=True, name="version-poller")

    def start(self) -> None:
        self.refresh()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _poll_forever(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.refresh()
            except Exception:  # the poller must outlive a bad scan
                log.exception("scanning %s failed", self.directory)

    def refresh(self) -> None:
        """Load every version on disk newer than the newest loaded one, newest last."""
        newest = max(self._versions, default=-1)
        for version in (v for v in numbers_under(self.directory) if v > newest):
            path = os.path.join(self.directory, str(version))
            fingerprint = _fingerprint(path)
            if self._failed.get(version) == fingerprint:
                continue
            try:
                loaded = load_version(path, version)
            except Exception as error:
                self._failed[version] = fingerprint
                log.error("version %d of %s failed to load; still serving %s: %s", version, self.name,
                          max(self._versions, default="nothing"), error)  # fmt: skip
                continue
            serving = self._versions[max(self._versions)] if self._versions else None
            change = (
                signature_change(serving, loaded)
                if serving is not None and not self.accept_signature_change
                else None
            )
            if serving is not None and change:
                self._failed[version] = fingerprint
                log.error("version %d of %s takes other inputs than version %d, which keeps serving (%s); "
                          "restart with --accept-signature-change to serve it", version, self.name,
                          serving.version, change)  # fmt: skip
                continue
            with self._lock:
                versions = {**self._versions, version: loaded}
                self._versions = dict(sorted(versions.items())[-self.keep :])
            log.info("serving version %d of %s", version, self.name)

    def get(self, version: int | None = None) -> LoadedVersion:
        versions = self._versions  # one read: the dict is replaced, never changed in place
        if not versions:
            raise VersionNotFound(f"model {self.name!r} has no loaded version")
        if version is None:
            return versions[max(versions)]
        if version not in versions:
            raise VersionNotFound(
                f"model {self.name!r} has no loaded version {version} (loaded: {sorted(versions)})"
            )
        return versions[version]

    def loaded(self) -> list[int]:
        return sorted(self._versions)
