"""Opens Sam's SQLite database with safe settings and brings its schema up to date."""
from __future__ import annotations

import logging
import os
import sqlite3
import stat
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional, Union

from sqlite_utils import Database

from bot.config import ensure_private_dir, load_settings
from bot.store.migrations import migrate

logger = logging.getLogger(__name__)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def ensure_private_file(path: Union[str, Path]) -> Path:
    """Makes sure the file exists and only its owner can read it (0600), before anyone writes
    to it: SQLite databases, Rasa's tracker database, log files. A missing parent folder is
    created 0700. An existing file that others could read is tightened (older versions)."""
    path = Path(path)
    if not path.parent.exists():
        ensure_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    except FileExistsError:
        _tighten(path)
    else:
        try:
            # A strict umask may have removed the owner's write bit; never adds bits for others.
            if stat.S_IMODE(os.fstat(fd).st_mode) != 0o600:
                os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
    return path


def _tighten(path: Path) -> None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(mode & 0o700)
    except (FileNotFoundError, PermissionError):
        pass  # gone meanwhile, or not ours: nothing we may change


def open_db(path: Optional[Path] = None) -> Database:
    """A connection in autocommit mode; use `transaction()` for atomic writes."""
    path = Path(path or load_settings().db_path)
    if not path.parent.exists():
        ensure_private_dir(path.parent)
    # Created 0600 before SQLite opens it; SQLite gives -wal and -shm the database's mode.
    ensure_private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        _tighten(Path(f"{path}{suffix}"))  # made by an older version with the default mode
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=15, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=15000")
    # Deleted content is overwritten with zeros instead of lingering in free space.
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # a received message must survive a crash
    conn.execute("PRAGMA foreign_keys=ON")
    db = Database(conn)
    migrate(db)
    return db


def checkpoint(db: Union[Database, sqlite3.Connection], timeout_ms: int = 3000) -> bool:
    """Copies the write-ahead log into the database file and truncates the log to zero bytes, so
    erased texts do not stay readable in old log frames. False when readers kept it from finishing
    (the hourly retention purge tries again). A no-op for databases without a WAL."""
    conn = db.conn if isinstance(db, Database) else db
    previous = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute(f"PRAGMA busy_timeout={int(timeout_ms)}")  # wait for readers, but not for long
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.OperationalError as error:  # e.g. this connection is inside a transaction
        logger.warning("WAL checkpoint failed: %s", error)
        busy = 1
    finally:
        conn.execute(f"PRAGMA busy_timeout={int(previous)}")
    if busy:
        logger.warning("WAL checkpoint could not finish; erased data stays in the log until the next one")
    return not busy


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
