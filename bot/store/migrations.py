"""Schema migrations, applied in order and recorded in the database; safe to re-run."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, List, Tuple

from sqlite_utils import Database

Migration = Callable[[Database], None]
MIGRATIONS: List[Tuple[str, Migration]] = []


def migration(name: str) -> Callable[[Migration], Migration]:
    def register(fn: Migration) -> Migration:
        MIGRATIONS.append((name, fn))
        return fn

    return register


@migration("0001_escalations")
def _escalations(db: Database) -> None:
    db["escalations"].create(
        {
            "id": int,
            "conversation_id": str,  # pseudonymous (HMAC), never a Telegram id
            "category": str,
            "severity": str,
            "severity_rank": int,
            "status": str,  # open | closed
            "confidence": float,
            "matched": str,  # JSON list of matched terms or intents
            "triggers": str,  # JSON list: every trigger that added to this escalation
            "turns": str,  # JSON list of the last turns, for the moderator
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"category", "severity", "status", "created_at", "updated_at"},
    )
    db.execute(
        "CREATE UNIQUE INDEX escalations_one_open ON escalations(conversation_id) WHERE status = 'open'"
    )
    db["escalations"].create_index(["status", "severity_rank"])


def migrate(db: Database) -> List[str]:
    """Applies the migrations this database has not had yet; returns their names."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    applied = {row[0] for row in db.execute("SELECT name FROM _migrations").fetchall()}
    done = []
    for name, fn in MIGRATIONS:
        if name in applied:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied it while we waited for the lock.
            if db.execute("SELECT 1 FROM _migrations WHERE name = ?", [name]).fetchone():
                db.execute("ROLLBACK")
                continue
            fn(db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                [name, datetime.now(timezone.utc).isoformat()],
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        done.append(name)
    return done


@migration("0002_gateway")
def _gateway(db: Database) -> None:
    db["conversations"].create(
        {
            "id": str,  # pseudonymous conversation id (HMAC of channel + chat id)
            "channel": str,
            "chat_ref": str,  # the chat id, encrypted; needed only to send replies
            "paused": int,  # 1 while a moderator has taken over (later issue)
            "created_at": str,
            "last_seen_at": str,
        },
        pk="id",
    )
    db["inbox"].create(
        {
            "id": int,
            "channel": str,
            "update_key": str,  # channel's own id of the update (Telegram update_id): deduplication
            "conversation_id": str,
            "kind": str,  # text | command | callback | photo | video | voice | sticker | document | edited | other
            "text": str,  # kept only until processed
            "status": str,  # pending | done
            "failsafe_sent": int,  # the bridge already answered while Rasa was unreachable
            "attempts": int,
            "received_at": str,
            "done_at": str,
        },
        pk="id",
    )
    db["inbox"].create_index(["channel", "update_key"], unique=True)
    db["inbox"].create_index(["status", "id"])
    db["outbox"].create(
        {
            "id": int,
            "inbox_id": int,
            "conversation_id": str,
            "position": int,
            "response": str,  # response name, when known
            "text": str,  # kept only until sent
            "buttons": str,  # JSON
            "status": str,  # pending | sent
            "created_at": str,
            "sent_at": str,
        },
        pk="id",
    )
    db["outbox"].create_index(["status", "id"])
    db["outbox"].create_index(["inbox_id", "position"], unique=True)
    db["settings_kv"].create({"key": str, "value": str}, pk="key")
