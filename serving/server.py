"""`mian serve`: the gRPC server (and a small REST endpoint) around one model's versions.

Binds to 127.0.0.1 unless told otherwise; gRPC health checking for probes (serving.health); optional
TLS; a maximum message size; a bounded worker pool, with RESOURCE_EXHAUSTED for requests beyond
`max_concurrent_rpcs`; optionally a sample of the scored requests logged (serving.request_log); on
SIGTERM or SIGINT it reports NOT_SERVING, stops taking requests, lets the in-flight ones finish (up to
`grace_seconds`) and exits 0.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import signal
import sys
import threading

import grpc
from grpc_health.v1 import health_pb2_grpc
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

from mian.serving.health import ModelHealth
from mian.serving.inference import Inference
from mian.serving.model_versions import ModelVersions
from mian.serving.request_log import RequestLog
from mian.serving.rest import RestServer
from mian.serving.servicers import ModelService, PredictionService

log = logging.getLogger("mian.serving")


@dataclasses.dataclass(frozen=True)
class ServerOptions:
    model_base: str
    model_name: str = "mian"
    host: str = "127.0.0.1"
    port: int = 8500  # 0: any free port (printed when ready)
    rest_port: int | None = None
    batching: bool = True
    max_batch_size: int = 128
    batch_timeout_ms: float = 2.0
    batch_threads: int = 2
    workers: int = 16
    max_concurrent_rpcs: int = 256
    max_message_bytes: int = 64 * 1024 * 1024
    tls_cert: str | None = None
    tls_key: str | None = None
    poll_seconds: float = 2.0
    accept_signature_change: bool = False
    grace_seconds: float = 30.0
    # A sample of the scored requests as PredictionLog TFRecords (serving.request_log), for `mian skew`.
    log_requests: str | None = None
    log_sample: float = 0.01


class ModelServer:
    def __init__(self, options: ServerOptions):
        self.options = options
        self.versions = ModelVersions(
            options.model_base,
            options.model_name,
            options.poll_seconds,
            accept_signature_change=options.accept_signature_change,
        )
        batching = (
            dict(max_batch_size=options.max_batch_size, timeout_ms=options.batch_timeout_ms,
                 threads=options.batch_threads)
            if options.batching
            else None
        )  # fmt: skip
        self.inference = Inference(self.versions, batching)
        message_size = options.max_message_bytes
        self.grpc = grpc.server(
            concurrent.futures.ThreadPoolExecutor(max_workers=options.workers),
            maximum_concurrent_rpcs=options.max_concurrent_rpcs,
            options=[
                ("grpc.max_receive_message_length", message_size),
                ("grpc.max_send_message_length", message_size),
            ],
        )
        self.request_log = (
            RequestLog(options.log_requests, options.log_sample) if options.log_requests else None
        )
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            PredictionService(self.inference, self.request_log), self.grpc
        )
        model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(self.inference), self.grpc)
        self.health = ModelHealth(self.versions)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc)
        self.rest: RestServer | None = None
        self.port: int | None = None

    def start(self) -> None:
        self.versions.start()
        address = f"{self.options.host}:{self.options.port}"
        if self.options.tls_cert and self.options.tls_key:  # both or neither: the command line checks
            with open(self.options.tls_cert, "rb") as cert, open(self.options.tls_key, "rb") as key:
                credentials = grpc.ssl_server_credentials([(key.read(), cert.read())])
            self.port = self.grpc.add_secure_port(address, credentials)
        else:
            self.port = self.grpc.add_insecure_port(address)
        self.grpc.start()
        if self.options.rest_port is not None:
            rest = RestServer(self.options.host, self.options.rest_port, self.inference)
            rest.start()
            self.rest = rest

    def stop(self) -> None:
        """Stop taking requests and wait for the in-flight ones."""
        self.health.enter_graceful_shutdown()
        if self.rest:
            self.rest.stop()
        self.grpc.stop(self.options.grace_seconds).wait()
        self.versions.stop()
        if self.inference.batcher:
            self.inference.batcher.close()
        if self.request_log:
            self.request_log.close()


def serve(options: ServerOptions, out=None) -> int:
    """Serve until SIGTERM or SIGINT; the address line and the final counts go to `out` (stdout)."""
    out = out or sys.stdout
    server = ModelServer(options)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    rest = f", REST on {options.host}:{server.rest.port}" if server.rest else ""
    print(
        f"serving model {options.model_name!r} versions {server.versions.loaded()} from "
        f"{options.model_base} on {options.host}:{server.port}{rest}",
        file=out,
        flush=True,
    )
    stop.wait()
    in_flight = server.inference.in_flight
    log.info("stopping: draining %d in-flight requests", in_flight)
    server.stop()
    inference = server.inference
    print(
        f"stopped: {in_flight} requests in flight at the signal; handlers started {inference.started}, "
        f"finished {inference.finished}",
        file=out,
        flush=True,
    )
    return 0
