"""`mian serve` as a child process, for tests, benchmarks and scripts: started on free ports, ready when
it has printed its address line, stopped with SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request

import grpc
from grpc_health.v1 import health_pb2_grpc
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

_READY = re.compile(r"on 127\.0\.0\.1:(\d+), REST on 127\.0\.0\.1:(\d+)")


class ServerProcess:
    def __init__(self, model_base: str, *options: str, python_path: str | None = None):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        if python_path:
            env["PYTHONPATH"] = python_path
        command = [sys.executable, "-m", "mian.cli.main", "serve", "--model-base", model_base, "--port", "0"]
        command += ["--rest-port", "0", *options]
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.process.stdout is not None  # stdout=PIPE
        line = self.process.stdout.readline()
        match = _READY.search(line)
        if not match:
            self.process.kill()
            raise RuntimeError(f"the model server did not start: {line!r}")
        self.port, self.rest_port = int(match.group(1)), int(match.group(2))
        self.target = f"127.0.0.1:{self.port}"
        self.channel = grpc.insecure_channel(self.target)
        self.predictions = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)
        self.models = model_service_pb2_grpc.ModelServiceStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def model_calls(self) -> int:
        """The server's count of model calls so far (requests merged by batching count once)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.rest_port}/monitoring/prometheus/metrics") as r:
            found = re.search(r":mian:model_calls_total (\d+)", r.read().decode())
        if found is None:
            raise RuntimeError("the server's metrics have no mian:model_calls_total")
        return int(found.group(1))

    def stop(self) -> int:
        """SIGTERM, then the exit code."""
        self.channel.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)
