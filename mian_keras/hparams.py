"""Hyperparameters of MIAN and the baselines, with the defaults of section 4.3 of the paper."""

from __future__ import annotations

import dataclasses
import math

import tf_keras as keras

PRE_LN = "pre_ln"
POST_LN = "post_ln"
NO_TRANSFORMER = "none"
TRANSFORMER_KINDS = (PRE_LN, POST_LN, NO_TRANSFORMER)
TRUNCATED_NORMAL = "truncated_normal"
PER_LOOKUP = "lookup"
PER_ROW = "row"
GIM_SUM = "sum"
GIM_CONCAT = "concat"
IBIM_ADDITIVE = "additive"
IBIM_BILINEAR = "bilinear"
SCALAR_SCORES = "scalar"
VECTOR_SCORES = "vector"


@dataclasses.dataclass(frozen=True)
class HParams:
    """Every knob of the models, in one place.

    The defaults are the paper's (section 4.3): Adam(1e-3, 0.9, 0.999), truncated-normal initialization
    with stddev 0.02, 8 attention heads, an MLP of 32 and 8 units, batch 128, dropout 0.2, L2 1e-3.
    The switches below the paper's settings are the ablations of Tables 3 and 4.

    Where the L2 of 1e-3 applies is not said in the paper. Here it penalizes the embeddings each example
    looks up (`embedding_l2`), as DIN and DeepCTR regularize CTR models, and the dense kernels get none
    by default (`kernel_l2`): an L2 of 1e-3 on every kernel outweighs the data's gradients at the
    paper's 0.02 initialization, and MIAN then decays into a constant predictor (measured with
    `mian models --models mian --steps 200 --epochs 6 --hparams '{"kernel_l2": 1e-3, "embedding_l2": 0}'`:
    held-out AUC 0.5000 after every epoch, against 0.65 after 6 epochs without any L2).
    """

    learning_rate: float = 1e-3
    beta_1: float = 0.9
    beta_2: float = 0.999
    adam_epsilon: float = 1e-7
    init_stddev: float = 0.02
    kernel_init: str = TRUNCATED_NORMAL
    num_heads: int = 8
    mlp_units: tuple[int, ...] = (32, 8)
    batch_size: int = 128
    dropout: float = 0.2
    embedding_l2: float = 1e-3
    embedding_l2_per: str = PER_LOOKUP
    kernel_l2: float = 0.0
    click_rate: float | None = None
    gim_pooling: str = GIM_SUM
    ibim_score: str = IBIM_ADDITIVE
    field_scores: str = SCALAR_SCORES
    positions: bool = False
    # Hidden width of the Transformer's position-wise FFN (Eq. 5), as a multiple of its input width.
    ffn_multiplier: int = 4
    # The common width that GIM brings its seven representations to (Eq. 14).
    gim_width: int = 32

    # Ablations (Tables 3 and 4).
    transformer: str = PRE_LN
    use_ibim: bool = True
    use_iuim: bool = True
    use_icim: bool = True
    use_gim: bool = True

    # Baselines (Table 2).
    cross_layers: int = 3
    cin_layer_sizes: tuple[int, ...] = (16, 16)
    attention_units: tuple[int, ...] = (36,)

    def __post_init__(self):
        if self.transformer not in TRANSFORMER_KINDS:
            raise ValueError(f"transformer must be one of {TRANSFORMER_KINDS}, got {self.transformer!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        object.__setattr__(self, "mlp_units", tuple(self.mlp_units))
        object.__setattr__(self, "cin_layer_sizes", tuple(self.cin_layer_sizes))
        object.__setattr__(self, "attention_units", tuple(self.attention_units))

    @classmethod
    def paper(cls, **changes) -> HParams:
        """Section 4.3's settings, read literally: truncated-normal 0.02 for every weight, an MLP of 32
        and 8, dropout 0.2, L2 1e-3 on every embedding lookup, GIM summing projected representations,
        IBIM scoring each step additively, no positions, the output bias at 0."""
        paper = dict(
            kernel_init=TRUNCATED_NORMAL,
            mlp_units=(32, 8),
            dropout=0.2,
            embedding_l2=1e-3,
            embedding_l2_per=PER_LOOKUP,
            click_rate=None,
            gim_pooling=GIM_SUM,
            ibim_score=IBIM_ADDITIVE,
            field_scores=SCALAR_SCORES,
            positions=False,
        )
        return cls(**{**paper, **changes})

    def replace(self, **changes) -> HParams:
        return dataclasses.replace(self, **changes)

    def initializer(self) -> dict:
        """The embeddings' truncated-normal initializer as a config: every layer makes its own instance
        from it, since one unseeded instance gives every layer it initializes the same values."""
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
        return keras.optimizers.Adam(
            learning_rate=self.learning_rate,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.adam_epsilon,
        )


# The paper's ablations, by the names its Tables 3 and 4 give them.
ABLATIONS = {
    "w/o IUIM": {"use_iuim": False},
    "w/o ICIM": {"use_icim": False},
    "w/o IBIM": {"use_ibim": False},
    "w/o GIM": {"use_gim": False},
    "w/o IUIM&ICIM": {"use_iuim": False, "use_icim": False},
    "w/ Post-LN Transformer": {"transformer": POST_LN},
    "w/o Transformer": {"transformer": NO_TRANSFORMER},
}
