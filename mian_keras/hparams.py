"""Hyperparameters of MIAN and the baselines, with the defaults of section 4.3 of the paper."""

from __future__ import annotations

import dataclasses
import math

import tf_keras as keras

from mian_keras.layers.embedding import PER_LOOKUP, PER_ROW
from mian_keras.layers.field_interaction import SCALAR_SCORES, VECTOR_SCORES
from mian_keras.layers.gim import GIM_CONCAT, GIM_SUM
from mian_keras.layers.ibim import IBIM_ADDITIVE, IBIM_BILINEAR, NO_TRANSFORMER
from mian_keras.layers.transformer import POST_LN, PRE_LN
from mian_keras.lazy_adam import LazyAdam
from mian_keras.weight_averaging import AveragingAdam

# The layers name their own options; the hyperparameters choose among them.
TRANSFORMER_KINDS = (PRE_LN, POST_LN, NO_TRANSFORMER)
TRUNCATED_NORMAL = "truncated_normal"


@dataclasses.dataclass(frozen=True)
class HParams:
    """Every knob of the models, in one place.

    `HParams.paper()` is section 4.3 read literally: Adam(1e-3, 0.9, 0.999), truncated-normal 0.02 for
    every weight, 8 heads, an MLP of 32 and 8, dropout 0.2, L2 1e-3 on the embeddings. The defaults
    keep its optimizer, heads, dropout and embedding initialization and depart from it where the
    measurements of `bench/diagnose.py` (bench/results/diagnosis.md) showed a gain, each line below
    saying which equation or section it reads. They apply to every model alike (the baselines share
    the initialization, MLP, output bias and regularization through the common code). The switches
    after them are the ablations of Tables 3 and 4.
    """

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
    # Embeddings start at truncated normal 0.02 (section 4.3).
    init_stddev: float = 0.02
    # Dense and attention kernels: Glorot, not 0.02. At 0.02 every layer shrinks the signal ~10x, the
    # gradients reaching IUIM/ICIM are ~1e-9 (below Adam's epsilon) and MIAN sits on a plateau for
    # epochs; Glorot-scaled kernels start them at ~1e-5 and the other modules at 1e-2 (diagnosis).
    kernel_init: str = "glorot_uniform"
    num_heads: int = 8
    # Eq. 16's MLP: 256-128-64 (DeepCTR's default for its baselines) for every model, not section 4.3's
    # 32-8, which is narrow for the products of fields the data holds.
    mlp_units: tuple[int, ...] = (256, 128, 64)
    # Section 4.3's dropout, on the MLP (and the baselines' attention and cross layers).
    dropout: float = 0.2
    # Dropout inside IBIM's Transformer: off. Its random masks over [batch, heads, T, T] cost ~20% of
    # MIAN's training step on CPU (bench: 68 vs 87 ms per batch of 256), and the recipe without any
    # dropout reached the same best eval AUC (0.7273 against 0.7271, sequence-rich; diagnosis).
    transformer_dropout: float = 0.0
    # The paper's L2 of 1e-3 on every embedding lookup slowed learning and did not raise the best eval
    # AUC; off by default. When set, each distinct row a batch looks up is penalized once (DIN's
    # mini-batch aware regularization without its frequency weights), never the padding row.
    embedding_l2: float = 0.0
    embedding_l2_per: str = PER_ROW
    kernel_l2: float = 0.0
    # The click rate whose log-odds the output bias starts at (the Trainer sets it from the train
    # split); None starts it at 0.
    click_rate: float | None = None
    # GIM (Eqs. 14-15): r_g is a concatenation (Eq. 14), so each r_l is scaled by its weight and the
    # weighted r_l are concatenated, not summed into one 32-wide vector (see GlobalInteraction).
    gim_pooling: str = GIM_CONCAT
    # GIM's concatenation scales r_l by L alpha_l, so that uniform weights keep every r_l at its scale
    # rather than shrinking all of them L-fold (see GlobalInteraction): the MLP and the embeddings behind
    # GIM then learn at the speed they do without it (eval AUC after one epoch, profile-rich: 0.675 ->
    # 0.722 with the cross layers below; diagnosis).
    gim_rescale: bool = True
    # IBIM's score (Eq. 8) with a candidate-behavior term, so which clicks matter depends on the
    # candidate (see ItemBehaviorsInteraction).
    ibim_score: str = IBIM_BILINEAR
    # IUIM/ICIM (Eqs. 10, 13): W and b are "weight and bias matrices", a weight per dimension of each
    # field (see ItemFieldsInteraction).
    field_scores: str = VECTOR_SCORES
    # A learned recency embedding added to e_b before the Transformer (the paper is silent).
    positions: bool = True
    # Each batch's behavior sequences are cut after the last step any of its examples fills (see
    # TrimPadding): the same outputs, without the cost of steps that are padding in every example.
    trim_padding: bool = True
    # Hidden width of the Transformer's position-wise FFN (Eq. 5), as a multiple of its input width.
    ffn_multiplier: int = 4
    # GIM's common width with `gim_pooling="sum"` (Eq. 14).
    gim_width: int = 32
    # Cross layers (DCN-V2, tfrs.layers.dcn.Cross) on R_g before the MLP: GIM is to "inherit the idea"
    # of Deep&Cross and capture the interactions of low- and high-order features explicitly (section
    # 3.2.2), which Eq. 15's weighting alone does not; the products of item and user or context fields
    # the data holds then need not be learned by the MLP (best eval AUC, one seed: profile-rich 0.739 ->
    # 0.758, sequence-rich 0.727 -> 0.741 with the rescaled GIM; diagnosis).
    gim_cross_layers: int = 2
    # The cross network beside the MLP (Deep&Cross's own structure) rather than before it: measured
    # worse (0.736 against 0.757, profile-rich).
    cross_parallel: bool = False
    # The rank of each cross layer's kernel (None: full rank): rank 32 overfits less (0.758 against
    # 0.751, profile-rich) at a fraction of the cost.
    cross_projection_dim: int | None = 32

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
    # DIN's local activation unit: "sigmoid" hidden layers, or DIN's own "dice" (Zhou et al. 2018,
    # section 4.3). Dice measured better under the new user's protocol (test AUC MovieLens 0.6896
    # against 0.6840, profile-rich 0.7561 against 0.7503, sequence-rich 0.7298 against 0.7253; diagnosis
    # section 13), but with the weights' average a short first epoch (128 steps) validates at 0.571
    # against 0.613 with the sigmoid. Recomputing Dice's statistics for the averaged weights did not
    # change that (0.570 -> 0.572; section 14), so its cause is not found and "dice" is not the default.
    attention_activation: str = "sigmoid"

    def __post_init__(self):
        if self.transformer not in TRANSFORMER_KINDS:
            raise ValueError(f"transformer must be one of {TRANSFORMER_KINDS}, got {self.transformer!r}")
        for name in ("dropout", "transformer_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if self.embedding_learning_rate_scale != 1.0 and not self.lazy_embedding_rows:
            raise ValueError("embedding_learning_rate_scale applies to lazy rows: set lazy_embedding_rows")
        object.__setattr__(self, "mlp_units", tuple(self.mlp_units))
        object.__setattr__(self, "cin_layer_sizes", tuple(self.cin_layer_sizes))
        object.__setattr__(self, "attention_units", tuple(self.attention_units))

    @classmethod
    def paper(cls, **changes) -> HParams:
        """Section 4.3's settings, read literally.

        Truncated-normal 0.02 for every weight, an MLP of 32 and 8, dropout 0.2, L2 1e-3 on every
        embedding lookup, GIM summing projected representations, IBIM scoring each step additively, no
        positions, no cross layers, the output bias at 0, Adam's last iterate (no weight averaging).
        """
        # Where the L2 of 1e-3 applies is not said: here on every embedding lookup, as DIN and DeepCTR
        # regularize CTR models; kernels get none (an L2 of 1e-3 on every kernel at the 0.02
        # initialization decays MIAN into a constant predictor: held-out AUC 0.5000 after 6 epochs).
        paper = dict(
            kernel_init=TRUNCATED_NORMAL,
            weight_averaging=None,
            mlp_units=(32, 8),
            dropout=0.2,
            transformer_dropout=0.2,
            embedding_l2=1e-3,
            embedding_l2_per=PER_LOOKUP,
            click_rate=None,
            gim_pooling=GIM_SUM,
            gim_rescale=False,
            gim_cross_layers=0,
            ibim_score=IBIM_ADDITIVE,
            field_scores=SCALAR_SCORES,
            positions=False,
        )
        return cls(**{**paper, **changes})

    def replace(self, **changes) -> HParams:
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
