"""The NLU training data honours the intent contract (bot/data/INTENTS.md)."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

import yaml

from bot.config import DOMAIN_FILE, NLU_DIR

CONTRACT = {
    "ask_sexting", "ask_image_removal", "ask_grooming", "ask_sextortion", "ask_loverboy", "ask_meeting_online_contact",
    "ask_privacy_settings", "ask_block_report", "ask_law", "ask_webcam", "ask_saying_no", "ask_trusted_adult",
    "ask_helpline", "ask_bot_privacy", "disclose_sextortion", "disclose_image_shared", "disclose_grooming",
    "disclose_exploitation", "disclose_abuse", "disclose_selfharm", "disclose_runaway", "greet", "goodbye", "thank",
    "affirm", "deny", "bot_challenge", "out_of_scope", "request_human", "feeling_bad", "help",
}
# "The hardest moments" in bot/data/INTENTS.md: trained here before the domain answers them.
HARDEST_MOMENTS = {"tell_regret_sent_image", "ask_send_picture", "share_personal_details", "express_distress"}
MIN_EXAMPLES = 80
# out_of_scope may not swamp the other intents. Raised from 650 with the contrast data of round 20:
# figures of speech, approved leave and crushes between peers are out_of_scope by the guide
# (reports/risk_blind_round20.md).
MAX_OUT_OF_SCOPE = 950


def blocks():
    """(file name, parsed file) for every NLU file."""
    return [(path.name, yaml.safe_load(path.read_text(encoding="utf-8"))) for path in sorted(NLU_DIR.glob("*.yml"))]


def lines_of(block):
    return [line.strip()[2:].strip() for line in block["examples"].splitlines() if line.strip().startswith("- ")]


def examples():
    found = {}
    for _, data in blocks():
        for block in data["nlu"]:
            found.setdefault(block["intent"], []).extend(lines_of(block))
    return found


def near_exact(text: str) -> str:
    """Lowercase, without punctuation, emoji modifiers or extra spaces ("Bedankt!!" == "bedankt")."""
    low = re.sub("[\U0001F3FB-\U0001F3FF\uFE0E\uFE0F\u200D]", "", text.lower())
    out = re.sub(r"\s+", " ", "".join(ch for ch in low if not unicodedata.category(ch).startswith("P"))).strip()
    return out or re.sub(r"(.)\1+", r"\1", re.sub(r"\s+", "", low))  # "???" == "????"


def test_contract_intents_are_in_the_domain():
    intents = set(yaml.safe_load(DOMAIN_FILE.read_text())["intents"])
    assert CONTRACT <= intents


def test_every_intent_has_at_least_25_examples():
    found = examples()
    intents = set(yaml.safe_load(DOMAIN_FILE.read_text())["intents"])
    counts = {intent: len(found.get(intent, [])) for intent in intents}
    assert min(counts.values()) >= 25, {k: v for k, v in counts.items() if v < 25}


def test_the_data_is_balanced():
    counts = {intent: len(lines) for intent, lines in examples().items()}
    assert HARDEST_MOMENTS <= set(counts)
    assert min(counts.values()) >= MIN_EXAMPLES, {k: v for k, v in counts.items() if v < MIN_EXAMPLES}
    assert counts["out_of_scope"] <= MAX_OUT_OF_SCOPE


def test_no_example_is_used_twice():
    counts = Counter(e.lower() for lines in examples().values() for e in lines)
    assert not [e for e, n in counts.items() if n > 1]


def test_no_near_exact_duplicates_within_or_across_intents():
    owners = {}
    clashes = []
    for intent, lines in examples().items():
        for line in lines:
            key = near_exact(line)
            if key in owners:
                clashes.append((line, intent, owners[key]))
            owners.setdefault(key, intent)
    assert not clashes, clashes[:20]


def test_files_are_organised_by_topic():
    """Rasa 3.1 format; one block per intent per file, and each intent lives in one topic file."""
    homes = {}
    for name, data in blocks():
        assert str(data.get("version")) == "3.1", name
        assert set(data) == {"version", "nlu"}, name
        intents = [block["intent"] for block in data["nlu"]]
        assert len(intents) == len(set(intents)), name
        for block in data["nlu"]:
            assert set(block) == {"intent", "examples"}, (name, block.get("intent"))
            assert lines_of(block), (name, block["intent"])
            homes.setdefault(block["intent"], []).append(name)
    assert not {intent: files for intent, files in homes.items() if len(files) > 1}
