"""`mian schedule`: the compiled pipeline as a recurring run, on open-source Kubeflow Pipelines or on
Vertex AI Pipelines.

- Open-source KFP v2: a `V2beta1RecurringRun` of the KFP API client (`kfp_server_api`, what the kfp
  SDK's `Client.create_recurring_run` sends), with the bare PipelineSpec inline, a 6-field cron (seconds
  first), `max_concurrency` 1 and no catch-up, sent to the API server's RecurringRunService.
- Vertex AI: a `CreateScheduleRequest` of `google.cloud.aiplatform_v1` (what `PipelineJob.create_schedule`
  sends), holding the PipelineJob, a 5-field cron with its time zone and `max_concurrent_run_count` 1.
Every run of a schedule gets the same parameters, so nothing in them names a day: each run's
ClickLogExampleGen takes the newest span when it runs. `--dry-run` prints the request instead of
sending it. The kfp SDK itself is not used: no release of it installs beside TFX 1.16 here (BUILD.md).
"""

from __future__ import annotations

import json
import os
import warnings

import yaml


def pipeline_spec(path: str) -> dict:
    """The PipelineSpec of a compiled pipeline: a bare spec (.yaml) or Vertex's PipelineJob (.json)."""
    with open(path) as f:
        loaded = yaml.safe_load(f) if path.endswith((".yaml", ".yml")) else json.load(f)
    if not isinstance(loaded, dict) or not ("pipelineSpec" in loaded or "root" in loaded):
        raise ValueError(f"{path}: not a compiled pipeline (pipeline/kubeflow_v2_runner.py writes one)")
    return loaded.get("pipelineSpec", loaded)


def five_fields(cron: str) -> str:
    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(f"--cron {cron!r}: give the 5 fields minute hour day month weekday")
    return " ".join(fields)


def kfp_request(spec: dict, name: str, cron: str, pipeline_root: str, experiment_id: str | None):
    """The KFP API's recurring run: KFP's cron has a seconds field first."""
    import kfp_server_api as kfp

    return kfp.V2beta1RecurringRun(
        display_name=name,
        pipeline_spec=spec,
        runtime_config=kfp.V2beta1RuntimeConfig(pipeline_root=pipeline_root),
        trigger=kfp.V2beta1Trigger(cron_schedule=kfp.V2beta1CronSchedule(cron=f"0 {five_fields(cron)}")),
        # No second run starts while one is going, and the days missed meanwhile are not replayed (the
        # next run takes the newest span; the warm Trainer trains on every span its base has not seen).
        max_concurrency=1,
        no_catchup=True,
        mode="ENABLE",
        experiment_id=experiment_id,
    )


def vertex_request(spec: dict, name: str, cron: str, pipeline_root: str, project: str, location: str):
    with warnings.catch_warnings():  # google-api-core's notices about future Python and grpcio versions
        warnings.simplefilter("ignore", FutureWarning)
        from google.cloud import aiplatform_v1 as vertex
    from google.protobuf import struct_pb2

    parent = f"projects/{project}/locations/{location}"
    spec_struct = struct_pb2.Struct()
    spec_struct.update(spec)
    job = vertex.PipelineJob(
        display_name=name,
        pipeline_spec=spec_struct,
        runtime_config=vertex.PipelineJob.RuntimeConfig(gcs_output_directory=pipeline_root),
    )
    return vertex.CreateScheduleRequest(
        parent=parent,
        schedule=vertex.Schedule(
            display_name=name,
            cron=f"TZ=UTC {five_fields(cron)}",
            max_concurrent_run_count=1,
            create_pipeline_job_request=vertex.CreatePipelineJobRequest(parent=parent, pipeline_job=job),
        ),
    )


def request_json(target: str, request) -> str:
    """The request as the target's client serializes it."""
    if target == "kfp":
        import kfp_server_api as kfp

        return json.dumps(kfp.ApiClient().sanitize_for_serialization(request), indent=1, sort_keys=True)
    return type(request).to_json(request)


def send(target: str, request, host: str | None, location: str):
    """Creates the schedule; returns what the service answered."""
    if target == "kfp":
        import kfp_server_api as kfp

        if not host:
            raise ValueError("--host: the KFP API server's address (e.g. http://ml-pipeline-ui:80)")
        api = kfp.RecurringRunServiceApi(kfp.ApiClient(kfp.Configuration(host=host)))
        return api.create_recurring_run(request)
    from google.cloud import aiplatform_v1 as vertex

    client = vertex.ScheduleServiceClient(
        client_options={"api_endpoint": f"{location}-aiplatform.googleapis.com"}
    )
    return client.create_schedule(request=request)


def schedule(args) -> int:
    spec = pipeline_spec(args.spec)
    name = args.name or spec.get("pipelineInfo", {}).get("name", os.path.basename(args.spec))
    if args.target == "kfp":
        request = kfp_request(spec, name, args.cron, args.pipeline_root, args.experiment_id)
    else:
        if not args.project:
            raise ValueError("--project: the Google Cloud project of the Vertex AI schedule")
        request = vertex_request(spec, name, args.cron, args.pipeline_root, args.project, args.location)
    if args.dry_run:
        print(request_json(args.target, request))
        return 0
    print(send(args.target, request, args.host, args.location))
    return 0
