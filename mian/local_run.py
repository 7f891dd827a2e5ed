"""`mian run`: the pipeline on this machine, with progress on the terminal and the noise in a log file.

While the pipeline runs, everything the libraries print (Python logging, warnings, TensorFlow's C++
logs, Keras' epoch lines) goes to a log file; the terminal shows each component as it starts and
finishes, with its seconds. At the end comes the report read from ML Metadata (mian.run_report).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import sys
import threading
import time

from mian.pipeline_config import PipelineConfig


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

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.poll()
        self.poll()

    def poll(self) -> None:
        from tfx.orchestration import metadata

        from mian.run_report import component_runs, latest_run

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


@contextlib.contextmanager
def _output_to(log_path: str):
    """Sends file descriptors 1 and 2, Python logging and warnings to `log_path`; yields the terminal."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(1), "w")
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    with open(log_path, "a") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        file_handler = logging.StreamHandler(log)
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.handlers = [file_handler]
        root.setLevel(logging.INFO)
        logging.captureWarnings(True)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            root.handlers, root.level = saved_handlers, saved_level
            logging.captureWarnings(False)
            terminal.close()


def run_pipeline(config: PipelineConfig, out=sys.stdout):
    """Runs the pipeline; returns its RunReport, the error that stopped it (None when it completed)
    and the log file."""
    log_dir = os.path.join(os.path.abspath(config.output_root), "logs")
    os.makedirs(log_dir, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_path = os.path.join(log_dir, f"{config.pipeline_name}-{stamp}.log")
    out.write(
        f"mian run: pipeline {config.pipeline_name!r}, data {config.data_dir}, "
        f"model {config.training.model}\n"
        f"  library logs: {log_path}\n"
    )
    out.flush()
    error = None
    started = time.monotonic()
    # The libraries print while they are imported too: import them with the output already redirected.
    with _output_to(log_path) as terminal:
        from mian.eval_config import slice_features
        from mian.run_report import format_report, read_report
        from pipeline.local_runner import run

        config.prepare_data()
        progress = _Progress(config, terminal)
        progress.start()
        try:
            run(config)
        except Exception as failure:  # the run stops; the report says where and why
            logging.exception("the pipeline failed")
            error = f"{type(failure).__name__}: {failure}"
        finally:
            progress.stop.set()
            progress.join()
        report = read_report(config.metadata_path, config.pipeline_name)
        summary = format_report(report, slice_features(config.dataset()))
    out.write(summary + "\n")
    out.write(f"total: {time.monotonic() - started:.1f} s\n")
    if error:
        out.write(f"\nerror: {error}\n(details in {log_path})\n")
    out.flush()
    return report, error, log_path


def send_stderr_to(log_path: str) -> None:
    """From now on, file descriptor 2 writes to `log_path` (TensorFlow complains at interpreter exit)."""
    sys.stderr.flush()
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 2)
    os.close(fd)
