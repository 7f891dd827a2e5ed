"""AnomaliesGate: stops the pipeline when ExampleValidator found anomalies."""

from mian.components.anomalies_gate.component import AnomaliesFound, AnomaliesGate, describe_anomalies

__all__ = ["AnomaliesFound", "AnomaliesGate", "describe_anomalies"]
