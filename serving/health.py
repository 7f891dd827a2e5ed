"""gRPC health checking (`grpc.health.v1.Health`) for `mian serve`, the protocol Kubernetes' grpc probes use.

The server as a whole ("") and each of its services report SERVING while at least one version of the
model is loaded, NOT_SERVING before that (a model directory still empty) and from the moment the server
starts draining on SIGTERM, so that a load balancer stops sending it requests.
"""

from __future__ import annotations

from grpc_health.v1 import health, health_pb2

from mian.serving.model_versions import ModelVersions

SERVICES = ("", "tensorflow.serving.PredictionService", "tensorflow.serving.ModelService")


class ModelHealth(health.HealthServicer):
    """The health of every service in SERVICES, read from the loaded versions at each check."""

    def __init__(self, versions: ModelVersions):
        super().__init__()
        self._versions = versions
        self._refresh()

    def _refresh(self) -> None:
        # After enter_graceful_shutdown() the parent ignores set(): draining stays NOT_SERVING.
        response = health_pb2.HealthCheckResponse
        status = response.SERVING if self._versions.loaded() else response.NOT_SERVING
        for service in SERVICES:
            self.set(service, status)

    def Check(self, request, context):
        self._refresh()
        return super().Check(request, context)
