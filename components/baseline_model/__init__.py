"""BaselineModel: the served model as the Evaluator's baseline, found when the step runs (no resolver)."""

from mian.components.baseline_model.component import BaselineModel
from mian.components.baseline_model.evaluator import Evaluator

__all__ = ["BaselineModel", "Evaluator"]
