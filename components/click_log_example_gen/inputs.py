"""What one run of ClickLogExampleGen reads, resolved when it runs: the span (daily partitions), its
version and the fingerprint of the input files. The Driver resolves it before the cache is looked up;
the Executor resolves it itself where no driver ran (an orchestrator that skips custom drivers)."""

from __future__ import annotations

import os

from apache_beam.io.filesystems import FileSystems

from mian.config.dataset_config import DatasetConfig
from mian.data.ingest.span_store import span_records, version_for
from mian.data.ingest.spans import SpanInputs, fingerprint, parse_span, span_inputs, spans_present

RESOLVED = ("span", "version", "input_fingerprint")


def resolve(exec_properties: dict, examples_uri: str) -> dict:
    """`exec_properties` with span, version and input_fingerprint filled in. The earlier spans' records
    are read from the folder the output artifact `examples_uri` is made in."""
    config = DatasetConfig.from_json(exec_properties["dataset_config"])
    input_base = exec_properties["input_base"]
    if not config.daily:
        return {**exec_properties, "input_fingerprint": whole_fingerprint(config, input_base)}
    inputs = span_of(config, input_base, exec_properties.get("requested_span") or "")
    version = version_for(span_records(os.path.dirname(examples_uri)), inputs.span, inputs.fingerprint)
    return {
        **exec_properties,
        "span": inputs.span,
        "version": version,
        "input_fingerprint": inputs.fingerprint,
    }


def span_of(config: DatasetConfig, input_base: str, requested: str = "") -> SpanInputs:
    """The inputs of the requested span (YYYY-MM-DD), or of the newest present."""
    impressions = config.table_path(config.impressions, input_base)
    if requested:
        span = parse_span(requested)
    else:
        present = spans_present(impressions)
        if not present:
            raise FileNotFoundError(f"no impressions match {impressions}")
        span = max(present)
    return span_inputs(
        impressions,
        config.table_path(config.users, input_base),
        config.table_path(config.items, input_base),
        span,
        config.history_window_days,
    )


def whole_fingerprint(config: DatasetConfig, input_base: str) -> str:
    """A digest of every input file's path, size and modification time."""
    files = []
    for table in (config.impressions, config.users, config.items):
        pattern = config.table_path(table, input_base)
        (match,) = FileSystems.match([pattern])
        if not match.metadata_list:
            raise FileNotFoundError(f"no file matches {pattern}")
        files += match.metadata_list
    return fingerprint(files)
