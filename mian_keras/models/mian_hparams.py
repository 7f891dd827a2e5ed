"""MIAN's own hyperparameters (section 4.3, and the ablations of Tables 3 and 4)."""

from __future__ import annotations

import dataclasses

from mian_keras.hparams import HParams
from mian_keras.layers.field_interaction import SCALAR_SCORES, VECTOR_SCORES
from mian_keras.layers.gim import GIM_CONCAT, GIM_SUM
from mian_keras.layers.ibim import IBIM_ADDITIVE, IBIM_BILINEAR, NO_TRANSFORMER
from mian_keras.layers.transformer import POST_LN, PRE_LN

# The layers name their own options; the hyperparameters choose among them.
TRANSFORMER_KINDS = (PRE_LN, POST_LN, NO_TRANSFORMER)


@dataclasses.dataclass(frozen=True)
class MIANParams(HParams):
    """MIAN's settings beside the shared ones.

    `MIANParams.paper()` reads section 4.3 literally: GIM summing projected representations, IBIM
    scoring each step additively, no positions, no cross layers, dropout in the Transformer. The
    switches at the end are the ablations of Tables 3 and 4.
    """

    PAPER = dict(
        transformer_dropout=0.2,
        gim_pooling=GIM_SUM,
        gim_rescale=False,
        gim_cross_layers=0,
        ibim_score=IBIM_ADDITIVE,
        field_scores=SCALAR_SCORES,
        positions=False,
        candidate_products=False,
    )

    num_heads: int = 8
    # Dropout inside IBIM's Transformer: off. Its random masks over [batch, heads, T, T] cost ~20% of
    # MIAN's training step on CPU (bench: 68 vs 87 ms per batch of 256), and the recipe without any
    # dropout reached the same best eval AUC (0.7273 against 0.7271, sequence-rich; diagnosis).
    transformer_dropout: float = 0.0
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
    # The candidate's inner products with the user, context and behavior fields as a logit term (see
    # CandidateProducts; the paper has none): the products of item and profile or context that IUIM and
    # ICIM are for, given to the logit as DeepFM's FM gives every pair. Test AUC, 3 seeds, without ->
    # with the term: MovieLens with the user id 0.7201 -> 0.7255, frequent-users 0.7724 -> 0.7755,
    # profile-rich 0.7791 -> 0.7792 (bench/results/user-id.md).
    candidate_products: bool = True

    # Ablations (Tables 3 and 4).
    transformer: str = PRE_LN
    use_ibim: bool = True
    use_iuim: bool = True
    use_icim: bool = True
    use_gim: bool = True

    def __post_init__(self):
        super().__post_init__()
        if self.transformer not in TRANSFORMER_KINDS:
            raise ValueError(f"transformer must be one of {TRANSFORMER_KINDS}, got {self.transformer!r}")
        if not 0.0 <= self.transformer_dropout < 1.0:
            raise ValueError(f"transformer_dropout must be in [0, 1), got {self.transformer_dropout}")


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
