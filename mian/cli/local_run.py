"""`mian run`: the pipeline on this machine, with progress on the terminal and the noise in a log file.

While the pipeline runs, everything the libraries print (Python logging, warnings, TensorFlow's C++
logs, Keras' epoch lines) goes to a log file; the terminal shows each component as it starts and
finishes, with its seconds, and under it the component's own progress lines (mian.names.PROGRESS_LOGGER:
the ingestion's books, what Transform reads, each epoch). At the end comes the summary read from ML
Metadata (mian.cli.run_report) and the path of the run's HTML report (mian.cli.report_page).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import threading
import time

from mian.cli.library_logs import new_log_file, output_to
from mian.config.pipeline_config import PipelineConfig
from mian.data.synthetic import generate_if_requested
from mian.names import PROGRESS_LOGGER


class _Progress(threading.Thread):
    """Watches ML Metadata while the pipeline runs and prints each component as it starts and ends.

    MLMD rather than log lines: the components reconfigure logging as they run, while every TFX
    launcher records each execution (RUNNING, then COMPLETE, CACHED or FAILED) in MLMD.
    """

    def __init__(self, config: PipelineConfig, terminal, interval: float = 0.5):
        super().__init__(daemon=True)
        self.config, self.terminal, self.interval = config, terminal, interval
        self.since_ms = int(time.time() * 1000)
        self.stop = threading.Event()
        self._announced: dict[str, str] = {}
        # A progress line polls too (from the pipeline's thread), so that it follows its component's line.
        self._polling = threading.Lock()

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.poll()
        self.poll()

    def poll(self) -> None:
        with self._polling:
            self._poll()

    def write_line(self, line: str) -> None:
        """A line of a component's own, after the states polled so far (not between them)."""
        with self._polling:
            self.terminal.write(line + "\n")
            self.terminal.flush()

    def _poll(self) -> None:
        from tfx.orchestration import metadata

        from mian.cli.run_report import component_runs, latest_run

        connection = metadata.sqlite_metadata_connection_config(self.config.metadata_path)
        try:
            with metadata.Metadata(connection) as handle:
                run = latest_run(handle.store, self.config.pipeline_name, self.since_ms)
                runs = [] if run is None else component_runs(handle.store, run, self.config.pipeline_name)
        except Exception:  # the runner may hold the SQLite lock: look again at the next tick
            return
        for component, _ in runs:
            state = "finished" if component.finished else "running"
            if self._announced.get(component.component) == state:
                continue
            if state == "running":
                self.terminal.write(f"  {component.component} ...\n")
            else:
                if component.component not in self._announced:
                    self.terminal.write(f"  {component.component} ...\n")
                self.terminal.write(
                    f"  {component.component} {component.state.lower()} in {component.seconds:.1f} s\n"
                )
            self._announced[component.component] = state
            self.terminal.flush()


class _ProgressLines(logging.Handler):
    """Writes the components' progress lines (mian.names.PROGRESS_LOGGER) on the terminal, indented
    under the component that writes them: the components' states are brought up to date first."""

    def __init__(self, progress: _Progress):
        super().__init__()
        self.progress = progress
        self.setFormatter(logging.Formatter("    %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.progress.poll()
        self.progress.write_line(self.format(record))


@contextlib.contextmanager
def _progress_lines_to(progress: _Progress):
    """The components' progress lines on the terminal too; they stay in the log as well."""
    handler = _ProgressLines(progress)
    logger = logging.getLogger(PROGRESS_LOGGER)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def run_pipeline(
    config: PipelineConfig, out=sys.stdout, earlier_log: str | None = None, until: str | None = None
):
    """Runs the pipeline (up to the component `until`, when given); returns its RunReport, the error
    that stopped it (None when it completed) and the log file. `earlier_log` (what the libraries said
    before the run, e.g. while the inputs were checked) starts the run's log and is removed."""
    log_path = new_log_file(os.path.join(os.path.abspath(config.output_root), "logs"), config.pipeline_name)
    if earlier_log:
        shutil.move(earlier_log, log_path)
    out.write(
        f"mian run: pipeline {config.pipeline_name!r}, data {config.data_dir}, "
        f"model {config.training.model}{f', span {config.span}' if config.span else ''}\n"
        f"  library logs: {log_path}\n"
    )
    out.flush()
    error = None
    started = time.monotonic()
    # The libraries print while they are imported too: import them with the output already redirected.
    with output_to(log_path) as output:
        terminal = output.out
        from mian.cli.run_report import RunReport, format_report, read_report
        from mian.pipeline.local_runner import run
        from mian.stages.eval_config import slice_features

        generate_if_requested(config)
        progress = _Progress(config, terminal)
        progress.start()
        try:
            with _progress_lines_to(progress):
                run(config, until)
        except Exception as failure:  # the run stops; the report says where and why
            logging.exception("the pipeline failed")
            error = f"{type(failure).__name__}: {failure}"
        finally:
            progress.stop.set()
            progress.join()
        try:
            report = read_report(config.metadata_path, config.pipeline_name)
        except LookupError:  # the pipeline failed before its first component ran
            report = RunReport(components=[], metrics={}, blessed=None, gate_failures=[], pushed_path=None)
        slices = slice_features(config.dataset())
        summary = format_report(report, slices)
        # A run up to a component (a backfill's earlier spans, ingested and checked) has no page of its
        # own: the run that trains on them reports.
        reported = bool(report.run_id) and until is None
        page = _report_page(config, report, slices) if reported else None
    out.write(summary + "\n")
    out.write(f"total: {time.monotonic() - started:.1f} s\n")
    if error:
        out.write(f"\nerror: {error}\n(details in {log_path})\n")
    if reported:
        out.write(f"report: {page}\n" if page else f"report: not written (details in {log_path})\n")
    out.flush()
    return report, error, log_path


def _report_page(config: PipelineConfig, report, slices: list[str]) -> str | None:
    """The run's HTML report (mian.cli.report_page), or None when it could not be written: the run's
    outcome stands either way."""
    from mian.cli.report_page import report_path, write_report_page

    path = report_path(config.output_root, config.pipeline_name, report.run_id)
    try:
        return write_report_page(report, config.pipeline_name, path, slices)
    except Exception:
        logging.exception("the run report could not be written")
        return None
