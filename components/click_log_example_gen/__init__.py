"""ClickLogExampleGen: raw click logs in, time-split tf.Examples with behavior histories out."""

from mian.components.click_log_example_gen.component import ClickLogExampleGen, RejectedRows

__all__ = ["ClickLogExampleGen", "RejectedRows"]
