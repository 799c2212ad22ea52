"""Escalation records: one open record per conversation, raised in severity, never duplicated."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlite_utils import Database

from bot.categories import SEVERITIES
from bot.store.db import transaction, utc_now

MAX_TURNS = 12
BATCH = 200  # rows per retention transaction: short write locks while the bot runs


def open_category(db: Database, conversation_id: Optional[str]) -> Optional[str]:
    """The risk category of the conversation's open escalation, if any: a later request for a
    person or a helplines answer then names the lines for that risk (113 after self-harm)."""
    if not conversation_id:
        return None
    row = db.execute("SELECT category FROM escalations WHERE conversation_id = ? AND status = 'open'",
                     [conversation_id]).fetchone()
    return row[0] if row else None


def record_trigger(
    db: Database,
    conversation_id: str,
    category: str,
    severity: str,
    matched: List[str],
    confidence: float,
    source: str,
    turns: List[Dict[str, Any]],
) -> int:
    """Adds a trigger to the conversation's open escalation, creating it if needed. Returns its id."""
    now = utc_now()
    trigger = {"at": now, "category": category, "severity": severity, "matched": matched,
               "confidence": confidence, "source": source}
    rank = SEVERITIES.index(severity) if severity in SEVERITIES else 0
    # Every turn needs a time, or retention cannot remove it on its own day.
    turns = [turn if turn.get("at") is not None else {**turn, "at": now} for turn in turns]
    with transaction(db):
        row = db.execute(
            "SELECT id, severity_rank, matched, triggers FROM escalations "
            "WHERE conversation_id = ? AND status = 'open'",
            [conversation_id],
        ).fetchone()
        if row is None:
            escalation_id = db["escalations"].insert(
                {
                    "conversation_id": conversation_id,
                    "category": category,
                    "severity": severity,
                    "severity_rank": rank,
                    "status": "open",
                    "confidence": confidence,
                    "matched": json.dumps(sorted(set(matched))),
                    "triggers": json.dumps([trigger]),
                    "turns": json.dumps(turns[-MAX_TURNS:], ensure_ascii=False),
                    "created_at": now,
                    "updated_at": now,
                }
            ).last_pk
            change: Optional[str] = "new"
        else:
            escalation_id, old_rank, old_matched, old_triggers = row
            update: Dict[str, Any] = {
                "matched": json.dumps(sorted(set(json.loads(old_matched or "[]")) | set(matched))),
                "triggers": json.dumps(json.loads(old_triggers or "[]") + [trigger]),
                "turns": json.dumps(turns[-MAX_TURNS:], ensure_ascii=False),
                "updated_at": now,
            }
            change = None
            if rank > old_rank:
                update.update(category=category, severity=severity, severity_rank=rank, confidence=confidence)
                change = "raised"
            db["escalations"].update(escalation_id, update)
    if change:
        _alert_moderators(db, escalation_id, change)
    return escalation_id


def _alert_moderators(db: Database, escalation_id: int, change: str) -> None:
    """The dashboard's queue and the moderators' Telegram group hear about a new or more serious
    escalation (bot.requests). Never breaks the handover."""
    try:
        from bot.requests import alert_moderators  # the moderation layer sits above the store

        alert_moderators(db, escalation_id, change)
    except Exception:  # noqa: BLE001
        logging.getLogger(__name__).exception("could not alert the moderators")


# --- retention ----------------------------------------------------------------------------------
def parse_time(value: Any) -> Optional[datetime]:
    """A turn's or record's time: ISO string or unix seconds (Rasa); None when unknown."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            return datetime.fromtimestamp(float(value), timezone.utc)
        except (OverflowError, OSError, ValueError):
            pass
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


def trim_turns(db: Database, cutoff: datetime) -> int:
    """Removes the turns older than the cut-off from every record; returns how many went.
    A turn without a readable time counts as old as its record (the conservative choice)."""
    removed, last_id = 0, 0
    while True:
        with transaction(db):
            rows = db.execute(
                "SELECT id, turns, created_at FROM escalations WHERE id > ? AND turns IS NOT NULL AND turns != '[]' "
                "ORDER BY id LIMIT ?", [last_id, BATCH]).fetchall()
            for escalation_id, turns_json, created_at in rows:
                fallback = parse_time(created_at) or cutoff
                try:
                    turns = json.loads(turns_json)
                except ValueError:
                    turns = None
                if not isinstance(turns, list):
                    kept: List[Any] = [] if fallback < cutoff else turns
                    gone = 1 if fallback < cutoff else 0
                else:
                    kept = [t for t in turns
                            if ((parse_time(t.get("at")) if isinstance(t, dict) else None) or fallback) >= cutoff]
                    gone = len(turns) - len(kept)
                if gone:
                    db.execute("UPDATE escalations SET turns = ? WHERE id = ?",
                               [json.dumps(kept, ensure_ascii=False), escalation_id])
                    removed += gone
        if len(rows) < BATCH:
            return removed
        last_id = rows[-1][0]


def anonymise_before(db: Database, cutoff_iso: str) -> int:
    """Records not updated since the cut-off keep only anonymous facts (category, severity,
    matched terms, trigger times, outcome): no conversation id, no turns. One still open is closed:
    nobody can reach that young person any more."""
    total = 0
    while True:
        with transaction(db):
            count = db.execute(
                "UPDATE escalations SET conversation_id = NULL, turns = '[]', "
                "outcome = CASE WHEN status = 'open' THEN 'bewaartermijn_verlopen' ELSE outcome END, "
                "closed_at = CASE WHEN status = 'open' THEN ? ELSE closed_at END, status = 'closed' "
                "WHERE id IN (SELECT id FROM escalations "
                "WHERE updated_at < ? AND (conversation_id IS NOT NULL OR turns IS NULL OR turns != '[]') LIMIT ?)",
                [utc_now(), cutoff_iso, BATCH]).rowcount
        total += count
        if count < BATCH:
            return total


def iso_week(created_at: Optional[str], tz: str = "UTC") -> str:
    """'2026-W48': the ISO week the record was created in, in Sam's time zone."""
    moment = parse_time(created_at)
    if moment is None:
        return ""
    try:
        moment = moment.astimezone(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        pass
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def count_and_delete_before(db: Database, cutoff_iso: str, tz: str = "UTC") -> int:
    """Records not updated since the cut-off become +1 in `escalation_counts` (week, category,
    severity, outcome) and are deleted; both in one transaction, so nothing is counted twice."""
    total = 0
    while True:
        with transaction(db):
            rows = db.execute(
                "SELECT id, created_at, category, severity, outcome FROM escalations WHERE updated_at < ? "
                "ORDER BY id LIMIT ?", [cutoff_iso, BATCH]).fetchall()
            for escalation_id, created_at, category, severity, outcome in rows:
                db.execute(
                    "INSERT INTO escalation_counts (week, category, severity, outcome, count) VALUES (?, ?, ?, ?, 1) "
                    "ON CONFLICT(week, category, severity, outcome) DO UPDATE SET count = count + 1",
                    [iso_week(created_at, tz), category or "", severity or "", outcome or ""])
                db.execute("DELETE FROM escalations WHERE id = ?", [escalation_id])
        total += len(rows)
        if len(rows) < BATCH:
            return total
