"""The `mian` command line."""

from __future__ import annotations

import os

# The Keras 2 API (tf-keras) must be chosen before TensorFlow is first imported.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import sys


def _models(args: argparse.Namespace) -> int:
    from mian.model_check import check_models

    return check_models(
        args.models, args.steps, args.epochs, args.batch_size, args.seed, json.loads(args.hparams)
    )


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
