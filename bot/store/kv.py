"""Small named values the runtime keeps between restarts (e.g. the Telegram update offset)."""
from __future__ import annotations

from typing import Optional

from sqlite_utils import Database


def get_value(db: Database, key: str) -> Optional[str]:
    row = db.execute("SELECT value FROM settings_kv WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_value(db: Database, key: str, value: str) -> None:
    db.execute("INSERT INTO settings_kv (key, value) VALUES (?, ?) "
               "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
