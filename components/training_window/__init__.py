"""TrainingWindow: the newest span's Examples in, the rolling window's train, eval and test splits out."""

from mian.components.training_window.component import TrainingWindow

__all__ = ["TrainingWindow"]
