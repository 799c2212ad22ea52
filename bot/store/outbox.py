"""The outbox: every message Sam, a moderator or the system sends, to any channel. Each row has
its own attempts and next-try time, so one failing row never blocks the others; rows of one
conversation still go out in order. Any process may add rows; the runner sends them."""
from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Optional

from sqlite_utils import Database

from bot.store.db import utc_now

ORIGINS = ("sam", "failsafe", "moderator", "system")


def add(db: Database, channel: str, conversation_id: Optional[str], messages: List[Dict[str, Any]],
        origin: str = "sam", inbox_id: Optional[int] = None, chat_ref: Optional[str] = None,
        leave_chat: bool = False, now: Optional[str] = None) -> List[int]:
    """Queues messages ({text, buttons, response}) for sending; returns their ids.

    `chat_ref` (an encrypted chat id) is only for messages without a conversation to look it up in.
    """
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    now = now or utc_now()
    ids = []
    for position, message in enumerate(messages):
        cursor = db.execute(
            "INSERT INTO outbox (channel, conversation_id, chat_ref, inbox_id, origin, position, response, text, "
            "buttons, leave_chat, status, attempts, next_try_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) "
            "ON CONFLICT(inbox_id, origin, position) DO NOTHING",
            [channel, conversation_id, chat_ref, inbox_id, origin, position, message.get("response"),
             message.get("text") or "", json.dumps(message.get("buttons") or [], ensure_ascii=False),
             int(leave_chat and position == len(messages) - 1), now, now],
        )
        if cursor.rowcount:
            ids.append(cursor.lastrowid)
    return ids


def due(db: Database, channels: Iterable[str], now: str, limit: int = 200) -> List[Dict[str, Any]]:
    """Rows to send now, oldest first. A row waits while an earlier row of its conversation is
    still waiting for its own retry, so a conversation's messages never overtake each other."""
    channels = list(channels)
    marks = ",".join("?" * len(channels))
    rows = db.query(
        f"SELECT o.* FROM outbox o WHERE o.status = 'pending' AND o.channel IN ({marks}) AND o.next_try_at <= ? "
        "AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.status = 'pending' AND p.conversation_id = o.conversation_id "
        "AND p.id < o.id AND p.next_try_at > ?) ORDER BY o.id LIMIT ?",
        [*channels, now, now, limit],
    )
    return [{**row, "buttons": json.loads(row["buttons"] or "[]")} for row in rows]


def mark_sent(db: Database, outbox_id: int, now: Optional[str] = None) -> None:
    """Sent: the text is no longer needed (the response name stays)."""
    db.execute("UPDATE outbox SET status = 'sent', text = NULL, buttons = '[]', chat_ref = NULL, sent_at = ? "
               "WHERE id = ?", [now or utc_now(), outbox_id])


def retry_later(db: Database, outbox_id: int, next_try_at: str, error: str) -> None:
    db.execute("UPDATE outbox SET attempts = attempts + 1, next_try_at = ?, last_error = ? WHERE id = ?",
               [next_try_at, error[:200], outbox_id])


def give_up(db: Database, outbox_id: int, status: str, error: str) -> None:
    """'failed' (the channel refused for good) or 'undeliverable' (no usable chat reference).
    The text is dropped: nobody will send it any more."""
    assert status in ("failed", "undeliverable")
    db.execute("UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, text = NULL, buttons = '[]', "
               "chat_ref = NULL WHERE id = ?", [status, error[:200], outbox_id])


def pending_count(db: Database, inbox_id: int) -> int:
    return db.execute("SELECT COUNT(*) FROM outbox WHERE inbox_id = ? AND status = 'pending'",
                      [inbox_id]).fetchone()[0]
