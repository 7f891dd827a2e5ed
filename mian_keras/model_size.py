"""Parameter counts of a model, with the embedding tables apart.

The paper's section 4.5 compares models by their parameters outside the embedding layer.
"""

from __future__ import annotations

import numpy as np
import tf_keras as keras


def parameter_counts(model: keras.Model) -> dict[str, int]:
    """{"embedding": parameters in embedding tables, "other": every other trainable parameter}."""
    counts = {"embedding": 0, "other": 0}
    for variable in model.trainable_variables:
        kind = "embedding" if "/table_" in variable.name else "other"
        counts[kind] += int(np.prod(variable.shape))
    return counts
