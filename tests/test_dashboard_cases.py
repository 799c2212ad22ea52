"""The queue and the actions on a case: order, "Volgende", claim, assign, take over, reply, hand
back, transfer, note, resolve; each idempotent and audited; the takeover cap; the pause hint;
the transcript; erasure and retention of the moderators' notes and messages."""
# ruff: noqa: F811 - the shared fixtures are imported from tests/test_dashboard.py by name
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from bot.config import load_settings
from bot.dashboard.app import create_app
from bot.store import accounts, cases, conversations, outbox
from tests.test_dashboard import (  # noqa: F401 - fixtures
    _fast_hashing,
    app,
    client_for,
    conversation,
    csrf,
    escalate,
    logged_in,
    post,
    quick_content,
    settings,
    store,
)

CONV = [f"c{n:031d}" for n in range(1, 9)]


def actions(store, action=None):
    rows = store.execute("SELECT action, account_name, case_id FROM audit_log ORDER BY id").fetchall()
    return [r for r in rows if action is None or r[0] == action]


def outbox_rows(store, conversation_id=None, origin=None):
    return [row for row in store.query("SELECT * FROM outbox ORDER BY id")
            if (conversation_id is None or row["conversation_id"] == conversation_id)
            and (origin is None or row["origin"] == origin)]


def queue_ids(client):
    return [int(i) for i in re.findall(r'<tr data-case-id="(\d+)"', client.get("/queue/rows").text)]


# --- the queue -----------------------------------------------------------------------------------
def test_the_queue_orders_by_severity_then_waiting_time(app, store):
    client = logged_in(app, store)
    concern = escalate(store, conversation(store, CONV[0]), "concern")
    high_old = escalate(store, conversation(store, CONV[1]), "high")
    acute_new = escalate(store, conversation(store, CONV[2]), "acute", "selfharm")
    high_new = escalate(store, conversation(store, CONV[3]), "high")
    request = cases.open_request(store, conversation(store, CONV[4]), "mens")
    old = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()
    store.execute("UPDATE cases SET created_at = ? WHERE id IN (?, ?)", [old, high_old, request])
    assert queue_ids(client) == [acute_new, high_old, high_new, request, concern]
    page = client.get("/queue").text
    assert 'id="queue"' in page and 'data-severity="acute"' in page and "geheimpje" in page
    assert "vraagt om een mens (/mens)" in page


def test_a_raised_escalation_moves_up_in_the_same_case(app, store):
    client = logged_in(app, store)
    first = escalate(store, conversation(store, CONV[0]), "concern")
    other = escalate(store, conversation(store, CONV[1]), "high")
    again = escalate(store, CONV[0], "acute", "selfharm", matched=["pillen"])
    assert again == first and queue_ids(client) == [first, other]


def test_the_queue_shows_who_claimed(app, store):
    client = logged_in(app, store)
    case_id = escalate(store, conversation(store))
    post(client, f"/cases/{case_id}/claim", {"request_id": "r1"})
    assert "mila" in client.get("/queue/rows").text


def test_next_claims_the_most_urgent_unclaimed_case(app, store):
    client = logged_in(app, store)
    colleague = logged_in(app, store, "kees")
    high = escalate(store, conversation(store, CONV[0]), "high")
    acute = escalate(store, conversation(store, CONV[1]), "acute", "selfharm")
    post(colleague, f"/cases/{acute}/claim")
    response = post(client, "/queue/next", {"request_id": "n1"})
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{high}"
    assert cases.get(store, high)["claimed_by_name"] == "mila"
    assert post(client, "/queue/next", {"request_id": "n1"}).headers["location"] == "/queue"  # sent twice: once
    response = post(client, "/queue/next", {"request_id": "n2"})
    assert response.headers["location"] == "/queue" and "geen melding" in client.get("/queue").text


# --- claim and assign ----------------------------------------------------------------------------
def test_claim_is_idempotent_audited_and_one_moderator_at_a_time(app, store):
    mila = logged_in(app, store)
    kees = logged_in(app, store, "kees")
    case_id = escalate(store, conversation(store))
    assert post(mila, f"/cases/{case_id}/claim", {"request_id": "a"}).status_code == 303
    assert post(mila, f"/cases/{case_id}/claim", {"request_id": "b"}).status_code == 303  # again: no change
    refused = post(kees, f"/cases/{case_id}/claim", {"request_id": "c"})
    assert refused.status_code == 409 and "mila" in refused.text
    case = cases.get(store, case_id)
    assert case["claimed_by_name"] == "mila" and case["first_claimed_at"]
    assert [(a, n) for a, n, _ in actions(store, "claim")] == [("claim", "mila")]


def test_an_admin_reassigns(app, store):
    mila = logged_in(app, store)
    logged_in(app, store, "kees")
    admin = logged_in(app, store, "anouk", "admin")
    case_id = escalate(store, conversation(store))
    post(mila, f"/cases/{case_id}/claim")
    assert post(mila, f"/cases/{case_id}/assign", {"to": "kees"}).status_code == 403  # not an admin
    assert post(admin, f"/cases/{case_id}/assign", {"to": "kees", "request_id": "x"}).status_code == 303
    assert post(admin, f"/cases/{case_id}/assign", {"to": "kees", "request_id": "y"}).status_code == 303
    assert cases.get(store, case_id)["claimed_by_name"] == "kees"
    assert len(actions(store, "assign")) == 1
    assert post(admin, f"/cases/{case_id}/assign", {"to": "niemand"}).status_code == 400


def test_viewing_a_case_is_audited(app, store):
    client = logged_in(app, store)
    case_id = escalate(store, conversation(store))
    assert client.get(f"/cases/{case_id}").status_code == 200
    assert actions(store, "view") == [("view", "mila", case_id)]
    client.get(f"/cases/{case_id}/transcript")  # the live update belongs to the same view
    assert len(actions(store, "view")) == 1
    assert client.get("/cases/999").status_code == 404


# --- take over, reply, hand back -----------------------------------------------------------------
def test_take_over_reply_and_hand_back(app, store):
    client = logged_in(app, store)
    conversation_id = conversation(store)
    case_id = escalate(store, conversation_id)
    assert post(client, f"/cases/{case_id}/takeover").status_code == 409  # claim first
    post(client, f"/cases/{case_id}/claim")
    assert post(client, f"/cases/{case_id}/reply", {"text": "hoi"}).status_code == 409  # take over first

    assert post(client, f"/cases/{case_id}/takeover", {"request_id": "t1"}).status_code == 303
    assert post(client, f"/cases/{case_id}/takeover", {"request_id": "t2"}).status_code == 303  # no change
    assert conversations.is_paused(store, conversation_id)
    assert [r["response"] for r in outbox_rows(store, conversation_id, "system")] == ["utter_moderator_joined"]

    assert post(client, f"/cases/{case_id}/reply", {"text": "Ik lees mee. Hoe gaat het?",
                                                    "request_id": "m1"}).status_code == 303
    assert post(client, f"/cases/{case_id}/reply", {"text": "Ik lees mee. Hoe gaat het?",
                                                    "request_id": "m1"}).status_code == 303  # double click
    replies = outbox_rows(store, conversation_id, "moderator")
    assert len(replies) == 1 and replies[0]["text"] == "Hulpverlener: Ik lees mee. Hoe gaat het?"
    assert replies[0]["channel"] == "telegram" and replies[0]["status"] == "pending"
    assert post(client, f"/cases/{case_id}/reply", {"text": "   "}).status_code == 400

    assert post(client, f"/cases/{case_id}/handback", {"request_id": "h1"}).status_code == 303
    assert post(client, f"/cases/{case_id}/handback", {"request_id": "h2"}).status_code == 303  # no change
    assert not conversations.is_paused(store, conversation_id)
    assert [r["response"] for r in outbox_rows(store, conversation_id, "system")] == \
        ["utter_moderator_joined", "utter_moderator_left"]
    assert [a for a, _, _ in actions(store) if a in ("takeover", "reply", "handback")] == \
        ["takeover", "reply", "handback"]
    # the transcript shows who said what, after the texts left the outbox
    for row in outbox_rows(store):
        outbox.mark_sent(store, row["id"])
    page = client.get(f"/cases/{case_id}").text
    assert "Hulpverlener: Ik lees mee" in page and 'data-who="hulpverlener"' in page
    assert "Er is nu een hulpverlener" in page  # Sam's own text, kept for the transcript


def test_messages_received_during_a_takeover_appear_live(app, store):
    client = logged_in(app, store)
    conversation_id = conversation(store)
    case_id = escalate(store, conversation_id)
    post(client, f"/cases/{case_id}/claim")
    post(client, f"/cases/{case_id}/takeover")
    store.execute("INSERT INTO inbox (channel, update_key, conversation_id, kind, text, status, failsafe_sent, "
                  "attempts, received_at, held) VALUES ('telegram', 'u9', ?, 'text', 'ben je er nog?', 'done', 0, 0, "
                  "?, 1)", [conversation_id, datetime.now(timezone.utc).isoformat()])
    fragment = client.get(f"/cases/{case_id}/transcript")
    assert fragment.status_code == 200 and "ben je er nog?" in fragment.text and "tijdens overname" in fragment.text
    assert f'data-url="/cases/{case_id}/transcript"' in client.get(f"/cases/{case_id}").text


def test_the_takeover_cap(data_dir, monkeypatch, store):
    monkeypatch.setenv("DASHBOARD_MAX_TAKEOVERS", "2")
    app = create_app(load_settings(), warm_up=False)
    client = logged_in(app, store)
    ids = [escalate(store, conversation(store, CONV[n])) for n in range(3)]
    for case_id in ids:
        post(client, f"/cases/{case_id}/claim")
    assert post(client, f"/cases/{ids[0]}/takeover").status_code == 303
    assert post(client, f"/cases/{ids[1]}/takeover").status_code == 303
    refused = post(client, f"/cases/{ids[2]}/takeover")
    assert refused.status_code == 409 and "2 gesprekken" in refused.text
    assert not conversations.is_paused(store, CONV[2])
    post(client, f"/cases/{ids[0]}/handback")
    assert post(client, f"/cases/{ids[2]}/takeover").status_code == 303


def test_an_erased_conversation_cannot_be_taken_over(app, store):
    client = logged_in(app, store)
    case_id = escalate(store, conversation(store))
    post(client, f"/cases/{case_id}/claim")
    conversations.erase(store, cases.get(store, case_id)["conversation_id"])
    response = post(client, f"/cases/{case_id}/takeover")
    assert response.status_code == 409
    assert cases.get(store, case_id)["status"] == "closed"


# --- transfer, notes, resolve --------------------------------------------------------------------
def test_transfer_to_a_colleague_with_a_note_takes_the_chat_along(app, store):
    mila = logged_in(app, store)
    logged_in(app, store, "kees")
    conversation_id = conversation(store)
    case_id = escalate(store, conversation_id)
    post(mila, f"/cases/{case_id}/claim")
    post(mila, f"/cases/{case_id}/takeover")
    assert post(mila, f"/cases/{case_id}/transfer", {"to": "kees", "note": ""}).status_code == 400
    assert post(mila, f"/cases/{case_id}/transfer", {"to": "kees", "note": "Zij wil praten over school.",
                                                     "request_id": "x1"}).status_code == 303
    assert post(mila, f"/cases/{case_id}/transfer", {"to": "kees", "note": "Zij wil praten over school.",
                                                     "request_id": "x1"}).status_code == 303
    case = cases.get(store, case_id)
    assert case["claimed_by_name"] == "kees" and case["taken_over_by_name"] == "kees"
    assert conversations.is_paused(store, conversation_id)
    notes = cases.notes(store, case_id)
    assert [(n["kind"], n["account_name"]) for n in notes] == [("transfer", "mila")]
    assert len(actions(store, "transfer")) == 1
    assert post(mila, f"/cases/{case_id}/reply", {"text": "hoi"}).status_code == 409  # no longer hers


def test_notes_are_idempotent_and_shown(app, store):
    client = logged_in(app, store)
    case_id = escalate(store, conversation(store))
    for _ in range(2):
        assert post(client, f"/cases/{case_id}/note", {"text": "Belt morgen met mentor.",
                                                       "request_id": "n1"}).status_code == 303
    assert len(cases.notes(store, case_id)) == 1 and len(actions(store, "note")) == 1
    assert "Belt morgen met mentor." in client.get(f"/cases/{case_id}").text
    assert post(client, f"/cases/{case_id}/note", {"text": ""}).status_code == 400


def test_resolve_closes_case_and_escalation_and_hands_back(app, store):
    client = logged_in(app, store)
    conversation_id = conversation(store)
    case_id = escalate(store, conversation_id, "high")
    post(client, f"/cases/{case_id}/claim")
    post(client, f"/cases/{case_id}/takeover")
    assert post(client, f"/cases/{case_id}/resolve", {"outcome": "verzonnen"}).status_code == 400
    response = post(client, f"/cases/{case_id}/resolve", {"outcome": "doorverwezen", "follow_up": "Mentor belt.",
                                                          "request_id": "r1"})
    assert response.status_code == 303 and response.headers["location"] == "/queue"
    assert post(client, f"/cases/{case_id}/resolve", {"outcome": "anders", "request_id": "r2"}).status_code == 303
    case = cases.get(store, case_id)
    assert (case["status"], case["outcome"]) == ("closed", "doorverwezen")
    escalation = store.execute("SELECT status, outcome, closed_at FROM escalations WHERE id = ?",
                               [case["escalation_id"]]).fetchone()
    assert escalation[:2] == ("closed", "doorverwezen") and escalation[2]
    assert not conversations.is_paused(store, conversation_id)
    assert outbox_rows(store, conversation_id, "system")[-1]["response"] == "utter_moderator_left"
    assert [n["kind"] for n in cases.notes(store, case_id)] == ["follow_up"]
    assert len(actions(store, "resolve")) == 1
    assert queue_ids(client) == []
    assert 'id="pause-hint"' not in client.get("/queue").text  # not acute


def test_after_an_acute_case_a_dismissable_pause_hint(app, store):
    client = logged_in(app, store)
    case_id = escalate(store, conversation(store), "acute", "selfharm")
    post(client, f"/cases/{case_id}/claim")
    post(client, f"/cases/{case_id}/resolve", {"outcome": "gesprek_gevoerd"})
    page = client.get("/queue").text
    assert 'id="pause-hint"' in page and 'id="dismiss-hint"' in page
    assert 'id="pause-hint"' in client.get("/queue").text  # stays until dismissed
    assert post(client, "/hint/dismiss").status_code == 303
    assert 'id="pause-hint"' not in client.get("/queue").text


def test_a_new_escalation_after_resolving_is_a_new_case(app, store):
    client = logged_in(app, store)
    conversation_id = conversation(store)
    first = escalate(store, conversation_id)
    post(client, f"/cases/{first}/claim")
    post(client, f"/cases/{first}/resolve", {"outcome": "geen_zorg"})
    second = escalate(store, conversation_id, "acute", "selfharm")
    assert second != first and queue_ids(client) == [second]
    page = client.get(f"/cases/{second}").text
    assert 'id="earlier"' in page and f'href="/cases/{first}"' in page


def test_on_and_off_duty(app, store):
    client = logged_in(app, store)
    assert post(client, "/duty", {"on_duty": "1"}).status_code == 303
    assert accounts.get_by_name(store, "mila")["on_duty"] == 1
    assert 'data-on-duty="1"' in client.get("/queue").text
    post(client, "/duty", {"on_duty": "1"})
    post(client, "/duty", {"on_duty": "0"})
    assert [a for a, _, _ in actions(store) if a.endswith("duty")] == ["on_duty", "off_duty"]


def test_logging_out_hands_taken_over_chats_back_and_ends_duty(app, store):
    client = logged_in(app, store)
    conversation_id = conversation(store)
    case_id = escalate(store, conversation_id)
    post(client, "/duty", {"on_duty": "1"})
    post(client, f"/cases/{case_id}/claim")
    post(client, f"/cases/{case_id}/takeover")
    post(client, "/logout")
    assert not conversations.is_paused(store, conversation_id)
    assert accounts.get_by_name(store, "mila")["on_duty"] == 0
    assert cases.get(store, case_id)["claimed_by_name"] == "mila"  # still hers for later


# --- erasure and retention -----------------------------------------------------------------------
def test_erasure_removes_notes_and_moderator_messages(app, store):
    client = logged_in(app, store)
    conversation_id = conversation(store)
    case_id = escalate(store, conversation_id)
    post(client, f"/cases/{case_id}/claim")
    post(client, f"/cases/{case_id}/takeover")
    post(client, f"/cases/{case_id}/reply", {"text": "GEHEIM-ANTWOORD"})
    post(client, f"/cases/{case_id}/note", {"text": "GEHEIME-NOTITIE"})
    conversations.erase(store, conversation_id)
    assert store.execute("SELECT COUNT(*) FROM case_notes").fetchone()[0] == 0
    assert store.execute("SELECT COUNT(*) FROM moderator_messages").fetchone()[0] == 0
    case = cases.get(store, case_id)
    assert case["status"] == "closed" and case["outcome"] == "gewist_door_jongere" and case["conversation_id"] is None
    page = client.get(f"/cases/{case_id}").text
    assert "GEHEIM" not in page and "Gewist" in page


def test_retention_purges_old_notes_and_moderator_messages(app, store, settings):
    from bot.retention import purge

    client = logged_in(app, store)
    conversation_id = conversation(store)
    case_id = escalate(store, conversation_id)
    post(client, f"/cases/{case_id}/note", {"text": "oud"})
    post(client, f"/cases/{case_id}/note", {"text": "nieuw"})
    old = (datetime.now(timezone.utc) - timedelta(days=settings.retention_days + 1)).isoformat(timespec="milliseconds")
    store.execute("UPDATE case_notes SET created_at = ? WHERE text = 'oud'", [old])
    store.execute("INSERT INTO moderator_messages (conversation_id, author, text, created_at) "
                  "VALUES (?, 'hulpverlener', 'oud bericht', ?)", [conversation_id, old])
    counts = purge(settings)
    assert counts["moderation"] == 2
    assert [n["text"] for n in cases.notes(store, case_id)] == ["nieuw"]
    assert store.execute("SELECT COUNT(*) FROM moderator_messages").fetchone()[0] == 0


def test_every_action_form_carries_the_tokens(app, store):
    client = logged_in(app, store, "anouk", "admin")
    token = csrf(client)
    case_id = escalate(store, conversation(store))
    post(client, f"/cases/{case_id}/claim")
    page = client.get(f"/cases/{case_id}").text
    forms = re.findall(r'<form method="post" action="/cases/[^>]*>(.*?)</form>', page, re.S)
    assert len(forms) >= 5
    for form in forms:
        assert f'name="csrf_token" value="{token}"' in form and 'name="request_id"' in form
    assert client_for(app).get(f"/cases/{case_id}").status_code == 303


def test_erasure_leaves_no_moderator_text_in_any_file(app, store, settings):
    from bot.store.db import checkpoint
    from tests.test_erasure import found_in_files

    client = logged_in(app, store)
    conversation_id = conversation(store)
    case_id = escalate(store, conversation_id)
    post(client, f"/cases/{case_id}/claim")
    post(client, f"/cases/{case_id}/takeover")
    secrets = [f"GEHEIM-MOD-{n}-5e1b" for n in range(5)]
    for secret in secrets:
        post(client, f"/cases/{case_id}/reply", {"text": secret * 4})
        post(client, f"/cases/{case_id}/note", {"text": secret * 4})
    checkpoint(store)
    assert found_in_files(settings.data_dir, secrets)
    conversations.erase(store, conversation_id)
    assert found_in_files(settings.data_dir, secrets) == {}


def test_the_case_page_knows_the_helplines_a_handover_named_in_their_short_form():
    """After a handover Sam names lines in their short form; the moderator sees them as already told."""
    from bot import content
    from bot.dashboard.transcript import Entry, helplines_told
    from bot.helplines import helplines_text

    at = datetime(2026, 11, 27, 22, 0, tzinfo=timezone.utc)
    handover = helplines_text("selfharm", now=at, compact=True)
    lines = content.current().helplines["lines"]
    entries = [Entry(at, "jongere", lines["kindertelefoon"]["name"]), Entry(at, "sam", handover)]
    told = [t["name"] for t in helplines_told(entries)]
    assert lines["zelfmoordpreventie_113"]["name"] in told and lines["alarm_112"]["name"] in told
    assert lines["kindertelefoon"]["name"] not in told  # the young person's own words do not count


def test_the_case_page_names_what_recognised_the_risk_in_dutch(app, store):
    from bot.store import escalations

    client = logged_in(app, store)
    conversation_id = conversation(store)
    case_id = escalate(store, conversation_id)  # recognised by the word list
    for source in ("decision", "intent+detector"):
        escalations.record_trigger(store, conversation_id, "abuse", "high", [], 0.4, source,
                                   [{"from": "jongere", "text": "het gebeurt weer"}])
    page = client.get(f"/cases/{case_id}").text
    cells = re.findall(r"<td>([^<]*)</td></tr>", page)
    assert {"woordenlijst", "eindafweging van alle signalen", "taalmodel en meldingsdetector"} <= set(cells)
    assert not {"decision", "intent+detector", "lexicon"} & set(cells)
    # No matched words (the detector or the decision recognised it): a dash, not an empty cell.
    matched = re.findall(r"<td>([^<]*)</td>\s*<td>\d+%</td>", page)
    assert matched.count("—") == 2 and "" not in matched, matched
