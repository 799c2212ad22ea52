"""Retention: after SAM_RETENTION_DAYS nothing about a conversation remains but anonymous facts,
also in conversations that are still active; after SAM_ESCALATION_RETENTION_DAYS an escalation
record is only a weekly count."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.config import load_settings
from bot.retention import purge
from bot.store import conversations, escalations, inbox, outbox

# Rasa's SQLTrackerStore table (rasa/core/tracker_store.py, SQLEvent).
EVENTS_TABLE = ("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                "action_name VARCHAR(255), data TEXT)")


def make_tracker_db(path: Path, journal_mode: str = "delete") -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA journal_mode={journal_mode}")
    conn.execute(EVENTS_TABLE)
    conn.execute("CREATE INDEX ix_events_sender_id ON events (sender_id)")
    return conn


def add_event(conn: sqlite3.Connection, sender: str, moment: datetime, type_name: str = "user",
              text: str = "") -> None:
    data = {"event": type_name, "timestamp": moment.timestamp(), "text": text}
    conn.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
                 [sender, type_name, moment.timestamp(), json.dumps(data)])


def event_texts(conn: sqlite3.Connection, sender: str) -> list:
    return [json.loads(row[0])["text"] for row in
            conn.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", [sender])]


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def test_purge_deletes_old_conversations_and_anonymises_escalations(db, data_dir):
    settings = load_settings()
    conversations.touch(db, "old", "telegram", "encrypted")
    inbox_id = inbox.receive(db, "telegram", "1", "old", "text", "hoi")
    inbox.complete(db, inbox_id, "old", [{"text": "Hoi!", "buttons": [], "response": "utter_greet"}])
    escalations.record_trigger(db, "old", "grooming", "high", ["geheim"], 1.0, "lexicon",
                               [{"from": "jongere", "text": "geheim"}])
    tracker_db = make_tracker_db(settings.tracker_db_path)
    now = datetime.now(timezone.utc)
    add_event(tracker_db, "old", now)

    assert purge(settings, now=now)["conversations"] == 0  # nothing is old yet
    assert db["conversations"].count == 1

    later = now + timedelta(days=settings.retention_days + 1)
    counts = purge(settings, now=later)
    assert counts["conversations"] == 1 and counts["tracker_events"] == 1
    assert db["conversations"].count == 0 and db["inbox"].count == 0 and db["outbox"].count == 0
    row = next(db["escalations"].rows)
    assert row["conversation_id"] is None and json.loads(row["turns"]) == []
    assert row["category"] == "grooming"  # the anonymous fact stays for the moderators
    assert tracker_db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0


def test_an_active_conversation_loses_only_what_is_older_than_the_limit(db, data_dir):
    settings = load_settings()
    now = datetime.now(timezone.utc)
    old, new = now - timedelta(days=settings.retention_days + 5), now - timedelta(hours=2)
    conversations.touch(db, "active", "telegram", "encrypted", now=iso(now - timedelta(hours=1)))

    for key, moment, status in (("1", old, "done"), ("2", old, "pending"), ("3", new, "done")):
        item = inbox.receive(db, "telegram", key, "active", "text", f"bericht {key}", now=iso(moment), status=status)
        outbox.add(db, "telegram", "active", [{"text": f"antwoord {key}"}], inbox_id=item, now=iso(moment))
    db.execute("UPDATE inbox SET held = 1 WHERE update_key = '1'")  # held for a moderator: still goes

    escalation_id = escalations.record_trigger(db, "active", "grooming", "high", ["geheim"], 1.0, "lexicon", [
        {"from": "jongere", "text": "oud als getal", "at": old.timestamp()},
        {"from": "sam", "text": "oud als tekst", "at": iso(old)},
        {"from": "jongere", "text": "nieuw als tekst", "at": iso(new)},
        {"from": "sam", "text": "nieuw als getal", "at": new.timestamp()},
    ])

    tracker = make_tracker_db(settings.tracker_db_path)
    # With sessions (as Rasa writes them): an old session and the current one.
    add_event(tracker, "active", old, "session_started")
    add_event(tracker, "active", old, text="oude vraag")
    add_event(tracker, "active", new, "session_started")
    add_event(tracker, "active", new, text="nieuwe vraag")
    # Without a session start, one session spanning the limit: the old events still go.
    add_event(tracker, "rest-user", old, text="oud")
    add_event(tracker, "rest-user", new, text="nieuw")

    counts = purge(settings, now=now)

    assert counts["conversations"] == 0 and db["conversations"].count == 1
    assert [r["text"] for r in db.query("SELECT text FROM inbox")] == ["bericht 3"]
    assert counts["inbox"] == 2
    assert [r["text"] for r in db.query("SELECT text FROM outbox")] == ["antwoord 3"]
    assert counts["outbox"] == 2
    row = db["escalations"].get(escalation_id)
    assert [t["text"] for t in json.loads(row["turns"])] == ["nieuw als tekst", "nieuw als getal"]
    assert row["conversation_id"] == "active" and row["status"] == "open"
    assert counts["escalation_turns"] == 2
    assert event_texts(tracker, "active") == ["", "nieuwe vraag"]
    assert event_texts(tracker, "rest-user") == ["nieuw"]
    assert counts["tracker_events"] == 3

    # A second run finds nothing more and changes nothing.
    again = purge(settings, now=now)
    assert all(value == 0 for value in again.values()), again
    assert db["inbox"].count == 1 and db["outbox"].count == 1
    assert len(json.loads(db["escalations"].get(escalation_id)["turns"])) == 2
    assert tracker.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 3


def test_a_sender_inside_rasa_right_now_keeps_its_current_session_until_quiet(db, data_dir):
    """Rasa finds a tracker's new events by counting the stored ones of the current session;
    deleting from that session during a turn would make Rasa store old events again."""
    settings = load_settings()
    now = datetime.now(timezone.utc)
    old = now - timedelta(days=settings.retention_days + 1)
    tracker = make_tracker_db(settings.tracker_db_path)
    for sender in ("with-session", "without-session"):
        conversations.touch(db, sender, "telegram", "encrypted", now=iso(now - timedelta(minutes=1)))
        add_event(tracker, sender, old, text="vorige sessie")
    add_event(tracker, "with-session", old + timedelta(minutes=5), "session_started")
    add_event(tracker, "with-session", old + timedelta(minutes=6), text="lange sessie")
    add_event(tracker, "without-session", old + timedelta(minutes=6), text="lange sessie")

    purge(settings, now=now)
    # Before the latest session start: not counted by Rasa, deleted at once.
    assert event_texts(tracker, "with-session") == ["", "lange sessie"]
    assert event_texts(tracker, "without-session") == ["vorige sessie", "lange sessie"]

    purge(settings, now=now + timedelta(minutes=15))  # the next run, when the sender is quiet
    assert event_texts(tracker, "with-session") == []
    assert event_texts(tracker, "without-session") == []


def test_escalations_are_anonymised_at_the_limit_and_counted_after_their_own(db, data_dir):
    settings = load_settings()
    assert settings.escalation_retention_days == 180
    now = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)

    def escalation(conversation, category, severity, age_days, outcome=None, created=None):
        escalation_id = escalations.record_trigger(db, conversation, category, severity, ["x"], 1.0, "lexicon",
                                                   [{"from": "jongere", "text": "hulp", "at": iso(now)}])
        moment = iso(now - timedelta(days=age_days))
        db["escalations"].update(escalation_id, {"created_at": created or moment, "updated_at": moment,
                                                 "outcome": outcome, "status": "closed" if outcome else "open"})
        return escalation_id

    recent = escalation("c-recent", "grooming", "high", 1)
    month = escalation("c-month", "sextortion", "acute", settings.retention_days + 1)
    # Two in the same week with the same facts, one other outcome, one other week.
    escalation("c-a", "abuse", "high", 200, created="2025-11-24T09:00:00.000+00:00")
    escalation("c-b", "abuse", "high", 199, created="2025-11-30T22:30:00.000+00:00")  # Sunday, still W48
    escalation("c-c", "abuse", "high", 198, outcome="gewist_door_jongere", created="2025-11-26T10:00:00.000+00:00")
    escalation("c-d", "selfharm", "concern", 190, created="2025-12-01T00:30:00.000+01:00")  # Monday: W49

    counts = purge(settings, now=now)
    assert counts["escalations_counted"] == 4
    assert counts["escalations_anonymised"] == 1
    assert {row["id"] for row in db["escalations"].rows} == {recent, month}
    anonymous = db["escalations"].get(month)
    assert anonymous["conversation_id"] is None and json.loads(anonymous["turns"]) == []
    assert (anonymous["category"], anonymous["severity"]) == ("sextortion", "acute")
    assert json.loads(anonymous["matched"]) == ["x"] and len(json.loads(anonymous["triggers"])) == 1
    assert db["escalations"].get(recent)["conversation_id"] == "c-recent"
    table = sorted((r["week"], r["category"], r["severity"], r["outcome"], r["count"])
                   for r in db["escalation_counts"].rows)
    assert table == [("2025-W48", "abuse", "high", "", 2),
                     ("2025-W48", "abuse", "high", "gewist_door_jongere", 1),
                     ("2025-W49", "selfharm", "concern", "", 1)]

    again = purge(settings, now=now)  # harmless: nothing counted twice
    assert again["escalations_counted"] == 0 and again["escalations_anonymised"] == 0
    assert sum(r["count"] for r in db["escalation_counts"].rows) == 4
    assert db["escalations"].count == 2


def test_turn_times_in_either_format_and_turns_without_a_time(db):
    assert escalations.parse_time(1764000000.5) == datetime.fromtimestamp(1764000000.5, timezone.utc)
    assert escalations.parse_time("2026-11-27T10:00:00.000+00:00") == datetime(2026, 11, 27, 10, tzinfo=timezone.utc)
    assert escalations.parse_time("2026-11-27T10:00:00Z") == datetime(2026, 11, 27, 10, tzinfo=timezone.utc)
    assert escalations.parse_time(None) is None and escalations.parse_time("gisteren") is None
    escalation_id = escalations.record_trigger(db, "c", "abuse", "high", [], 1.0, "lexicon",
                                               [{"from": "jongere", "text": "zonder tijd"}])
    assert json.loads(db["escalations"].get(escalation_id)["turns"])[0]["at"]  # stamped, so it can expire


def test_purge_without_a_tracker_database(db, data_dir):
    settings = load_settings()
    assert purge(settings)["tracker_events"] == 0
    assert not settings.tracker_db_path.exists()


def test_purge_while_the_bot_writes(db, data_dir):
    """Other processes keep writing to both databases during a purge: nothing fails, nothing new is lost."""
    import threading
    import time

    from bot.store.db import open_db

    settings = load_settings()
    now = datetime.now(timezone.utc)
    old = now - timedelta(days=settings.retention_days + 1)
    tracker = make_tracker_db(settings.tracker_db_path)
    for n in range(300):
        inbox.receive(db, "telegram", f"old-{n}", f"c{n % 7}", "text", "oud", now=iso(old))
        add_event(tracker, f"c{n % 7}", old, text="oud")
    for n in range(7):  # busy conversations whose old events lie before their latest session start
        conversations.touch(db, f"c{n}", "telegram", "encrypted")
        add_event(tracker, f"c{n}", old + timedelta(minutes=1), "session_started")
    stop, errors, written = threading.Event(), [], []

    def bot():
        own_db, own_tracker = open_db(settings.db_path), sqlite3.connect(str(settings.tracker_db_path), timeout=15)
        try:
            n = 0
            while not stop.is_set():
                conversations.touch(own_db, f"c{n % 7}", "telegram", "encrypted")
                inbox.receive(own_db, "telegram", f"new-{n}", f"c{n % 7}", "text", "nieuw")
                add_event(own_tracker, f"c{n % 7}", datetime.now(timezone.utc), text="nieuw")
                own_tracker.commit()
                written.append(n)
                n += 1
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    writer = threading.Thread(target=bot)
    writer.start()
    try:
        deadline = time.monotonic() + 10
        purge(settings, now=now)
        while len(written) < 30 and time.monotonic() < deadline:  # keep purging while the bot writes
            purge(settings, now=now)
    finally:
        stop.set()
        writer.join()
    assert not errors and written
    assert db.execute("SELECT COUNT(*) FROM inbox WHERE text = 'oud'").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM inbox WHERE text = 'nieuw'").fetchone()[0] == len(written)
    assert tracker.execute("SELECT COUNT(*) FROM events WHERE data LIKE '%\"oud\"%'").fetchone()[0] == 0
    assert tracker.execute("SELECT COUNT(*) FROM events WHERE data LIKE '%nieuw%'").fetchone()[0] == len(written)
