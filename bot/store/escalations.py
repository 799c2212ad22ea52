"""Escalation records: one open record per conversation, raised in severity, never duplicated."""
from __future__ import annotations

import json
from typing import Any, Dict, List

from sqlite_utils import Database

from bot.risk.lexicon import SEVERITIES
from bot.store.db import transaction, utc_now

MAX_TURNS = 12


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
    with transaction(db):
        row = db.execute(
            "SELECT id, severity_rank, matched, triggers FROM escalations WHERE conversation_id = ? AND status = 'open'",
            [conversation_id],
        ).fetchone()
        if row is None:
            return db["escalations"].insert(
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
        escalation_id, old_rank, old_matched, old_triggers = row
        update: Dict[str, Any] = {
            "matched": json.dumps(sorted(set(json.loads(old_matched or "[]")) | set(matched))),
            "triggers": json.dumps(json.loads(old_triggers or "[]") + [trigger]),
            "turns": json.dumps(turns[-MAX_TURNS:], ensure_ascii=False),
            "updated_at": now,
        }
        if rank > old_rank:
            update.update(category=category, severity=severity, severity_rank=rank, confidence=confidence)
        db["escalations"].update(escalation_id, update)
        return escalation_id

