"""The ingestion in passes over disjoint parts of the users, so that a runner that holds a stage's
whole input in memory (Beam's DirectRunner) holds one part at a time.

A runner with its own shuffle (Dataflow, Flink, Spark) bounds each worker's memory by the (user,
block) grouping and runs the ingestion in one pass. The DirectRunner keeps every GroupByKey's whole
input in memory, so its peak grows with the log (docs/scale.md: 20 GiB at 10M impressions against
2.4 GiB at 1M); split into parts of about PASS_MAX_BYTES of impressions it stays near the peak of one
part. The passes write what one pass writes: a user's rows all fall in one part (dedupe and
histories are per user), a first pass over the whole log finds its last day (which places the time
split), and the parts' books are summed into one stats file.

Each part's books are checked as soon as it is written. The DirectRunner's multi-processing mode was
seen to lose impressions at its GroupByKey (docs/scale.md: 13% of a 10M run, 7% of one 1M part of
another, with every count before the grouping complete), so a part whose books do not balance is
deleted and run again, up to MAX_ATTEMPTS times, each loss logged; what is finally written is whole
(the ingestion's final check fails the run otherwise).
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable

import apache_beam as beam
from absl import logging
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from mian.config.dataset_config import SECONDS_PER_DAY, DatasetConfig
from mian.data.ingest import accounting, records
from mian.data.ingest.pipeline import (
    EXAMPLES_FILE_PREFIX,
    REJECTED_FILE_PREFIX,
    STATS_FILE,
    WHOLE,
    ReadTable,
    UserPart,
    derived_context_clash,
    ingest,
    output_splits,
    split_dir,
    stats_file,
)
from mian.data.ingest.spans import SpanInputs

# Impressions per pass on the DirectRunner, in bytes of their files: about 1.1M impressions of the
# generator's CSV, which the DirectRunner ingests in about 2.4 GiB (docs/scale.md).
PASS_MAX_BYTES = 40 * 1024 * 1024
# How much larger a compressed impressions file is once read: CSV click logs gzip about 5-8x; the
# larger guess errs towards more passes, which costs time rather than memory.
COMPRESSED_EXPANSION = 8
LAST_TS_FILE = "last_impression_ts.json"
MAX_ATTEMPTS = 3


def pass_count(config: DatasetConfig, data_dir: str, beam_args=(), span: SpanInputs | None = None) -> int:
    """The config's `passes`, or with "auto": one on a runner with its own shuffle, and one per
    PASS_MAX_BYTES of impressions (the span's, with a `span`) on the DirectRunner (a compressed file
    counted at COMPRESSED_EXPANSION times its size)."""
    if config.passes != "auto":
        return int(config.passes)
    runner = PipelineOptions(list(beam_args)).view_as(StandardOptions).runner
    if runner is not None and "direct" not in runner.lower():
        return 1
    pattern = span.impressions if span else config.table_path(config.impressions, data_dir)
    size = sum(
        m.size_in_bytes * (COMPRESSED_EXPANSION if _compressed(m.path) else 1)
        for r in FileSystems.match([pattern])
        for m in r.metadata_list
    )
    return max(1, math.ceil(size / PASS_MAX_BYTES))


def _compressed(path: str) -> bool:
    return CompressionTypes.detect_compression_type(path) != CompressionTypes.UNCOMPRESSED


def ingest_in_passes(
    make_pipeline: Callable[[], beam.Pipeline],
    config: DatasetConfig,
    data_dir: str,
    examples_uri: str,
    rejected_uri: str,
    beam_args=(),
    span: SpanInputs | None = None,
) -> None:
    """Run the ingestion as `pass_count` pipelines of `make_pipeline` (made with `beam_args`), writing
    what one pipeline writes; with a `span`, of that span (daily partitions)."""
    clash = derived_context_clash(config, data_dir)
    if clash:
        raise ValueError(clash)
    passes = pass_count(config, data_dir, beam_args, span)
    logging.info("ingestion: %d pass(es) over the users", passes)
    write = functools.partial(_ingest_part, make_pipeline, config, data_dir, examples_uri, rejected_uri)
    if passes == 1:
        write(WHOLE, None, span)
        return
    last_day = None
    if span is None:  # the time split's last day, which a daily span does not need
        last_ts = _last_impression_ts(make_pipeline, config, data_dir, rejected_uri)
        last_day = None if last_ts is None else last_ts // SECONDS_PER_DAY
    parts = [UserPart(index, passes) for index in range(passes)]
    for part in parts:
        write(part, last_day, span)
    merged = accounting.merge_stats([accounting.load_stats(rejected_uri, part) for part in parts])
    with FileSystems.create(os.path.join(rejected_uri, STATS_FILE)) as f:
        f.write(json.dumps(merged, sort_keys=True, indent=1).encode("utf-8"))
    FileSystems.delete([os.path.join(rejected_uri, stats_file(part)) for part in parts])


def _ingest_part(make_pipeline, config, data_dir, examples_uri, rejected_uri, part, last_day, span) -> None:
    """Write one part, again (its files deleted first) while its books do not balance."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        with make_pipeline() as pipeline:
            ingest(pipeline, config, data_dir, examples_uri, rejected_uri, part, last_day, span)
        lost = accounting.lost_impressions(accounting.load_stats(rejected_uri, part))
        if not lost or attempt == MAX_ATTEMPTS:
            return
        logging.warning(
            "ingestion%s: the runner lost %d impressions (attempt %d of %d); writing the part again",
            part.suffix,
            lost,
            attempt,
            MAX_ATTEMPTS,
        )
        _delete_part(config, examples_uri, rejected_uri, part)


def _delete_part(config: DatasetConfig, examples_uri: str, rejected_uri: str, part: UserPart) -> None:
    """Every file one part wrote: its examples in each split, its rejections and its stats."""
    patterns = [
        os.path.join(split_dir(examples_uri, split), f"{EXAMPLES_FILE_PREFIX}{part.suffix}-*")
        for split in output_splits(config)
    ]
    patterns += [
        os.path.join(rejected_uri, f"{REJECTED_FILE_PREFIX}{part.suffix}-*"),
        os.path.join(rejected_uri, stats_file(part)),
    ]
    FileSystems.delete([m.path for r in FileSystems.match(patterns) for m in r.metadata_list])


def _last_impression_ts(make_pipeline, config: DatasetConfig, data_dir: str, work_uri: str) -> int | None:
    """The time of the log's last valid impression (None when it has none), by a pass of its own."""
    path = os.path.join(work_uri, LAST_TS_FILE)
    with make_pipeline() as pipeline:
        _ = (
            pipeline
            | "Read impressions"
            >> ReadTable(
                config.table_path(config.impressions, data_dir), config.impressions.resolved_format()
            )
            | "Parse" >> beam.Map(records.parse_impression, config)
            | "Valid" >> beam.Filter(lambda r: not isinstance(r, records.Rejection))
            | "Times" >> beam.Map(lambda r: r["ts"])
            | "Latest" >> beam.CombineGlobally(max).without_defaults()
            | "Collect" >> beam.combiners.ToList()
            | "As JSON" >> beam.Map(json.dumps)
            | "Write" >> beam.io.WriteToText(path, num_shards=1, shard_name_template="")
        )
    with FileSystems.open(path) as f:
        latest = json.loads(f.read().decode("utf-8"))
    FileSystems.delete([path])
    return latest[0] if latest else None
