"""The dataset config: what a team's raw click logs hold, and the one feature spec made from it.

A YAML (or JSON) file names the three tables, the columns of each feature group, which item columns get
a behavior-history twin, the time context derived from the timestamp, the history length and window,
and the time split. Ingestion reads it to build examples; Transform and the model read the feature
spec made from it (`feature_spec`), so field names, groups and kinds are written down once.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

from mian.config.config_files import SHIPPED_CONFIGS, load_config
from mian.names import HISTORY_PREFIX
from mian_keras.feature_spec import CATEGORICAL, NUMERICAL, FeatureSpec, Field, SequenceField

DERIVED_CONTEXT = ("hour", "weekday", "season")
SECONDS_PER_DAY = 86_400
JOINS = ("side_input", "shuffle", "auto")
# Numeric timestamps' units, as seconds per unit.
TIMESTAMP_UNITS = {"s": 1, "ms": 1e-3}
# TFX's date placeholders: an impressions path holding all three is partitioned by day, a span a day
# (mian.data.ingest.spans).
DATE_PLACEHOLDERS = ("{YYYY}", "{MM}", "{DD}")
# A data directory's own dataset config, found by the commands when none is named.
DATASET_CONFIG_FILE = "dataset.yaml"


def config_path(data_dir: str) -> str:
    """Where a data directory keeps its dataset config."""
    return os.path.join(data_dir, DATASET_CONFIG_FILE)


def install_shipped_config(name: str, data_dir: str) -> None:
    """Copy the repo's configs/<name>.yaml into a data directory as its dataset config."""
    shutil.copyfile(os.path.join(SHIPPED_CONFIGS, f"{name}.yaml"), config_path(data_dir))


@dataclasses.dataclass(frozen=True)
class TableConfig:
    """One raw table: a path or glob (relative to the data directory, or any Beam filesystem URL)."""

    path: str
    format: str = ""  # "csv" or "jsonl"; empty: from the file name's ending

    def resolved_format(self) -> str:
        if self.format:
            return self.format
        lowered = self.path.lower().removesuffix(".gz")
        if lowered.endswith(".csv"):
            return "csv"
        if lowered.endswith((".jsonl", ".json", ".ndjson")):
            return "jsonl"
        raise ValueError(f"cannot tell the format of {self.path!r}: set format: csv or jsonl")


@dataclasses.dataclass(frozen=True)
class DatasetConfig:
    """Everything ingestion, Transform and the model need to know about a dataset.

    Columns are given as {name: "categorical" | "numerical"}. `item_columns` always includes the item
    id column as categorical. `history_columns` are item columns whose behavior twins `hist_<name>` list
    the user's earlier clicks. Derived context fields come from the impression timestamp, in UTC.
    """

    name: str
    impressions: TableConfig
    users: TableConfig
    items: TableConfig
    user_id: str = "user_id"
    item_id: str = "item_id"
    timestamp: str = "timestamp"
    # The unit of numeric timestamps: "s" (Unix seconds) or "ms" (milliseconds, as many exports write).
    timestamp_unit: str = "s"
    label: str = "clicked"
    item_columns: dict = dataclasses.field(default_factory=dict)
    history_columns: tuple = ()
    user_columns: dict = dataclasses.field(default_factory=dict)
    context_columns: dict = dataclasses.field(default_factory=dict)
    derived_context: tuple = DERIVED_CONTEXT
    history_length: int = 30
    history_window_days: int = 29
    eval_days: int = 1
    test_days: int = 1
    max_reject_share: float = 0.01
    # Ingestion fails when a split holds fewer examples: nothing can be trained or judged on it.
    min_split_examples: int = 100
    # How impressions meet their user and item rows: "side_input" (both tables in every worker's
    # memory), "shuffle" (a CoGroupByKey per table: any size) or "auto" (shuffle above
    # SIDE_INPUT_MAX_BYTES of users and items files).
    join: str = "auto"
    # The ingestion's passes over disjoint parts of the users: an int, or "auto" (one on a runner with
    # its own shuffle; on the DirectRunner, which holds a stage's whole input in memory, one per 40 MiB
    # of impressions, a compressed file counted at 8x its size; see mian/data/ingest/passes.py).
    passes: int | str = "auto"
    embedding_dim: int = 16

    def __post_init__(self):
        item_columns = {self.item_id: CATEGORICAL, **dict(self.item_columns)}
        object.__setattr__(self, "item_columns", item_columns)
        object.__setattr__(self, "history_columns", tuple(self.history_columns or (self.item_id,)))
        object.__setattr__(self, "derived_context", tuple(self.derived_context))
        for group in ("item_columns", "user_columns", "context_columns"):
            for column, kind in getattr(self, group).items():
                if kind not in (CATEGORICAL, NUMERICAL):
                    raise ValueError(
                        f"dataset config {self.name!r}: {group}.{column} must be "
                        f"{CATEGORICAL!r} or {NUMERICAL!r}, got {kind!r}"
                    )
        for column in self.history_columns:
            if column not in item_columns:
                raise ValueError(
                    f"dataset config {self.name!r}: history column {column!r} is not an item column"
                )
        unknown = sorted(set(self.derived_context) - set(DERIVED_CONTEXT))
        if unknown:
            raise ValueError(
                f"dataset config {self.name!r}: unknown derived context {unknown}; "
                f"choose from {list(DERIVED_CONTEXT)}"
            )
        if self.history_length < 1 or self.history_window_days < 0:
            raise ValueError("history length must be >= 1 and the window >= 0 days")
        if self.eval_days < 1 or self.test_days < 1:
            raise ValueError("eval_days and test_days must be >= 1")
        if not 0.0 <= self.max_reject_share <= 1.0:
            raise ValueError("max_reject_share must lie in [0, 1]")
        if self.join not in JOINS:
            raise ValueError(
                f"dataset config {self.name!r}: join must be one of {list(JOINS)}, got {self.join!r}"
            )
        if self.passes != "auto" and not (isinstance(self.passes, int) and self.passes >= 1):
            raise ValueError(
                f"dataset config {self.name!r}: passes must be 'auto' or an integer >= 1, got {self.passes!r}"
            )
        if self.timestamp_unit not in TIMESTAMP_UNITS:
            raise ValueError(
                f"dataset config {self.name!r}: timestamp_unit must be one of {list(TIMESTAMP_UNITS)}, "
                f"got {self.timestamp_unit!r}"
            )
        names = list(item_columns) + list(self.user_columns) + list(self.context_columns)
        names += list(self.derived_context)
        clashes = sorted({n for n in names if names.count(n) > 1})
        if clashes:
            raise ValueError(f"dataset config {self.name!r}: columns in more than one group: {clashes}")

    # -- loading ---------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str) -> DatasetConfig:
        """Read a YAML or JSON dataset config."""
        return load_config(path, cls.from_dict)

    @classmethod
    def from_dict(cls, raw: dict) -> DatasetConfig:
        raw = dict(raw)
        history = raw.pop("history", {}) or {}
        split = raw.pop("split", {}) or {}
        for table in ("impressions", "users", "items"):
            value = raw[table]
            raw[table] = TableConfig(path=value) if isinstance(value, str) else TableConfig(**value)
        raw.setdefault("history_length", history.get("length", 30))
        raw.setdefault("history_window_days", history.get("window_days", 29))
        raw.setdefault("eval_days", split.get("eval_days", 1))
        raw.setdefault("test_days", split.get("test_days", 1))
        return cls(**raw)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DatasetConfig:
        raw = json.loads(text)
        for table in ("impressions", "users", "items"):
            raw[table] = TableConfig(**raw[table])
        return cls(**raw)

    @property
    def daily(self) -> bool:
        """Whether the impressions are daily partitions: each run ingests one span (a day)."""
        return all(p in self.impressions.path for p in DATE_PLACEHOLDERS)

    def table_path(self, table: TableConfig, data_dir: str) -> str:
        """The table's path, joined to the data directory unless it is absolute or a URL."""
        if "://" in table.path or os.path.isabs(table.path):
            return table.path
        return os.path.join(data_dir, table.path)

    # -- the feature spec ------------------------------------------------------------------------

    @property
    def context_fields(self) -> dict:
        """Context columns of the impressions plus the derived time context (categorical)."""
        return {**self.context_columns, **{name: CATEGORICAL for name in self.derived_context}}

    def history_feature(self, column: str) -> str:
        return HISTORY_PREFIX + column

    def feature_spec(self, vocab_sizes: dict[str, int]) -> FeatureSpec:
        """The model's feature spec, with each categorical field's vocabulary size (padding included).

        `vocab_sizes` comes from Transform's vocabularies; the history twins share their item field's.
        """

        def fields(columns: dict) -> tuple:
            return tuple(
                Field(name, kind, vocab_sizes.get(name, 0), self.embedding_dim)
                if kind == CATEGORICAL
                else Field(name, NUMERICAL)
                for name, kind in columns.items()
            )

        return FeatureSpec(
            item_fields=fields(self.item_columns),
            sequence_fields=tuple(
                SequenceField(self.history_feature(c), twin=c) for c in self.history_columns
            ),
            user_fields=fields(self.user_columns),
            context_fields=fields(self.context_fields),
            sequence_length=self.history_length,
            label=self.label,
        )
