"""The feature spec: the one description of MIAN's inputs.

MIAN (Zhang et al., WSDM 2021, section 3.1) reads four groups of fields: the candidate item x_i, the
behavior sequence x_b of T earlier clicks, J fine-grained user fields x_u and K fine-grained context
fields x_c. Each field is categorical (an id looked up in an embedding table, Eq. 2 top) or numerical
(a scalar used as is, Eq. 2 bottom). A behavior field is the history twin of an item field and shares its
embedding table, so that a clicked item and a candidate item live in the same space.

Ingestion, Transform and the model all read field names, groups, types and the sequence length from here.
Categorical ids are integers in [0, vocab_size): 0 is the padding id of a sequence (and is never a real
id), so vocab_size counts the padding id too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

CATEGORICAL = "categorical"
NUMERICAL = "numerical"
_KINDS = (CATEGORICAL, NUMERICAL)

# The default history length T (section 4.3).
DEFAULT_SEQUENCE_LENGTH = 30
PADDING_ID = 0


@dataclasses.dataclass(frozen=True)
class Field:
    """One fine-grained field: a categorical id with its own embedding table, or a numerical scalar."""

    name: str
    kind: str = CATEGORICAL
    vocab_size: int = 0
    embedding_dim: int = 16

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"field name {self.name!r} is not an identifier")
        if self.kind not in _KINDS:
            raise ValueError(f"field {self.name!r}: kind must be one of {_KINDS}, got {self.kind!r}")
        if self.kind == CATEGORICAL:
            if self.vocab_size < 2:
                raise ValueError(
                    f"field {self.name!r}: a categorical field needs vocab_size >= 2 "
                    f"(id 0 is padding), got {self.vocab_size}"
                )
            if self.embedding_dim < 1:
                raise ValueError(f"field {self.name!r}: embedding_dim must be >= 1")

    @property
    def is_categorical(self) -> bool:
        return self.kind == CATEGORICAL

    @property
    def width(self) -> int:
        """Width of the field's representation e^j: its embedding size, or 1 for a scalar (Eq. 2)."""
        return self.embedding_dim if self.is_categorical else 1


@dataclasses.dataclass(frozen=True)
class SequenceField:
    """A behavior-sequence field: the history of item field `twin`, sharing its embedding table."""

    name: str
    twin: str


@dataclasses.dataclass(frozen=True)
class FeatureSpec:
    """The four feature groups of section 3.1 and the sequence length T.

    Attributes:
      item_fields: candidate item fields; concatenated they form e_i.
      sequence_fields: behavior fields, each the history twin of an item field; concatenated per step
        they form e_b^t. The first categorical one (normally `hist_item_id`) defines which steps are
        padding (id 0).
      user_fields: the J user fields e_u^j.
      context_fields: the K context fields e_c^k.
      sequence_length: T, the number of behavior steps a model reads.
      label: name of the 0/1 click label.
    """

    item_fields: tuple[Field, ...]
    sequence_fields: tuple[SequenceField, ...] = ()
    user_fields: tuple[Field, ...] = ()
    context_fields: tuple[Field, ...] = ()
    sequence_length: int = DEFAULT_SEQUENCE_LENGTH
    label: str = "clicked"

    def __post_init__(self):
        object.__setattr__(self, "item_fields", tuple(self.item_fields))
        object.__setattr__(self, "sequence_fields", tuple(self.sequence_fields))
        object.__setattr__(self, "user_fields", tuple(self.user_fields))
        object.__setattr__(self, "context_fields", tuple(self.context_fields))
        if not self.item_fields:
            raise ValueError("the feature spec needs at least one candidate item field")
        if self.sequence_length < 1:
            raise ValueError(f"sequence_length must be >= 1, got {self.sequence_length}")
        names = [f.name for f in self.item_fields + self.user_fields + self.context_fields]
        names += [s.name for s in self.sequence_fields] + [self.label]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"field names used more than once: {duplicated}")
        item_names = {f.name for f in self.item_fields}
        for seq in self.sequence_fields:
            if seq.twin not in item_names:
                raise ValueError(
                    f"sequence field {seq.name!r} twins {seq.twin!r}, which is not an item field"
                )
        if self.sequence_fields and self.mask_field is None:
            raise ValueError(
                "a behavior sequence needs at least one categorical field: its id 0 marks padding"
            )

    # -- lookups ---------------------------------------------------------------------------------

    def field(self, name: str) -> Field:
        """The Field of an item, user or context field by name."""
        for f in self.item_fields + self.user_fields + self.context_fields:
            if f.name == name:
                return f
        raise KeyError(f"no item, user or context field named {name!r}")

    def twin_of(self, seq: SequenceField) -> Field:
        return self.field(seq.twin)

    @property
    def mask_field(self) -> SequenceField | None:
        """The sequence field whose padding id 0 marks the empty steps of a behavior sequence."""
        for seq in self.sequence_fields:
            if self.twin_of(seq).is_categorical:
                return seq
        return None

    @property
    def twinned_item_fields(self) -> tuple[Field, ...]:
        """The item fields that have a history twin, in the order of the sequence fields.

        Their concatenation is the query that attends over the behaviors in DIN and DIEN, whose
        attention needs query and keys of one width.
        """
        return tuple(self.twin_of(seq) for seq in self.sequence_fields)

    def scalar_fields(self) -> Iterator[Field]:
        """Every non-sequence field, candidate item first, then user, then context."""
        yield from self.item_fields
        yield from self.user_fields
        yield from self.context_fields

    # -- Keras inputs ----------------------------------------------------------------------------

    def input_signature(self) -> dict[str, tuple[tuple[int, ...], str]]:
        """Per input name, its shape without the batch axis and its dtype.

        Categorical ids are int64 (as TF Transform's vocabularies emit them), numerical values float32.
        A sequence input has T steps.
        """
        signature: dict[str, tuple[tuple[int, ...], str]] = {}
        for f in self.scalar_fields():
            signature[f.name] = ((), "int64" if f.is_categorical else "float32")
        for seq in self.sequence_fields:
            dtype = "int64" if self.twin_of(seq).is_categorical else "float32"
            signature[seq.name] = ((self.sequence_length,), dtype)
        return signature

    def build_inputs(self) -> dict:
        """One named Keras Input per field."""
        import tf_keras as keras

        return {
            name: keras.Input(shape=shape, dtype=dtype, name=name)
            for name, (shape, dtype) in self.input_signature().items()
        }

    # -- (de)serialization -----------------------------------------------------------------------

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, config: dict) -> FeatureSpec:
        return cls(
            item_fields=tuple(Field(**f) for f in config["item_fields"]),
            sequence_fields=tuple(SequenceField(**s) for s in config.get("sequence_fields", ())),
            user_fields=tuple(Field(**f) for f in config.get("user_fields", ())),
            context_fields=tuple(Field(**f) for f in config.get("context_fields", ())),
            sequence_length=config.get("sequence_length", DEFAULT_SEQUENCE_LENGTH),
            label=config.get("label", "clicked"),
        )
