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


@migration("0003_runner")
def _runner(db: Database) -> None:
    """The outbox carries messages of any origin to any channel, each row with its own retries;
    the inbox remembers whether an item went to Rasa; escalations get an outcome and, after their
    retention, become anonymous counts."""
    db["inbox"].add_column("submitted_at", str)  # first (and only) time the item went to Rasa
    db["inbox"].add_column("held", int)  # 1: received while a moderator had taken over; kept for them
    db.rename_table("outbox", "outbox_v1")
    db["outbox"].create(
        {
            "id": int,
            "channel": str,
            "conversation_id": str,  # NULL for messages to an erased conversation or a group
            "chat_ref": str,  # encrypted chat id, only when there is no conversation to look it up in
            "inbox_id": int,  # the message this answers, if any
            "origin": str,  # sam | failsafe | moderator | system
            "position": int,
            "response": str,  # response name, when known (kept after sending, for tests and audit)
            "text": str,  # kept only until sent
            "buttons": str,  # JSON
            "leave_chat": int,  # 1: the channel leaves the chat after sending (groups)
            "status": str,  # pending | sent | failed | undeliverable
            "attempts": int,
            "next_try_at": str,
            "last_error": str,
            "created_at": str,
            "sent_at": str,
        },
        pk="id",
        defaults={"attempts": 0, "leave_chat": 0, "status": "pending"},
    )
    db.execute(
        "INSERT INTO outbox (channel, conversation_id, inbox_id, origin, position, response, text, buttons, status, "
        "attempts, next_try_at, created_at, sent_at) "
        "SELECT i.channel, o.conversation_id, o.inbox_id, 'sam', o.position, o.response, o.text, o.buttons, o.status, "
        "0, o.created_at, o.created_at, o.sent_at FROM outbox_v1 o JOIN inbox i ON i.id = o.inbox_id"
    )
    db["outbox_v1"].drop()
    db["outbox"].create_index(["inbox_id", "origin", "position"], unique=True)
    db["outbox"].create_index(["status", "next_try_at"])
    db["outbox"].create_index(["conversation_id"])
    db["escalations"].add_column("outcome", str)  # why it was closed (e.g. erased by the young person)
    db["escalations"].add_column("closed_at", str)
    db["escalation_counts"].create(
        {"week": str, "category": str, "severity": str, "outcome": str, "count": int},
        pk=("week", "category", "severity", "outcome"),
    )


@migration("0004_retention_indexes")
def _retention_indexes(db: Database) -> None:
    """The hourly retention purge finds old rows by time without reading whole tables."""
    db["inbox"].create_index(["received_at"], if_not_exists=True)
    db["outbox"].create_index(["created_at"], if_not_exists=True)
    db["conversations"].create_index(["last_seen_at"], if_not_exists=True)
    db["escalations"].create_index(["updated_at"], if_not_exists=True)
