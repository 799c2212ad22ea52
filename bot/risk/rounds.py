"""Blind risk rounds: sets written by people who never saw the data (tests/data/blind/ while unseen,
bot/data/retired/ after their one before-and-after use).

A retired round is still reported as its own set, and it is training data for the disclosure
detector: its lines are written in the voices the detector meets (chat spelling, Flemish, slang,
hints instead of risk words), which the NLU examples cover less well. Left out one round at a time,
five retired rounds raised recall on the sixth by about 2 points at the same false handovers
(reports/disclosure_detector.md §4e).
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from bot.config import RETIRED_DIR
from bot.risk.detector import DISCLOSURE_PREFIX

# The detector's label for a retired near-miss: not a disclosure, and no NLU intent of its own.
NEAR_MISS_LABEL = "retired_near_miss"


def round_names(directory: Path) -> List[str]:
    """Names of the rounds present, e.g. ['round1'] for <directory>/round1_*.yml."""
    return sorted({path.name.split("_")[0] for path in directory.glob("*_*.yml")})


def load_round(round_name: str, directory: Path) -> Dict[str, List[Dict[str, Any]]]:
    """One round (<directory>/<round>_*.yml): disclosures have a category, near-misses not."""
    items: List[Dict[str, Any]] = []
    for path in sorted(directory.glob(f"{round_name}_*.yml")):
        items += yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return {"disclosures": [i for i in items if "category" in i],
            "near_misses": [i for i in items if "category" not in i]}


def training_items(directory: Path = RETIRED_DIR,
                   names: Optional[List[str]] = None) -> Tuple[List[Tuple[str, ...]], List[str]]:
    """Every line of these rounds (default: all in `directory`) as the detector reads it (its context
    turns, then the text) with its label: disclose_<category> for a disclosure, NEAR_MISS_LABEL for a
    near-miss."""
    items: List[Tuple[str, ...]] = []
    labels: List[str] = []
    for name in round_names(directory) if names is None else names:
        data = load_round(name, directory)
        for kind in ("disclosures", "near_misses"):
            for line in data[kind]:
                context = [str(t) for t in line.get("context") or []]
                items.append((*context, str(line["text"])))
                labels.append(DISCLOSURE_PREFIX + line["category"] if kind == "disclosures" else NEAR_MISS_LABEL)
    return items, labels


# Who a retired line's harm is about, for the detector's who-and-when regression: a disclosure is about
# the writer now, a friend's story or a lesson someone else's, a resolved past or a safe step over. The
# other near-miss classes (questions, figures of speech, chat) say nothing about who.
WHO_OF_CLASS = {"friend_story": "other", "lesson": "other", "resolved_past": "over", "safe_step": "over"}


def who_items(directory: Path = RETIRED_DIR,
              names: Optional[List[str]] = None) -> Tuple[List[Tuple[str, ...]], List[str]]:
    """The lines of these rounds that say who the harm is about (context turns, then the text), with
    "self", "other" or "over" (WHO_OF_CLASS)."""
    items: List[Tuple[str, ...]] = []
    who: List[str] = []
    for name in round_names(directory) if names is None else names:
        data = load_round(name, directory)
        for line in data["disclosures"] + data["near_misses"]:
            label = "self" if "category" in line else WHO_OF_CLASS.get(str(line.get("class")))
            if label:
                items.append((*[str(t) for t in line.get("context") or []], str(line["text"])))
                who.append(label)
    return items, who


def files_fingerprint(directory: Path = RETIRED_DIR) -> str:
    """Changes when a round is retired or edited, so Rasa retrains the detector."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*_*.yml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
