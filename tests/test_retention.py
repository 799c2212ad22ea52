"""Retention: after SAM_RETENTION_DAYS nothing about a conversation remains but anonymous facts."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

from bot.config import load_settings
from bot.retention import purge
from bot.store import conversations, escalations, inbox


def test_purge_deletes_old_conversations_and_anonymises_escalations(db, data_dir):
    settings = load_settings()
    conversations.touch(db, "old", "telegram", "encrypted")
    inbox_id = inbox.receive(db, "telegram", "1", "old", "text", "hoi")
    inbox.complete(db, inbox_id, "old", [{"text": "Hoi!", "buttons": [], "response": "utter_greet"}])
    escalations.record_trigger(db, "old", "grooming", "high", ["geheim"], 1.0, "lexicon",
                               [{"from": "jongere", "text": "geheim"}])
    tracker_db = sqlite3.connect(settings.tracker_db_path)
    tracker_db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, timestamp REAL, data TEXT)")
    now = datetime.now(timezone.utc)
    tracker_db.execute("INSERT INTO events (sender_id, timestamp, data) VALUES ('old', ?, '{}')", [now.timestamp()])
    tracker_db.commit()

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
