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
from typing import Any, Dict, Iterator, List, Optional, Tuple

import yaml

from bot.config import RETIRED_DIR
from bot.content import YAML_LOADER
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
        items += yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or []  # noqa: S506 - a safe loader
    return {"disclosures": [i for i in items if "category" in i],
            "near_misses": [i for i in items if "category" not in i]}


def _lines(directory: Path, names: Optional[List[str]]) -> Iterator[Tuple[Tuple[str, ...], Dict[str, Any]]]:
    """Each line of these rounds (default: all in `directory`), disclosures first, as the detector reads
    it (its context turns, then the text), with the line itself."""
    for name in round_names(directory) if names is None else names:
        data = load_round(name, directory)
        for line in data["disclosures"] + data["near_misses"]:
            yield (*[str(t) for t in line.get("context") or []], str(line["text"])), line


def training_items(directory: Path = RETIRED_DIR,
                   names: Optional[List[str]] = None) -> Tuple[List[Tuple[str, ...]], List[str]]:
    """Every line of these rounds with its label: disclose_<category> for a disclosure, NEAR_MISS_LABEL
    for a near-miss."""
    pairs = [(item, DISCLOSURE_PREFIX + line["category"] if "category" in line else NEAR_MISS_LABEL)
             for item, line in _lines(directory, names)]
    return [item for item, _ in pairs], [label for _, label in pairs]


# Who a retired line's harm is about, for the detector's who-and-when regression: a disclosure is about
# the writer now, a friend's story or a lesson someone else's, a resolved past or a safe step over. The
# other near-miss classes (questions, figures of speech, chat) say nothing about who.
WHO_OF_CLASS = {"friend_story": "other", "lesson": "other", "resolved_past": "over", "safe_step": "over"}


def who_items(directory: Path = RETIRED_DIR,
              names: Optional[List[str]] = None) -> Tuple[List[Tuple[str, ...]], List[str]]:
    """The lines of these rounds that say who the harm is about, with "self", "other" or "over"
    (WHO_OF_CLASS)."""
    pairs = [(item, "self" if "category" in line else WHO_OF_CLASS.get(str(line.get("class"))))
             for item, line in _lines(directory, names)]
    return [item for item, who in pairs if who], [who for _, who in pairs if who]


def files_fingerprint(directory: Path = RETIRED_DIR) -> str:
    """Changes when a round is retired or edited, so Rasa retrains the detector."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*_*.yml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
