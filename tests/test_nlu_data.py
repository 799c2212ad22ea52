"""The NLU training data honours the intent contract."""
from __future__ import annotations

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


def examples():
    found = {}
    for path in NLU_DIR.glob("*.yml"):
        for block in yaml.safe_load(path.read_text())["nlu"]:
            lines = [line[2:].strip() for line in block["examples"].splitlines() if line.strip().startswith("- ")]
            found.setdefault(block["intent"], []).extend(lines)
    return found


def test_contract_intents_are_in_the_domain():
    intents = set(yaml.safe_load(DOMAIN_FILE.read_text())["intents"])
    assert CONTRACT <= intents


def test_every_intent_has_at_least_25_examples():
    found = examples()
    intents = set(yaml.safe_load(DOMAIN_FILE.read_text())["intents"])
    counts = {intent: len(found.get(intent, [])) for intent in intents}
    assert min(counts.values()) >= 25, {k: v for k, v in counts.items() if v < 25}


def test_no_example_is_used_twice():
    counts = Counter(e.lower() for lines in examples().values() for e in lines)
    assert not [e for e, n in counts.items() if n > 1]
