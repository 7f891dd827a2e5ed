"""MIAN, the Multi-Interactive Attention Network (section 3.2, Figure 2)."""

from __future__ import annotations

import tf_keras as keras

from mian_keras.feature_spec import FeatureSpec
from mian_keras.layers.candidate_products import CandidateProducts
from mian_keras.layers.field_interaction import ItemFieldsInteraction
from mian_keras.layers.gim import GlobalInteraction
from mian_keras.layers.ibim import ItemBehaviorsInteraction
from mian_keras.models.common import (
    EmbeddedInputs,
    concat,
    cross_layers,
    embed_inputs,
    logit_model,
    mlp,
)
from mian_keras.models.mian_hparams import MIANParams

# The representations GIM weighs, in the order of Eq. 14.
GIM_REPRESENTATIONS = ("e_i", "e_c", "e_b", "e_u", "R_ibim", "R_iuim", "R_icim")
# The layers whose second output is an attention distribution.
ATTENTION_MODULES = ("gim", "ibim", "iuim", "icim")


def build_mian(spec: FeatureSpec, hp: MIANParams) -> keras.Model:
    """MIAN: Embedding Layer -> Multi-Interactive Layer (IBIM, IUIM, ICIM, GIM) -> Prediction Layer.

    The ablations of Tables 3 and 4 are switches of `hp`: `use_ibim`, `use_iuim`, `use_icim` drop a local
    module (its R_* leaves GIM's input, the original e_* stays, as section 4.7.1 describes); `use_gim=False`
    concatenates the representations into the MLP instead of weighing them (and crossing them: the
    cross layers after GIM, `gim_cross_layers`, are its Deep&Cross part); `transformer` picks the
    Pre-LN block, the original Post-LN one, or none. `candidate_products` adds the candidate's inner
    products with the other fields to the logit (CandidateProducts; the paper has no such term). A
    group the spec has no fields for (say, no context columns) simply has no representation.

    The model's output is the click logit; `attention_model` exposes the attention weights.
    """
    x = embed_inputs(spec, hp)
    item = x.item
    representations = {"e_i": item}
    if spec.context_fields:
        representations["e_c"] = concat(x.context_fields, name="e_c")
    if spec.sequence_fields:
        # The mean of e_b over the clicked steps, field by field (equal to the mean of the concatenation).
        representations["e_b"] = concat(x.pooled_sequence_fields(), name="e_b")
    if spec.user_fields:
        representations["e_u"] = concat(x.user_fields, name="e_u")
    if spec.sequence_fields and hp.use_ibim:
        ibim = ItemBehaviorsInteraction(
            hp.num_heads,
            transformer=hp.transformer,
            ffn_multiplier=hp.ffn_multiplier,
            dropout=hp.transformer_dropout,
            score=hp.ibim_score,
            positions=hp.positions,
            max_steps=spec.sequence_length,
            name="ibim",
            **hp.kernel_args(),
        )
        representations["R_ibim"], _ = ibim([item, x.behaviors, x.valid])
    if spec.user_fields and hp.use_iuim:
        representations["R_iuim"], _ = ItemFieldsInteraction(
            hp.field_scores, name="iuim", **hp.kernel_args()
        )([item, *x.user_fields])
    if spec.context_fields and hp.use_icim:
        representations["R_icim"], _ = ItemFieldsInteraction(
            hp.field_scores, name="icim", **hp.kernel_args()
        )([item, *x.context_fields])

    logits = candidate_products(x) if hp.candidate_products else []
    return logit_model(x.inputs, hp, "mian", hidden=prediction_input(representations, hp), logits=logits)


def prediction_input(representations: dict, hp: MIANParams):
    """What the Prediction Layer's output reads.

    The representations weighed by GIM (Eqs. 14-15), crossed, through the MLP (Eq. 16); with
    `use_gim=False`, their concatenation through the MLP.
    """
    if not hp.use_gim:
        return mlp(hp)(concat(list(representations.values()), name="representations"))
    hidden, _ = GlobalInteraction(
        list(representations),
        hp.gim_width,
        pooling=hp.gim_pooling,
        rescale=hp.gim_rescale,
        name="gim",
        **hp.kernel_args(),
    )(list(representations.values()))
    crossed = cross_layers(hidden, hp.gim_cross_layers, hp.cross_projection_dim, hp, name="gim_cross")
    if hp.gim_cross_layers and hp.cross_parallel:
        # Deep&Cross's own structure: the cross network beside the MLP, both read by the output layer.
        return concat([crossed, mlp(hp)(hidden)], name="deep_and_cross")
    return mlp(hp)(crossed)


def candidate_products(x: EmbeddedInputs) -> list:
    """The candidate's inner products with the other fields, as a logit term (CandidateProducts).

    The candidate's categorical fields pair with the user's and the context's categorical fields and
    with the behavior fields (each the mean of its clicked steps). A candidate without categorical
    fields has no such term: an empty list.
    """
    spec = x.spec
    candidate = [x.fields[f.name] for f in spec.item_fields if f.is_categorical]
    if not candidate:
        return []
    others = [x.fields[f.name] for f in (*spec.user_fields, *spec.context_fields) if f.is_categorical]
    products = CandidateProducts(len(candidate), name="candidate_products")(
        candidate + others + x.pooled_sequence_fields(categorical_only=True)
    )
    return [products]


def attention_model(model: keras.Model) -> keras.Model:
    """A model sharing `model`'s weights that returns the probability and MIAN's attention weights.

    Outputs: `probability` [batch, 1]; `gim_weights` [batch, L], one weight per representation in
    the order of `gim_representation_names(model)` (Eq. 15, the paper's Figure 6); `ibim_weights`
    [batch, T], one weight per behavior step (Eq. 7); `iuim_weights` [batch, J] and `icim_weights`
    [batch, K], one per user or context field (Eqs. 10 and 13). A module that is ablated has none.
    """
    layers = {layer.name: layer for layer in model.layers}
    outputs = {"probability": keras.layers.Activation("sigmoid", name="probability")(model.output)}
    for module in ATTENTION_MODULES:
        if module in layers:
            # A named pass-through: a SavedModel signature names its outputs after their layers.
            name = f"{module}_weights"
            outputs[name] = keras.layers.Activation("linear", name=name)(layers[module].output[1])
    return keras.Model(inputs=model.input, outputs=outputs, name=f"{model.name}_attention")


def gim_representation_names(model: keras.Model) -> list[str]:
    """The names of the representations GIM weighs, in the order of its weights."""
    return list(model.get_layer("gim").names)
