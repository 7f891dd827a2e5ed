"""The `mian` command line."""

from __future__ import annotations

import os

# The Keras 2 API (tf-keras) must be chosen before TensorFlow is first imported.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import sys

# The exit code of a command called wrongly (argparse's own), as for a setting that cannot run.
USAGE_ERROR = 2


def _models(args: argparse.Namespace) -> int:
    from mian.cli.model_check import check_models

    return check_models(
        args.models, args.steps, args.epochs, args.batch_size, args.seed, json.loads(args.hparams)
    )


def _libraries_logged(command, log_dir):
    """`command(args, terminal)` run with the libraries' output in a log file under `log_dir(args)`: the
    terminal shows the command's own lines and the log's path."""

    def handler(args: argparse.Namespace) -> int:
        import logging

        from mian.cli.library_logs import new_log_file, output_to

        data = getattr(args, "data", None)
        if data is not None and not os.path.isdir(data):
            print(f"mian {args.command}: no data directory {data}", file=sys.stderr)
            return 1
        log_path = new_log_file(log_dir(args), f"mian-{args.command}")
        with output_to(log_path) as terminal:
            print(f"library logs: {log_path}", file=terminal.err, flush=True)
            try:
                return command(args, terminal)
            except (OSError, ValueError) as error:  # a missing or invalid input file, in one line
                logging.exception("mian %s failed", args.command)
                print(f"mian {args.command}: {_explained(error, data)}", file=terminal.err)
                return 1

    return handler


def _explained(error: Exception, data: str | None) -> str:
    """The error's message, with the command that fixes a missing dataset config."""
    from mian.config.dataset_config import DATASET_CONFIG_FILE

    message = str(error)
    if isinstance(error, FileNotFoundError) and str(error.filename).endswith(DATASET_CONFIG_FILE):
        message = f"no dataset config at {error.filename}: propose one with `mian init --data {data}`"
    return message


def _generate(args: argparse.Namespace, terminal) -> int:
    from mian.data.synthetic import GeneratorConfig, generate

    config = GeneratorConfig(
        users=args.users,
        items=args.items,
        days=args.days,
        seed=args.seed,
        partition_by_day=args.partition_by_day,
    )
    _print_written(generate(args.out, config), args.out, terminal.out)
    return 0


def _import_movielens(args: argparse.Namespace) -> int:
    from mian.data.movielens import import_movielens

    _print_written(import_movielens(args.src, args.out), args.out)
    return 0


def _print_written(counts: dict, out_dir: str, out=sys.stdout) -> None:
    print(
        f"wrote {counts['impressions']} impressions ({counts['clicks']} clicks), {counts['users']} users, "
        f"{counts['items']} items and dataset.yaml to {out_dir}",
        file=out,
    )


def _ingest(args: argparse.Namespace, terminal) -> int:
    from mian.config.dataset_config import DatasetConfig, config_path
    from mian.data.ingest import accounting
    from mian.data.ingest.run import examples_dir, rejected_dir, run_to_directory

    config = DatasetConfig.load(args.dataset_config or config_path(args.data))
    stats = run_to_directory(config, args.data, args.out, args.beam_args)
    print(accounting.summary(stats), file=terminal.out)
    print(
        f"examples in {examples_dir(args.out)}, rejected rows and counts in {rejected_dir(args.out)}",
        file=terminal.out,
    )
    try:
        accounting.check(stats, config, rejected_dir(args.out))
    except accounting.IngestionCheckFailed as error:
        print(f"error: {error}", file=terminal.err)
        return 1
    return 0


def _init(args: argparse.Namespace, terminal) -> int:
    import shutil
    import tempfile

    import yaml

    from mian.cli.dataset_init import propose
    from mian.cli.schema_draft import draft_schema, write_schema
    from mian.config.dataset_config import DatasetConfig, config_path
    from mian.config.pipeline_config import SCHEMA_FILE

    # What cannot be decided (CannotPropose, a ValueError) is the handler's one line.
    proposal = propose(args.data, args.name)
    config = DatasetConfig.from_dict(proposal.config)
    for reason in proposal.reasons:
        print(f"  {reason}", file=terminal.out)
    path = config_path(args.data)
    if os.path.exists(path):
        shutil.copyfile(path, path + ".previous")
        print(f"  the existing {path} is kept as {path}.previous", file=terminal.out)
    with open(path, "w") as f:
        f.write("# Proposed by `mian init` from the tables' contents: check it, then `mian run`.\n")
        yaml.safe_dump(proposal.config, f, sort_keys=False)
    with tempfile.TemporaryDirectory() as work:
        draft = draft_schema(config, args.data, work)
    print(f"  schema statistics: {draft.coverage()}", file=terminal.out)
    schema_path = os.path.join(args.data, SCHEMA_FILE)
    write_schema(
        draft.schema,
        schema_path,
        f"Drafted by `mian init` for dataset {config.name!r}: TFDV's inference on {draft.coverage()},\n"
        "with mian's curation rules (see mian/cli/schema_draft.py).",
    )
    print(f"wrote {path} and {schema_path}; next: mian run --data {args.data}", file=terminal.out)
    return 0


def _pipeline_config(args: argparse.Namespace):
    """The pipeline config of --config with the data and training options of `run` and `train-worker`."""
    import dataclasses

    from mian.config.pipeline_config import PipelineConfig, default_config_path

    config = PipelineConfig.load(args.config or default_config_path())
    changes: dict = {}
    if args.data:
        # Data of one's own: nothing to generate.
        changes.update(data_dir=args.data, synthetic_data=None)
    if args.dataset_config:
        changes["dataset_config"] = args.dataset_config
    training = {}
    if args.model:
        training["model"] = args.model
    if args.hparams:
        try:
            training["hparams"] = json.loads(args.hparams)
        except json.JSONDecodeError as error:
            raise ValueError(f"--hparams is not JSON ({error}): {args.hparams}") from None
        if not isinstance(training["hparams"], dict):
            raise ValueError(f"--hparams must be a JSON object of hyperparameters, got {args.hparams}")
    if args.epochs:
        training["epochs"] = args.epochs
    if args.patience is not None:
        training["patience"] = args.patience
    if args.batch_size is not None:
        training["batch_size"] = args.batch_size
    if args.seed is not None:
        training["seed"] = args.seed
    if training:
        changes["training"] = dataclasses.replace(config.training, **training)
    return config.replace(**changes)


def _add_config_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--config", help="pipeline config YAML (default: configs/pipeline.yaml)")
    command.add_argument("--data", help="directory of your raw tables (instead of the synthetic data)")
    command.add_argument("--dataset-config", help="dataset config (default: DATA/dataset.yaml)")
    command.add_argument("--model", help="model name from the registry (default: mian)")
    command.add_argument("--hparams", help="JSON of HParams overrides")
    command.add_argument("--epochs", type=int, help="maximum training epochs")
    command.add_argument("--patience", type=int, help="epochs without a better eval AUC before stopping")
    command.add_argument(
        "--batch-size", type=int, help="examples per replica and step (the global batch: times the replicas)"
    )
    command.add_argument("--seed", type=int, help="fixes initial weights, dropout and batch order")


def _train_worker(args: argparse.Namespace) -> int:
    from mian.cli.train_worker import train_worker

    train_worker(_pipeline_config(args), args.transform_graph, args.transformed_examples, args.run_dir,
                 args.serving_dir)  # fmt: skip
    return 0


def _run(args: argparse.Namespace) -> int:
    import tempfile

    from mian.cli.library_logs import output_to
    from mian.cli.run_lock import ALREADY_RUNNING, RunInProgress, pipeline_lock

    try:
        config = _pipeline_config(args)
    except (OSError, ValueError, TypeError) as error:  # a bad config file or flag value: a usage error
        print(f"mian run: {error}", file=sys.stderr)
        return USAGE_ERROR
    changes = {}
    if args.schema:
        changes["schema"] = args.schema
    if args.output_root:
        changes["output_root"] = args.output_root
    if args.pipeline_name:
        changes["pipeline_name"] = args.pipeline_name
    if args.span:
        changes["span"] = args.span
    config = config.replace(**changes)
    # Checking the inputs imports TensorFlow, which talks: into a log that the run's log then starts with.
    earlier_log = tempfile.mkstemp(prefix="mian-run-", suffix=".log")[1]
    with output_to(earlier_log):
        from mian.config.settings_check import settings_problems

        problems = settings_problems(config)
        missing = None if problems else config.missing_input() or _derived_context_clash(config)
    if problems:  # before any component runs
        for problem in problems:
            print(f"mian run: {problem}", file=sys.stderr)
        os.remove(earlier_log)
        return USAGE_ERROR
    if missing:
        print(f"mian run: {missing}", file=sys.stderr)
        os.remove(earlier_log)
        return 1
    try:
        with pipeline_lock(config.metadata_path, config.pipeline_name):
            return _run_locked(args, config, earlier_log)
    except RunInProgress as running:
        print(f"mian run: {running}", file=sys.stderr)
        os.remove(earlier_log)
        return ALREADY_RUNNING


def _run_locked(args: argparse.Namespace, config, earlier_log: str | None) -> int:
    """`mian run` once the inputs are checked and the pipeline's lock is held."""
    from mian.cli.library_logs import send_stderr_to
    from mian.cli.local_run import run_pipeline

    if args.backfill:
        # Each earlier span ingested and validated on its own (a span is an artifact of its own), then
        # the whole pipeline on the last, whose window they fill.
        from mian.pipeline.mian_pipeline import last_span_check

        *earlier, config = [config.replace(span=s) for s in _days(*args.backfill)]
        for day in earlier:
            _, error, log_path = run_pipeline(day, until=last_span_check(day), earlier_log=earlier_log)
            earlier_log = None
            if error:
                send_stderr_to(log_path)
                return 1
    report, error, log_path = run_pipeline(config, earlier_log=earlier_log)
    send_stderr_to(log_path)
    return 0 if report.pushed_path and not error else 1


def _days(first: str, last: str) -> list[str]:
    """Every date from `first` to `last` (YYYY-MM-DD), both included."""
    from mian.data.ingest.spans import parse_span, span_name

    start, end = parse_span(first), parse_span(last)
    if end < start:
        raise ValueError(f"--backfill: {last} is before {first}")
    return [span_name(s) for s in range(start, end + 1)]


def _derived_context_clash(config) -> str | None:
    """The dataset config's refusal of a derived field that its impressions carry (ingestion refuses it
    too; checked here so that the run stops before its first component)."""
    from mian.data.ingest.pipeline import derived_context_clash

    if config.synthetic_data is not None:  # generated at the run's start, with a config that fits it
        return None
    try:
        return derived_context_clash(config.dataset(), config.data_dir)
    except FileNotFoundError as missing:  # no impressions file: the same one line
        return str(missing)


def _serve(args: argparse.Namespace, terminal) -> int:
    import logging

    from mian.cli.library_logs import LOG_FORMAT
    from mian.serving.server import ServerOptions, serve

    # The server's own log lines (versions loaded or refused) show on the terminal and in the log.
    own = logging.StreamHandler(terminal.err)
    own.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.getLogger("mian").addHandler(own)
    if bool(args.tls_cert) != bool(args.tls_key):
        print("error: --tls-cert and --tls-key go together", file=terminal.err)
        return 2
    return serve(
        ServerOptions(
            model_base=args.model_base,
            model_name=args.model_name,
            host=args.host,
            port=args.port,
            rest_port=args.rest_port,
            batching=not args.no_batching,
            max_batch_size=args.max_batch_size,
            batch_timeout_ms=args.batch_timeout_ms,
            workers=args.workers,
            max_concurrent_rpcs=args.max_concurrent_rpcs,
            max_message_bytes=args.max_message_mb * 1024 * 1024,
            log_requests=args.log_requests,
            log_sample=args.log_sample,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            poll_seconds=args.poll_seconds,
            accept_signature_change=args.accept_signature_change,
        ),
        out=terminal.out,
    )


def _serve_log_dir(args: argparse.Namespace) -> str:
    # runs/serving's logs go to runs/logs, where mian run keeps its own.
    return args.log_dir or os.path.join(os.path.dirname(os.path.abspath(args.model_base)), "logs")


def _score(args: argparse.Namespace) -> int:
    from mian.tools.score import score

    out = open(args.out, "w") if args.out else sys.stdout
    try:
        for probability in score(args.target, args.input, args.model_name, args.batch_size, args.tls_ca):
            out.write(f"{probability:.6f}\n")
    finally:
        if args.out:
            out.close()
    return 0


def _explain(args: argparse.Namespace) -> int:
    from mian.tools.explain import explain

    json_path = explain(args.model, args.input, args.cases, args.out)
    print(f"wrote {args.out} and {json_path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mian", description="Raw click logs in, a blessed MIAN CTR model serving over gRPC out."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    models = commands.add_parser(
        "models",
        help="build every registered model at the paper's settings and train each briefly",
        description=(
            "Builds each model on a paper-scale feature spec, prints its parameters (embeddings apart), "
            "trains it for --epochs epochs of --steps steps on random inputs with planted click "
            "structure, and prints the held-out AUC and logloss before training and after each epoch. "
            "Exits 1 when a model ends no better than chance."
        ),
    )
    models.add_argument("--models", nargs="+", default=None, help="model names (default: all)")
    models.add_argument("--steps", type=int, default=200, help="training steps per epoch")
    models.add_argument("--epochs", type=int, default=3)
    models.add_argument(
        "--hparams", default="{}", help="JSON of HParams overrides, e.g. '{\"dropout\": 0.1}'"
    )
    models.add_argument("--batch-size", type=int, default=128)
    models.add_argument("--seed", type=int, default=0)
    models.set_defaults(handler=_models)

    generate = commands.add_parser(
        "generate", help="write synthetic click logs (impressions, users, items) with planted structure"
    )
    generate.add_argument("--out", required=True, help="directory to write the raw tables to")
    generate.add_argument("--users", type=int, default=1000)
    generate.add_argument("--items", type=int, default=500)
    generate.add_argument(
        "--partition-by-day",
        action="store_true",
        help="write the impressions as daily partitions, impressions/YYYY-MM-DD/impressions.csv",
    )
    generate.add_argument("--days", type=int, default=30)
    generate.add_argument("--seed", type=int, default=0)
    generate.set_defaults(handler=_libraries_logged(_generate, lambda a: os.path.join(a.out, "logs")))

    movielens = commands.add_parser(
        "import-movielens", help="convert MovieLens 100K to the raw click-log format"
    )
    movielens.add_argument("--src", required=True, help="the ml-100k directory (u.data, u.user, u.item)")
    movielens.add_argument("--out", required=True)
    movielens.set_defaults(handler=_import_movielens)

    ingest = commands.add_parser(
        "ingest",
        help="run the ingestion's Beam pipeline alone: raw tables to time-split tf.Examples",
        description="Extra arguments after -- are Beam pipeline options, e.g. -- --runner=DirectRunner "
        "--direct_running_mode=multi_processing --direct_num_workers=2",
    )
    ingest.add_argument("--data", required=True, help="directory of the raw tables")
    ingest.add_argument("--dataset-config", help="dataset config (default: DATA/dataset.yaml)")
    ingest.add_argument("--out", required=True)
    ingest.add_argument("beam_args", nargs="*", help="Beam pipeline options")
    ingest.set_defaults(handler=_libraries_logged(_ingest, lambda a: os.path.join(a.out, "logs")))

    init = commands.add_parser(
        "init",
        help="propose DATA/dataset.yaml and draft DATA/schema.pbtxt from the raw tables themselves",
        description="Reads the three tables (CSV or JSON Lines) in DATA, decides the impressions, users "
        "and items tables, the id, time and label columns and each column's group and kind, prints "
        "what it decided and why, writes DATA/dataset.yaml, and drafts the curated schema "
        "DATA/schema.pbtxt from TFDV's inference on a sample. Exits 1 with one line when it cannot "
        "decide (no timestamp-like column, a label that is not 0/1, ...).",
    )
    init.add_argument("--data", required=True, help="directory of the raw tables")
    init.add_argument("--name", help="the dataset's name (default: the directory's name)")
    init.set_defaults(handler=_libraries_logged(_init, lambda a: os.path.join(a.data, "logs")))

    run = commands.add_parser(
        "run",
        help="run the whole TFX pipeline locally: ingest, validate, transform, train, evaluate, push",
        description="Runs the pipeline of the pipeline config (default: configs/pipeline.yaml, the "
        "synthetic click logs) with TFX's LocalDagRunner, shows each component as it runs, keeps the "
        "libraries' logs in OUTPUT_ROOT/logs, and ends with each component's status and seconds, the "
        "test metrics overall and per slice, the gate's decision and the pushed model's path. Exits 0 "
        "when a model was pushed.",
    )
    _add_config_options(run)
    run.add_argument("--schema", help="curated schema.pbtxt (default: schema/<dataset name>/)")
    run.add_argument("--output-root", help="where artifacts, metadata, logs and served models go")
    run.add_argument("--pipeline-name", help="pipeline name (one MLMD history and cache per name)")
    days = run.add_mutually_exclusive_group()
    days.add_argument(
        "--span", metavar="YYYY-MM-DD", help="daily partitions: the span to ingest (default: the newest)"
    )
    days.add_argument(
        "--backfill",
        nargs=2,
        metavar=("FROM", "TO"),
        help="daily partitions: ingest and validate every span from FROM to TO, then run the whole "
        "pipeline on TO",
    )
    run.set_defaults(handler=_run)

    worker = commands.add_parser(
        "train-worker",
        help="one worker of a (multi-worker) training job on a pipeline's Transform output",
        description="Trains as the pipeline's Trainer does (its run_fn) on TRANSFORMED_EXAMPLES "
        "(Split-train/, Split-eval/) and TRANSFORM_GRAPH. With TF_CONFIG naming a cluster of several "
        "tasks, every worker runs this command and they train together under "
        "MultiWorkerMirroredStrategy; the chief writes RUN_DIR and the serving SavedModel to "
        "SERVING_DIR. Training resumes from RUN_DIR/backup when a job is started again.",
    )
    _add_config_options(worker)
    worker.add_argument("--transform-graph", required=True, help="the Transform's transform_graph output")
    worker.add_argument("--transformed-examples", required=True, help="the Transform's transformed_examples")
    worker.add_argument("--run-dir", required=True, help="weights, history, TensorBoard logs and backups")
    worker.add_argument("--serving-dir", required=True, help="where the serving SavedModel is written")
    worker.set_defaults(handler=_train_worker)

    serve = commands.add_parser(
        "serve",
        help="serve the pushed models over TF Serving's gRPC API (and optionally REST)",
        description="Loads the newest version under MODEL_BASE/MODEL_NAME/, watches for new ones and "
        "swaps them in after a warm-up, and answers PredictionService (Predict, Classify, "
        "GetModelMetadata) and ModelService (GetModelStatus) until SIGTERM, which drains in-flight "
        "requests and exits 0.",
    )
    serve.add_argument("--model-base", required=True, help="the Pusher's serving directory")
    serve.add_argument("--model-name", default="mian", help="the served name: the pipeline name")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 for all)")
    serve.add_argument("--port", type=int, default=8500, help="gRPC port (0: any free port)")
    serve.add_argument("--rest-port", type=int, help="also answer REST on this port (0: any free port)")
    serve.add_argument("--no-batching", action="store_true", help="one model call per request")
    serve.add_argument("--max-batch-size", type=int, default=128)
    serve.add_argument("--batch-timeout-ms", type=float, default=2.0)
    serve.add_argument("--workers", type=int, default=16, help="gRPC worker threads")
    serve.add_argument("--max-concurrent-rpcs", type=int, default=256, help="beyond this, RESOURCE_EXHAUSTED")
    serve.add_argument("--max-message-mb", type=int, default=64)
    serve.add_argument("--tls-cert", help="server certificate (PEM)")
    serve.add_argument("--tls-key", help="server private key (PEM)")
    serve.add_argument("--poll-seconds", type=float, default=2.0, help="how often to look for new versions")
    serve.add_argument(
        "--accept-signature-change",
        action="store_true",
        help="swap in a new version even when its inputs differ from the serving version's",
    )
    serve.add_argument(
        "--log-dir", help="where the libraries' log goes (default: logs/ beside MODEL_BASE, as mian run's)"
    )
    serve.add_argument(
        "--log-requests",
        help="write a sample of the scored requests here as TF Serving's PredictionLog TFRecords",
    )
    serve.add_argument("--log-sample", type=float, default=0.01, help="the share of requests logged")
    serve.set_defaults(handler=_libraries_logged(_serve, _serve_log_dir))

    score = commands.add_parser(
        "score", help="probabilities for raw impressions from a model server (mian's or TF Serving)"
    )
    score.add_argument("--target", required=True, help="HOST:PORT of the gRPC server")
    score.add_argument("--input", required=True, help="CSV, JSON Lines or TFRecord (.tfrecord[.gz]) file")
    score.add_argument("--model-name", default="mian")
    score.add_argument("--batch-size", type=int, default=128)
    score.add_argument("--out", help="write probabilities here, one per line (default: stdout)")
    score.add_argument("--tls-ca", help="CA certificate to trust (PEM), for a TLS server")
    score.set_defaults(handler=_score)

    explain = commands.add_parser(
        "explain",
        help="draw MIAN's GIM and IBIM attention for a few cases (the paper's Figure 6), and write JSON",
    )
    explain.add_argument("--model", required=True, help="a pushed SavedModel directory (one version)")
    explain.add_argument("--input", required=True, help="CSV, JSON Lines or TFRecord of raw examples")
    explain.add_argument("--cases", type=int, default=14)
    explain.add_argument("--out", required=True, help="the PNG to write; the JSON goes beside it")
    explain.set_defaults(handler=_explain)

    skew = commands.add_parser(
        "skew",
        help="compare the requests a server logged (mian serve --log-requests) with the training data",
    )
    skew.add_argument("--requests", required=True, help="the directory of logged requests")
    skew.add_argument(
        "--pipeline", required=True, help="the pipeline whose newest training data to compare with"
    )
    skew.add_argument("--output-root", default="runs", help="the pipeline's output root (default: runs)")
    skew.add_argument("--infinity-norm", type=float, default=0.2, help="threshold for categorical features")
    skew.add_argument("--jensen-shannon", type=float, default=0.2, help="threshold for numerical features")
    skew.set_defaults(handler=_libraries_logged(_skew, lambda a: os.path.join(a.output_root, "logs")))

    report = commands.add_parser(
        "report", help="write the HTML report of a pipeline run again, from the metadata store"
    )
    report.add_argument("run_id", nargs="?", metavar="RUN", help="the run's id (default: the newest run)")
    report.add_argument("--config", help="pipeline config YAML (default: configs/pipeline.yaml)")
    report.add_argument("--output-root", help="the pipeline's output root (default: the config's)")
    report.add_argument("--pipeline-name", help="the pipeline's name (default: the config's)")
    report.set_defaults(
        handler=_libraries_logged(_report, lambda a: os.path.join(a.output_root or "runs", "logs"))
    )

    schedule = commands.add_parser(
        "schedule",
        help="submit the compiled pipeline as a recurring run: open-source KFP (--target kfp) or Vertex AI",
    )
    schedule.add_argument(
        "--spec",
        required=True,
        help="pipeline/kubeflow_v2_runner.py's output: .yaml for kfp, .json for vertex",
    )
    schedule.add_argument("--target", required=True, choices=("kfp", "vertex"))
    schedule.add_argument("--cron", default="0 6 * * *", help="5 fields, UTC (default: daily at 06:00)")
    schedule.add_argument("--pipeline-root", required=True, help="where the runs write (gs://...)")
    schedule.add_argument("--name", help="the schedule's display name (default: the pipeline's)")
    schedule.add_argument("--host", help="kfp: the KFP API server, e.g. http://ml-pipeline-ui:80")
    schedule.add_argument("--experiment-id", help="kfp: the experiment the runs belong to")
    schedule.add_argument("--project", help="vertex: the Google Cloud project")
    schedule.add_argument("--location", default="us-central1", help="vertex: the region")
    schedule.add_argument("--dry-run", action="store_true", help="print the request instead of sending it")
    schedule.set_defaults(handler=_schedule)
    return parser


def _skew(args: argparse.Namespace, terminal) -> int:
    from mian.config.pipeline_config import PipelineConfig
    from mian.tools.skew import find_skew

    root = PipelineConfig(
        data_dir="", output_root=args.output_root, pipeline_name=args.pipeline
    ).pipeline_root
    try:
        count, skewed = find_skew(args.requests, root, args.infinity_norm, args.jensen_shannon)
    except FileNotFoundError as error:
        print(f"mian skew: {error}", file=terminal.err)
        return 2
    print(f"{count} logged examples against the training data of {root}:", file=terminal.out)
    for distance in skewed:
        print(f"  skew: {distance.line()}", file=terminal.out)
    if not skewed:
        print("  no feature skewed beyond its threshold", file=terminal.out)
    return 1 if skewed else 0


def _report(args: argparse.Namespace, terminal) -> int:
    from mian.cli.report_page import report_path, write_report_page
    from mian.cli.run_report import read_report, run_ids
    from mian.config.pipeline_config import PipelineConfig, default_config_path
    from mian.stages.eval_config import slice_features

    config = PipelineConfig.load(args.config or default_config_path())
    changes = {
        k: v for k, v in (("output_root", args.output_root), ("pipeline_name", args.pipeline_name)) if v
    }
    config = config.replace(**changes)
    try:
        report = read_report(config.metadata_path, config.pipeline_name, args.run_id)
    except LookupError as missing:
        known = (
            run_ids(config.metadata_path, config.pipeline_name)
            if os.path.exists(config.metadata_path)
            else []
        )
        print(f"mian report: {missing}; its runs: {', '.join(known[-5:]) or 'none'}", file=terminal.err)
        return 1
    path = report_path(config.output_root, config.pipeline_name, report.run_id)
    write_report_page(report, config.pipeline_name, path, slice_features(config.dataset()))
    print(f"report: {path}", file=terminal.out)
    return 0


def _schedule(args: argparse.Namespace) -> int:
    from mian.cli.schedule import schedule

    try:
        return schedule(args)
    except (OSError, ValueError) as error:
        print(f"mian schedule: {error}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
