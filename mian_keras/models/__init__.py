"""MIAN and the baselines of the paper's Table 2, built as Keras functional models on one FeatureSpec."""
