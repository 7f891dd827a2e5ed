"""The pipeline config: one file that says what data to read, what to train, how to gate and where to write.

A YAML (or JSON) file with these keys, all optional but `data_dir`:

    pipeline_name: mian
    data_dir: DIR                 # the raw tables
    synthetic_data: {users: 1000, items: 500, days: 30, seed: 0}   # generate them there when missing
    dataset_config: FILE          # default: DATA_DIR/dataset.yaml
    schema: FILE                  # default: DATA/schema.pbtxt, else schema/<dataset name>/ in this repo
    output_root: runs             # pipeline artifacts, MLMD, serving models and logs go under it
    serving_dir: DIR              # default: OUTPUT_ROOT/serving; models: SERVING_DIR/<pipeline_name>/<n>
    training: {model: mian, hparams: {...}, epochs: 10, batch_size: 256, patience: 2, steps_per_epoch: null,
               warm_start: {enabled: true, epochs: null}}
    tuning: {enabled: false, trials: 10, epochs: 3, steps_per_epoch: null, search_space: {...}}
    vocabulary: {top_k: null, frequency_threshold: 0, oov_buckets: 10, user_id_frequency_threshold: 20,
                 user_id_oov_buckets: 10}
    gates: {auc_floor: 0.55, max_auc_drop: 0.01, gauc_floor: null,
            drift: stop,          # daily partitions: stop, warn or off when a span drifted from the last
            drift_infinity_norm: null, drift_jensen_shannon: null}   # null: the schema's thresholds
    window: {train_spans: 7, eval_spans: 1}   # daily partitions only (the dataset's impressions path
                                  # holds {YYYY}-{MM}-{DD}): one span ingested a run, a rolling window
    span: YYYY-MM-DD              # daily partitions: the span to ingest (default: the newest)
    beam_args: []                 # Beam options; none: the DirectRunner in this process
    enable_cache: true

Relative paths are taken from the directory `mian run` is started in.
"""

from __future__ import annotations

import dataclasses
import os

from mian.config.config_files import SHIPPED_CONFIGS, SHIPPED_SCHEMAS, load_config

SCHEMA_ROOT = SHIPPED_SCHEMAS
SCHEMA_FILE = "schema.pbtxt"


def default_config_path() -> str:
    """The shipped pipeline config: the synthetic click logs, MIAN, the default gates."""
    return os.path.join(SHIPPED_CONFIGS, "pipeline.yaml")


@dataclasses.dataclass(frozen=True)
class WarmStartConfig:
    """The Trainer starts from the newest pushed model of the pipeline when `enabled` and there is one
    (mian.stages.warm_start: weights copied, embedding rows carried over by token; a changed model
    starts cold), and then trains `epochs` epochs (None: `training.epochs`)."""

    enabled: bool = True
    epochs: int | None = None

    def __post_init__(self):
        if self.epochs is not None and self.epochs < 1:
            raise ValueError("training.warm_start: epochs must be >= 1 when set")


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """What the Trainer trains. `batch_size` is per replica: the global batch is it times the replicas.

    Training runs `epochs` passes over the train split (or `steps_per_epoch` steps each, when set), and
    stops early when the eval AUC has not improved for `patience` epochs, keeping the best weights.
    `seed` fixes the initial weights, the dropout masks and the order of the batches (None: new ones
    each run).

    `shuffle_buffer` is the number of training examples shuffled together; 0 (the default) trains in
    the train split's order, in which ingestion writes each user's impressions together, oldest
    first. Measured on MovieLens (bench/results/diagnosis.md, section 5, 3 seeds), that order trains
    every model better than a full shuffle: MIAN 0.710 +- 0.004 against 0.697 +- 0.013 test AUC, DIN
    0.701 against 0.686, DeepCTR's DeepFM 0.714 against 0.686. On the quality benchmark's synthetic
    sets a full shuffle trains MIAN, DeepFM and DIN better (section 8: MIAN +0.017 and +0.010 test
    AUC, DeepFM +0.007 and +0.008), and xDeepFM once its search also runs shuffled (+0.011 on
    profile-rich); on `make run`'s data neither wins (best eval AUC 0.7731 and 0.7709 in order,
    0.7744 and 0.7675 shuffled, two seeds). Which suits a dataset is the data's property: choose it
    on the eval split.
    """

    model: str = "mian"
    hparams: dict = dataclasses.field(default_factory=dict)
    epochs: int = 10
    batch_size: int = 256
    patience: int = 2
    steps_per_epoch: int | None = None
    seed: int | None = None
    shuffle_buffer: int = 0
    warm_start: WarmStartConfig = dataclasses.field(default_factory=WarmStartConfig)

    def __post_init__(self):
        if isinstance(self.warm_start, dict):  # from YAML, or from the Trainer's custom_config
            object.__setattr__(self, "warm_start", WarmStartConfig(**self.warm_start))
        if self.epochs < 1 or self.batch_size < 1 or self.patience < 0 or self.shuffle_buffer < 0:
            raise ValueError("training: epochs and batch_size must be >= 1, patience and shuffle_buffer >= 0")
        if self.steps_per_epoch is not None and self.steps_per_epoch < 1:
            raise ValueError("training: steps_per_epoch must be >= 1 when set")


# HParams names and their ranges: a list is a choice, {min, max, sampling} a float range. The three
# settings bench/results/diagnosis.md found to move models differently by dataset: the learning rate
# (3e-3 helped MIAN on sequence-rich and overfit it on profile-rich), the MLP's dropout (0.5 helped
# MIAN, not xDeepFM) and the embeddings' initial scale (1e-4 helped every model on MovieLens, cost
# every model on the synthetic sets).
DEFAULT_SEARCH_SPACE = {
    "learning_rate": {"min": 3e-4, "max": 3e-3, "sampling": "log"},
    "dropout": [0.0, 0.2, 0.5],
    "init_stddev": [1e-4, 5e-3, 2e-2],
}


@dataclasses.dataclass(frozen=True)
class TuningConfig:
    """The Tuner stage (KerasTuner random search), off unless `enabled`: `trials` models, each trained
    `epochs` epochs (of `steps_per_epoch` steps when set) with the Trainer's early stopping and selected
    on the eval split's AUC; the best trial's values override `training.hparams` in the Trainer."""

    enabled: bool = False
    trials: int = 10
    epochs: int = 3
    steps_per_epoch: int | None = None
    search_space: dict = dataclasses.field(default_factory=lambda: dict(DEFAULT_SEARCH_SPACE))

    def __post_init__(self):
        if self.trials < 1 or self.epochs < 1:
            raise ValueError("tuning: trials and epochs must be >= 1")
        if not self.search_space:
            raise ValueError("tuning: the search space is empty")


@dataclasses.dataclass(frozen=True)
class VocabularyConfig:
    """Transform's vocabularies: keep the `top_k` most frequent values (all when None) seen at least
    `frequency_threshold` times in the train split; unseen values hash into `oov_buckets` extra ids.

    `user_id_frequency_threshold` applies to the user id when the dataset makes it a user field: a user
    with fewer train examples has no row of their own and shares the hashed ids with the users first
    seen after training, so those ids are trained on users like them. At 20 (one seed each,
    bench/results/user-id.md), the id stopped costing AUC where it carries no signal (profile-rich, 2.4
    train examples a user: MIAN 0.6966 -> 0.7667 test AUC, 0.7670 without the id; xDeepFM 0.7007 ->
    0.7724, 0.7689 without) and kept its gain where it does (MovieLens: MIAN 0.7277 with, 0.6905 without).
    Those users, and the users first seen after training, share `user_id_oov_buckets` hashed ids. Ten
    (the default) keep some of what a rare user's own clicks say (a user shares an id with a tenth of
    the rare users, not all); one says "a rare user" and nothing more. Where the id carries no signal
    beyond the profile, one id is better (3 seeds, test AUC with the id: xDeepFM on profile-rich
    0.7758 -> 0.7776, DIN on frequent-users 0.7497 -> 0.7513); where it does, ten are (MovieLens, 6
    seeds: every model 0.005 to 0.012 lower with one id). bench/results/user-id.md.
    """

    top_k: int | None = None
    frequency_threshold: int = 0
    oov_buckets: int = 10
    user_id_frequency_threshold: int = 20
    user_id_oov_buckets: int = 10

    def __post_init__(self):
        if self.oov_buckets < 1 or self.user_id_oov_buckets < 1:
            raise ValueError(
                "vocabulary: oov_buckets and user_id_oov_buckets must be >= 1, so that unseen values "
                "have an id"
            )
        if self.top_k is not None and self.top_k < 1:
            raise ValueError("vocabulary: top_k must be >= 1 when set")
        if self.frequency_threshold < 0 or self.user_id_frequency_threshold < 0:
            raise ValueError("vocabulary: frequency thresholds must be >= 0")


# What a span that drifted from the previous one does.
DRIFT_ACTIONS = ("stop", "warn", "off")


@dataclasses.dataclass(frozen=True)
class GateConfig:
    """The Evaluator's gates on the test split's AUC: above `auc_floor`, and not below the last blessed
    model's AUC by more than `max_auc_drop`; on its GAUC (mian.stages.gauc), above `gauc_floor` when
    set (off by default: GAUC's level depends on how many users have both clicks and non-clicks). On
    daily partitions, the drift gate between a span and the previous one (mian.stages.drift): `drift`
    says what a drifted span does (stop the run before Transform, warn and go on, or off: not
    compared); `drift_infinity_norm` (categorical features) and `drift_jensen_shannon` (numerical ones)
    replace the schema's thresholds when set."""

    auc_floor: float = 0.55
    max_auc_drop: float = 0.01
    gauc_floor: float | None = None
    drift: str = "stop"
    drift_infinity_norm: float | None = None
    drift_jensen_shannon: float | None = None

    def __post_init__(self):
        if self.drift not in DRIFT_ACTIONS:
            raise ValueError(f"gates.drift: {self.drift!r} is not one of {', '.join(DRIFT_ACTIONS)}")
        for name in ("drift_infinity_norm", "drift_jensen_shannon"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                raise ValueError(f"gates.{name}: {value} is not a distance in [0, 1]")


@dataclasses.dataclass(frozen=True)
class WindowConfig:
    """The rolling window of a daily pipeline (impressions partitioned by day): the newest span is the
    test split the Evaluator gates on, the `eval_spans` before it the eval split, the `train_spans`
    before those the train split (mian.data.ingest.window)."""

    train_spans: int = 7
    eval_spans: int = 1

    def __post_init__(self):
        if self.train_spans < 1 or self.eval_spans < 1:
            raise ValueError("window: train_spans and eval_spans must be >= 1")


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    data_dir: str
    pipeline_name: str = "mian"
    synthetic_data: dict | None = None
    dataset_config: str = ""
    schema: str = ""
    output_root: str = "runs"
    serving_dir: str = ""
    training: TrainingConfig = TrainingConfig()
    tuning: TuningConfig = TuningConfig()
    vocabulary: VocabularyConfig = VocabularyConfig()
    gates: GateConfig = GateConfig()
    window: WindowConfig = WindowConfig()
    # Daily partitions: the span this run ingests (YYYY-MM-DD); None: the newest present.
    span: str | None = None
    # Beam options. None by default: Beam's DirectRunner in this process. With any option, TFX's Beam
    # executors package TFX as an sdist for remote workers (tfx.utils.dependency_utils), about 1.5 s
    # and 50 MB of temp files per component execution that a local runner never reads.
    beam_args: tuple = ()
    enable_cache: bool = True
    # Transform's own TFDV statistics of its input and output (pre_/post_transform_stats and anomalies):
    # off, since nothing downstream reads them (StatisticsGen and ExampleValidator check the raw data),
    # and on the DirectRunner they took Transform's peak memory from 4.1 to 7.6 GiB at 1M impressions
    # (docs/scale.md). On when the transformed data's statistics are wanted for monitoring.
    transform_statistics: bool = False

    def __post_init__(self):
        object.__setattr__(self, "beam_args", tuple(self.beam_args))

    @classmethod
    def from_dict(cls, raw: dict) -> PipelineConfig:
        raw = dict(raw)
        for key, kind in (
            ("training", TrainingConfig),
            ("tuning", TuningConfig),
            ("vocabulary", VocabularyConfig),
            ("gates", GateConfig),
            ("window", WindowConfig),
        ):
            if isinstance(raw.get(key), dict):
                raw[key] = kind(**raw[key])
        return cls(**raw)

    @classmethod
    def load(cls, path: str) -> PipelineConfig:
        return load_config(path, cls.from_dict)

    def replace(self, **changes) -> PipelineConfig:
        return dataclasses.replace(self, **changes)

    def missing_input(self) -> str | None:
        """One line naming the first input file the run needs and does not have, or None.

        Synthetic data is generated at the start of the run, with its dataset config: nothing to check
        then but the schema, which the repo ships."""
        from mian.config.dataset_config import config_path

        if self.synthetic_data is None:
            if not os.path.isdir(self.data_dir):
                return f"no data directory {self.data_dir}: pass the raw tables' directory with --data DIR"
            dataset_config = self.dataset_config or config_path(self.data_dir)
            if not os.path.exists(dataset_config):
                return (
                    f"no dataset config at {dataset_config}: propose one with `mian init --data "
                    f"{self.data_dir}` (or write it, README 'The raw format', or pass --dataset-config FILE)"
                )
            if not os.path.exists(self.schema_path()):
                return (
                    f"no schema for dataset {self.dataset().name!r} (neither {self._data_schema()} nor "
                    f"{self._shipped_schema()}): draft one with `mian init --data {self.data_dir}`, "
                    "or pass --schema FILE"
                )
        elif self.schema and not os.path.exists(self.schema):
            return f"no schema at {self.schema}"
        return None

    # -- where things are -------------------------------------------------------------------------

    def dataset(self):
        """The DatasetConfig (imported here: this module stays light for `mian run`'s start)."""
        from mian.config.dataset_config import DatasetConfig, config_path

        return DatasetConfig.load(self.dataset_config or config_path(self.data_dir))

    def schema_path(self) -> str:
        """--schema; else the data directory's own schema.pbtxt (`mian init` drafts it), when there is
        one; else the schema the repo ships for the dataset's name."""
        if self.schema:
            return self.schema
        return self._data_schema() if os.path.exists(self._data_schema()) else self._shipped_schema()

    def _data_schema(self) -> str:
        return os.path.join(self.data_dir, SCHEMA_FILE)

    def _shipped_schema(self) -> str:
        return os.path.join(SCHEMA_ROOT, self.dataset().name, SCHEMA_FILE)

    @property
    def pipeline_root(self) -> str:
        return os.path.join(os.path.abspath(self.output_root), "pipelines", self.pipeline_name)

    @property
    def metadata_path(self) -> str:
        return os.path.join(os.path.abspath(self.output_root), "metadata", f"{self.pipeline_name}.sqlite")

    @property
    def model_serving_dir(self) -> str:
        """Where the Pusher writes versions of the model: <serving_dir>/<pipeline name>/<version>/.

        The served name is the pipeline's, not the model's: two pipelines (two datasets, whose models
        take different inputs) never push versions of one served model."""
        serving = self.serving_dir or os.path.join(self.output_root, "serving")
        return os.path.join(os.path.abspath(serving), self.pipeline_name)
