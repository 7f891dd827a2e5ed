"""`mian models`: every registered model built, sized and briefly trained on planted structure."""

from __future__ import annotations

import time

import numpy as np
import tf_keras as keras

from mian_keras import MODELS, build_model, compile_model, hparams_for, model_settings, own_settings
from mian_keras.model_size import parameter_counts
from mian_keras.random_batch import paper_scale_spec, planted_labels, random_batch


def check_models(
    names: list[str] | None, steps: int, epochs: int, batch_size: int, seed: int, hparams: dict
) -> int:
    """Print one row per model and epoch; return 1 when a model ends no better than chance (AUC <= 0.5)."""
    names = names or list(MODELS)
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        print(f"unknown model(s) {unknown}; known: {sorted(MODELS)}")
        return 2
    unread = sorted(set(hparams) - {s for name in names for s in model_settings(name)})
    if unread:
        print(f"{unread} not a setting of any of {names}")
        return 2
    spec = paper_scale_spec()
    # The item table is large and the sample small: ids are drawn from a small range so they repeat.
    train = random_batch(spec, steps * batch_size, seed=seed)
    _narrow_ids(train)
    held_out = random_batch(spec, 4096, seed=seed + 1)
    _narrow_ids(held_out)
    y_train, y_held_out = planted_labels(train, seed), planted_labels(held_out, seed + 1)

    print(
        f"{len(y_train)} training examples ({steps} steps of {batch_size}), {len(y_held_out)} held out, "
        f"held-out click rate {y_held_out.mean():.3f}"
    )
    print(
        f"{'model':<8} {'params':>8} {'emb params':>11} {'epoch':>5} {'AUC':>7} {'logloss':>8} {'seconds':>8}"
    )
    failures = 0
    for name in names:
        keras.utils.set_random_seed(seed)
        # Each model takes the settings it has.
        hp = hparams_for(name, own_settings(name, hparams))
        model = compile_model(build_model(name, spec, hp), hp)
        counts = parameter_counts(model)
        metrics = _evaluate(model, held_out, y_held_out)
        print(f"{name:<8} {counts['other']:>8} {counts['embedding']:>11} {0:>5} {_row(metrics)}")
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            model.fit(train, y_train, batch_size=batch_size, epochs=1, verbose=0)
            seconds = time.perf_counter() - start
            metrics = _evaluate(model, held_out, y_held_out)
            print(f"{'':<8} {'':>8} {'':>11} {epoch:>5} {_row(metrics)} {seconds:>8.1f}")
        failures += metrics["auc"] <= 0.5
    return 1 if failures else 0


def _evaluate(model, features, labels) -> dict:
    return model.evaluate(features, labels, batch_size=1024, verbose=0, return_dict=True)


def _row(metrics: dict) -> str:
    return f"{metrics['auc']:>7.4f} {metrics['logloss']:>8.4f}"


def _narrow_ids(batch: dict[str, np.ndarray], items: int = 500, categories: int = 20) -> None:
    """Confine item ids and categories to small ranges (candidate and history alike), in place."""
    for name, size in (("item_id", items), ("category", categories)):
        for key in (name, f"hist_{name}"):
            values = batch[key]
            batch[key] = np.where(values > 0, values % size + 1, 0)
