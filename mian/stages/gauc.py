"""GAUC, the group AUC of CTR evaluation, as a TFMA metric.

GAUC (Zhou et al., DIN, KDD 2018, eq. 5) is the mean of each user's AUC over that user's impressions,
weighted by the user's impression count; users whose impressions are all clicks or all non-clicks have
no AUC and are left out. A ranking serves one user at a time, so the part of AUC that compares one
user's impressions with another's (who clicks more) does not matter to it: GAUC leaves that part out.

In a slice, GAUC groups the slice's impressions by user, so a per-slice value is computed on the
slice's own examples (a user's impressions of one hour, say), not on the users' whole histories.
"""

from __future__ import annotations

from collections.abc import Iterable

import apache_beam as beam
import numpy as np
from scipy import stats
from tensorflow_model_analysis.metrics import metric_types, metric_util

from mian.names import GAUC as GAUC_NAME
from mian.names import USER_ID_FEATURE


def group_auc(users: np.ndarray, labels: np.ndarray, predictions: np.ndarray) -> tuple[float, int]:
    """(GAUC, users counted) of the impressions' users, 0/1 labels and predicted probabilities; NaN
    when no user has both a click and a non-click."""
    order = np.argsort(users, kind="stable")
    users, labels, predictions = users[order], labels[order], predictions[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    total = weights = 0.0
    counted = 0
    for group in np.split(np.arange(len(users)), starts[1:]):
        clicks = labels[group].sum()
        if clicks == 0 or clicks == len(group):
            continue
        total += len(group) * _auc(labels[group], predictions[group])
        weights += len(group)
        counted += 1
    return (total / weights if weights else float("nan")), counted


def _auc(labels: np.ndarray, predictions: np.ndarray) -> float:
    """The Mann-Whitney AUC: the share of (click, non-click) pairs ranked right, ties counting half."""
    ranks = stats.rankdata(predictions)
    positives = labels.sum()
    negatives = len(labels) - positives
    return (ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives)


class GAUC(metric_types.Metric):
    """GAUC over the examples' `user_key` feature (the module's docstring). For an EvalConfig:
    `MetricConfig(class_name="GAUC", module="mian.stages.gauc")`."""

    def __init__(self, name: str = GAUC_NAME, user_key: str = USER_ID_FEATURE):
        super().__init__(_gauc_computations, name=name, user_key=user_key)


def _gauc_computations(
    name: str = GAUC_NAME,
    user_key: str = USER_ID_FEATURE,
    eval_config=None,
    model_names: list[str] | None = None,
    output_names: list[str] | None = None,
    example_weighted: bool = False,
) -> metric_types.MetricComputations:
    computations = []
    for model_name in model_names or [""]:
        for output_name in output_names or [""]:
            key = metric_types.MetricKey(
                name=name, model_name=model_name, output_name=output_name, example_weighted=example_weighted
            )
            computations.append(
                metric_types.MetricComputation(
                    keys=[key],
                    preprocessors=[metric_types.FeaturePreprocessor(feature_keys=[user_key])],
                    combiner=_GroupAucCombiner(key, eval_config, user_key),
                )
            )
    return computations


class _GroupAucCombiner(beam.CombineFn):
    """Keeps every impression's (user, label, prediction) of the slice; GAUC at the end."""

    def __init__(self, key: metric_types.MetricKey, eval_config, user_key: str):
        self._key, self._eval_config, self._user_key = key, eval_config, user_key

    def create_accumulator(self) -> list:
        return []

    def add_input(self, accumulator: list, element: metric_types.StandardMetricInputs) -> list:
        label, prediction, _ = next(
            metric_util.to_label_prediction_example_weight(
                element,
                eval_config=self._eval_config,
                model_name=self._key.model_name,
                output_name=self._key.output_name,
            )
        )
        user = metric_util.to_scalar(element.features[self._user_key], tensor_name=self._user_key)
        accumulator.append((user, float(label[0]), float(prediction[0])))
        return accumulator

    def merge_accumulators(self, accumulators: Iterable[list]) -> list:
        merged: list = []
        for accumulator in accumulators:
            merged.extend(accumulator)
        return merged

    def extract_output(self, accumulator: list) -> dict:
        if not accumulator:
            return {self._key: float("nan")}
        users, labels, predictions = zip(*accumulator, strict=True)
        value, _ = group_auc(np.array(users, dtype=object), np.array(labels), np.array(predictions))
        return {self._key: value}
