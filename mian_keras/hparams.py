"""The hyperparameters every model shares, with the defaults of section 4.3 of the paper.

Each model's own settings are a subclass of HParams beside its builder (MIANParams for MIAN, DINParams
for DIN and DIEN, ...; mian_keras.models.registry names each model's class), so that adding a model
adds no field to a class the others carry.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import tf_keras as keras

from mian_keras.layers.embedding import PER_LOOKUP, PER_ROW
from mian_keras.lazy_adam import LazyAdam
from mian_keras.weight_averaging import AveragingAdam

TRUNCATED_NORMAL = "truncated_normal"


@dataclasses.dataclass(frozen=True)
class HParams:
    """The settings every model shares, through the common code.

    The optimizer, the initialization, the MLP, the output bias and the regularization.

    `paper()` is section 4.3 read literally: Adam(1e-3, 0.9, 0.999), truncated-normal 0.02 for every
    weight, an MLP of 32 and 8, dropout 0.2, L2 1e-3 on the embeddings (and a model's own settings as
    its class's PAPER says). The defaults keep its optimizer, dropout and embedding initialization and
    depart from it where the measurements of `bench/diagnose.py` (bench/results/diagnosis.md) showed a
    gain, each line below saying which equation or section it reads.
    """

    # Section 4.3's values of a subclass's own fields, which `paper()` sets besides the shared ones.
    PAPER: ClassVar[dict] = {}

    learning_rate: float = 1e-3
    beta_1: float = 0.9
    beta_2: float = 0.999
    adam_epsilon: float = 1e-7
    # Each epoch ends on the moving average of its weights, at this momentum (None: Adam's last iterate,
    # section 4.3). Section 4.3's Adam is kept; the average only decides which weights an epoch hands
    # on (see mian_keras.weight_averaging; MovieLens, 5 seeds: diagnosis section 12).
    weight_averaging: float | None = 0.99
    # Adam moves an embedding row only at the steps whose batch looks it up (mian_keras.lazy_adam):
    # Keras' Adam keeps moving a row seen once for the steps that follow, ~30 learning rates in all.
    lazy_embedding_rows: bool = False
    # With lazy_embedding_rows: the embedding rows' learning rate, as a share of `learning_rate`.
    embedding_learning_rate_scale: float = 1.0
    # Frequency admission (mian_keras.layers.admitted_embedding): an id reads a row of its own once
    # the first epoch has looked it up this many times, and until then one of `id_admission_buckets`
    # rows it shares with the other rare ids (0: every id has its own row from the start, section 4.3).
    # Best eval AUC with a user id of ~22 train examples a user that carries no signal (MIAN, one seed,
    # bench/results/user-id.md): 0.7365 at 0, 0.7422 at 20, 0.7682 at 50, 0.7717 at 100, 0.7711
    # without the id; on MovieLens, where the id carries signal, 0.7055, 0.6999, 0.7053 and 0.7052.
    id_admission_count: int = 100
    id_admission_buckets: int = 10
    # Embeddings start at truncated normal 0.02 (section 4.3).
    init_stddev: float = 0.02
    # Dense and attention kernels: Glorot, not 0.02. At 0.02 every layer shrinks the signal ~10x, the
    # gradients reaching IUIM/ICIM are ~1e-9 (below Adam's epsilon) and MIAN sits on a plateau for
    # epochs; Glorot-scaled kernels start them at ~1e-5 and the other modules at 1e-2 (diagnosis).
    kernel_init: str = "glorot_uniform"
    # Eq. 16's MLP: 256-128-64 (DeepCTR's default for its baselines) for every model, not section 4.3's
    # 32-8, which is narrow for the products of fields the data holds.
    mlp_units: tuple[int, ...] = (256, 128, 64)
    # Section 4.3's dropout, on the MLP (and the baselines' attention and cross layers).
    dropout: float = 0.2
    # The paper's L2 of 1e-3 on every embedding lookup slowed learning and did not raise the best eval
    # AUC; off by default. When set, each distinct row a batch looks up is penalized once (DIN's
    # mini-batch aware regularization without its frequency weights), never the padding row.
    embedding_l2: float = 0.0
    embedding_l2_per: str = PER_ROW
    kernel_l2: float = 0.0
    # The click rate whose log-odds the output bias starts at (the Trainer sets it from the train
    # split); None starts it at 0.
    click_rate: float | None = None
    # Each batch's behavior sequences are cut after the last step any of its examples fills (see
    # TrimPadding): the same outputs, without the cost of steps that are padding in every example.
    trim_padding: bool = True

    def __post_init__(self):
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.id_admission_count < 0 or self.id_admission_buckets < 1:
            raise ValueError("id_admission_count must be >= 0 and id_admission_buckets >= 1")
        if self.embedding_learning_rate_scale != 1.0 and not self.lazy_embedding_rows:
            raise ValueError("embedding_learning_rate_scale applies to lazy rows: set lazy_embedding_rows")
        object.__setattr__(self, "mlp_units", tuple(self.mlp_units))

    @classmethod
    def paper(cls, **changes):
        """Section 4.3's settings, read literally.

        Truncated-normal 0.02 for every weight, an MLP of 32 and 8, dropout 0.2, L2 1e-3 on every
        embedding lookup, the output bias at 0, Adam's last iterate (no weight averaging); a model's
        own settings as its class's PAPER says.
        """
        # Where the L2 of 1e-3 applies is not said: here on every embedding lookup, as DIN and DeepCTR
        # regularize CTR models; kernels get none (an L2 of 1e-3 on every kernel at the 0.02
        # initialization decays MIAN into a constant predictor: held-out AUC 0.5000 after 6 epochs).
        shared = dict(
            kernel_init=TRUNCATED_NORMAL,
            weight_averaging=None,
            mlp_units=(32, 8),
            dropout=0.2,
            embedding_l2=1e-3,
            embedding_l2_per=PER_LOOKUP,
            id_admission_count=0,
            click_rate=None,
        )
        return cls(**{**shared, **cls.PAPER, **changes})

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def initializer(self) -> dict:
        """The embeddings' truncated-normal initializer, as a config.

        Every layer makes its own instance from it, since one unseeded instance gives every layer it
        initializes the same values.
        """
        return keras.initializers.serialize(keras.initializers.TruncatedNormal(stddev=self.init_stddev))

    def kernel_initializer(self) -> dict:
        """The dense and attention kernels' initializer, as a config."""
        if self.kernel_init == TRUNCATED_NORMAL:
            return self.initializer()
        return keras.initializers.serialize(keras.initializers.get(self.kernel_init))

    def output_bias(self) -> float:
        """The logit's bias at initialization: the log-odds of `click_rate`, or 0."""
        if self.click_rate is None:
            return 0.0
        rate = min(max(self.click_rate, 1e-4), 1 - 1e-4)
        return math.log(rate / (1 - rate))

    def regularizer(self):
        """The L2 of dense and attention kernels, or None."""
        return keras.regularizers.L2(self.kernel_l2) if self.kernel_l2 else None

    def kernel_args(self) -> dict:
        """The initializer and regularizer arguments of every layer with kernels."""
        return dict(kernel_initializer=self.kernel_initializer(), kernel_regularizer=self.regularizer())

    def optimizer(self) -> keras.optimizers.Optimizer:
        """Section 4.3's Adam, averaging (`weight_averaging`) and lazy (`lazy_embedding_rows`) or not."""
        adam = dict(
            learning_rate=self.learning_rate,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.adam_epsilon,
        )
        scale = self.embedding_learning_rate_scale
        if self.weight_averaging is not None:
            return AveragingAdam(
                momentum=self.weight_averaging,
                lazy_rows=self.lazy_embedding_rows,
                row_learning_rate_scale=scale,
                **adam,
            )
        if self.lazy_embedding_rows:
            return LazyAdam(lazy_rows=True, row_learning_rate_scale=scale, **adam)
        return keras.optimizers.Adam(**adam)
