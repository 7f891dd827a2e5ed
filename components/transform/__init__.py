"""TFX's Transform, with progress lines: what it analyzes and transforms, and how many examples."""

from mian.components.transform.component import Transform

__all__ = ["Transform"]
