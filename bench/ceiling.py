"""How far the models are from the best possible: the AUC of the generator's own click logits.

    .venv/bin/python bench/ceiling.py [--datasets sequence-rich profile-rich] [--work runs/quality]

A synthetic click is drawn from a logit the generator knows (mian/data/synthetic.py: item quality,
gender x age x category, season / part of day / device x category, the candidate's category among the
last three clicks, the successor of the last clicked item). Scoring each eval and test impression by
that logit gives the AUC no model can beat on average: the ceiling. Scoring it by the logit without
some terms says what those terms are worth. The user's home device, which the generator uses, is not
in the logs; the impression's device (the same in 80% of impressions) stands in for it, as it does for
the models (synthetic.replay_logit_terms).

Reads the logs `bench/quality.py` generated under WORK/data/DATASET and splits them by day as the
ingestion does. Prints one table per dataset: AUC per split, all terms and without each group.
"""

from __future__ import annotations

import argparse
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from sklearn.metrics import roc_auc_score  # noqa: E402

from mian.config.dataset_config import SECONDS_PER_DAY, DatasetConfig, config_path  # noqa: E402
from mian.data.ingest.pipeline import split_of_day  # noqa: E402
from mian.data.synthetic import GeneratorConfig, replay_logit_terms  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quality import SYNTHETIC  # noqa: E402

SEQUENCE_TERMS = ("recent_category", "chain_successor")
# Which terms each row of the table leaves out.
LEFT_OUT = {
    "all terms (the ceiling)": (),
    "without the sequence terms": SEQUENCE_TERMS,
    "without the last clicked item's successor": ("chain_successor",),
    "without the recent categories": ("recent_category",),
    "without user x category": ("affinity",),
}


def planted_scores(data_dir: str, config: GeneratorConfig) -> dict[str, tuple[list[int], list[dict]]]:
    """{split: (labels, the logit terms of each impression)} for the eval and test splits."""
    dataset = DatasetConfig.load(config_path(data_dir))
    scored = list(replay_logit_terms(data_dir, config))
    last_day = max(int(row["timestamp"]) for row, _ in scored) // SECONDS_PER_DAY
    scores: dict = {"eval": ([], []), "test": ([], [])}
    for row, terms in scored:
        split = split_of_day(int(row["timestamp"]) // SECONDS_PER_DAY, last_day, dataset)
        if split in scores:
            scores[split][0].append(int(row["clicked"]))
            scores[split][1].append(terms)
    return scores


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", nargs="+", default=sorted(SYNTHETIC), choices=sorted(SYNTHETIC))
    parser.add_argument("--work", default="runs/quality")
    args = parser.parse_args(argv)
    for name in args.datasets:
        scores = planted_scores(os.path.join(args.work, "data", name), GeneratorConfig(**SYNTHETIC[name]))
        print(f"\n## {name}\n\n| planted logit | eval AUC | test AUC |\n|---|---|---|")
        for row, left_out in LEFT_OUT.items():
            aucs = [
                roc_auc_score(labels, [sum(v for k, v in t.items() if k not in left_out) for t in terms])
                for labels, terms in (scores["eval"], scores["test"])
            ]
            print(f"| {row} | {aucs[0]:.4f} | {aucs[1]:.4f} |")
        print(f"\n{len(scores['eval'][0])} eval and {len(scores['test'][0])} test impressions.")


if __name__ == "__main__":
    main()
