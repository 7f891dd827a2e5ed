"""A run's settings checked before its first component: the model's name, every hyperparameter's name
(a setting of the model's own class: mian_keras.models.registry) and type, that the model reads it
(mian_keras.hparams_read), and the tuning search space. A wrong setting found here costs a line and no
time; found by the Trainer, it costs ingestion, statistics and Transform first (hours at scale).

Each problem is one line naming the key and what it may be. (The config's own ranges, epochs >= 1 and
the like, are checked when the config is built: mian.config.pipeline_config.)
"""

from __future__ import annotations

import dataclasses
import types
import typing

from mian.config.pipeline_config import PipelineConfig
from mian_keras import MODELS, HParams, hparams_class
from mian_keras.hparams_read import fields_read


def settings_problems(config: PipelineConfig) -> list[str]:
    """One line per problem of `config`'s training and tuning settings; none when they can run."""
    model = config.training.model
    if model not in MODELS:
        return [f"training.model: {model!r} is not a model; the models: {', '.join(MODELS)}"]
    kind = hparams_class(model)
    problems = _hparams_problems("training.hparams", model, kind, config.training.hparams)
    if config.tuning.enabled:
        for name, space in config.tuning.search_space.items():
            problems += _search_problems(f"tuning.search_space.{name}", model, kind, name, space)
    if problems:
        return problems
    # Each setting must do something for this model: one it never reads is a mistake the run would hide.
    read = fields_read(model, kind(**config.training.hparams))
    searched = config.tuning.search_space if config.tuning.enabled else {}
    for where, names in (("training.hparams", config.training.hparams), ("tuning.search_space", searched)):
        for name in names:
            if name not in read:
                problems.append(
                    f"{where}.{name}: model {model!r} does not read it with these settings; it reads: "
                    + ", ".join(sorted(read))
                )
    return problems


def _field_types(kind: type[HParams]) -> dict[str, object]:
    hints = typing.get_type_hints(kind)
    return {f.name: hints[f.name] for f in dataclasses.fields(kind)}


def _not_a_setting(where: str, name: str, model: str, kinds: dict) -> str:
    return f"{where}: {name!r} is not a setting of model {model!r}; its settings: {', '.join(kinds)}"


def _hparams_problems(where: str, model: str, kind: type[HParams], hparams: dict) -> list[str]:
    kinds = _field_types(kind)
    problems = []
    for name, value in hparams.items():
        if name not in kinds:
            problems.append(_not_a_setting(where, name, model, kinds))
        elif not _is_a(value, kinds[name]):
            problems.append(f"{where}.{name}: {value!r} is not {_type_name(kinds[name])}")
    if not problems:
        try:
            kind(**hparams)
        except ValueError as error:  # the class's own rules (a dropout in [0, 1), ...)
            problems.append(f"{where}: {error}")
    return problems


def _search_problems(where: str, model: str, kind: type[HParams], name: str, space) -> list[str]:
    kinds = _field_types(kind)
    if name not in kinds:
        return [_not_a_setting(where, name, model, kinds)]
    if isinstance(space, list):
        wrong = [v for v in space if not _is_a(v, kinds[name])]
        if not space or wrong:
            return [f"{where}: a choice must be a non-empty list of {_type_name(kinds[name])}, got {space!r}"]
        return []
    if isinstance(space, dict):
        low, high = space.get("min"), space.get("max")
        numbers = [v for v in (low, high) if isinstance(v, int | float) and not isinstance(v, bool)]
        if set(space) - {"min", "max", "sampling"} or len(numbers) < 2 or not numbers[0] < numbers[1]:
            return [f"{where}: a range is {{min, max, sampling}} with numbers min < max, got {space!r}"]
        low = numbers[0]
        if space.get("sampling", "linear") not in ("linear", "log"):
            return [f"{where}.sampling: {space['sampling']!r} is not one of linear, log"]
        if space.get("sampling") == "log" and low <= 0:
            return [f"{where}: a log range needs min > 0, got {low!r}"]
        return []
    return [f"{where}: a list of choices or a {{min, max, sampling}} range, got {space!r}"]


def _is_a(value, kind) -> bool:
    """Whether a value read from YAML or JSON fits a field of type `kind` (an int fits a float)."""
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        return any(_is_a(value, k) for k in typing.get_args(kind))
    if kind is type(None):
        return value is None
    if typing.get_origin(kind) is tuple:
        (item, _) = typing.get_args(kind)
        return isinstance(value, list | tuple) and all(_is_a(v, item) for v in value)
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)  # type: ignore[arg-type]


def _type_name(kind) -> str:
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        return " or ".join(_type_name(k) for k in typing.get_args(kind))
    if kind is type(None):
        return "null"
    if typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        return f"a list of {({float: 'numbers', int: 'integers', str: 'strings'}).get(item, str(item))}"
    return {float: "a number", int: "an integer", bool: "true or false", str: "a string"}.get(kind, str(kind))
