"""The real Rasa server and action server, reached through the REST channel."""
from __future__ import annotations

import json
import uuid

import httpx
import pytest

from bot.store.db import open_db

pytestmark = pytest.mark.integration


def conversation() -> str:
    return uuid.uuid4().hex


def test_greeting_shows_the_menu(sam_servers):
    c = conversation()
    reply = httpx.post(f"{sam_servers.url}/webhooks/rest/webhook", json={"sender": c, "message": "hoi"}).json()
    assert sam_servers.last_turn(c) == ["utter_greet"]
    payloads = [b["payload"] for b in reply[0]["buttons"]]
    assert 1 <= len(payloads) <= 3 and "/help" in payloads  # at most 3 buttons; the whole menu one tap away


def test_sexting_question_gets_the_answer_and_one_trusted_adult_nudge(sam_servers):
    c = conversation()
    assert sam_servers.say(c, "wat is sexting") == ["utter_ask_sexting", "utter_nudge_trusted_adult"]
    assert sam_servers.say(c, "/ask_law") == ["utter_ask_law"]  # a button press, no second nudge


def test_yes_to_the_nudge_helps_start_the_talk(sam_servers):
    c = conversation()
    sam_servers.say(c, "wat is grooming")
    assert sam_servers.say(c, "ja graag") == ["utter_ask_trusted_adult"]


def test_no_to_the_nudge_is_fine(sam_servers):
    c = conversation()
    sam_servers.say(c, "hoe herken je een loverboy")
    assert sam_servers.say(c, "nee hoeft niet") == ["utter_no_problem"]


def test_gibberish_asks_to_rephrase_with_the_menu(sam_servers):
    assert sam_servers.say(conversation(), "qwpoeiruty zxmvn") == ["utter_default"]


def test_bot_challenge_and_privacy(sam_servers):
    c = conversation()
    assert sam_servers.say(c, "ben jij een echte persoon") == ["utter_bot_challenge"]
    assert sam_servers.say(c, "wie leest dit allemaal mee") == ["utter_ask_bot_privacy"]


def test_a_question_about_sextortion_is_answered_not_escalated(sam_servers):
    c = conversation()
    assert sam_servers.say(c, "wat is sextortion") == ["utter_ask_sextortion", "utter_nudge_trusted_adult"]
    rows = list(open_db(sam_servers.settings.db_path)["escalations"].rows_where("conversation_id = ?", [c]))
    assert rows == []


def test_a_disclosure_hands_over_in_the_same_turn_and_is_recorded(sam_servers):
    c = conversation()
    sam_servers.say(c, "hoi")
    names = sam_servers.say(c, "hij dreigt mn nudes te delen als ik niet betaal")
    assert names == ["utter_handover_sextortion", "utter_handover_helplines"]
    assert sam_servers.tracker(c)["slots"]["risk_category"] == "sextortion"
    rows = list(open_db(sam_servers.settings.db_path)["escalations"].rows_where("conversation_id = ?", [c]))
    assert len(rows) == 1 and rows[0]["status"] == "open" and rows[0]["category"] == "sextortion"
    assert any(t["text"] == "hoi" for t in json.loads(rows[0]["turns"]))


def test_a_second_trigger_raises_the_same_escalation(sam_servers):
    c = conversation()
    sam_servers.say(c, "een oudere man wil afspreken en zegt dat ik het geheim moet houden")
    assert sam_servers.say(c, "ik wil niet meer leven")[0] == "utter_handover_selfharm"
    rows = list(open_db(sam_servers.settings.db_path)["escalations"].rows_where("conversation_id = ?", [c]))
    assert len(rows) == 1 and rows[0]["severity"] == "acute" and rows[0]["category"] == "selfharm"


def test_selfharm_as_a_question_still_gets_the_24_7_lines(sam_servers):
    assert sam_servers.say(conversation(), "hoe pleeg je zelfmoord")[0] == "utter_handover_selfharm"


def test_an_acute_word_said_in_jest_gets_the_safety_line_not_a_handover(sam_servers):
    # Both models read no disclosure: 113 and 112 are named in one line, without a question to answer.
    names = sam_servers.say(conversation(), "dat proefwerk was echt zelfmoord haha")
    assert names[-1] == "utter_safety_line" and len(names) <= 2
    assert not any(name.startswith("utter_handover") or name == "utter_check_in" for name in names)


def test_the_http_api_needs_the_token_but_the_rest_channel_does_not(sam_servers):
    c = conversation()
    sam_servers.say(c, "hoi")
    assert httpx.get(f"{sam_servers.url}/conversations/{c}/tracker").status_code == 401
    reply = httpx.post(f"{sam_servers.url}/webhooks/rest/webhook", json={"sender": c, "message": "hoi"})
    assert reply.status_code == 200
