"""Reading the project's YAML or JSON config files, with errors that name the file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TypeVar

import yaml

Config = TypeVar("Config")

# The configs and curated schemas shipped with the project, at the checkout's top level.
_CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED_CONFIGS = os.path.join(_CHECKOUT, "configs")
SHIPPED_SCHEMAS = os.path.join(_CHECKOUT, "schema")


def load_config(path: str, from_dict: Callable[[dict], Config]) -> Config:
    """`from_dict` of the file's contents (YAML by its ending, else JSON); a bad key or value becomes
    a ValueError that starts with the path."""
    with open(path) as f:
        raw = yaml.safe_load(f) if path.endswith((".yaml", ".yml")) else json.load(f)
    try:
        return from_dict(raw)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from error
