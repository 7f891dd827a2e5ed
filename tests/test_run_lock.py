"""One run of a pipeline at a time: a scheduled run that finds the previous one still going stops
without touching its metadata store, and a killed run leaves no lock behind."""

import os
import signal
import subprocess
import sys

from mian.cli.main import main
from mian.cli.run_lock import ALREADY_RUNNING, pipeline_lock
from mian.config.pipeline_config import PipelineConfig

HOLD = """
import sys, time
from mian.cli.run_lock import pipeline_lock
with pipeline_lock(sys.argv[1], sys.argv[2]):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_second_run_stops_while_the_first_holds_the_pipeline(tmp_path, capsys):
    config = PipelineConfig(
        data_dir=str(tmp_path / "data"),
        output_root=str(tmp_path / "runs"),
        pipeline_name="nightly",
        synthetic_data={"users": 20, "items": 10, "days": 3, "seed": 1},
    )
    (tmp_path / "nightly.yaml").write_text(
        f"data_dir: {config.data_dir}\noutput_root: {config.output_root}\npipeline_name: nightly\n"
        "synthetic_data: {users: 20, items: 10, days: 3, seed: 1}\n"
    )
    # The first run, in another process, holds the pipeline.
    first = subprocess.Popen(
        [sys.executable, "-c", HOLD, config.metadata_path, "nightly"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert first.stdout.readline().strip() == "held"
        before = set(os.listdir(os.path.dirname(config.metadata_path)))
        assert main(["run", "--config", str(tmp_path / "nightly.yaml")]) == ALREADY_RUNNING
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"pipeline 'nightly' is already running (pid {first.pid}" in err[0]
        # Nothing written beside the lock: no metadata store, no data generated.
        assert set(os.listdir(os.path.dirname(config.metadata_path))) == before
        assert not os.path.exists(config.data_dir)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # Killed, it left no lock: the next run takes the pipeline, and the lock names it.
    with pipeline_lock(config.metadata_path, "nightly"):
        with open(config.metadata_path + ".lock") as f:
            assert f.read() == str(os.getpid())
