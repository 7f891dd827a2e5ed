"""Keeping the libraries' output (TensorFlow's start-up lines, absl and Beam logs, FutureWarnings) in a
log file, so that the terminal shows only the command's own output."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import logging
import os
import sys
from typing import TextIO

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def new_log_file(log_dir: str, name: str) -> str:
    """A fresh, time-stamped log file path under `log_dir` (created)."""
    os.makedirs(log_dir, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.join(log_dir, f"{name}-{stamp}.log")


@dataclasses.dataclass(frozen=True)
class Terminal:
    """Where a command writes its own output while the libraries' goes to the log."""

    out: TextIO
    err: TextIO


@contextlib.contextmanager
def output_to(log_path: str):
    """Sends file descriptors 1 and 2, Python logging and warnings to `log_path`; yields the Terminal."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = Terminal(os.fdopen(os.dup(1), "w"), os.fdopen(os.dup(2), "w"))
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    with open(log_path, "a") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        file_handler = logging.StreamHandler(log)
        file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
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
            terminal.out.close()
            terminal.err.close()


def send_stderr_to(log_path: str) -> None:
    """From now on, file descriptor 2 writes to `log_path` (TensorFlow complains at interpreter exit)."""
    sys.stderr.flush()
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 2)
    os.close(fd)
