"""Rasa's conversation trackers live in their own SQLite file (endpoints.yml: SQL tracker store);
erasure and retention delete their events directly, so nothing stays behind in Rasa."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Collection, Iterable, Optional

from bot.store.db import checkpoint


def _connect(path: Path) -> sqlite3.Connection | None:
    if not path.exists():
        return None
    # Autocommit: every write below runs in its own short, explicit transaction.
    conn = sqlite3.connect(str(path), timeout=15, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=15000")
    # Deleted events are overwritten with zeros, not left in free space. Rasa's own connections
    # do not set this, but they never delete.
    conn.execute("PRAGMA secure_delete=ON")
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone():
        conn.close()
        return None
    return conn


def erase(path: Path, conversation_id: str) -> int:
    """Deletes every event of the sender; the log is checkpointed so no copy stays in it."""
    conn = _connect(path)
    if conn is None:
        return 0
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            deleted = conn.execute("DELETE FROM events WHERE sender_id = ?", [conversation_id]).rowcount
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        checkpoint(conn)
    finally:
        conn.close()
    return deleted


def purge(path: Path, cutoff: float, forget: Iterable[str] = (), busy: Collection[str] = (),
          quiet_since: Optional[float] = None) -> int:
    """Deletes every event older than `cutoff` (unix seconds), event by event, also in active
    conversations, and all events of the `forget` senders (conversations deleted by retention).
    Returns the number of events deleted.

    Rasa's SQL tracker store finds the new events of a tracker by counting the stored events of
    the current session (since the latest `session_started`). Deleting from that session while
    Rasa handles a message makes it store old events again. So events before the sender's latest
    session start are deleted right away, and older events of the current session only while the
    sender is quiet: not in `busy` and no event since `quiet_since` (else at the next purge).
    """
    conn = _connect(path)
    if conn is None:
        return 0
    forget = set(forget)
    deleted = 0
    try:
        # Rasa indexes only sender_id; without this every purge reads the whole table.
        conn.execute("CREATE INDEX IF NOT EXISTS sam_events_timestamp ON events (timestamp)")
        senders = {row[0] for row in conn.execute("SELECT DISTINCT sender_id FROM events WHERE timestamp < ?",
                                                  [cutoff])}
        for sender in sorted(senders | forget):
            conn.execute("BEGIN IMMEDIATE")  # one short transaction per sender
            try:
                session_start, newest = conn.execute(
                    "SELECT MAX(CASE WHEN type_name = 'session_started' THEN timestamp END), MAX(timestamp) "
                    "FROM events WHERE sender_id = ?", [sender]).fetchone()
                quiet = sender not in busy and (quiet_since is None or newest is None or newest < quiet_since)
                if quiet and sender in forget:
                    sql, params = "sender_id = ?", [sender]
                elif quiet:
                    sql, params = "sender_id = ? AND timestamp < ?", [sender, cutoff]
                elif session_start is not None:
                    sql, params = "sender_id = ? AND timestamp < ?", [sender, min(cutoff, session_start)]
                else:
                    sql = None
                if sql:
                    deleted += conn.execute(f"DELETE FROM events WHERE {sql}", params).rowcount
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        if deleted:
            checkpoint(conn)
    finally:
        conn.close()
    return deleted
