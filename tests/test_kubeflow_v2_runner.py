"""The Kubeflow V2 runner compiles the pipeline to a KFP v2 spec with every component, in order."""

import json

from mian.config.pipeline_config import PipelineConfig
from mian.data.synthetic import GeneratorConfig, generate
from mian.pipeline.kubeflow_v2_runner import compile_pipeline
from mian.pipeline.mian_pipeline import COMPONENTS

IMAGE = "registry.example.com/mian:test"


def test_compiled_spec_has_every_component_in_dependency_order(tmp_path):
    data = tmp_path / "data"
    generate(str(data), GeneratorConfig(users=20, items=10, days=3, seed=1))
    config = PipelineConfig(data_dir=str(data), output_root=str(tmp_path / "runs"), pipeline_name="mian-kfp")
    path = compile_pipeline(config, IMAGE, str(tmp_path / "spec" / "mian_pipeline.json"))
    spec = json.loads(open(path).read())
    pipeline_spec = spec.get("pipelineSpec", spec)
    tasks = pipeline_spec["root"]["dag"]["tasks"]
    # The resolver compiles to one task per channel it resolves ("<id>-model-resolver", ...).
    component = {name: name.split("-")[0] for name in tasks}
    assert set(component.values()) == set(COMPONENTS)

    # Every task comes after the tasks it depends on, in COMPONENTS' order.
    position = {name: i for i, name in enumerate(COMPONENTS)}
    dependencies = {
        component[name]: {component[u] for u in task.get("dependentTasks", [])}
        for name, task in tasks.items()
    }
    for name, upstream in dependencies.items():
        assert all(position[u] < position[name] for u in upstream), (name, upstream)
    assert "AnomaliesGate" in dependencies["Transform"]  # anomalies stop the run before Transform
    assert {"Trainer", "latest_blessed_model_resolver"} <= dependencies["Evaluator"]
    assert "Evaluator" in dependencies["Pusher"]

    executors = pipeline_spec["deploymentSpec"]["executors"]
    images = {e["container"]["image"] for e in executors.values() if "container" in e}
    assert images == {IMAGE}
    # The module file's functions are named by import path, so the image needs no uploaded module.
    text = json.dumps(pipeline_spec)
    assert "mian.pipeline.module_file.preprocessing_fn" in text and "mian.pipeline.module_file.run_fn" in text
