"""Consistency of content/ with the assistant: every answer exists, every text is used, buttons work."""
from __future__ import annotations

import re

import pytest
import yaml

from bot import content
from bot.config import CONTENT_DIR, DOMAIN_FILE, STORIES_DIR
from bot.gateway import COMMAND_RESPONSES, MEDIA_RESPONSES
from bot.risk.lexicon import CATEGORIES

DOMAIN = yaml.safe_load(DOMAIN_FILE.read_text())
INTENTS = set(DOMAIN["intents"])
C = content.load_content()
ALLOWED_VARIABLES = {"helplines"}
EXTRA_PAYLOADS = {"/vergeet_ja", "/vergeet_nee"}


def story_actions():
    used = set()
    for path in STORIES_DIR.glob("*.yml"):
        data = yaml.safe_load(path.read_text())
        for block in (data.get("rules") or []) + (data.get("stories") or []):
            for step in block["steps"]:
                if "action" in step:
                    used.add(step["action"])
    return used


def code_responses():
    """Responses named in Python code and content/followups.yml."""
    names = set(MEDIA_RESPONSES.values()) | set(COMMAND_RESPONSES.values())
    for path in (CONTENT_DIR.parent / "bot").rglob("*.py"):
        # A full name in quotes, not a prefix tested with startswith(...).
        names |= set(re.findall(r'(?<!startswith\()"(utter_[a-z_]*[a-z])"', path.read_text())) - {"utter_action"}
    for followup in C.followups.values():
        names |= set(followup.values())
    names |= {f"utter_handover_{category}" for category in CATEGORIES}
    names |= {"utter_affirm", "utter_deny"}
    return names


def rule_answers():
    """intent -> the actions the rules starting with that intent run after it."""
    answers = {}
    for path in STORIES_DIR.glob("*.yml"):
        for rule in yaml.safe_load(path.read_text()).get("rules") or []:
            steps = rule["steps"]
            if steps and "intent" in steps[0]:
                answers.setdefault(steps[0]["intent"], []).extend(s["action"] for s in steps[1:] if "action" in s)
    return answers


@pytest.mark.parametrize("intent", sorted(INTENTS | {"nlu_fallback"}))
def test_every_intent_is_answered_by_a_rule_with_an_answer_that_exists(intent):
    """Each intent (and nlu_fallback, which Rasa adds itself) starts a rule; its answers exist."""
    answers = rule_answers().get(intent)
    assert answers, f"no rule answers {intent}"
    for action in answers:
        known = C.responses if action.startswith("utter_") else DOMAIN["actions"]
        assert action in known, (intent, action)


async def test_fallback_is_wired_from_classifier_to_rule_to_action_to_text():
    """Not understood: FallbackClassifier predicts nlu_fallback, a rule runs action_fallback, and
    without a risk context that action sends utter_default, whose text exists."""
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from bot.actions.moments import ActionFallback
    from bot.config import CONFIG_FILE

    pipeline = yaml.safe_load(CONFIG_FILE.read_text())["pipeline"]
    assert "FallbackClassifier" in [component["name"] for component in pipeline]
    assert rule_answers().get("nlu_fallback", [])[:1] == ["action_fallback"]
    assert "action_fallback" in yaml.safe_load(DOMAIN_FILE.read_text())["actions"]
    dispatcher = CollectingDispatcher()
    tracker = Tracker("t", {}, {"intent": {"name": "nlu_fallback"}, "text": "blub"}, [], False, None, {}, "")
    await ActionFallback().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_default"]
    assert C.response("utter_default")["text"].strip()


def test_every_response_used_in_stories_exists_in_content():
    missing = {a for a in story_actions() if a.startswith("utter_") and a not in C.responses}
    assert not missing


def test_every_response_in_code_exists_in_content():
    missing = code_responses() - set(C.responses)
    assert not missing


def test_every_content_response_is_used_somewhere():
    unused = set(C.responses) - story_actions() - code_responses()
    assert not unused, f"texts no code or story sends: {sorted(unused)}"


@pytest.mark.parametrize("name", sorted(C.responses))
def test_response_shape(name):
    for variant in C.responses[name]:
        assert set(variant) <= {"text", "buttons"}, name
        assert variant["text"].strip(), name
        assert set(re.findall(r"\{([^}]*)\}", variant["text"])) <= ALLOWED_VARIABLES, name
        for button in variant.get("buttons") or []:
            payload = button["payload"]
            assert payload in EXTRA_PAYLOADS or payload[1:] in INTENTS, (name, payload)
            assert len(payload.encode()) <= 64, "Telegram callback data is limited to 64 bytes"
            assert 0 < len(button["title"]) <= 40


def test_helpline_routing_uses_known_lines_and_every_category_is_routed():
    lines = C.helplines["lines"]
    routing = C.helplines["routing"]
    assert set(CATEGORIES) | {"general"} <= set(routing)
    for category, ids in routing.items():
        assert ids and all(i in lines for i in ids), category
    for category in CATEGORIES:
        fallback = C.helplines["always_open"][category]
        assert lines[fallback]["hours"] == "always", category
    for required in ("open_now", "always_open", "closed_now", "hours_unknown", "probably_open", "closed_add_24_7"):
        assert required in C.helplines["texts"]


def test_acute_categories_start_with_a_24_7_emergency_line():
    lines = C.helplines["lines"]
    for category in ("selfharm", "acute_danger"):
        first = C.helplines["routing"][category][0]
        assert lines[first]["hours"] == "always"


def test_lexicon_entries_are_valid():
    for entry in C.lexicon["entries"]:
        assert entry["category"] in CATEGORIES, entry
        assert entry.get("severity", "high") in ("acute", "high", "concern"), entry
        assert ("term" in entry) != ("all" in entry), entry


def test_live_content_reload_picks_up_an_edit(tmp_path, monkeypatch):
    import shutil

    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    monkeypatch.setattr(content, "RECHECK_SECONDS", 0)
    before = content.current(root).response("utter_greet")["text"]
    path = root / "responses" / "conversation.yml"
    data = yaml.safe_load(path.read_text())
    data["responses"]["utter_greet"][0]["text"] = "Nieuwe groet"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    import os
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse clocks
    after = content.current(root).response("utter_greet")["text"]
    assert before != after == "Nieuwe groet"
