"""The model server over gRPC: same answers as the SavedModel in process, batching, hot swap, bad
requests, and a clean shutdown. The server runs as a subprocess on a free local port."""

import concurrent.futures
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from grpc_health.v1 import health_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from mian.cli.main import main
from mian.data.ingest.time_context import time_context
from mian.names import HISTORY_LENGTH_FEATURE, RAW_SIGNATURE, TIME_CONTEXT_SIGNATURE
from mian.serving.model_versions import load_version, read_warmup_requests
from mian.serving.process import ServerProcess
from mian.stages.export import raw_input_fields
from mian.stages.warmup import BATCH_SIZES, write_warmup_requests
from tests.model_helpers import REPO, push_model, raw_example, run_transform, serialized, synthetic_config

# Runs pipelines, servers or training end to end: skipped by `make unit`.
pytestmark = pytest.mark.e2e

ITEMS = [f"i{n}" for n in range(8)]


def raw_examples(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    examples = []
    for _ in range(count):
        history = [(rng.choice(ITEMS), f"c{rng.randrange(3)}") for _ in range(rng.randrange(6))]
        examples.append(
            raw_example(
                rng.choice(ITEMS + ["unseen"]),
                f"c{rng.randrange(4)}",
                float(rng.randrange(1, 50)),
                history=history,
                gender=rng.choice("FM"),
                hour=rng.randrange(24),
                clicked=rng.randrange(2),
            )
        )
    return examples


def start_server(base: str, *options: str) -> ServerProcess:
    return ServerProcess(base, "--poll-seconds", "0.3", *options, python_path=REPO)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Two exported versions (weights from seeds 1 and 2); only version 1 is in the served directory."""
    temp = tmp_path_factory.mktemp("serving")
    _, _, tft_output, custom_config = run_transform(
        raw_examples(40, seed=0), raw_examples(1, seed=1), str(temp / "tft")
    )
    staged = str(temp / "staged")
    paths = {v: push_model(staged, v, tft_output, custom_config, seed=v) for v in (1, 2)}
    base = temp / "base"
    os.makedirs(base / "mian")
    shutil.copytree(paths[1], base / "mian" / "1")
    return str(base), paths


@pytest.fixture(scope="module")
def server(models):
    base, _ = models
    server = start_server(base)
    yield server
    assert server.stop() == 0


def predict_request(examples: list[bytes], signature="serving_default", version=None):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "mian"
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = version
    request.inputs["examples"].CopyFrom(tf.make_tensor_proto(examples, dtype=tf.string))
    return request


def probabilities(response) -> np.ndarray:
    return tf.make_ndarray(response.outputs["probability"]).reshape(-1)


def in_process(path: str, examples: list[bytes]) -> np.ndarray:
    model = tf.saved_model.load(path)
    return (
        model.signatures["serving_default"](examples=tf.constant(examples))["probability"].numpy().reshape(-1)
    )


def raw_tensors(examples: list[dict]) -> dict:
    """The serving_raw inputs of raw example dicts: histories padded, hist_len their lengths."""
    config = synthetic_config()
    histories = {config.history_feature(c) for c in config.history_columns}
    tensors = {}
    for name, dtype in raw_input_fields(config).items():
        if name in histories:
            width = max(1, max(len(e[name]) for e in examples))
            padded = [e[name] + [""] * (width - len(e[name])) for e in examples]
            tensors[name] = tf.make_tensor_proto(padded, dtype=dtype)
        else:
            tensors[name] = tf.make_tensor_proto([e[name][0] for e in examples], dtype=dtype)
    lengths = [len(e["hist_item_id"]) for e in examples]
    tensors[HISTORY_LENGTH_FEATURE] = tf.make_tensor_proto(lengths, dtype=tf.int64)
    return tensors


def test_grpc_answers_equal_the_in_process_saved_model(server, models):
    _, paths = models
    raw = raw_examples(32, seed=5)
    examples = [serialized(e) for e in raw]
    expected = in_process(paths[1], examples)

    response = server.predictions.Predict(predict_request(examples), timeout=30)
    assert response.model_spec.version.value == 1
    np.testing.assert_allclose(probabilities(response), expected, atol=1e-6)

    request = predict_pb2.PredictRequest()
    request.model_spec.name, request.model_spec.signature_name = "mian", RAW_SIGNATURE
    for name, proto in raw_tensors(raw).items():
        request.inputs[name].CopyFrom(proto)
    np.testing.assert_allclose(
        probabilities(server.predictions.Predict(request, timeout=30)), expected, atol=1e-6
    )

    classify = classification_pb2.ClassificationRequest()
    classify.model_spec.name = "mian"
    for e in examples:
        classify.input.example_list.examples.add().ParseFromString(e)
    result = server.predictions.Classify(classify, timeout=30).result.classifications
    clicked = [next(c.score for c in r.classes if c.label == "1") for r in result]
    np.testing.assert_allclose(clicked, expected, atol=1e-6)

    metadata = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    metadata.model_spec.name = "mian"
    signatures = get_model_metadata_pb2.SignatureDefMap()
    server.predictions.GetModelMetadata(metadata, timeout=30).metadata["signature_def"].Unpack(signatures)
    assert {"serving_default", RAW_SIGNATURE, "attention"} <= set(signatures.signature_def)


def load(server, clients: int, requests: int, examples: list[bytes]) -> list:
    """`clients` threads sending `requests` single-example Predicts each; returns every error."""

    def client(seed):
        rng = random.Random(seed)
        errors = []
        for _ in range(requests):
            try:
                server.predictions.Predict(predict_request([rng.choice(examples)]), timeout=60)
            except grpc.RpcError as error:
                errors.append(error.code())
        return errors

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        return [e for errors in pool.map(client, range(clients)) for e in errors]


def test_concurrent_clients_get_no_errors_and_batching_merges_requests(server):
    examples = [serialized(e) for e in raw_examples(50, seed=6)]
    calls_before = server.model_calls()
    assert load(server, clients=16, requests=500, examples=examples) == []
    calls = server.model_calls() - calls_before
    # 8,000 requests of one example each, answered with fewer model calls: requests were merged.
    assert 0 < calls < 8000 * 0.8, calls


MALFORMED_KINDS = (
    "unknown model",
    "unknown version",
    "unknown signature",
    "missing input",
    "wrong dtype",
    "wrong shape",
    "garbage example",
    "empty classify",
)


def malformed(kind: str, rng: random.Random, example: bytes):
    """A bad request of `kind` and the status code TF Serving gives it."""
    service = "Predict"
    request = predict_request([example])
    code = grpc.StatusCode.INVALID_ARGUMENT
    if kind == "unknown model":
        request.model_spec.name, code = "nope", grpc.StatusCode.NOT_FOUND
    elif kind == "unknown version":
        request.model_spec.version.value, code = rng.randrange(100, 10**6), grpc.StatusCode.NOT_FOUND
    elif kind == "unknown signature":
        request.model_spec.signature_name = f"sig{rng.randrange(1000)}"
    elif kind == "missing input":
        request = predict_request([example], signature=RAW_SIGNATURE)
        del request.inputs["examples"]
        request.inputs["item_id"].CopyFrom(tf.make_tensor_proto(["i1"]))
    elif kind == "wrong dtype":
        request.inputs["examples"].CopyFrom(tf.make_tensor_proto(rng.random(), dtype=tf.float32))
    elif kind == "wrong shape":
        shape = rng.choice([[], [1, 1], [2, 2, 1]])
        request.inputs["examples"].CopyFrom(tf.make_tensor_proto(np.full(shape, b"x", dtype=object)))
    elif kind == "garbage example":
        # Field 1 announcing 127 bytes that never come: not a tf.Example whatever follows.
        garbage = b"\x0a\x7f" + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        request = predict_request([example, garbage])
    else:
        service, request = "Classify", classification_pb2.ClassificationRequest()
        request.model_spec.name = "mian"
    return service, request, code


def test_malformed_requests_get_the_right_codes_and_the_server_keeps_serving(server):
    examples = [serialized(e) for e in raw_examples(5, seed=7)]
    rng = random.Random(0)
    wrong = []
    for n in range(1000):
        kind = MALFORMED_KINDS[n % len(MALFORMED_KINDS)]
        service, request, code = malformed(kind, rng, examples[0])
        try:
            getattr(server.predictions, service)(request, timeout=30)
            wrong.append((kind, "OK"))
        except grpc.RpcError as error:
            if error.code() != code:
                wrong.append((kind, error.code(), error.details()))
    assert wrong == []
    good = server.predictions.Predict(predict_request(examples), timeout=30)
    version = good.model_spec.version.value
    assert len(probabilities(good)) == 5 and np.isfinite(probabilities(good)).all()
    assert version == 1


def test_mian_score_reads_csv_json_lines_and_tfrecords(server, models, tmp_path):
    import csv
    import json

    from mian.tools.score import score

    _, paths = models
    raw = raw_examples(23, seed=10)
    expected = in_process(paths[1], [serialized(e) for e in raw])
    fields = list(raw_input_fields(synthetic_config()))
    with open(tmp_path / "impressions.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows({k: "|".join(map(str, e[k])) for k in fields} for e in raw)
    with open(tmp_path / "impressions.jsonl", "w") as f:
        f.writelines(
            json.dumps({k: e[k] if k.startswith("hist_") else e[k][0] for k in fields}) + "\n" for e in raw
        )
    with tf.io.TFRecordWriter(str(tmp_path / "examples.tfrecord.gz"), "GZIP") as writer:
        for e in raw:
            writer.write(serialized(e))
    target = f"127.0.0.1:{server.port}"
    for name in ("impressions.csv", "impressions.jsonl", "examples.tfrecord.gz"):
        scored = list(score(target, str(tmp_path / name), "mian", batch_size=7))
        np.testing.assert_allclose(scored, expected, atol=1e-6, err_msg=name)

    out = tmp_path / "scores.txt"
    command = [sys.executable, "-m", "mian.cli.main", "score", "--target", target, "--input"]
    command += [str(tmp_path / "impressions.csv"), "--out", str(out)]
    subprocess.run(
        command, check=True, env={**os.environ, "PYTHONPATH": REPO}, capture_output=True, timeout=120
    )
    np.testing.assert_allclose([float(v) for v in out.read_text().split()], expected, atol=1e-5)


def test_rest_predict_and_status_answer_like_grpc(server, models):
    import base64
    import json

    _, paths = models
    examples = [serialized(e) for e in raw_examples(6, seed=11)]
    body = json.dumps({"instances": [{"b64": base64.b64encode(e).decode()} for e in examples]}).encode()
    url = f"http://127.0.0.1:{server.rest_port}/v1/models/mian"
    with urllib.request.urlopen(urllib.request.Request(f"{url}:predict", data=body)) as response:
        predictions = np.array(json.load(response)["predictions"]).reshape(-1)
    np.testing.assert_allclose(predictions, in_process(paths[1], examples), atol=1e-6)
    with urllib.request.urlopen(url) as response:
        assert json.load(response)["model_version_status"][0]["state"] == "AVAILABLE"
    try:
        urllib.request.urlopen(urllib.request.Request(f"{url}/versions/99:predict", data=body))
        raise AssertionError("an unknown version must fail")
    except urllib.error.HTTPError as error:
        assert error.code == 404


def test_tls_and_the_bound_on_concurrent_requests(models, tmp_path):
    base, paths = models
    cert, key = self_signed_certificate(tmp_path)
    server = start_server(base, "--tls-cert", cert, "--tls-key", key, "--max-concurrent-rpcs", "1")
    try:
        with open(cert, "rb") as f:
            credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
        options = [("grpc.ssl_target_name_override", "localhost")]
        with grpc.secure_channel(f"127.0.0.1:{server.port}", credentials, options) as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            examples = [serialized(e) for e in raw_examples(4, seed=12)]
            answer = probabilities(stub.Predict(predict_request(examples), timeout=30))
            np.testing.assert_allclose(answer, in_process(paths[1], examples), atol=1e-6)

            def call(_):
                try:
                    stub.Predict(predict_request(examples), timeout=30)
                    return grpc.StatusCode.OK
                except grpc.RpcError as error:
                    return error.code()

            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                codes = list(pool.map(call, range(400)))
        assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}
        assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) > 0 and codes.count(grpc.StatusCode.OK) > 0
        # Plain text against a TLS server is refused.
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as plain:
            try:
                prediction_service_pb2_grpc.PredictionServiceStub(plain).Predict(
                    predict_request(examples), timeout=30
                )
                raise AssertionError("a plain-text call must not be answered")
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        assert server.stop() == 0


def self_signed_certificate(directory) -> tuple[str, str]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = str(directory / "server.pem"), str(directory / "server.key")
    with open(cert_path, "wb") as f:
        f.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return cert_path, key_path


def wait_until(condition, what: str, seconds: float = 60) -> None:
    """Poll `condition` until it holds; the deadline only guards against a hang, it bounds no speed."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        time.sleep(0.1)


def wait_for_version(server, version: int) -> None:
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "mian"

    def available() -> bool:
        statuses = server.models.GetModelStatus(request, timeout=10).model_version_status
        return version in [s.version for s in statuses]

    wait_until(available, f"version {version} available")


def wait_for_model_calls(server, before: int) -> None:
    """Until the server has answered requests beyond its count `before`: a load is under way."""
    wait_until(lambda: server.model_calls() > before, "requests answered")


def test_hot_swap_under_load_and_a_corrupt_version_are_invisible_to_clients(server, models):
    base, paths = models
    examples = [serialized(e) for e in raw_examples(50, seed=8)]
    with concurrent.futures.ThreadPoolExecutor(1) as background:
        calls = server.model_calls()
        running = background.submit(load, server, 8, 250, examples)
        wait_for_model_calls(server, calls)
        shutil.copytree(paths[2], os.path.join(base, "mian", "2"))  # copied file by file, as the Pusher does
        assert running.result() == []
    wait_for_version(server, 2)
    response = server.predictions.Predict(predict_request(examples), timeout=30)
    assert response.model_spec.version.value == 2
    np.testing.assert_allclose(probabilities(response), in_process(paths[2], examples), atol=1e-6)
    pinned = server.predictions.Predict(predict_request(examples, version=1), timeout=30)
    np.testing.assert_allclose(probabilities(pinned), in_process(paths[1], examples), atol=1e-6)

    corrupt = os.path.join(base, "mian", "3")
    os.makedirs(os.path.join(corrupt, "variables"))
    with open(os.path.join(corrupt, "saved_model.pb"), "wb") as f:
        f.write(b"not a SavedModel")
    with concurrent.futures.ThreadPoolExecutor(1) as background:
        running = background.submit(load, server, 8, 100, examples)
        time.sleep(1.5)  # several polls see the corrupt version
        assert running.result() == []
    response = server.predictions.Predict(predict_request(examples), timeout=30)
    assert response.model_spec.version.value == 2


def test_export_writes_warmup_requests_that_serve_every_signature_alike(models):
    _, paths = models
    requests = read_warmup_requests(paths[1])
    by_signature = {}
    for request in requests:
        by_signature.setdefault(request.model_spec.signature_name, []).append(request)
    assert set(by_signature) == {"serving_default", RAW_SIGNATURE, "attention", TIME_CONTEXT_SIGNATURE}
    model = tf.saved_model.load(paths[1])
    for batch in range(len(BATCH_SIZES)):
        answers = {}
        for name, same_size in by_signature.items():
            request = same_size[batch]
            inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
            assert {len(v) for v in inputs.values()} == {BATCH_SIZES[batch]}
            outputs = model.signatures[name](**inputs)
            if name == TIME_CONTEXT_SIGNATURE:  # the derived fields, as the Python rule derives them
                examples = [tf.train.Example.FromString(e) for e in inputs["examples"]]
                times = [e.features.feature["timestamp"].int64_list.value[0] for e in examples]
                for field, values in outputs.items():
                    assert [v.decode() for v in values.numpy()] == [time_context(t)[field] for t in times]
                continue
            answers[name] = outputs["probability"].numpy().reshape(-1)
        # Raw tensors and tf.Examples of the same rows give the same probabilities.
        np.testing.assert_allclose(answers[RAW_SIGNATURE], answers["serving_default"], atol=1e-6)
        np.testing.assert_allclose(answers["attention"], answers["serving_default"], atol=1e-6)
    # Real values: the candidates are the items of the Transform vocabulary (a SavedModel asset).
    examples = tf.make_ndarray(by_signature["serving_default"][-1].inputs["examples"])
    items = {tf.train.Example.FromString(e).features.feature["item_id"].bytes_list.value[0] for e in examples}
    with open(os.path.join(paths[1], "assets", "item_id"), "rb") as f:
        assert items == set(f.read().split())


def test_a_version_whose_warmup_requests_fail_is_not_loaded(models, tmp_path):
    _, paths = models
    copy = str(tmp_path / "1")
    shutil.copytree(paths[1], copy)
    assert load_version(copy, 1).version == 1  # replays the exported warm-up requests
    request = read_warmup_requests(copy)[0]
    request.model_spec.signature_name = "renamed"
    write_warmup_requests(copy, [request])
    with pytest.raises(ValueError, match="'renamed'"):
        load_version(copy, 1)


def health(server, service: str = "") -> str:
    request = health_pb2.HealthCheckRequest(service=service)
    return health_pb2.HealthCheckResponse.ServingStatus.Name(server.health.Check(request, timeout=10).status)


def test_health_check_says_serving_once_a_version_is_loaded(models, tmp_path):
    _, paths = models
    os.makedirs(tmp_path / "mian")
    server = start_server(str(tmp_path))
    try:
        services = ("", "tensorflow.serving.PredictionService", "tensorflow.serving.ModelService")
        assert [health(server, s) for s in services] == ["NOT_SERVING"] * 3
        with pytest.raises(grpc.RpcError) as unknown:
            health(server, "no.such.Service")
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
        shutil.copytree(paths[1], tmp_path / "mian" / "1")
        wait_until(lambda: health(server) == "SERVING", "health SERVING")
        assert [health(server, s) for s in services] == ["SERVING"] * 3
        response = server.predictions.Predict(predict_request([serialized(raw_examples(1, seed=3)[0])]))
        assert response.model_spec.version.value == 1
    finally:
        assert server.stop() == 0


def test_sigterm_during_load_drains_in_flight_requests_and_exits_zero(models):
    base, _ = models
    server = start_server(base, "--no-batching")
    examples = [serialized(e) for e in raw_examples(20, seed=9)]
    with concurrent.futures.ThreadPoolExecutor(1) as background:
        calls = server.model_calls()
        running = background.submit(load, server, 8, 200, examples)
        # Signal once requests are being answered, however slow the machine is to start the clients.
        wait_for_model_calls(server, calls)
        server.process.send_signal(signal.SIGTERM)
        errors = running.result()
    assert server.process.wait(timeout=60) == 0
    # Every request whose handler had started when the signal came finished; requests sent after it
    # are refused (UNAVAILABLE), and one the transport had taken in but the server never started may
    # be CANCELLED by gRPC's shutdown.
    report = server.process.stdout.read()
    started, finished = map(int, re.search(r"handlers started (\d+), finished (\d+)", report).groups())
    assert started == finished > 0
    assert set(errors) <= {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}
    assert started >= 8 * 200 - len(errors) > 0  # every answered request was counted
    assert server.stop() == 0


def test_logged_requests_show_the_one_feature_production_sends_otherwise(models, tmp_path, capfd):
    """The server logs what it scored; `mian skew` compares it with the training data's statistics and
    names the feature a client sends otherwise (every request says gender "M"), and no other."""
    base, _ = models
    logs = tmp_path / "requests"
    logged = start_server(base, "--log-requests", str(logs), "--log-sample", "1")
    try:
        skewed = [serialized({**e, "gender": ["M"]}) for e in raw_examples(400, seed=7)]
        for start in range(0, len(skewed), 50):
            logged.predictions.Predict(predict_request(skewed[start : start + 50]), timeout=30)
    finally:
        assert logged.stop() == 0
    # The training data's statistics, where a pipeline's StatisticsGen keeps them.
    training = tmp_path / "training.tfrecord"
    with tf.io.TFRecordWriter(str(training)) as writer:
        for e in raw_examples(3000, seed=0):
            writer.write(serialized(e))
    split = tmp_path / "runs" / "pipelines" / "shop" / "StatisticsGen" / "statistics" / "4" / "Split-train"
    os.makedirs(split)
    statistics = tfdv.generate_statistics_from_tfrecord(data_location=str(training))
    (split / "FeatureStats.pb").write_bytes(statistics.SerializeToString())

    args = ["skew", "--requests", str(logs), "--pipeline", "shop", "--output-root", str(tmp_path / "runs")]
    assert main(args) == 1
    out = capfd.readouterr().out.splitlines()
    assert out[0].startswith("400 logged examples against the training data of")
    assert [line for line in out if "skew:" in line] == [
        next(line for line in out if "feature 'gender': L-infinity distance" in line)
    ]
