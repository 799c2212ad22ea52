"""Escalation records: one open per conversation, severity only goes up, writes are atomic."""
from __future__ import annotations

import json
import sqlite3
import threading

import pytest

from bot.store import escalations
from bot.store.db import open_db


def record(db, conversation="c1", category="grooming", severity="concern", matched=("x",)):
    return escalations.record_trigger(db, conversation, category, severity, list(matched), 0.8, "lexicon",
                                      [{"from": "jongere", "text": "hoi"}])


def test_first_trigger_creates_an_open_escalation(db):
    escalation_id = record(db)
    row = db["escalations"].get(escalation_id)
    assert row["status"] == "open" and row["category"] == "grooming" and row["severity"] == "concern"
    assert json.loads(row["turns"])[0]["text"] == "hoi"


def test_new_triggers_add_to_the_open_escalation_and_raise_severity(db):
    first = record(db)
    second = record(db, category="sextortion", severity="high", matched=("dreigen foto",))
    third = record(db, category="grooming", severity="concern", matched=("geheim",))
    assert first == second == third
    row = db["escalations"].get(first)
    assert db["escalations"].count == 1
    assert (row["category"], row["severity"]) == ("sextortion", "high")
    assert len(json.loads(row["triggers"])) == 3
    assert set(json.loads(row["matched"])) == {"x", "dreigen foto", "geheim"}


def test_a_closed_escalation_is_not_reused(db):
    first = record(db)
    db["escalations"].update(first, {"status": "closed"})
    assert record(db) != first


def test_the_database_refuses_a_second_open_escalation(db):
    record(db)
    with pytest.raises(sqlite3.IntegrityError):
        db["escalations"].insert({"conversation_id": "c1", "category": "abuse", "severity": "high",
                                  "status": "open", "created_at": "x", "updated_at": "x"})


def test_a_failed_write_leaves_no_half_record(db, monkeypatch):
    record(db)

    def boom(*args, **kwargs):
        raise RuntimeError("process died mid-write")

    table = type(db["escalations"])
    monkeypatch.setattr(table, "update", boom)
    with pytest.raises(RuntimeError):
        record(db, severity="acute", category="selfharm")
    monkeypatch.undo()
    row = next(db["escalations"].rows)
    assert row["severity"] == "concern" and len(json.loads(row["triggers"])) == 1


def test_concurrent_writers_create_one_escalation(data_dir):
    path = data_dir / "sam.db"
    open_db(path)
    errors = []

    def worker(i):
        try:
            record(open_db(path), severity=("concern", "high", "acute")[i % 3], category="abuse")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    db = open_db(path)
    assert not errors
    assert db["escalations"].count == 1
    row = next(db["escalations"].rows)
    assert row["severity"] == "acute" and len(json.loads(row["triggers"])) == 12


def test_migrations_are_recorded_and_safe_to_rerun(data_dir):
    from bot.store.migrations import MIGRATIONS, migrate

    db = open_db(data_dir / "sam.db")
    assert migrate(db) == []
    assert [r["name"] for r in db["_migrations"].rows] == [name for name, _ in MIGRATIONS]
