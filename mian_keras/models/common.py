"""What every model shares: inputs, the embedding layer, the feature groups and the logit."""

from __future__ import annotations

import dataclasses

import tensorflow as tf
import tensorflow_recommenders as tfrs
import tf_keras as keras

from mian_keras.feature_spec import FeatureSpec
from mian_keras.hparams import HParams
from mian_keras.layers.embedding import FeatureEmbedding, behavior_mask
from mian_keras.layers.mlp import MLP
from mian_keras.layers.pooling import MaskedMeanPooling
from mian_keras.layers.trim_padding import TrimPadding
from mian_keras.models.click_model import ClickModel


def concat(tensors, name: str | None = None):
    """Concatenate on the last axis; a single tensor is returned as is."""
    tensors = list(tensors)
    if len(tensors) == 1:
        return tensors[0]
    return keras.layers.Concatenate(axis=-1, name=name)(tensors)


@dataclasses.dataclass
class EmbeddedInputs:
    """The Keras inputs of a spec and the four groups of section 3.2.1 after the Embedding Layer."""

    spec: FeatureSpec
    inputs: dict
    fields: dict
    valid: tf.Tensor | None
    # Each behavior field as the mean of its valid steps ([batch, width]): history as a bag.
    pooled_sequences: dict

    @property
    def item(self):
        """e_i: the candidate item fields, concatenated ([batch, D_i])."""
        return concat([self.fields[f.name] for f in self.spec.item_fields])

    @property
    def twinned_item(self):
        """The candidate's fields that have a history twin, in the order of e_b's ([batch, D_b])."""
        return concat([self.fields[f.name] for f in self.spec.twinned_item_fields])

    @property
    def behaviors(self):
        """e_b: each behavior step's fields, concatenated ([batch, T, D_b])."""
        return concat([self.fields[s.name] for s in self.spec.sequence_fields])

    @property
    def user_fields(self) -> list:
        """[e_u^1, ..., e_u^J]."""
        return [self.fields[f.name] for f in self.spec.user_fields]

    @property
    def context_fields(self) -> list:
        """[e_c^1, ..., e_c^K]."""
        return [self.fields[f.name] for f in self.spec.context_fields]

    def scalar_fields(self, categorical_only: bool = False) -> list:
        """The [batch, width] representation of every item, user and context field."""
        return [
            self.fields[f.name] for f in self.spec.scalar_fields() if f.is_categorical or not categorical_only
        ]

    def pooled_sequence_fields(self, categorical_only: bool = False) -> list:
        """Each behavior field as the mean of its clicked items ([batch, width])."""
        return [
            self.pooled_sequences[s.name]
            for s in self.spec.sequence_fields
            if self.spec.twin_of(s).is_categorical or not categorical_only
        ]

    def flat_fields(self, categorical_only: bool = False) -> list:
        """Every field as one vector per example: what the non-sequential baselines read."""
        return self.scalar_fields(categorical_only) + self.pooled_sequence_fields(categorical_only)


def embed_inputs(spec: FeatureSpec, hp: HParams, embedding_dim: int | None = None, name="embedding"):
    """Build the spec's Keras inputs and embed them (Eq. 2).

    `embedding_dim` overrides every categorical field's width: the linear part of LR, Wide&Deep, DeepFM
    and xDeepFM is a table of width 1 per field.
    """
    inputs = spec.build_inputs()
    return embed(inputs, spec, hp, embedding_dim=embedding_dim, name=name)


def embed(inputs: dict, spec: FeatureSpec, hp: HParams, embedding_dim=None, name="embedding"):
    """Embed existing Keras inputs with a FeatureEmbedding of its own."""
    config = spec.to_dict()
    if embedding_dim is not None:
        for group in ("item_fields", "user_fields", "context_fields"):
            for field in config[group]:
                field["embedding_dim"] = embedding_dim
    looked_up = inputs
    mask = spec.mask_field
    if mask is not None and hp.trim_padding:
        # The mask field first: its padding ids decide where the batch's sequences are cut.
        names = [mask.name, *(s.name for s in spec.sequence_fields if s != mask)]
        trimmed = TrimPadding(name=f"{name}_trim")([inputs[n] for n in names])
        looked_up = {**inputs, **dict(zip(names, trimmed, strict=True))}
    fields = FeatureEmbedding(
        config,
        initializer=hp.initializer(),
        embedding_l2=hp.embedding_l2,
        l2_per=hp.embedding_l2_per,
        admission_count=hp.id_admission_count,
        admission_buckets=hp.id_admission_buckets,
        name=name,
    )(looked_up)
    valid = behavior_mask(looked_up, spec) if spec.sequence_fields else None
    pooled = {
        s.name: MaskedMeanPooling(name=f"{name}_mean_{s.name}")([fields[s.name], valid])
        for s in spec.sequence_fields
    }
    return EmbeddedInputs(spec=spec, inputs=inputs, fields=fields, valid=valid, pooled_sequences=pooled)


def linear_logit(inputs: dict, spec: FeatureSpec, hp: HParams, with_bias: bool = False):
    """The first-order term of LR, Wide&Deep, DeepFM and xDeepFM: sum_j w_j x_j (+ b, `with_bias`).

    A categorical field's weight is its row in a width-1 table (a one-hot x_j picks it); a behavior
    field averages its twin's weights over the clicked items; a numerical field has one weight. The
    bias is the model's one output bias when the linear term is the whole model (LR).
    """
    linear = embed(inputs, spec, hp, embedding_dim=1, name="linear_embedding")
    return keras.layers.Dense(
        1,
        use_bias=with_bias,
        bias_initializer=keras.initializers.Constant(hp.output_bias()),
        **hp.kernel_args(),
        name="linear",
    )(concat(linear.flat_fields()))


def mlp(hp: HParams, name: str = "mlp") -> MLP:
    """The prediction MLP (Eq. 16) with the hyperparameters' widths, dropout and initialization."""
    return MLP(
        hp.mlp_units,
        dropout=hp.dropout,
        **hp.kernel_args(),
        name=name,
    )


def cross_layers(x0, layers: int, projection_dim: int | None, hp: HParams, name: str = "cross"):
    """A stack of `layers` DCN-V2 crosses x_{l+1} = x_0 * (W x_l + b) + x_l on x0.

    Each is a `tfrs.layers.dcn.Cross` of rank `projection_dim` (full when None), named `name`_0,
    `name`_1, ...; with `layers` 0, x0 itself.
    """
    crossed = x0
    for i in range(layers):
        crossed = tfrs.layers.dcn.Cross(
            projection_dim=projection_dim, name=f"{name}_{i}", **hp.kernel_args()
        )(x0, crossed)
    return crossed


def logit_model(inputs: dict, hp: HParams, name: str, hidden=None, logits=()) -> keras.Model:
    """The model's single output: the click logit (Eq. 17 before its sigmoid).

    `hidden` goes through a Dense(1); `logits` are other terms already of width 1 (a linear part, an FM
    or CIN term) and are summed with it. Training uses binary cross-entropy from the logit (Eq. 18), the
    numerically stable form; the probability is sigmoid(logit), which equals Eq. 17's two-class softmax.
    The Dense(1) carries the model's one output bias, started at `hp.output_bias()`.
    """
    terms = list(logits)
    if hidden is not None:
        terms.append(
            keras.layers.Dense(
                1,
                bias_initializer=keras.initializers.Constant(hp.output_bias()),
                **hp.kernel_args(),
                name="output_dense",
            )(hidden)
        )
    logit = keras.layers.Add(name="logit")(terms) if len(terms) > 1 else terms[0]
    return ClickModel(inputs=inputs, outputs=logit, name=name)


def stack_fields(x: EmbeddedInputs, model_name: str):
    """The categorical fields' embeddings stacked as [batch, F, d], for the FM and the CIN.

    Both interact fields vector-wise, so every categorical field needs the same embedding width.
    """
    widths = {f.name: f.width for f in x.spec.scalar_fields() if f.is_categorical}
    if len(set(widths.values())) > 1:
        raise ValueError(
            f"{model_name} interacts field embeddings pairwise and needs one embedding_dim for every "
            f"categorical field; the spec has {widths}"
        )
    fields = x.flat_fields(categorical_only=True)
    return tf.stack(fields, axis=1, name="stacked_fields")


def require_sequence(spec: FeatureSpec, model_name: str) -> None:
    """Raise a ValueError naming `model_name` when `spec` has no behavior sequence."""
    if not spec.sequence_fields:
        raise ValueError(f"{model_name} models a behavior sequence, and the feature spec has none")
