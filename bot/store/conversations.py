"""Pseudonymous conversations: the only place a chat id is kept, encrypted, to send replies."""
from __future__ import annotations

import hashlib
import hmac
from typing import Optional, Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlite_utils import Database

from bot.store.db import checkpoint, transaction, utc_now


class Pseudonymiser:
    """Keyed hash (HMAC-SHA256) of a channel's chat id, and reversible encryption for sending."""

    def __init__(self, hmac_secret: bytes, encryption_key: bytes, previous_keys: Sequence[bytes] = ()) -> None:
        self._secret = hmac_secret
        # Encrypts with the current key; also reads references made with previous keys (rotation).
        self._fernet = MultiFernet([Fernet(encryption_key), *(Fernet(k) for k in previous_keys)])

    def conversation_id(self, channel: str, chat_key: str) -> str:
        return hmac.new(self._secret, f"{channel}:{chat_key}".encode(), hashlib.sha256).hexdigest()[:32]

    def encrypt(self, chat_key: str) -> str:
        return self._fernet.encrypt(chat_key.encode()).decode()

    def decrypt(self, token: str) -> Optional[str]:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError):
            return None


def touch(db: Database, conversation_id: str, channel: str, chat_ref: str, now: Optional[str] = None) -> None:
    """Records that the conversation wrote; the chat reference is refreshed every time, so it is
    always encrypted with the current key (see SAM_ENCRYPTION_KEY in .env.example)."""
    now = now or utc_now()
    db.execute(
        "INSERT INTO conversations (id, channel, chat_ref, paused, created_at, last_seen_at) VALUES (?, ?, ?, 0, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET last_seen_at = excluded.last_seen_at, chat_ref = excluded.chat_ref",
        [conversation_id, channel, chat_ref, now, now],
    )


def chat_ref(db: Database, conversation_id: str) -> Optional[str]:
    row = db.execute("SELECT chat_ref FROM conversations WHERE id = ?", [conversation_id]).fetchone()
    return row[0] if row else None


def is_paused(db: Database, conversation_id: str) -> bool:
    row = db.execute("SELECT paused FROM conversations WHERE id = ?", [conversation_id]).fetchone()
    return bool(row and row[0])


def set_paused(db: Database, conversation_id: str, paused: bool) -> None:
    db.execute("UPDATE conversations SET paused = ? WHERE id = ?", [int(paused), conversation_id])


def erase(db: Database, conversation_id: str) -> None:
    """Removes everything about a conversation (/vergeet); escalations keep only anonymous facts.
    Its open escalation is closed: nobody can reach the young person any more."""
    now = utc_now()
    with transaction(db):
        # Replies to its messages go too, unless addressed by their own chat_ref (e.g. the
        # confirmation of this erasure, queued for an already-erased conversation).
        db.execute(
            "DELETE FROM outbox WHERE conversation_id = ? OR (chat_ref IS NULL AND inbox_id IN "
            "(SELECT id FROM inbox WHERE conversation_id = ?))", [conversation_id, conversation_id])
        db.execute("UPDATE inbox SET conversation_id = NULL, text = NULL WHERE conversation_id = ?", [conversation_id])
        db.execute(
            "UPDATE escalations SET status = 'closed', outcome = 'gewist_door_jongere', closed_at = ? "
            "WHERE conversation_id = ? AND status = 'open'", [now, conversation_id])
        db.execute(
            "UPDATE escalations SET conversation_id = NULL, turns = '[]', updated_at = ? WHERE conversation_id = ?",
            [now, conversation_id],
        )
        # The moderators' notes and messages go; its case keeps only anonymous facts (bot/store/cases.py).
        db.execute("DELETE FROM case_notes WHERE conversation_id = ?", [conversation_id])
        db.execute("DELETE FROM moderator_messages WHERE conversation_id = ?", [conversation_id])
        db.execute(
            "UPDATE cases SET status = 'closed', outcome = 'gewist_door_jongere', closed_at = ?, taken_over_by = NULL "
            "WHERE conversation_id = ? AND status = 'open'", [now, conversation_id])
        db.execute("UPDATE cases SET conversation_id = NULL, updated_at = ? WHERE conversation_id = ?",
                   [now, conversation_id])
        db.execute("DELETE FROM conversations WHERE id = ?", [conversation_id])
    # secure_delete zeroed the rows in the database; the old copies in the write-ahead log go now.
    checkpoint(db)
