"""The durable inbox: an update is stored before the channel confirms it, so a crash loses
nothing; an item is answered once (its replies and its 'done' mark are one transaction)."""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from sqlite_utils import Database

from bot.store import outbox
from bot.store.db import transaction, utc_now


def receive(db: Database, channel: str, update_key: str, conversation_id: Optional[str], kind: str,
            text: Optional[str], now: Optional[str] = None, status: str = "pending") -> Optional[int]:
    """Stores an update; returns its inbox id, or None when this update was stored before."""
    cursor = db.execute(
        "INSERT INTO inbox (channel, update_key, conversation_id, kind, text, status, failsafe_sent, attempts, "
        "received_at, held) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, 0) ON CONFLICT(channel, update_key) DO NOTHING",
        [channel, str(update_key), conversation_id, kind, text, status, now or utc_now()],
    )
    return cursor.lastrowid if cursor.rowcount else None


def _in(channels: Iterable[str]) -> tuple:
    channels = list(channels)
    return ",".join("?" * len(channels)), channels


def pending_conversations(db: Database, channels: Iterable[str]) -> List[str]:
    marks, params = _in(channels)
    return [row[0] for row in db.execute(
        f"SELECT DISTINCT conversation_id FROM inbox WHERE status = 'pending' AND channel IN ({marks}) "
        "AND conversation_id IS NOT NULL", params).fetchall()]


def next_pending(db: Database, conversation_id: str) -> Optional[Dict[str, Any]]:
    """The conversation's oldest unanswered item: items are answered in the order they came."""
    rows = list(db.query("SELECT * FROM inbox WHERE status = 'pending' AND conversation_id = ? ORDER BY id LIMIT 1",
                         [conversation_id]))
    return rows[0] if rows else None


def pending_orphans(db: Database, channels: Iterable[str]) -> List[Dict[str, Any]]:
    """Pending items without a conversation (erased, or never belonged to one)."""
    marks, params = _in(channels)
    return list(db.query(f"SELECT * FROM inbox WHERE status = 'pending' AND conversation_id IS NULL "
                         f"AND channel IN ({marks})", params))


def failsafe_due(db: Database, channels: Iterable[str], received_before: str) -> List[Dict[str, Any]]:
    """Unanswered items that got no fail-safe yet and arrived before the given time."""
    marks, params = _in(channels)
    return list(db.query(
        f"SELECT * FROM inbox WHERE status = 'pending' AND failsafe_sent = 0 AND channel IN ({marks}) "
        "AND conversation_id IS NOT NULL AND received_at <= ? ORDER BY id", [*params, received_before]))


def earlier_failsafe(db: Database, conversation_id: str, inbox_id: int) -> bool:
    """Whether an earlier unanswered item of this conversation already got a fail-safe."""
    return db.execute("SELECT 1 FROM inbox WHERE conversation_id = ? AND status = 'pending' AND failsafe_sent = 1 "
                      "AND id < ? LIMIT 1", [conversation_id, inbox_id]).fetchone() is not None


def get(db: Database, inbox_id: int) -> Optional[Dict[str, Any]]:
    rows = list(db.query("SELECT * FROM inbox WHERE id = ?", [inbox_id]))
    return rows[0] if rows else None


def mark_submitted(db: Database, inbox_id: int, now: Optional[str] = None) -> None:
    db.execute("UPDATE inbox SET submitted_at = COALESCE(submitted_at, ?), attempts = attempts + 1 WHERE id = ?",
               [now or utc_now(), inbox_id])


def add_failsafe(db: Database, item: Dict[str, Any], messages: List[Dict[str, Any]], now: Optional[str] = None) -> bool:
    """Queues fail-safe replies for an unanswered item, once. False when it was no longer due."""
    now = now or utc_now()
    with transaction(db):
        claimed = db.execute("UPDATE inbox SET failsafe_sent = 1 WHERE id = ? AND failsafe_sent = 0 "
                             "AND status = 'pending'", [item["id"]]).rowcount
        if claimed:
            outbox.add(db, item["channel"], item["conversation_id"], messages, origin="failsafe",
                       inbox_id=item["id"], now=now)
    return bool(claimed)


def complete(db: Database, inbox_id: int, conversation_id: Optional[str], replies: List[Dict[str, Any]],
             held: bool = False, now: Optional[str] = None) -> bool:
    """Stores the replies and marks the item done, in one transaction. A held item keeps its text
    for the moderator who took over (until retention); any other item's text is blanked.
    False when the item was already done (answered by another path)."""
    now = now or utc_now()
    with transaction(db):
        row = db.execute("SELECT channel FROM inbox WHERE id = ? AND status = 'pending'", [inbox_id]).fetchone()
        if row is None:
            return False
        outbox.add(db, row[0], conversation_id, replies, origin="sam", inbox_id=inbox_id, now=now)
        text = "text" if held else "NULL"
        db.execute(f"UPDATE inbox SET status = 'done', text = {text}, held = ?, done_at = ? WHERE id = ?",
                   [int(held), now, inbox_id])
    return True
