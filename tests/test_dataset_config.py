import os

import pytest

from mian.config.dataset_config import DatasetConfig

BASE = dict(
    name="d",
    impressions="impressions.csv",
    users="users.jsonl",
    items={"path": "gs://bucket/items-*.txt", "format": "jsonl"},
    item_columns={"category": "categorical", "price": "numerical"},
    history_columns=["item_id", "category"],
    user_columns={"gender": "categorical"},
    context_columns={"device": "categorical"},
)


def test_feature_spec_is_made_from_the_config_with_vocabulary_sizes():
    config = DatasetConfig.from_dict({**BASE, "history": {"length": 20}})
    spec = config.feature_spec({"item_id": 100, "category": 9, "gender": 3, "device": 4, "hour": 25,
                                "weekday": 8, "season": 5})  # fmt: skip
    assert [f.name for f in spec.item_fields] == ["item_id", "category", "price"]
    assert spec.field("price").kind == "numerical" and spec.field("item_id").vocab_size == 100
    assert [(s.name, s.twin) for s in spec.sequence_fields] == [
        ("hist_item_id", "item_id"), ("hist_category", "category")
    ]  # fmt: skip
    assert [f.name for f in spec.user_fields] == ["gender"]
    assert [f.name for f in spec.context_fields] == ["device", "hour", "weekday", "season"]
    assert spec.sequence_length == 20 and spec.label == "clicked"


def test_round_trips_through_json_and_resolves_formats_and_paths():
    config = DatasetConfig.from_dict(BASE)
    assert DatasetConfig.from_json(config.to_json()) == config
    assert config.impressions.resolved_format() == "csv" and config.users.resolved_format() == "jsonl"
    assert config.table_path(config.items, "/data") == "gs://bucket/items-*.txt"
    assert config.table_path(config.users, "/data") == "/data/users.jsonl"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"history_columns": ["brand"]}, "history column 'brand' is not an item column"),
        ({"user_columns": {"gender": "text"}}, "user_columns.gender must be"),
        ({"derived_context": ["moon"]}, "unknown derived context"),
        ({"context_columns": {"gender": "categorical"}}, "more than one group"),
        ({"max_reject_share": 2}, "max_reject_share"),
    ],
)
def test_inconsistent_configs_are_rejected_with_the_reason(change, message):
    with pytest.raises(ValueError, match=message):
        DatasetConfig.from_dict({**BASE, **change})


def test_a_bad_config_file_is_named(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nimpressions: a.csv\nusers: b.csv\nitems: c.csv\nhistory_columns: [nope]\n")
    with pytest.raises(ValueError, match=f"{path}: .*nope"):
        DatasetConfig.load(str(path))


def test_shipped_configs_load():
    for name in ("synthetic", "movielens"):
        DatasetConfig.load(os.path.join(os.path.dirname(__file__), "..", "configs", f"{name}.yaml"))


def test_the_user_id_as_a_user_field_is_a_model_input_and_not_an_evaluation_slice():
    from mian.stages.eval_config import slice_features

    config = DatasetConfig.from_dict(
        {**BASE, "user_columns": {"user_id": "categorical", "gender": "categorical"}}
    )
    sizes = {"item_id": 100, "category": 9, "device": 4, "hour": 25, "weekday": 8, "season": 5}
    spec = config.feature_spec({**sizes, "user_id": 5000, "gender": 3})
    assert [f.name for f in spec.user_fields] == ["user_id", "gender"]
    assert spec.field("user_id").vocab_size == 5000
    assert slice_features(config) == ["hist_len_bucket", "gender", "hour"]
