"""Deletes what Sam no longer needs: conversations, messages and Rasa trackers older than the
retention limit; escalations keep only anonymous facts after that limit."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Dict, Optional

from bot.config import Settings
from bot.store import trackers
from bot.store.db import open_db, transaction


def purge(settings: Settings, now: Optional[datetime] = None) -> Dict[str, int]:
    now = now or datetime.now(timezone.utc)
    cutoff = now - timedelta(days=settings.retention_days)
    iso = cutoff.isoformat(timespec="milliseconds")
    db = open_db(settings.db_path)
    counts: Dict[str, int] = {}
    with transaction(db):
        old = "SELECT id FROM conversations WHERE last_seen_at < ?"
        counts["outbox"] = db.execute(f"DELETE FROM outbox WHERE conversation_id IN ({old}) OR created_at < ?",
                                      [iso, iso]).rowcount
        counts["inbox"] = db.execute("DELETE FROM inbox WHERE received_at < ? AND status = 'done'", [iso]).rowcount
        counts["escalations_anonymised"] = db.execute(
            "UPDATE escalations SET conversation_id = NULL, turns = '[]' WHERE updated_at < ? AND "
            "(conversation_id IS NOT NULL OR turns != '[]')", [iso]).rowcount
        counts["conversations"] = db.execute("DELETE FROM conversations WHERE last_seen_at < ?", [iso]).rowcount
    counts["tracker_events"] = trackers.purge_older_than(settings.tracker_db_path, cutoff.timestamp())
    return counts
