"""Dashboard accounts, their server-side sessions and failed logins (for the rate limit).

Passwords are hashed with argon2id (argon2-cffi). A session id is a random token given to the
browser once; the database keeps only its SHA-256, so reading the database gives no session.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlite_utils import Database

from bot.store.db import transaction, utc_now

ROLES = ("moderator", "admin", "editor")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes anything, but nobody needs more; keeps hashing cheap
_hasher = PasswordHasher()
_dummy: List[str] = []  # verified when the account does not exist: a wrong name takes as long as a wrong password


def _dummy_hash() -> str:
    if not _dummy:
        _dummy.append(_hasher.hash(secrets.token_urlsafe(16)))
    return _dummy[0]


class AccountError(ValueError):
    """A request the accounts cannot carry out; the message is Dutch, for the person who asked."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Het wachtwoord moet minstens {MIN_PASSWORD_LENGTH} tekens hebben.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError("Het wachtwoord is te lang.")


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        raise AccountError("Een naam heeft 1 tot 64 letters, cijfers, punten, streepjes of liggende streepjes.")
    return name


# --- accounts ----------------------------------------------------------------------------------
def add(db: Database, name: str, password: str, role: str = "moderator", now: Optional[str] = None) -> int:
    name = _check_name(name)
    if role not in ROLES:
        raise AccountError(f"Onbekende rol '{role}'. Kies uit: {', '.join(ROLES)}.")
    check_password_rules(password)
    now = now or utc_now()
    if get_by_name(db, name) is not None:
        raise AccountError(f"Er is al een account '{name}'.")
    return db.execute(
        "INSERT INTO accounts (name, role, password_hash, enabled, on_duty, created_at, updated_at) "
        "VALUES (?, ?, ?, 1, 0, ?, ?)", [name, role, _hasher.hash(password), now, now]).lastrowid


def get(db: Database, account_id: int) -> Optional[Dict[str, Any]]:
    rows = list(db.query("SELECT * FROM accounts WHERE id = ?", [account_id]))
    return rows[0] if rows else None


def get_by_name(db: Database, name: str) -> Optional[Dict[str, Any]]:
    rows = list(db.query("SELECT * FROM accounts WHERE name = ?", [(name or "").strip()]))
    return rows[0] if rows else None


def all_accounts(db: Database) -> List[Dict[str, Any]]:
    return list(db.query("SELECT id, name, role, enabled, on_duty, on_duty_since, created_at FROM accounts "
                         "ORDER BY name COLLATE NOCASE"))


def count_staff(db: Database) -> int:
    """Enabled moderators and admins: whether the dashboard is in use here at all."""
    return db.execute("SELECT COUNT(*) FROM accounts WHERE enabled = 1 "
                      "AND role IN ('moderator', 'admin')").fetchone()[0]


def set_enabled(db: Database, name: str, enabled: bool, now: Optional[str] = None) -> bool:
    """Disables (or enables) an account; a disabled account loses its sessions at once.
    False when it already was so."""
    account = get_by_name(db, name)
    if account is None:
        raise AccountError(f"Er is geen account '{name}'.")
    if bool(account["enabled"]) == enabled:
        return False
    with transaction(db):
        db.execute("UPDATE accounts SET enabled = ?, on_duty = CASE WHEN ? THEN on_duty ELSE 0 END, updated_at = ? "
                   "WHERE id = ?", [int(enabled), int(enabled), now or utc_now(), account["id"]])
        if not enabled:
            db.execute("DELETE FROM dashboard_sessions WHERE account_id = ?", [account["id"]])
    return True


def set_password(db: Database, name: str, password: str, now: Optional[str] = None) -> None:
    """A new password; every session of the account ends (it must log in again)."""
    check_password_rules(password)
    account = get_by_name(db, name)
    if account is None:
        raise AccountError(f"Er is geen account '{name}'.")
    with transaction(db):
        db.execute("UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ?",
                   [_hasher.hash(password), now or utc_now(), account["id"]])
        db.execute("DELETE FROM dashboard_sessions WHERE account_id = ?", [account["id"]])


def authenticate(db: Database, name: str, password: str) -> Optional[Dict[str, Any]]:
    """The enabled account with this name and password, else None (same work either way)."""
    account = get_by_name(db, name) if name else None
    stored = account["password_hash"] if account else _dummy_hash()
    try:
        _hasher.verify(stored, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if account is None or not account["enabled"]:
        return None
    if _hasher.check_needs_rehash(stored):
        db.execute("UPDATE accounts SET password_hash = ? WHERE id = ?", [_hasher.hash(password), account["id"]])
    return account


def set_on_duty(db: Database, account_id: int, on_duty: bool, now: Optional[str] = None) -> bool:
    """False when nothing changed."""
    return bool(db.execute(
        "UPDATE accounts SET on_duty = ?, on_duty_since = ?, updated_at = ? WHERE id = ? AND on_duty != ?",
        [int(on_duty), (now or utc_now()) if on_duty else None, now or utc_now(), account_id, int(on_duty)]).rowcount)


def on_duty_now(db: Database, session_minutes: int, now: Optional[datetime] = None) -> List[Dict[str, Any]]:
    """Enabled accounts that marked themselves on duty AND have a live session: someone who
    closed the browser without logging off is not counted (so Sam never promises a person
    nobody is there to be)."""
    now = now or datetime.now(timezone.utc)
    since = _iso(now - timedelta(minutes=session_minutes))
    return list(db.query(
        "SELECT a.id, a.name, a.role FROM accounts a WHERE a.enabled = 1 AND a.on_duty = 1 AND a.role IN "
        "('moderator', 'admin') AND EXISTS (SELECT 1 FROM dashboard_sessions s WHERE s.account_id = a.id "
        "AND s.last_seen_at >= ?) ORDER BY a.name", [since]))


# --- sessions ----------------------------------------------------------------------------------
def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session(db: Database, account_id: int, now: Optional[str] = None) -> str:
    """A fresh session (a new id at every login); returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = now or utc_now()
    db.execute("INSERT INTO dashboard_sessions (id_hash, account_id, csrf_token, created_at, last_seen_at, "
               "pause_hint) VALUES (?, ?, ?, ?, ?, 0)", [_hash(token), account_id, secrets.token_urlsafe(32), now, now])
    return token


def session(db: Database, token: Optional[str], session_minutes: int, now: Optional[datetime] = None,
            touch: bool = True) -> Optional[Dict[str, Any]]:
    """The live session and its enabled account (keys of both; session keys prefixed `session_`).
    `touch` refreshes its last-seen time (a person did something; a page's own live updates do
    not count, so an unattended screen still ends its session). An expired session is deleted."""
    if not token or len(token) > 200:
        return None
    now = now or datetime.now(timezone.utc)
    rows = list(db.query(
        "SELECT s.id_hash AS session_id, s.csrf_token AS session_csrf, s.last_seen_at AS session_last_seen, "
        "s.flash AS session_flash, s.pause_hint AS session_pause_hint, a.* FROM dashboard_sessions s "
        "JOIN accounts a ON a.id = s.account_id WHERE s.id_hash = ?", [_hash(token)]))
    if not rows:
        return None
    row = rows[0]
    if not row["enabled"] or _parse(row["session_last_seen"]) < now - timedelta(minutes=session_minutes):
        db.execute("DELETE FROM dashboard_sessions WHERE id_hash = ?", [row["session_id"]])
        return None
    if touch:
        db.execute("UPDATE dashboard_sessions SET last_seen_at = ? WHERE id_hash = ?", [_iso(now), row["session_id"]])
    row.pop("password_hash", None)
    return row


def end_session(db: Database, token: Optional[str]) -> Optional[int]:
    """Deletes the session; returns its account id (None when there was none)."""
    if not token:
        return None
    row = db.execute("SELECT account_id FROM dashboard_sessions WHERE id_hash = ?", [_hash(token)]).fetchone()
    db.execute("DELETE FROM dashboard_sessions WHERE id_hash = ?", [_hash(token)])
    return row[0] if row else None


def live_sessions(db: Database, account_id: int, session_minutes: int, now: Optional[datetime] = None) -> int:
    now = now or datetime.now(timezone.utc)
    return db.execute("SELECT COUNT(*) FROM dashboard_sessions WHERE account_id = ? AND last_seen_at >= ?",
                      [account_id, _iso(now - timedelta(minutes=session_minutes))]).fetchone()[0]


def delete_expired_sessions(db: Database, session_minutes: int, now: Optional[datetime] = None) -> int:
    now = now or datetime.now(timezone.utc)
    return db.execute("DELETE FROM dashboard_sessions WHERE last_seen_at < ?",
                      [_iso(now - timedelta(minutes=session_minutes))]).rowcount


def set_flash(db: Database, session_id: str, text: Optional[str]) -> None:
    """A one-time message for the next page of this session (works without JavaScript)."""
    db.execute("UPDATE dashboard_sessions SET flash = ? WHERE id_hash = ?", [text, session_id])


def set_pause_hint(db: Database, session_id: str, shown: bool) -> None:
    db.execute("UPDATE dashboard_sessions SET pause_hint = ? WHERE id_hash = ?", [int(shown), session_id])


# --- failed logins (rate limit) ----------------------------------------------------------------
def _key(kind: str, value: str) -> str:
    # Stored hashed: the table says how often, not who typed what (a password typed into the
    # name field never lands in the database).
    return hashlib.sha256(f"{kind}:{(value or '').strip().lower()}".encode()).hexdigest()


def record_failure(db: Database, name: str, address: str, now: Optional[datetime] = None) -> None:
    now = now or datetime.now(timezone.utc)
    db.execute("INSERT INTO login_failures (account_key, address_key, at) VALUES (?, ?, ?)",
               [_key("account", name), _key("address", address), _iso(now)])
    # Old failures are of no use; keep the table small.
    db.execute("DELETE FROM login_failures WHERE at < ?", [_iso(now - timedelta(days=1))])


def failures(db: Database, name: str, address: str, window_minutes: int,
             now: Optional[datetime] = None) -> Dict[str, int]:
    now = now or datetime.now(timezone.utc)
    since = _iso(now - timedelta(minutes=window_minutes))
    by_account = db.execute("SELECT COUNT(*) FROM login_failures WHERE account_key = ? AND at >= ?",
                            [_key("account", name), since]).fetchone()[0]
    by_address = db.execute("SELECT COUNT(*) FROM login_failures WHERE address_key = ? AND at >= ?",
                            [_key("address", address), since]).fetchone()[0]
    return {"account": by_account, "address": by_address}


def clear_failures(db: Database, name: str) -> None:
    db.execute("DELETE FROM login_failures WHERE account_key = ?", [_key("account", name)])
