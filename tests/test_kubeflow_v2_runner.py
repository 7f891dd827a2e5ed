"""The Kubeflow V2 runner compiles a spec open-source KFP v2 and Vertex AI can run: every component in
order, one image, no resolver executor, and nothing the data decides baked in."""

import json

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from mian.cli.main import main
from mian.components.click_log_example_gen.inputs import RESOLVED
from mian.config.pipeline_config import PipelineConfig
from mian.data.synthetic import GeneratorConfig, generate
from mian.pipeline.kubeflow_v2_runner import compile_pipeline
from mian.pipeline.mian_pipeline import COMPONENTS, DRIFT_GATE, RESOLVED_AT_RUN_TIME, WINDOW

IMAGE = "registry.example.com/mian:test"


def compiled(tmp_path, name: str, partition_by_day: bool) -> pipeline_spec_pb2.PipelineSpec:
    data = tmp_path / "data"
    generate(
        str(data), GeneratorConfig(users=20, items=10, days=3, seed=1, partition_by_day=partition_by_day)
    )
    config = PipelineConfig(data_dir=str(data), output_root=str(tmp_path / "runs"), pipeline_name="mian-kfp")
    path = compile_pipeline(config, IMAGE, str(tmp_path / "spec" / name))
    with open(path) as f:
        loaded = yaml.safe_load(f) if name.endswith(".yaml") else json.load(f)["pipelineSpec"]
    return json_format.ParseDict(loaded, pipeline_spec_pb2.PipelineSpec())


@pytest.mark.parametrize(
    "name, daily", [("mian_pipeline.json", False), ("mian_pipeline.yaml", True)], ids=["vertex", "kfp-daily"]
)
def test_the_compiled_spec_runs_without_resolvers_and_decides_nothing_at_compile_time(tmp_path, name, daily):
    spec = compiled(tmp_path, name, daily)
    tasks = spec.root.dag.tasks
    expected = list(COMPONENTS)
    if daily:
        expected[expected.index("AnomaliesGate") + 1 : expected.index("AnomaliesGate") + 1] = [
            DRIFT_GATE,
            WINDOW,
        ]
    assert set(tasks) == set(expected)
    # Every task comes after the tasks it depends on.
    position = {name: i for i, name in enumerate(expected)}
    for task_name, task in tasks.items():
        assert all(position[u] < position[task_name] for u in task.dependent_tasks), task_name
    gated = WINDOW if daily else "Transform"
    assert "AnomaliesGate" in tasks[gated].dependent_tasks  # anomalies stop the run before Transform
    if daily:
        assert DRIFT_GATE in tasks[WINDOW].dependent_tasks  # and so does drift
    assert {"Trainer", "BaselineModel"} <= set(tasks["Evaluator"].dependent_tasks)

    executors = spec.deployment_spec["executors"]
    assert not [e for e in executors.values() if "resolver" in e or "importer" in e]
    assert {e["container"]["image"] for e in executors.values()} == {IMAGE}
    # What the components resolve when they run is not among the compiled parameters, and those
    # components run uncached (Kubeflow runs no custom driver to key their cache on it).
    for task_name in RESOLVED_AT_RUN_TIME:
        parameters = tasks[task_name].inputs.parameters
        assert not set(parameters) & {*RESOLVED, "source"}, (task_name, list(parameters))
        assert not tasks[task_name].caching_options.enable_cache
    assert tasks["Transform"].caching_options.enable_cache
    # The module file's functions are named by import path, so the image needs no uploaded module.
    text = json_format.MessageToJson(spec)
    assert "mian.pipeline.module_file.preprocessing_fn" in text and "mian.pipeline.module_file.run_fn" in text


def test_schedule_dry_run_prints_each_targets_request_for_a_daily_recurring_run(tmp_path, capsys):
    compiled(tmp_path, "mian_pipeline.yaml", True)
    compiled(tmp_path, "mian_pipeline.json", True)
    common = ["--cron", "30 5 * * *", "--pipeline-root", "gs://bucket/root", "--dry-run"]

    spec = str(tmp_path / "spec" / "mian_pipeline.yaml")
    assert main(["schedule", "--spec", spec, "--target", "kfp", *common]) == 0
    kfp = json.loads(capsys.readouterr().out)
    assert kfp["trigger"]["cron_schedule"]["cron"] == "0 30 5 * * *"  # KFP's cron: seconds first
    assert (kfp["max_concurrency"], kfp["no_catchup"], kfp["mode"]) == (1, True, "ENABLE")
    assert kfp["runtime_config"]["pipeline_root"] == "gs://bucket/root"
    assert "ClickLogExampleGen" in kfp["pipeline_spec"]["root"]["dag"]["tasks"]

    spec = str(tmp_path / "spec" / "mian_pipeline.json")
    vertex_args = ["--target", "vertex", "--project", "proj", "--location", "europe-west4", *common]
    assert main(["schedule", "--spec", spec, *vertex_args]) == 0
    vertex = json.loads(capsys.readouterr().out)
    schedule = vertex["schedule"]
    assert vertex["parent"] == "projects/proj/locations/europe-west4"
    assert schedule["cron"] == "TZ=UTC 30 5 * * *" and int(schedule["maxConcurrentRunCount"]) == 1
    job = schedule["createPipelineJobRequest"]["pipelineJob"]
    assert job["runtimeConfig"]["gcsOutputDirectory"] == "gs://bucket/root"
    assert "ClickLogExampleGen" in job["pipelineSpec"]["root"]["dag"]["tasks"]

    # A cron of the wrong shape is one line and a usage error.
    assert main(["schedule", "--spec", spec, *vertex_args, "--cron", "0 0 6 * * *"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--cron '0 0 6 * * *': give the 5 fields" in err[0]
