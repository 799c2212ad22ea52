"""Pseudonymous conversations: the only place a chat id is kept, encrypted, to send replies."""
from __future__ import annotations

import hashlib
import hmac
from typing import Optional

from cryptography.fernet import Fernet, InvalidToken
from sqlite_utils import Database

from bot.store.db import transaction, utc_now


class Pseudonymiser:
    """Keyed hash (HMAC-SHA256) of a channel's chat id, and reversible encryption for sending."""

    def __init__(self, hmac_secret: bytes, encryption_key: bytes) -> None:
        self._secret = hmac_secret
        self._fernet = Fernet(encryption_key)

    def conversation_id(self, channel: str, chat_key: str) -> str:
        return hmac.new(self._secret, f"{channel}:{chat_key}".encode(), hashlib.sha256).hexdigest()[:32]

    def encrypt(self, chat_key: str) -> str:
        return self._fernet.encrypt(chat_key.encode()).decode()

    def decrypt(self, token: str) -> Optional[str]:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError):
            return None


def touch(db: Database, conversation_id: str, channel: str, chat_ref: str) -> None:
    now = utc_now()
    db.execute(
        "INSERT INTO conversations (id, channel, chat_ref, paused, created_at, last_seen_at) VALUES (?, ?, ?, 0, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
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
    """Removes everything about a conversation; escalations keep only anonymous facts."""
    with transaction(db):
        db.execute("DELETE FROM outbox WHERE conversation_id = ?", [conversation_id])
        db.execute("UPDATE inbox SET conversation_id = NULL, text = NULL WHERE conversation_id = ?", [conversation_id])
        db.execute(
            "UPDATE escalations SET conversation_id = NULL, turns = '[]', updated_at = ? WHERE conversation_id = ?",
            [utc_now(), conversation_id],
        )
        db.execute("DELETE FROM conversations WHERE id = ?", [conversation_id])
