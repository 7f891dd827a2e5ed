"""The names two or more modules share (as TFX's taxi template has features.py): the features ingestion
writes besides a dataset's own columns, the serving SavedModel's signatures, inputs, outputs and extra
files, and the metrics. Every module imports them from here; this module imports nothing.
"""

# Features of every example besides the dataset's columns.
# A history feature is the item column's name after this prefix (hist_item_id, hist_category, ...).
HISTORY_PREFIX = "hist_"
# How many of a history's steps are real clicks.
HISTORY_LENGTH_FEATURE = "hist_len"
# The history-length bucket each example is sliced by in evaluation: no history (the paper's inactive
# users, section 4.4), short, medium and long histories.
HISTORY_BUCKET_FEATURE = "hist_len_bucket"
HISTORY_BUCKETS = ((0, "0"), (5, "1-5"), (20, "6-20"))
LONGEST_HISTORY_BUCKET = ">20"
HISTORY_BUCKET_NAMES = (*(name for _, name in HISTORY_BUCKETS), LONGEST_HISTORY_BUCKET)
# A categorical value that is missing (Transform maps it to an out-of-vocabulary id): an empty cell,
# a history step whose item the items table lacks, a time context derived from an invalid time.
MISSING_CATEGORY = ""
# Who and when, for slicing and audits; the timestamp (Unix seconds) is also what the time context is
# derived from.
USER_ID_FEATURE = "user_id"
TIMESTAMP_FEATURE = "timestamp"

# The serving SavedModel (mian.stages.export).
DEFAULT_SIGNATURE = "serving_default"
RAW_SIGNATURE = "serving_raw"
ATTENTION_SIGNATURE = "attention"
TIME_CONTEXT_SIGNATURE = "time_context"
EXAMPLES_INPUT = "examples"
PROBABILITY = "probability"
# Beside saved_model.pb, where TF Serving ignores it: the names of GIM's representations (in the order
# of the attention signature's gim_weights) and the item features the explanations read.
ATTENTION_NAMES_FILE = "assets.extra/attention.json"
# TF Serving's warm-up requests, replayed before a version serves (mian.stages.warmup).
WARMUP_FILE = "assets.extra/tf_serving_warmup_requests"

# The daily window's train spans a warm start's base model has not trained on, one split a span
# (fresh-YYYY-MM-DD) beside the window's train split: what the Trainer trains on when it starts warm.
FRESH_SPLIT_PREFIX = "fresh-"

# At the root of Transform's transformed examples: {split: raw file patterns} for the splits it did not
# transform (listed in the artifact's splits all the same), which the Trainer and Tuner read raw and
# transform through the transform graph as they read (components/transform/executor.py).
UNTRANSFORMED_SPLITS_FILE = "untransformed_splits.json"

# Inside the Evaluator's evaluation artifact: the report run's TFMA output, the candidate's metrics on
# the slices the gate does not judge; the artifact's own files are the gate's, the overall slice with
# the baseline (mian.stages.eval_config).
SLICES_EVALUATION_DIR = "slices"

# Metrics, as the Trainer, TFMA and the reports name them.
AUC = "auc"
GAUC = "gauc"
LOGLOSS = "logloss"
# Keras' name for the AUC on the validation (eval) split: what early stopping and tuning maximize.
EVAL_AUC = f"val_{AUC}"

# An Examples artifact's custom property: {split: examples}, as JSON (ingestion and the window count them).
SPLIT_EXAMPLES_PROPERTY = "split_examples"
# The logger of the lines a person watches while a run goes (an epoch ended, a span ingested): `mian run`
# prints them on the terminal beside the components' states; elsewhere they are log lines like others.
PROGRESS_LOGGER = "mian.progress"
