"""The Pusher's executor for TF Serving directories that does not push a model that is already there."""

from mian.components.serving_pusher.executor import Executor, tree_digest

__all__ = ["Executor", "tree_digest"]
