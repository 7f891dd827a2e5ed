"""Latency and throughput of `mian serve` over gRPC, beside the in-process SavedModel on the same inputs.

    .venv/bin/python bench/serving_latency.py [--model-base runs/serving] [--examples GLOB]

Needs a pushed model and raw examples: `make run` leaves both (runs/serving/mian/<version>/ and the
test split under runs/pipelines/mian/). For batching on and then off, it starts the server, measures
p50/p99 of single-example and 128-example Predicts (sequential), and single-example throughput with
1, 8 and 32 concurrent clients; the in-process column calls the same SavedModel's serving_default in
this process, with as many threads. The ratio server/in-process is the server's overhead.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import glob
import os
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from mian.numbered_dirs import newest_numbered
from mian.serving.process import ServerProcess

SEQUENTIAL_REQUESTS = 300
THROUGHPUT_SECONDS = 5.0
CLIENTS = (1, 8, 32)


def request(examples: list[bytes]) -> predict_pb2.PredictRequest:
    r = predict_pb2.PredictRequest()
    r.model_spec.name = "mian"
    r.inputs["examples"].CopyFrom(tf.make_tensor_proto(examples, dtype=tf.string))
    return r


def percentiles(call, batches) -> tuple[float, float]:
    times = []
    for batch in batches:
        start = time.perf_counter()
        call(batch)
        times.append(time.perf_counter() - start)
    return float(np.percentile(times, 50) * 1000), float(np.percentile(times, 99) * 1000)


def throughput(call, examples: list[bytes], clients: int) -> float:
    """Single-example calls per second with `clients` threads calling for THROUGHPUT_SECONDS."""
    deadline = time.perf_counter() + THROUGHPUT_SECONDS

    def client(seed: int) -> int:
        rng = np.random.default_rng(seed)
        done = 0
        while time.perf_counter() < deadline:
            call([examples[rng.integers(len(examples))]])
            done += 1
        return done

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        return sum(pool.map(client, range(clients))) / THROUGHPUT_SECONDS


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-base", default="runs/serving")
    parser.add_argument(
        "--examples", default="runs/pipelines/mian/ClickLogExampleGen/examples/*/Split-test/*.gz"
    )
    args = parser.parse_args()
    files = glob.glob(args.examples)
    model = newest_numbered(os.path.join(args.model_base, "mian"))
    if not files or model is None:
        sys.exit("no pushed model or no examples: run `make run` first (or pass --model-base and --examples)")
    examples = [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP").take(2048)]
    rng = np.random.default_rng(0)
    singles = [[examples[i]] for i in rng.integers(len(examples), size=SEQUENTIAL_REQUESTS)]
    batches = [
        list(rng.choice(np.array(examples, dtype=object), 128)) for _ in range(SEQUENTIAL_REQUESTS // 3)
    ]

    serve = tf.saved_model.load(model).signatures["serving_default"]

    def local(batch):
        return serve(examples=tf.constant(batch))

    local(singles[0])
    rows = {
        "p50/p99 ms, 1 example": percentiles(local, singles),
        "p50/p99 ms, 128 examples": percentiles(local, batches),
    }
    rows.update({f"examples/s, {c} clients": throughput(local, examples, c) for c in CLIENTS})
    results = {"in-process": rows}
    for batching, options in (("batching on", ()), ("batching off", ("--no-batching",))):
        server = ServerProcess(args.model_base, *options)
        try:

            def remote(batch, stub=server.predictions):
                return stub.Predict(request(batch), timeout=60)

            remote(singles[0])
            rows = {
                "p50/p99 ms, 1 example": percentiles(remote, singles),
                "p50/p99 ms, 128 examples": percentiles(remote, batches),
            }
            calls_before = server.model_calls()
            for c in CLIENTS:
                rows[f"examples/s, {c} clients"] = throughput(remote, examples, c)
            rows["model calls per request (throughput runs)"] = (server.model_calls() - calls_before) / sum(
                rows[f"examples/s, {c} clients"] * THROUGHPUT_SECONDS for c in CLIENTS
            )
        finally:
            server.stop()
        results[f"server, {batching}"] = rows

    print(f"model {model}, {len(examples)} test examples, {os.cpu_count()} CPUs")
    names = list(results)
    print(f"{'measure':<44}" + "".join(f"{n:>24}" for n in names))
    for measure in results["server, batching on"]:
        cells = []
        for n in names:
            value = results[n].get(measure)
            if value is None:
                cells.append(f"{'-':>24}")
            elif isinstance(value, tuple):
                ratio = ""
                if n != "in-process" and measure in results["in-process"]:
                    ratio = f" ({value[0] / results['in-process'][measure][0]:.1f}x)"
                cells.append(f"{f'{value[0]:.2f}/{value[1]:.2f}{ratio}':>24}")
            else:
                ratio = ""
                if n != "in-process" and measure in results["in-process"]:
                    ratio = f" ({value / results['in-process'][measure]:.2f}x)"
                cells.append(f"{f'{value:.2f}{ratio}':>24}" if value < 10 else f"{f'{value:.0f}{ratio}':>24}")
        print(f"{measure:<44}" + "".join(cells))


if __name__ == "__main__":
    main()
