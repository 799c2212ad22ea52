"""Deletes what Sam no longer needs. After SAM_RETENTION_DAYS every message, reply, Rasa event and
escalation turn older than the limit is gone, one by one, also in conversations that are still
active; silent conversations go as a whole; escalations keep only anonymous facts. After
SAM_ESCALATION_RETENTION_DAYS an escalation record becomes an anonymous weekly count.

Safe while the bot runs: every step is a series of short transactions on the shared SQLite files."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Dict, List, Optional

from sqlite_utils import Database

from bot.config import Settings
from bot.store import cases, escalations, trackers
from bot.store.db import checkpoint, open_db, transaction

BATCH = 500  # rows per transaction: other processes wait for the write lock at most this long
# A conversation that wrote this recently may have a message inside Rasa right now (see trackers.purge).
ACTIVE_GRACE = timedelta(minutes=10)


def _iso(moment: datetime) -> str:
    # The format of utc_now(), so stored times compare correctly as text.
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def _delete_batches(db: Database, table: str, where: str, params: List) -> int:
    total = 0
    while True:
        with transaction(db):
            count = db.execute(f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {where} LIMIT ?)",
                               [*params, BATCH]).rowcount
        total += count
        if count < BATCH:
            return total


def _delete_silent_conversations(db: Database, cutoff_iso: str, counts: Dict[str, int]) -> List[str]:
    """Deletes conversations not seen since the cut-off, with whatever still points at them."""
    gone: List[str] = []
    while True:
        with transaction(db):
            ids = [row[0] for row in db.execute("SELECT id FROM conversations WHERE last_seen_at < ? LIMIT ?",
                                                [cutoff_iso, BATCH]).fetchall()]
            if ids:
                marks = ",".join("?" * len(ids))
                counts["outbox"] += db.execute(f"DELETE FROM outbox WHERE conversation_id IN ({marks})", ids).rowcount
                db.execute(f"UPDATE inbox SET conversation_id = NULL, text = NULL WHERE conversation_id IN ({marks})",
                           ids)
                counts["escalations_anonymised"] += db.execute(
                    f"UPDATE escalations SET conversation_id = NULL, turns = '[]' WHERE conversation_id IN ({marks})",
                    ids).rowcount
                db.execute(f"DELETE FROM conversations WHERE id IN ({marks})", ids)
        gone += ids
        if len(ids) < BATCH:
            return gone


def purge(settings: Settings, now: Optional[datetime] = None) -> Dict[str, int]:
    """Deletes everything older than the retention limit; returns counts per kind."""
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    cutoff = now - timedelta(days=settings.retention_days)
    iso = _iso(cutoff)
    counts: Dict[str, int] = {"outbox": 0, "escalations_anonymised": 0}
    db = open_db(settings.db_path)
    try:
        counts["escalations_counted"] = escalations.count_and_delete_before(
            db, _iso(now - timedelta(days=settings.escalation_retention_days)), settings.timezone)
        counts["escalations_anonymised"] += escalations.anonymise_before(db, iso)
        counts["escalation_turns"] = escalations.trim_turns(db, cutoff)
        gone = _delete_silent_conversations(db, iso, counts)
        counts["conversations"] = len(gone)
        counts["inbox"] = _delete_batches(db, "inbox", "received_at < ?", [iso])
        counts["outbox"] += _delete_batches(db, "outbox", "created_at < ?", [iso])
        # The moderators' notes and messages; cases keep anonymous facts until the escalation limit.
        counts["moderation"] = cases.purge(
            db, iso, gone, _iso(now - timedelta(days=settings.escalation_retention_days)))
        recent = _iso(now - ACTIVE_GRACE)
        busy = {row[0] for row in db.execute("SELECT id FROM conversations WHERE last_seen_at >= ?", [recent])}
        # Deleted rows are zeroed (secure_delete); this also empties the write-ahead log.
        checkpoint(db)
    finally:
        db.conn.close()
    counts["tracker_events"] = trackers.purge(settings.tracker_db_path, cutoff.timestamp(), forget=gone, busy=busy,
                                              quiet_since=(now - ACTIVE_GRACE).timestamp())
    return counts
