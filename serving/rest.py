"""A small REST endpoint in TF Serving's shape, beside the gRPC server.

    GET  /v1/models/<name>[/versions/<v>]            -> {"model_version_status": [...]}
    POST /v1/models/<name>[/versions/<v>]:predict    {"signature_name": ..., "inputs": {...}}
                                                     or {"instances": [{...}, ...]}
    GET  /monitoring/prometheus/metrics              -> request and model-call counters

Strings may be sent as {"b64": "..."} (serialized tf.Examples must be). Outputs come back as
{"outputs": {...}} for "inputs" and {"predictions": [...]} for "instances", as TF Serving answers.
"""

from __future__ import annotations

import base64
import http.server
import json
import re
import threading

import numpy as np

from mian.serving.inference import Inference, RequestError
from mian.serving.servicers import model_status
from mian.serving.tensors import InvalidInput

_MODEL_PATH = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?(:predict)?$")
_HTTP_STATUS = {"INVALID_ARGUMENT": 400, "NOT_FOUND": 404, "UNAVAILABLE": 503, "INTERNAL": 500}


def _decode(value):
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value.encode() if isinstance(value, str) else value


def _array(value, spec) -> np.ndarray:
    if spec.dtype.name == "string":
        return np.array(_decode(value), dtype=object)
    return np.array(value, dtype=spec.dtype.as_numpy_dtype)


def _jsonable(array: np.ndarray):
    if array.dtype == object:
        return [_jsonable(v) if isinstance(v, np.ndarray) else v.decode(errors="replace") for v in array]
    return array.tolist()


class RestServer:
    def __init__(self, host: str, port: int, inference: Inference):
        handler = type("Handler", (_Handler,), {"inference": inference})
        self.httpd = http.server.ThreadingHTTPServer((host, port), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()


class _Handler(http.server.BaseHTTPRequestHandler):
    inference: Inference

    def log_message(self, *args) -> None:  # access logs would flood the server's output
        pass

    def _reply(self, status: int, body) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if isinstance(body, str) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, answer) -> None:
        try:
            self._reply(200, answer())
        except RequestError as error:
            self._reply(_HTTP_STATUS[error.code], {"error": str(error)})
        except (InvalidInput, ValueError, TypeError, KeyError) as error:
            self._reply(400, {"error": str(error)})

    def do_GET(self) -> None:
        if self.path == "/monitoring/prometheus/metrics":
            self._reply(
                200,
                f":mian:requests_total {self.inference.requests}\n"
                f":mian:model_calls_total {self.inference.model_calls}\n",
            )
            return
        match = _MODEL_PATH.match(self.path)
        if not match or match.group(3):
            self._reply(404, {"error": f"no such resource {self.path}"})
            return
        name, version = match.group(1), match.group(2)

        def status():
            versions = model_status(self.inference, name, int(version) if version else None)
            states = [
                {"version": str(v), "state": "AVAILABLE", "status": {"error_code": "OK"}} for v in versions
            ]
            return {"model_version_status": states}

        self._handle(status)

    def do_POST(self) -> None:
        match = _MODEL_PATH.match(self.path)
        if not match or not match.group(3):
            self._reply(404, {"error": f"no such resource {self.path}"})
            return
        name, version = match.group(1), match.group(2)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._handle(lambda: self._predict(name, int(version) if version else None, json.loads(body)))

    def _predict(self, name: str, version: int | None, request: dict) -> dict:
        loaded = self.inference.resolve(name, version)
        signature = self.inference.signature(loaded, request.get("signature_name", ""))
        specs = loaded.input_specs[signature]
        if "instances" in request:
            rows = request["instances"]
            columns = {k: [row[k] for row in rows] for k in specs} if len(specs) > 1 else {
                next(iter(specs)): rows}  # fmt: skip
        else:
            columns = request["inputs"]
        inputs = {k: _array(columns[k], specs[k]) for k in specs}
        outputs = self.inference.run(loaded, signature, inputs)
        if "instances" in request:
            if len(outputs) == 1:
                return {"predictions": _jsonable(next(iter(outputs.values())))}
            names = list(outputs)
            rows = zip(*(_jsonable(outputs[n]) for n in names), strict=True)
            return {"predictions": [dict(zip(names, row, strict=True)) for row in rows]}
        return {"outputs": {k: _jsonable(v) for k, v in outputs.items()}}
