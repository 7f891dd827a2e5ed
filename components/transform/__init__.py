"""TFX's Transform: the splits the Trainer reads, with progress lines saying what it analyzes and
transforms."""

from mian.components.transform.component import Transform

__all__ = ["Transform"]
