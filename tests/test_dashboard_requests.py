"""Requests for a person (on duty or not), their fallback to the helplines, taken-over chats whose
moderator left, and the alerts to the moderators' Telegram group."""
# ruff: noqa: F811 - the shared fixtures are imported from tests/test_dashboard.py by name
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot import requests
from bot.config import load_settings
from bot.store import accounts, audit, cases, conversations, escalations
from tests.test_dashboard import (  # noqa: F401 - fixtures
    _fast_hashing,
    app,
    conversation,
    escalate,
    logged_in,
    make_account,
    post,
    quick_content,
    settings,
    store,
)

CONVERSATION = "f" * 32


def system_messages(store, conversation_id=CONVERSATION):
    return [r["response"] for r in store.query("SELECT response FROM outbox WHERE conversation_id = ? "
                                               "AND origin = 'system' ORDER BY id", [conversation_id])]


def on_duty(app, store, name="mila"):
    client = logged_in(app, store, name)
    post(client, "/duty", {"on_duty": "1"})
    return client


# --- request_person ------------------------------------------------------------------------------
def test_without_any_account_sam_answers_as_always(settings, store):
    assert requests.request_person(settings, conversation(store, CONVERSATION), "mens") is None
    assert store.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0


def test_nobody_on_duty_sam_says_so(settings, store, app):
    logged_in(app, store)  # logged in, but not on duty
    assert requests.request_person(settings, conversation(store, CONVERSATION), "mens") == requests.NOBODY_ON_DUTY
    assert store.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0


def test_on_duty_a_request_goes_into_the_queue(settings, store, app):
    client = on_duty(app, store)
    conversation(store, CONVERSATION)
    assert requests.request_person(settings, CONVERSATION, "mens") == requests.REQUEST_TAKEN
    assert requests.request_person(settings, CONVERSATION, "request_human") == requests.REQUEST_TAKEN
    rows = list(store.query("SELECT * FROM cases"))
    assert len(rows) == 1 and rows[0]["kind"] == "request" and rows[0]["source"] == "mens"
    rows_html = client.get("/queue/rows").text
    assert 'data-severity="request"' in rows_html and "vraagt om een mens" in rows_html
    assert "FFFFFF" in rows_html and CONVERSATION not in rows_html  # only the short code


def test_on_duty_without_a_live_session_counts_as_nobody(settings, store, app):
    on_duty(app, store)
    stale = (datetime.now(timezone.utc) - timedelta(minutes=settings.dashboard_session_minutes + 1)).isoformat()
    store.execute("UPDATE dashboard_sessions SET last_seen_at = ?", [stale])
    assert requests.request_person(settings, conversation(store, CONVERSATION), "mens") == requests.NOBODY_ON_DUTY


def test_a_request_joins_an_open_escalation(settings, store, app):
    on_duty(app, store)
    case_id = escalate(store, conversation(store, CONVERSATION))
    assert requests.request_person(settings, CONVERSATION, "request_human") == requests.REQUEST_TAKEN
    case = cases.get(store, case_id)
    assert case["requested_at"] and store.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 1


def test_an_escalation_after_a_request_takes_over_its_case(settings, store, app):
    client = on_duty(app, store)
    conversation(store, CONVERSATION)
    requests.request_person(settings, CONVERSATION, "mens")
    request_case = store.execute("SELECT id FROM cases").fetchone()[0]
    post(client, f"/cases/{request_case}/claim")
    case_id = escalate(store, CONVERSATION, "acute", "selfharm")
    case = cases.get(store, case_id)
    assert case_id == request_case and case["kind"] == "escalation" and case["claimed_by_name"] == "mila"


def test_request_person_never_raises(settings, monkeypatch):
    monkeypatch.setattr(requests, "open_db", lambda path: (_ for _ in ()).throw(OSError("schijf vol")))
    assert requests.request_person(settings, CONVERSATION, "mens") is None


async def test_the_gateway_mens_command_uses_it(settings, store, app, monkeypatch):
    from bot.gateway import Gateway

    gateway = Gateway(settings, store, rasa=None)
    item = {"kind": "command", "text": "/mens", "conversation_id": conversation(store, CONVERSATION)}
    assert [m["response"] for m in await gateway._local_answer(item)] == ["utter_human"]  # no accounts
    on_duty(app, store)
    assert [m["response"] for m in await gateway._local_answer(item)] == [requests.REQUEST_TAKEN]
    monkeypatch.setattr(requests, "_request_person", lambda *a: (_ for _ in ()).throw(RuntimeError("stuk")))
    assert [m["response"] for m in await gateway._local_answer(item)] == ["utter_human"]  # failure-proof


async def test_the_request_human_action_uses_it(data_dir, store, app):
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from bot.actions.answers import ActionHelplines

    tracker = Tracker(CONVERSATION, {}, {"intent": {"name": "request_human"}, "text": "mens"}, [], False, None, {},
                      "")
    conversation(store, CONVERSATION)
    dispatcher = CollectingDispatcher()
    await ActionHelplines().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_request_human"]
    on_duty(app, store)
    dispatcher = CollectingDispatcher()
    await ActionHelplines().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == [requests.REQUEST_TAKEN]
    make_account(store, "kees")
    accounts.set_on_duty(store, accounts.get_by_name(store, "mila")["id"], False)
    dispatcher = CollectingDispatcher()
    await ActionHelplines().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == [requests.NOBODY_ON_DUTY]
    assert dispatcher.messages[0]["helplines"]


# --- the fallback --------------------------------------------------------------------------------
def test_an_unclaimed_request_falls_back_to_the_helplines(settings, store, app):
    on_duty(app, store)
    conversation(store, CONVERSATION)
    requests.request_person(settings, CONVERSATION, "mens")
    now = datetime.now(timezone.utc)
    assert requests.expire_requests(store, settings, now) == 0  # not yet
    later = now + timedelta(minutes=settings.request_fallback_minutes + 1)
    assert requests.expire_requests(store, settings, later) == 1
    assert requests.expire_requests(store, settings, later) == 0  # once
    assert system_messages(store) == [requests.REQUEST_EXPIRED]
    text = store.execute("SELECT text FROM outbox WHERE response = ?", [requests.REQUEST_EXPIRED]).fetchone()[0]
    assert "{helplines}" not in text and "0800" in text  # the helplines filled in
    case = list(store.query("SELECT * FROM cases"))[0]
    assert (case["status"], case["outcome"]) == ("closed", "verlopen")
    assert store.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'request_expired'").fetchone()[0] == 1


def test_a_claimed_request_does_not_fall_back(settings, store, app):
    client = on_duty(app, store)
    conversation(store, CONVERSATION)
    requests.request_person(settings, CONVERSATION, "mens")
    post(client, f"/cases/{store.execute('SELECT id FROM cases').fetchone()[0]}/claim")
    later = datetime.now(timezone.utc) + timedelta(minutes=settings.request_fallback_minutes + 1)
    assert requests.expire_requests(store, settings, later) == 0 and system_messages(store) == []


def test_an_escalation_with_an_expired_request_stays_in_the_queue(settings, store, app):
    on_duty(app, store)
    case_id = escalate(store, conversation(store, CONVERSATION))
    requests.request_person(settings, CONVERSATION, "request_human")
    later = datetime.now(timezone.utc) + timedelta(minutes=settings.request_fallback_minutes + 1)
    assert requests.expire_requests(store, settings, later) == 1
    case = cases.get(store, case_id)
    assert case["status"] == "open" and case["request_expired_at"]
    assert system_messages(store) == [requests.REQUEST_EXPIRED]


def test_a_chat_whose_moderator_left_goes_back_to_sam(settings, store, app):
    client = logged_in(app, store)
    case_id = escalate(store, conversation(store, CONVERSATION))
    post(client, f"/cases/{case_id}/claim")
    post(client, f"/cases/{case_id}/takeover")
    now = datetime.now(timezone.utc)
    assert requests.expire_requests(store, settings, now) == 0  # the session is live
    later = now + timedelta(minutes=settings.dashboard_session_minutes + 1)
    assert requests.expire_requests(store, settings, later) == 1
    assert not conversations.is_paused(store, CONVERSATION)
    assert system_messages(store) == ["utter_moderator_joined", "utter_moderator_left"]
    row = store.execute("SELECT account_name, detail FROM audit_log WHERE action = 'handback'").fetchone()
    assert row[0] == audit.SYSTEM and "sessie verlopen" in row[1]


# --- alerts --------------------------------------------------------------------------------------
@pytest.fixture
def alerts_on(data_dir, monkeypatch):
    monkeypatch.setenv("MODERATOR_CHAT_ID", "-100123456")
    monkeypatch.setenv("DASHBOARD_URL", "https://sam.example.nl")
    return load_settings()


def alerts(store):
    return list(store.query("SELECT * FROM outbox WHERE channel = 'telegram' AND conversation_id IS NULL "
                            "AND origin = 'system' ORDER BY id"))


def test_a_new_and_a_raised_escalation_alert_the_moderators_without_content(alerts_on, store):
    from bot.gateway import pseudonymiser_for

    conversation(store, CONVERSATION)
    escalations.record_trigger(store, CONVERSATION, "grooming", "high", ["geheimpje"], 0.9, "lexicon",
                               [{"from": "jongere", "text": "GEHEIME-TEKST hij wil afspreken"}])
    escalations.record_trigger(store, CONVERSATION, "grooming", "high", ["afspreken"], 0.9, "lexicon", [])
    assert len(alerts(store)) == 1  # same severity: no new alert
    escalations.record_trigger(store, CONVERSATION, "selfharm", "acute", ["pillen"], 1.0, "lexicon", [])
    sent = alerts(store)
    assert len(sent) == 2
    case_id = store.execute("SELECT id FROM cases").fetchone()[0]
    for row in sent:
        assert pseudonymiser_for(alerts_on).decrypt(row["chat_ref"]) == "-100123456"
        assert f"https://sam.example.nl/cases/{case_id}" in row["text"] and "FFFFFF" in row["text"]
        assert "GEHEIME-TEKST" not in row["text"] and "geheimpje" not in row["text"]
        assert CONVERSATION not in row["text"]
    assert "ACUUT" in sent[1]["text"] and "zelfbeschadiging" in sent[1]["text"]


def test_without_a_moderator_chat_no_alert_but_the_case_is_there(settings, store):
    escalations.record_trigger(store, conversation(store, CONVERSATION), "grooming", "high", [], 0.9, "lexicon", [])
    assert alerts(store) == [] and store.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 1


def test_a_failing_alert_never_breaks_the_handover(alerts_on, store, monkeypatch):
    monkeypatch.setattr(requests.cases, "ensure_for_escalation",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("stuk")))
    escalation_id = escalations.record_trigger(store, conversation(store, CONVERSATION), "grooming", "high", [], 0.9,
                                               "lexicon", [])
    assert store["escalations"].get(escalation_id)["status"] == "open"
    monkeypatch.setattr(requests, "alert_moderators", lambda *a: (_ for _ in ()).throw(RuntimeError("kapot")))
    escalations.record_trigger(store, CONVERSATION, "selfharm", "acute", [], 0.9, "lexicon", [])
    assert store["escalations"].get(escalation_id)["severity"] == "acute"


def test_run_expiry_uses_its_own_connection(settings, store, app):
    on_duty(app, store)
    requests.request_person(settings, conversation(store, CONVERSATION), "mens")
    later = datetime.now(timezone.utc) + timedelta(minutes=settings.request_fallback_minutes + 1)
    assert requests.run_expiry(settings, later) == 1
    assert system_messages(store) == [requests.REQUEST_EXPIRED]


def test_editors_alone_do_not_make_the_dashboard_in_use(settings, store):
    make_account(store, "eddie", "editor")
    assert requests.request_person(settings, conversation(store, CONVERSATION), "mens") is None
