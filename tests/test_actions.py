"""Custom actions run on trackers built from dicts; assertions are on response names and events."""
from __future__ import annotations

import json

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.answers import ActionFollowup, ActionHelplines, ActionNudgeTrustedAdult
from bot.actions.handover import ActionHandover
from bot.actions.replies import names as names_of
from bot.store.db import open_db


def tracker(text="", intent="greet", risk=None, events=None, sender="conv-1"):
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.97}, "entities": []}
    if risk is not None:
        latest["risk"] = risk
    return Tracker.from_dict({"sender_id": sender, "slots": {}, "latest_message": latest,
                              "events": events or [], "paused": False, "active_loop": {},
                              "latest_action_name": "action_listen"})


def bot_event(name, text="..."):
    return {"event": "bot", "text": text, "metadata": {"utter_action": name}}


def user_event(text, intent="greet"):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


async def run(action, t):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return names_of(dispatcher.messages), dispatcher.messages, events


def slot(events, name):
    return next(e["value"] for e in events if e.get("event") == "slot" and e["name"] == name)


async def test_handover_sends_comfort_and_the_helplines_in_two_messages(data_dir):
    risk = {"escalate": True, "category": "sextortion", "severity": "high", "matched": ["dreigen foto"],
            "source": "lexicon", "confidence": 1.0}
    t = tracker("hij dreigt mijn fotos te delen", "disclose_sextortion", risk,
                events=[user_event("hij dreigt mijn fotos te delen", "disclose_sextortion")])
    names, messages, events = await run(ActionHandover(), t)
    assert names == ["utter_handover_sextortion", "utter_handover_helplines"]
    assert messages[1]["helplines"].strip()  # the helplines open now are filled in
    assert {"event": "slot", "timestamp": None, "name": "risk_category", "value": "sextortion"} in events
    assert slot(events, "risk_severity") == "high" and slot(events, "risk_at") > 0
    db = open_db(data_dir / "sam.db")
    row = next(db["escalations"].rows)
    assert (row["conversation_id"], row["category"], row["severity"], row["status"]) == (
        "conv-1", "sextortion", "high", "open")
    assert json.loads(row["matched"]) == ["dreigen foto"]
    assert json.loads(row["turns"])[-1]["text"] == "hij dreigt mijn fotos te delen"


@pytest.mark.parametrize("category", ["sextortion", "image_shared", "grooming", "exploitation", "abuse",
                                      "selfharm", "runaway", "acute_danger"])
async def test_handover_from_the_intent_alone_uses_the_matching_texts(data_dir, category):
    names, _, events = await run(ActionHandover(), tracker("...", f"disclose_{category}"))
    assert names[0] == f"utter_handover_{category}"
    assert events[0]["value"] == category


async def test_handover_still_answers_when_the_database_fails(data_dir, monkeypatch):
    import bot.actions.handover as handover

    monkeypatch.setattr(handover, "open_db", lambda: (_ for _ in ()).throw(OSError("disk full")))
    names, _, _ = await run(ActionHandover(), tracker("ik wil dood", "disclose_selfharm"))
    assert names[0] == "utter_handover_selfharm"


async def test_nudge_once_per_conversation():
    names, _, _ = await run(ActionNudgeTrustedAdult(), tracker(events=[bot_event("utter_ask_sexting")]))
    assert names == ["utter_nudge_trusted_adult"]
    names, _, _ = await run(ActionNudgeTrustedAdult(), tracker(events=[bot_event("utter_nudge_trusted_adult"),
                                                                       bot_event("utter_ask_law")]))
    assert names == []


async def test_no_nudge_after_the_trusted_adult_answer():
    names, _, _ = await run(ActionNudgeTrustedAdult(), tracker(events=[bot_event("utter_ask_trusted_adult")]))
    assert names == []


@pytest.mark.parametrize("intent, expected", [("affirm", "utter_ask_trusted_adult"), ("deny", "utter_no_problem")])
async def test_yes_or_no_answers_the_nudge(intent, expected):
    events = [bot_event("utter_ask_sexting"), bot_event("utter_nudge_trusted_adult"), user_event("ja", intent)]
    names, _, _ = await run(ActionFollowup(), tracker("ja", intent, events=events))
    assert names == [expected]


@pytest.mark.parametrize("intent", ["affirm", "deny"])
async def test_yes_or_no_without_a_question(intent):
    events = [bot_event("utter_greet"), user_event("ja", intent)]
    names, _, _ = await run(ActionFollowup(), tracker("ja", intent, events=events))
    assert names == [f"utter_{intent}"]


@pytest.mark.parametrize("intent, expected", [("ask_helpline", "utter_ask_helpline"),
                                              ("request_human", "utter_request_human")])
async def test_helplines_action(intent, expected):
    names, messages, _ = await run(ActionHelplines(), tracker("", intent))
    assert names == [expected] and messages[0]["helplines"]
