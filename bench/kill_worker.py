"""Kill one worker of a two-worker training job, restart the job, and report whether it resumes.

    .venv/bin/python bench/kill_worker.py [--pipeline-root runs/pipelines/mian] [--data runs/data/synthetic]
        [--model mian] [--epochs 4] [--wait 120]

Runs `mian train-worker` twice on localhost with one TF_CONFIG (MultiWorkerMirroredStrategy) on the
Transform output of a `make run` pipeline. Once the chief has backed up an epoch, worker 1 is killed
(SIGKILL). It reports what the surviving chief does within --wait seconds (fails or hangs: a cluster
manager restarts a job whose member died), stops it if it is still running, then starts both workers
again with the same arguments and reports how many epochs the restarted job trained (fewer than
--epochs: it resumed from BackupAndRestore's checkpoint) and whether both exited cleanly.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from mian.cli.train_worker import localhost_tf_configs  # noqa: E402
from mian.numbered_dirs import newest_numbered  # noqa: E402
from mian.stages.trainer import HISTORY_FILE  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pipeline-root", default="runs/pipelines/mian")
    parser.add_argument("--data", default="runs/data/synthetic")
    parser.add_argument("--model", default="mian")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to watch the surviving chief")
    parser.add_argument("--work", default=None)
    args = parser.parse_args()

    transform = os.path.join(args.pipeline_root, "Transform")
    command = [sys.executable, "-m", "mian.cli.main", "train-worker", "--data", args.data]
    command += ["--model", args.model, "--epochs", str(args.epochs), "--patience", str(args.epochs)]
    command += [
        "--seed",
        "0",
        "--transform-graph",
        newest_numbered(os.path.join(transform, "transform_graph")),
    ]
    command += ["--transformed-examples", newest_numbered(os.path.join(transform, "transformed_examples"))]
    work = args.work or tempfile.mkdtemp(prefix="mian-kill-worker-")
    os.makedirs(work, exist_ok=True)
    command += ["--run-dir", os.path.join(work, "run"), "--serving-dir", os.path.join(work, "serving")]
    tf_configs = localhost_tf_configs(2)
    base_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": REPO}

    def start_job(tag: str) -> list[subprocess.Popen]:
        workers = []
        for index in range(2):
            env = {**base_env, "TF_CONFIG": tf_configs[index]}
            # The child keeps its own copy of the descriptor: the file can be closed here.
            with open(os.path.join(work, f"{tag}-worker{index}.log"), "w") as log:
                workers.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
        return workers

    started = time.perf_counter()
    chief, worker = start_job("first")
    pattern = os.path.join(work, "run", "backup", "**", "checkpoint")
    while not glob.glob(pattern, recursive=True):
        if chief.poll() is not None or worker.poll() is not None:
            sys.exit(f"a worker exited before the first backup; logs in {work}")
        time.sleep(0.1)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    killed_at = time.perf_counter()
    print(f"worker 1 killed {killed_at - started:.0f} s after the start, after the first backup")
    try:
        code = chief.wait(timeout=args.wait)
        print(f"the chief exited with code {code} {time.perf_counter() - killed_at:.0f} s later")
    except subprocess.TimeoutExpired:
        chief.kill()
        chief.wait()
        print(f"the chief was still running {args.wait:.0f} s later (waiting on its peer); stopped it")

    chief, worker = start_job("restart")
    codes = [chief.wait(), worker.wait()]
    with open(os.path.join(work, "run", HISTORY_FILE)) as f:
        history = json.load(f)
    trained = len(history["epochs"]["loss"])
    exported = os.path.exists(os.path.join(work, "serving", "saved_model.pb"))
    print(
        f"restarted job: exit codes {codes}, {history['replicas']} replicas, trained {trained} of "
        f"{args.epochs} epochs (fewer: resumed from the backup), exported: {exported}; logs in {work}"
    )


if __name__ == "__main__":
    main()
