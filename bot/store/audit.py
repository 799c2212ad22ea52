"""The audit log: who looked at which case and who did what, when. Append-only: the database
itself refuses to change or delete a row (triggers in migration 0005), and the app has no way to.

A row holds no message text and no note: the account, the action, the case, the short pseudonym
and a few facts (e.g. the outcome). `request_id` makes a submitted form count once.
"""
from __future__ import annotations

import csv
import io
import json
import sqlite3
from typing import Any, Dict, Iterable, List, Optional

from sqlite_utils import Database

from bot.store.db import utc_now

SYSTEM = "systeem"  # the account name for what Sam's own jobs do (e.g. a request that expired)
CSV_COLUMNS = ("id", "at", "account_name", "action", "case_id", "pseudonym", "detail")


class AlreadyDone(Exception):
    """This request id was recorded before: the action it carries has been done already."""


def record(db: Database, account: Optional[Dict[str, Any]], action: str, case_id: Optional[int] = None,
           pseudonym: Optional[str] = None, detail: Optional[Dict[str, Any]] = None,
           request_id: Optional[str] = None, now: Optional[str] = None) -> int:
    """Appends one row. With a request id seen before: AlreadyDone (call it inside the action's
    transaction, before its effect, so the effect happens once)."""
    try:
        return db.execute(
            "INSERT INTO audit_log (at, account_id, account_name, action, case_id, pseudonym, detail, request_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [now or utc_now(), account["id"] if account else None, account["name"] if account else SYSTEM, action,
             case_id, pseudonym, json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None,
             request_id or None]).lastrowid
    except sqlite3.IntegrityError as error:
        if request_id and "UNIQUE" in str(error):
            raise AlreadyDone(request_id) from error
        raise


def seen(db: Database, request_id: Optional[str]) -> bool:
    return bool(request_id) and db.execute("SELECT 1 FROM audit_log WHERE request_id = ?",
                                           [request_id]).fetchone() is not None


def entries(db: Database, limit: int = 200, before_id: Optional[int] = None, account: Optional[str] = None,
            case_id: Optional[int] = None) -> List[Dict[str, Any]]:
    """Newest first."""
    where, params = ["1 = 1"], []
    if before_id:
        where.append("id < ?")
        params.append(before_id)
    if account:
        where.append("account_name = ?")
        params.append(account)
    if case_id:
        where.append("case_id = ?")
        params.append(case_id)
    return list(db.query(f"SELECT id, at, account_name, action, case_id, pseudonym, detail FROM audit_log "
                         f"WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?", [*params, limit]))


def all_entries(db: Database) -> Iterable[Dict[str, Any]]:
    return db.query("SELECT id, at, account_name, action, case_id, pseudonym, detail FROM audit_log ORDER BY id")


def to_csv(rows: Iterable[Dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([csv_safe(row.get(column)) for column in CSV_COLUMNS])
    return out.getvalue()


def csv_safe(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
