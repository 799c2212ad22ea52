"""Rasa's conversation trackers live in their own SQLite file (endpoints.yml: SQL tracker store);
erasure and retention delete their events directly, so nothing stays behind in Rasa."""
from __future__ import annotations

import sqlite3
from pathlib import Path


def _connect(path: Path) -> sqlite3.Connection | None:
    if not path.exists():
        return None
    conn = sqlite3.connect(str(path), timeout=15)
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone():
        conn.close()
        return None
    return conn


def erase(path: Path, conversation_id: str) -> int:
    conn = _connect(path)
    if conn is None:
        return 0
    with conn:
        deleted = conn.execute("DELETE FROM events WHERE sender_id = ?", [conversation_id]).rowcount
    conn.close()
    return deleted


def purge_older_than(path: Path, unix_time: float) -> int:
    """Deletes whole conversations whose last event is older than the cut-off."""
    conn = _connect(path)
    if conn is None:
        return 0
    with conn:
        deleted = conn.execute(
            "DELETE FROM events WHERE sender_id IN "
            "(SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < ?)",
            [unix_time],
        ).rowcount
    conn.close()
    return deleted
