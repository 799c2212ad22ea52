"""The durable inbox and outbox: a received update is stored before it is confirmed, a reply
before it is sent, so a crash loses nothing and answers nothing twice."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from sqlite_utils import Database

from bot.store.db import transaction, utc_now


def receive(db: Database, channel: str, update_key: str, conversation_id: Optional[str], kind: str,
            text: Optional[str]) -> Optional[int]:
    """Stores an update; returns its inbox id, or None when this update was stored before."""
    cursor = db.execute(
        "INSERT INTO inbox (channel, update_key, conversation_id, kind, text, status, failsafe_sent, attempts, received_at) "
        "VALUES (?, ?, ?, ?, ?, 'pending', 0, 0, ?) ON CONFLICT(channel, update_key) DO NOTHING",
        [channel, str(update_key), conversation_id, kind, text, utc_now()],
    )
    return cursor.lastrowid if cursor.rowcount else None


def pending(db: Database, channel: str, limit: int = 100) -> List[Dict[str, Any]]:
    return [dict(row) for row in db.query(
        "SELECT * FROM inbox WHERE status = 'pending' AND channel = ? ORDER BY id LIMIT ?", [channel, limit])]


def get(db: Database, inbox_id: int) -> Optional[Dict[str, Any]]:
    rows = list(db.query("SELECT * FROM inbox WHERE id = ?", [inbox_id]))
    return rows[0] if rows else None


def mark_failsafe(db: Database, inbox_id: int) -> None:
    db.execute("UPDATE inbox SET failsafe_sent = 1, attempts = attempts + 1 WHERE id = ?", [inbox_id])


def complete(db: Database, inbox_id: int, conversation_id: Optional[str], replies: List[Dict[str, Any]]) -> None:
    """Stores the replies and marks the update done, in one transaction."""
    now = utc_now()
    with transaction(db):
        for position, reply in enumerate(replies):
            db.execute(
                "INSERT INTO outbox (inbox_id, conversation_id, position, response, text, buttons, status, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT(inbox_id, position) DO NOTHING",
                [inbox_id, conversation_id, position, reply.get("response"), reply.get("text") or "",
                 json.dumps(reply.get("buttons") or [], ensure_ascii=False), now],
            )
        db.execute("UPDATE inbox SET status = 'done', text = NULL, done_at = ? WHERE id = ?", [now, inbox_id])


def unsent(db: Database, channel: str, conversation_id: Optional[str] = None) -> List[Dict[str, Any]]:
    where, params = "status = 'pending' AND inbox_id IN (SELECT id FROM inbox WHERE channel = ?)", [channel]
    if conversation_id is not None:
        where += " AND conversation_id = ?"
        params.append(conversation_id)
    rows = db.query(f"SELECT * FROM outbox WHERE {where} ORDER BY inbox_id, position", params)
    return [{**row, "buttons": json.loads(row["buttons"] or "[]")} for row in rows]


def mark_sent(db: Database, outbox_id: int) -> None:
    db.execute("UPDATE outbox SET status = 'sent', text = NULL, buttons = '[]', sent_at = ? WHERE id = ?",
               [utc_now(), outbox_id])


def get_value(db: Database, key: str) -> Optional[str]:
    row = db.execute("SELECT value FROM settings_kv WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_value(db: Database, key: str, value: str) -> None:
    db.execute("INSERT INTO settings_kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
               [key, value])
