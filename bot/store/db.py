"""Opens Sam's SQLite database with safe settings and brings its schema up to date."""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional

from sqlite_utils import Database

from bot.config import load_settings
from bot.store.migrations import migrate


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def open_db(path: Optional[Path] = None) -> Database:
    """A connection in autocommit mode; use `transaction()` for atomic writes."""
    path = Path(path or load_settings().db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=15, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # a received message must survive a crash
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=15000")
    db = Database(conn)
    migrate(db)
    return db


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """All writes inside happen or none do (BEGIN IMMEDIATE takes the write lock up front)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
