"""Reading the project's YAML or JSON config files, with errors that name the file."""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Callable
from typing import TypeVar

import yaml

Config = TypeVar("Config")

# The configs and curated schemas shipped with the project: the checkout's configs/ and schema/, installed
# as package data (pyproject.toml), so that an installed mian finds them from any directory. TFX takes
# schema files by path, and the package is installed unzipped: the folders are real directories.
SHIPPED_CONFIGS = str(importlib.resources.files("mian.shipped_configs"))
SHIPPED_SCHEMAS = str(importlib.resources.files("mian.shipped_schemas"))


def load_config(path: str, from_dict: Callable[[dict], Config]) -> Config:
    """`from_dict` of the file's contents (YAML by its ending, else JSON); a bad key or value becomes
    a ValueError that starts with the path."""
    with open(path) as f:
        raw = yaml.safe_load(f) if path.endswith((".yaml", ".yml")) else json.load(f)
    try:
        return from_dict(raw)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from error
