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


@migration("0005_dashboard")
def _dashboard(db: Database) -> None:
    """The moderators' dashboard: accounts, server-side sessions, login failures (rate limit), the
    append-only audit log, cases (an escalation or a request for a person, with claims and
    takeovers), notes and the moderators' own messages (kept for the transcript; under retention)."""
    db.execute(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, "
        "role TEXT NOT NULL, password_hash TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1, "
        "on_duty INTEGER NOT NULL DEFAULT 0, on_duty_since TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE dashboard_sessions (id_hash TEXT PRIMARY KEY, "  # SHA-256 of the cookie value, never the value
        "account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE, csrf_token TEXT NOT NULL, "
        "created_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, flash TEXT, pause_hint INTEGER NOT NULL DEFAULT 0)")
    db.execute("CREATE INDEX dashboard_sessions_account ON dashboard_sessions(account_id)")
    db.execute("CREATE TABLE login_failures (id INTEGER PRIMARY KEY, account_key TEXT NOT NULL, "
               "address_key TEXT NOT NULL, at TEXT NOT NULL)")
    db.execute("CREATE INDEX login_failures_account ON login_failures(account_key, at)")
    db.execute("CREATE INDEX login_failures_address ON login_failures(address_key, at)")
    db.execute(
        "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, at TEXT NOT NULL, account_id INTEGER, "
        "account_name TEXT NOT NULL, action TEXT NOT NULL, case_id INTEGER, pseudonym TEXT, detail TEXT, "
        "request_id TEXT)")
    # A form submitted twice (double click, reload) is done once: its request id is recorded once.
    db.execute("CREATE UNIQUE INDEX audit_log_request ON audit_log(request_id) WHERE request_id IS NOT NULL")
    db.execute("CREATE INDEX audit_log_at ON audit_log(at)")
    db.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
               "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
    db.execute("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
               "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
    db.execute(
        "CREATE TABLE cases (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, "  # escalation | request
        "escalation_id INTEGER UNIQUE, conversation_id TEXT, pseudonym TEXT NOT NULL, "
        "status TEXT NOT NULL, source TEXT, "  # open | closed; what opened a request (mens | request_human)
        "requested_at TEXT, request_expired_at TEXT, "  # the young person asked for a person; fallback sent
        "claimed_by INTEGER, claimed_at TEXT, first_claimed_at TEXT, taken_over_by INTEGER, taken_over_at TEXT, "
        "outcome TEXT, closed_by INTEGER, closed_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)")
    db.execute("CREATE UNIQUE INDEX cases_one_open ON cases(conversation_id) WHERE status = 'open'")
    db.execute("CREATE INDEX cases_status ON cases(status, created_at)")
    db.execute("CREATE INDEX cases_conversation ON cases(conversation_id)")
    db.execute(
        "CREATE TABLE case_notes (id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL, conversation_id TEXT, "
        "account_id INTEGER, account_name TEXT NOT NULL, kind TEXT NOT NULL, "  # note | transfer | follow_up
        "text TEXT NOT NULL, created_at TEXT NOT NULL)")
    db.execute("CREATE INDEX case_notes_case ON case_notes(case_id)")
    db.execute("CREATE INDEX case_notes_created ON case_notes(created_at)")
    db.execute("CREATE INDEX case_notes_conversation ON case_notes(conversation_id)")
    db.execute(
        "CREATE TABLE moderator_messages (id INTEGER PRIMARY KEY, case_id INTEGER, conversation_id TEXT, "
        "account_id INTEGER, account_name TEXT, author TEXT NOT NULL, "  # hulpverlener | sam
        "response TEXT, text TEXT NOT NULL, outbox_id INTEGER, created_at TEXT NOT NULL)")
    db.execute("CREATE INDEX moderator_messages_conversation ON moderator_messages(conversation_id)")
    db.execute("CREATE INDEX moderator_messages_created ON moderator_messages(created_at)")


@migration("0006_content_changes")
def _content_changes(db: Database) -> None:
    """Editors change content/ (and add NLU examples) from the dashboard: every published change
    with its old and new value (JSON; NULL = not there), so it can be read back and undone. An
    undo is a new row pointing at the change it undid. Append-only, like the audit log. And the
    retraining runs started from the dashboard, with their phase and outcome."""
    db.execute(
        "CREATE TABLE content_changes (id INTEGER PRIMARY KEY, at TEXT NOT NULL, account_id INTEGER, "
        "account_name TEXT NOT NULL, kind TEXT NOT NULL, "  # text | helpline | risk_word | example
        "target TEXT NOT NULL, "  # JSON: which text, line, risk word or intent
        "label TEXT NOT NULL, file TEXT NOT NULL, old_value TEXT, new_value TEXT, undo_of INTEGER)")
    db.execute("CREATE INDEX content_changes_at ON content_changes(at)")
    db.execute("CREATE INDEX content_changes_undo ON content_changes(undo_of)")
    db.execute("CREATE TRIGGER content_changes_no_update BEFORE UPDATE ON content_changes "
               "BEGIN SELECT RAISE(ABORT, 'content_changes is append-only'); END")
    db.execute("CREATE TRIGGER content_changes_no_delete BEFORE DELETE ON content_changes "
               "BEGIN SELECT RAISE(ABORT, 'content_changes is append-only'); END")
    db.execute(
        "CREATE TABLE model_updates (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, account_id INTEGER, "
        "account_name TEXT NOT NULL, status TEXT NOT NULL, "  # running | loaded | installed | refused | failed
        "phase TEXT NOT NULL, message TEXT, metrics TEXT, finished_at TEXT, updated_at TEXT NOT NULL)")
    db.execute("CREATE UNIQUE INDEX model_updates_one_running ON model_updates(status) WHERE status = 'running'")
