"""The TrainingWindow component (daily partitions): the rolling window of spans as one Examples artifact."""

from __future__ import annotations

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from mian.components.training_window.executor import Executor


class TrainingWindowSpec(types.ComponentSpec):
    PARAMETERS = {
        "train_spans": ExecutionParameter(type=int),
        "eval_spans": ExecutionParameter(type=int),
        # Where the pipeline pushes its models ("": no warm start): the newest decides the fresh spans.
        "push_dir": ExecutionParameter(type=str, optional=True),
    }
    INPUTS = {"span_examples": ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS = {"examples": ChannelParameter(type=standard_artifacts.Examples)}


class TrainingWindow(base_component.BaseComponent):
    """The newest span (`span_examples`, ClickLogExampleGen's output) tests; the `eval_spans` before it
    evaluate, the `train_spans` before those train (mian.data.ingest.window). Output: `examples`, with
    train, eval and test splits, a `fresh-YYYY-MM-DD` split for each train span the newest model under
    `push_dir` has not trained on, and the window's spans in WINDOW_FILE."""

    SPEC_CLASS = TrainingWindowSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(
        self, span_examples: types.BaseChannel, train_spans: int, eval_spans: int = 1, push_dir: str = ""
    ):
        super().__init__(
            spec=TrainingWindowSpec(
                span_examples=span_examples,
                train_spans=train_spans,
                eval_spans=eval_spans,
                push_dir=push_dir,
                examples=types.Channel(type=standard_artifacts.Examples),
            )
        )
