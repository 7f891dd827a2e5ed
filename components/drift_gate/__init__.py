"""DriftGate: stops the pipeline when the new span's distribution moved from the previous span's."""

from mian.components.drift_gate.component import DRIFT_FILE, DriftFound, DriftGate

__all__ = ["DRIFT_FILE", "DriftFound", "DriftGate"]
