"""Drift between spans (mian.stages.drift): which features are compared, and what is found."""

import numpy as np
import pandas as pd
import tensorflow_data_validation as tfdv

from mian.stages.drift import add_drift_comparators, drift, with_thresholds

DEVICES = np.array(["android", "ios", "web"])


def day(seed: int, start: int, device=None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 2000
    return pd.DataFrame(
        {
            "device": [device] * n if device else DEVICES[rng.integers(0, 3, n)],
            "price": rng.gamma(2.0, 10.0, n),
            "clicked": rng.binomial(1, 0.1, n),
            "hist_len": rng.integers(0, 31, n) if start else np.zeros(n, dtype=int),
            "timestamp": start + rng.integers(0, 86_400, n),
        }
    )


def statistics(frame: pd.DataFrame):
    return tfdv.generate_statistics_from_dataframe(frame)


def test_only_the_shifted_feature_drifts_and_the_config_can_raise_its_threshold():
    monday, tuesday = statistics(day(0, 0)), statistics(day(1, 86_400))
    schema = tfdv.infer_schema(monday)
    add_drift_comparators(schema)
    features = {f.name: f for f in schema.feature}
    assert features["device"].drift_comparator.infinity_norm.threshold == 0.2
    assert features["price"].drift_comparator.jensen_shannon_divergence.threshold == 0.2
    # A new day's timestamps and a young log's growing histories are not drift.
    assert not features["timestamp"].HasField("drift_comparator")
    assert not features["hist_len"].HasField("drift_comparator")
    assert drift(tuesday, monday, schema) == []

    shifted = statistics(day(1, 86_400, device="web"))
    (found,) = drift(shifted, monday, schema)
    assert (found.feature, found.measure, found.threshold) == ("device", "L-infinity distance", 0.2)
    assert 0.6 < found.distance <= 0.7  # web's share went from about a third to all
    assert "feature 'device': L-infinity distance 0.6" in found.line() and "> threshold 0.2" in found.line()
    assert drift(shifted, monday, with_thresholds(schema, infinity_norm=0.9, jensen_shannon=None)) == []
