"""/vergeet: after erasure no text of the conversation is left in ANY file of the data folder,
not in the write-ahead log, not in free pages; its open escalation is closed."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.store import conversations, escalations, inbox, outbox, trackers
from bot.store.db import open_db
from tests.test_retention import add_event, make_tracker_db

ERASED = [f"GEHEIM-{kind}-{n}-7f3a9c" for kind in ("INBOX", "OUTBOX", "RASA") for n in range(30)]
ERASED += [f"GEHEIM-BEURT-{n}-7f3a9c" for n in range(escalations.MAX_TURNS)]
KEPT = "BLIJFT-ANDER-GESPREK-41d2"


def found_in_files(directory: Path, needles) -> dict:
    """{file name: [needles found]} for every file in the folder, read as bytes."""
    hits = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        content = path.read_bytes()
        found = [n for n in needles if n.encode() in content]
        if found:
            hits[path.name] = found
    return hits


def fill(db, tracker: sqlite3.Connection, conversation: str, texts) -> int:
    conversations.touch(db, conversation, "telegram", "encrypted")
    for n in range(30):
        item = inbox.receive(db, "telegram", f"{conversation}-{n}", conversation, "text", texts("INBOX", n) * 8)
        outbox.add(db, "telegram", conversation, [{"text": texts("OUTBOX", n) * 8}], inbox_id=item)
        add_event(tracker, conversation, datetime.now(timezone.utc), text=texts("RASA", n) * 8)
    return escalations.record_trigger(
        db, conversation, "grooming", "high", ["geheimpje"], 1.0, "lexicon",
        [{"from": "jongere", "text": texts("BEURT", n) * 8, "at": datetime.now(timezone.utc).timestamp()}
         for n in range(escalations.MAX_TURNS)])


@pytest.mark.parametrize("tracker_journal", ["wal", "delete"])
def test_erase_leaves_no_text_in_any_file(data_dir, tracker_journal):
    settings = load_settings()
    db = open_db(settings.db_path)
    tracker = make_tracker_db(settings.tracker_db_path, tracker_journal)
    # Second connections, as the bot's other processes have: the last connection closing would
    # checkpoint the log by itself, which would hide a missing checkpoint.
    other_sam = sqlite3.connect(str(settings.db_path))
    other_sam.execute("SELECT COUNT(*) FROM inbox").fetchone()
    other_tracker = sqlite3.connect(str(settings.tracker_db_path))
    other_tracker.execute("SELECT COUNT(*) FROM events").fetchone()

    escalation_id = fill(db, tracker, "vergeet-mij", lambda kind, n: f"GEHEIM-{kind}-{n}-7f3a9c")
    fill(db, tracker, "blijft", lambda kind, n: KEPT)
    assert (settings.data_dir / "sam.db-wal").stat().st_size > 0
    before = found_in_files(settings.data_dir, ERASED)
    assert set(before) >= {"sam.db-wal"} and len(sum(before.values(), [])) == len(ERASED)  # the scan works

    conversations.erase(db, "vergeet-mij")
    trackers.erase(settings.tracker_db_path, "vergeet-mij")

    row = db["escalations"].get(escalation_id)
    assert row["status"] == "closed" and row["outcome"] == "gewist_door_jongere" and row["closed_at"]
    assert row["conversation_id"] is None and json.loads(row["turns"]) == []
    assert row["category"] == "grooming" and json.loads(row["matched"]) == ["geheimpje"]
    assert db["conversations"].count == 1
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE text LIKE 'GEHEIM%'").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM inbox WHERE text LIKE 'GEHEIM%' OR conversation_id = 'vergeet-mij'"
                      ).fetchone()[0] == 0
    assert tracker.execute("SELECT COUNT(*) FROM events WHERE sender_id = 'vergeet-mij'").fetchone()[0] == 0

    assert found_in_files(settings.data_dir, ERASED) == {}
    # The other conversation is untouched, and the scan would have seen it.
    assert KEPT in json.dumps(found_in_files(settings.data_dir, [KEPT]))
    assert db["escalations"].count_where("conversation_id = 'blijft' AND status = 'open'") == 1
    other_sam.close()
    other_tracker.close()


def test_erase_closes_only_the_open_escalation_and_keeps_closed_ones_closed(db, data_dir):
    first = escalations.record_trigger(db, "c1", "abuse", "high", [], 1.0, "lexicon", [])
    db["escalations"].update(first, {"status": "closed", "outcome": "opgevolgd", "closed_at": "2026-01-01"})
    second = escalations.record_trigger(db, "c1", "selfharm", "acute", [], 1.0, "lexicon", [])
    conversations.erase(db, "c1")
    assert db["escalations"].get(first)["outcome"] == "opgevolgd"
    assert db["escalations"].get(first)["conversation_id"] is None
    assert db["escalations"].get(second)["outcome"] == "gewist_door_jongere"
    assert db["escalations"].count_where("status = 'open'") == 0


def test_every_connection_has_secure_delete(db, data_dir):
    assert db.execute("PRAGMA secure_delete").fetchone()[0] == 1
    settings = load_settings()
    make_tracker_db(settings.tracker_db_path).close()
    conn = trackers._connect(settings.tracker_db_path)
    assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    conn.close()
