"""Sam's input channel in the Rasa server: whole replies with names, and one answer per inbox id."""
from __future__ import annotations

import json
import sqlite3

import httpx
import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from bot.rasa_channel import replies_after


def test_replies_after_finds_the_answer_to_an_inbox_id_and_nothing_else():
    events = [
        UserUttered("hoi", metadata={"inbox_id": "telegram:1"}),
        ActionExecuted("utter_greet"),
        BotUttered("Hoi!", {"buttons": [{"title": "A", "payload": "/a"}]}, {"utter_action": "utter_greet"}),
        UserUttered("doei", metadata={"inbox_id": "telegram:2"}),
        BotUttered("Doei!", {}, {"utter_action": "utter_goodbye"}),
    ]
    assert replies_after(events, "telegram:1") == [
        {"text": "Hoi!", "buttons": [{"title": "A", "payload": "/a"}], "response": "utter_greet"}]
    assert [r["response"] for r in replies_after(events, "telegram:2")] == ["utter_goodbye"]
    assert replies_after(events, "telegram:3") is None


@pytest.mark.integration
def test_the_same_inbox_id_is_handled_once_and_answered_the_same(sam_servers):
    url = f"{sam_servers.url}/webhooks/sam/webhook"
    message = {"sender": "idempotent-1", "message": "ik wil niet meer leven", "metadata": {"inbox_id": "test:1"}}
    first = httpx.post(url, json=message, timeout=30).json()
    assert [r["response"] for r in first] == ["utter_handover_selfharm", "utter_handover_helplines"]
    assert all(r["text"] for r in first)
    again = httpx.post(url, json={**message, "metadata": {"inbox_id": "test:1", "retry": True}}, timeout=30).json()
    assert again == first
    events = sam_servers.tracker("idempotent-1")["events"]
    users = [e for e in events if e["event"] == "user"]
    assert len(users) == 1  # Rasa handled it once: one handover, one escalation trigger
    db = sqlite3.connect(sam_servers.settings.db_path)
    triggers = db.execute("SELECT triggers FROM escalations WHERE conversation_id = 'idempotent-1'").fetchone()[0]
    assert len(json.loads(triggers)) == 1  # one escalation trigger, not two


@pytest.mark.integration
def test_a_bad_request_is_refused_not_answered_empty(sam_servers):
    reply = httpx.post(f"{sam_servers.url}/webhooks/sam/webhook", json={"sender": "x"}, timeout=30)
    assert reply.status_code == 400
