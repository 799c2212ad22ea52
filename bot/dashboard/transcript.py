"""What was said in a conversation, for the moderator: who (jongere, Sam, hulpverlener), when, what.

Sources: Rasa's tracker database (the young person's messages and Sam's answers), the inbox
(messages kept while a moderator had taken over), the moderators' own messages, and outbox rows
Rasa never saw (fail-safe texts, /mens and other commands, "Sam is er weer"). When the tracker
has nothing (e.g. Rasa's file is missing) the escalation's last turns stand in.
Every text here is untrusted: the templates escape it.
"""
from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

from sqlite_utils import Database

from bot.dashboard.web import parse_time

logger = logging.getLogger(__name__)
MAX_ENTRIES = 500
KIND_LABELS = {
    "photo": "(stuurde een foto; Sam bewaart geen foto's)", "video": "(stuurde een video; niet bewaard)",
    "voice": "(stuurde een spraakbericht; niet bewaard)", "sticker": "(stuurde een sticker)",
    "document": "(stuurde een bestand; niet bewaard)", "command": "(koos een commando)",
    "callback": "(drukte op een knop)", "other": "(stuurde iets anders dan tekst)",
}


@dataclass
class Entry:
    at: Optional[datetime]
    who: str  # jongere | sam | hulpverlener
    text: str
    note: str = ""
    author: str = ""  # the moderator's account name, for hulpverlener entries
    seq: int = 0

    @property
    def sort_key(self) -> tuple:
        return (self.at or datetime.min.replace(tzinfo=timezone.utc), self.seq)


def _tracker_entries(path: Path, conversation_id: str) -> List[Entry]:
    if not path.exists():
        return []
    try:
        conn = sqlite3.connect(str(path), timeout=5)
    except sqlite3.Error:
        return []
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone():
            return []
        rows = conn.execute("SELECT type_name, timestamp, data FROM events WHERE sender_id = ? AND type_name IN "
                            "('user', 'bot') ORDER BY id DESC LIMIT ?", [conversation_id, MAX_ENTRIES]).fetchall()
    except sqlite3.Error:
        logger.exception("could not read the tracker database")
        return []
    finally:
        conn.close()
    out = []
    for type_name, timestamp, data in reversed(rows):
        try:
            event = json.loads(data or "{}")
        except ValueError:
            event = {}
        text = str(event.get("text") or "")
        if not text:
            continue
        note = "knop of commando" if type_name == "user" and text.startswith("/") else ""
        out.append(Entry(parse_time(timestamp), "jongere" if type_name == "user" else "sam", text, note))
    return out


def _content_text(response: Optional[str]) -> str:
    """The current wording of a response whose sent text was already deleted."""
    if not response:
        return ""
    try:
        from bot import content

        text = content.current().response(response).get("text") or ""
    except Exception:  # noqa: BLE001
        return f"({response})"
    return text.replace("{helplines}", "(de hulplijnen)")


def build(db: Database, tracker_path: Path, case: Dict[str, Any]) -> List[Entry]:
    conversation_id = case.get("conversation_id")
    entries: List[Entry] = []
    if conversation_id:
        entries += _tracker_entries(tracker_path, conversation_id)
    if not entries:
        for turn in case.get("turns") or []:
            if isinstance(turn, dict) and turn.get("text"):
                entries.append(Entry(parse_time(turn.get("at")), "jongere" if turn.get("from") == "jongere" else "sam",
                                     str(turn["text"])))
    if not conversation_id:
        return _ordered(entries)
    for row in db.query("SELECT received_at, text, kind, held FROM inbox WHERE conversation_id = ? AND status = 'done' "
                        "AND (held = 1 OR submitted_at IS NULL) ORDER BY id DESC LIMIT ?",
                        [conversation_id, MAX_ENTRIES]):
        if row["text"]:
            entries.append(Entry(parse_time(row["received_at"]), "jongere", row["text"],
                                 "tijdens overname" if row["held"] else ""))
        elif row["kind"] in KIND_LABELS:
            entries.append(Entry(parse_time(row["received_at"]), "jongere", KIND_LABELS[row["kind"]]))
    for row in db.query("SELECT * FROM moderator_messages WHERE conversation_id = ? ORDER BY id DESC LIMIT ?",
                        [conversation_id, MAX_ENTRIES]):
        entries.append(Entry(parse_time(row["created_at"]), row["author"], row["text"],
                             author=row["account_name"] or ""))
    for row in db.query(
            "SELECT o.created_at, o.text, o.response, o.origin FROM outbox o LEFT JOIN inbox i ON i.id = o.inbox_id "
            "WHERE o.conversation_id = ? AND (o.origin = 'failsafe' OR (o.origin = 'sam' AND (i.id IS NULL OR "
            "i.submitted_at IS NULL)) OR (o.origin = 'system' AND o.id NOT IN (SELECT outbox_id FROM "
            "moderator_messages WHERE outbox_id IS NOT NULL))) ORDER BY o.id DESC LIMIT ?",
            [conversation_id, MAX_ENTRIES]):
        text = row["text"] or _content_text(row["response"])
        if text:
            entries.append(Entry(parse_time(row["created_at"]), "sam", text,
                                 "noodtekst" if row["origin"] == "failsafe" else ""))
    return _ordered(entries)


def _ordered(entries: List[Entry]) -> List[Entry]:
    for seq, entry in enumerate(entries):
        entry.seq = seq
    return sorted(entries, key=lambda e: e.sort_key)[-MAX_ENTRIES:]


def helplines_told(entries: List[Entry]) -> List[Dict[str, Any]]:
    """The helplines Sam (or a moderator) already named to the young person, first time each."""
    try:
        from bot import content

        lines = content.current().helplines.get("lines") or {}
    except Exception:  # noqa: BLE001
        return []
    told: Dict[str, Dict[str, Any]] = {}
    for entry in entries:
        if entry.who == "jongere":
            continue
        for line_id, line in lines.items():
            name, short = str(line.get("name") or ""), str(line.get("short") or "")
            # A handover names a line in its short form ("Zelfmoordpreventie: bel gratis 113"),
            # other texts by its name ("113 Zelfmoordpreventie").
            if line_id not in told and any(form and form in entry.text for form in (name, short)):
                told[line_id] = {"name": name or line_id, "contact": line.get("contact", ""), "at": entry.at}
    return list(told.values())
