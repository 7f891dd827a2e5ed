import pytest

from mian_keras.feature_spec import FeatureSpec, Field, SequenceField
from tests.conftest import small_spec


def test_round_trips_through_a_dict():
    spec = small_spec()
    assert FeatureSpec.from_dict(spec.to_dict()) == spec


def test_input_signature_gives_ids_as_int64_and_sequences_t_steps():
    spec = small_spec(sequence_length=7)
    signature = spec.input_signature()
    assert signature["item_id"] == ((), "int64")
    assert signature["price"] == ((), "float32")
    assert signature["hist_item_id"] == ((7,), "int64")
    assert set(signature) == {
        "item_id",
        "category",
        "price",
        "hist_item_id",
        "hist_category",
        "gender",
        "age",
        "activity",
        "hour",
        "season",
    }


def test_twins_share_the_item_field():
    spec = small_spec()
    assert [f.name for f in spec.twinned_item_fields] == ["item_id", "category"]
    assert spec.mask_field.name == "hist_item_id"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(item_fields=()), "at least one candidate item field"),
        (dict(sequence_fields=(SequenceField("hist_brand", twin="brand"),)), "not an item field"),
        (dict(user_fields=(Field("item_id", vocab_size=3),)), "used more than once"),
        (dict(sequence_length=0), "sequence_length"),
    ],
)
def test_rejects_inconsistent_specs(kwargs, message):
    base = dict(item_fields=(Field("item_id", vocab_size=10),))
    with pytest.raises(ValueError, match=message):
        FeatureSpec(**{**base, **kwargs})


def test_a_sequence_needs_a_categorical_field_to_mark_padding():
    with pytest.raises(ValueError, match="padding"):
        FeatureSpec(
            item_fields=(Field("price", kind="numerical"),),
            sequence_fields=(SequenceField("hist_price", twin="price"),),
        )


def test_field_validation_names_the_field():
    with pytest.raises(ValueError, match="'item_id'.*vocab_size"):
        Field("item_id", vocab_size=1)
    with pytest.raises(ValueError, match="kind"):
        Field("x", kind="text")
