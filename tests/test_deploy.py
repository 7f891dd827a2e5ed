"""The deployment files parse as what TF Serving, Kubernetes and `mian serve` read."""

import json
import os
import shlex
import subprocess

import yaml
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from mian.cli.main import build_parser
from mian.serving.health import SERVICES

DEPLOY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "deploy")


def test_models_config_is_a_model_server_config_for_mian():
    with open(os.path.join(DEPLOY, "models.config")) as f:
        config = text_format.Parse(f.read(), model_server_config_pb2.ModelServerConfig())
    (model,) = config.model_config_list.config
    assert (model.name, model.base_path, model.model_platform) == ("mian", "/models/mian", "tensorflow")


def test_kubernetes_manifest_serves_the_configured_model_on_grpc_and_rest():
    with open(os.path.join(DEPLOY, "kubernetes.yaml")) as f:
        documents = {d["kind"]: d for d in yaml.safe_load_all(f)}
    assert set(documents) == {"ConfigMap", "Deployment", "Service"}
    embedded = documents["ConfigMap"]["data"]["models.config"]
    (model,) = text_format.Parse(
        embedded, model_server_config_pb2.ModelServerConfig()
    ).model_config_list.config
    assert model.name == "mian"
    (container,) = documents["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["image"].startswith("tensorflow/serving:")
    assert "--model_config_file=/config/models.config" in container["args"]
    assert "--enable_batching" in container["args"]
    ports = {p["name"]: p["port"] for p in documents["Service"]["spec"]["ports"]}
    assert ports == {"grpc": 8500, "http": 8501}


def test_mian_serve_manifest_runs_a_valid_command_and_probes_grpc_health():
    with open(os.path.join(DEPLOY, "mian-serve.yaml")) as f:
        documents = {d["kind"]: d for d in yaml.safe_load_all(f)}
    (container,) = documents["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["mian", "serve"]
    args = build_parser().parse_args(["serve", *container["args"]])  # mian's own parser accepts them
    assert (args.host, args.port, args.rest_port) == ("0.0.0.0", 8500, 8501)
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == args.port
    assert container["readinessProbe"]["grpc"]["service"] in SERVICES
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert args.model_base in mounts
    ports = {p["name"]: p["targetPort"] for p in documents["Service"]["spec"]["ports"]}
    assert ports == {"grpc": args.port, "http": args.rest_port}


def test_training_job_runs_mian_train_worker_with_a_tf_config_per_pod():
    with open(os.path.join(DEPLOY, "train-workers.yaml")) as f:
        documents = {d["kind"]: d for d in yaml.safe_load_all(f)}
    job = documents["Job"]["spec"]
    (container,) = job["template"]["spec"]["containers"]
    workers = int({e["name"]: e["value"] for e in container["env"]}["WORKERS"])
    assert job["completionMode"] == "Indexed" and job["completions"] == job["parallelism"] == workers
    script = container["args"][0]
    command = shlex.split(script.splitlines()[-1])
    assert command[:3] == ["exec", "mian", "train-worker"]
    build_parser().parse_args(command[2:])  # mian's own parser accepts the arguments
    # The script's TF_CONFIG, for the pod of index 1: every worker's address and its own task.
    env = {**os.environ, "WORKERS": str(workers), "JOB_COMPLETION_INDEX": "1"}
    shown = subprocess.run(["sh", "-c", "\n".join(script.splitlines()[:-1]) + '\necho "$TF_CONFIG"'],
                           env=env, capture_output=True, text=True, check=True).stdout  # fmt: skip
    tf_config = json.loads(shown)
    service = documents["Service"]["metadata"]["name"]
    port = documents["Service"]["spec"]["ports"][0]["port"]
    assert tf_config == {
        "cluster": {"worker": [f"mian-train-{i}.{service}:{port}" for i in range(workers)]},
        "task": {"type": "worker", "index": 1},
    }
    assert job["template"]["spec"]["subdomain"] == service
