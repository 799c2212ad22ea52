"""Cases for the moderators: an open escalation, or a young person's request for a person.

One open case per conversation (the database refuses a second). Every action is idempotent
(doing it twice changes nothing the second time, and a form sent twice counts once through its
request id) and recorded in the audit log, in the same transaction as its effect.

Actions raise CaseError (a Dutch message for the moderator) when they are not allowed, and
return True when they changed something, False when it was already so.
"""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional

from sqlite_utils import Database

from bot.store import audit, outbox
from bot.store.db import transaction, utc_now

logger = logging.getLogger(__name__)

OUTCOMES = ("doorverwezen", "gesprek_gevoerd", "geen_zorg", "anders")
REQUEST_RANK = 0  # a request for a person ranks with "concern"; older cases first within a rank
MAX_REPLY = 2000
MAX_NOTE = 4000
REPLY_PREFIX = "Hulpverlener: "
STAFF_ROLES = ("moderator", "admin")


class CaseError(Exception):
    """Not allowed now; `str(error)` is Dutch, for the moderator. `status` is the HTTP status."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def pseudonym(conversation_id: Optional[str]) -> str:
    """The short, stable code moderators see: never anything else about the young person."""
    return conversation_id[:6].upper() if conversation_id else "GEWIST"


def _render(name: str, **variables: Any) -> Optional[Dict[str, Any]]:
    """A text for the young person from content/ (None when content/ cannot be read: the action
    still happens; the moderator's own words follow)."""
    try:
        from bot import content

        message = content.current().render(name, **variables)
        return {"text": message["text"], "buttons": message["buttons"], "response": name}
    except Exception:  # noqa: BLE001 - a missing text must not block a takeover
        logger.exception("text %s unavailable", name)
        return None


# --- reading -----------------------------------------------------------------------------------
def sync(db: Database, now: Optional[str] = None) -> None:
    """Brings the cases in line with the escalations: a case for every open escalation (joined to
    the conversation's open request, if any), and closed when its escalation was closed elsewhere
    (erasure, retention). Cheap; runs before every read of the queue."""
    now = now or utc_now()
    stale = db.execute(
        "SELECT c.id FROM cases c LEFT JOIN escalations e ON e.id = c.escalation_id WHERE c.status = 'open' "
        "AND c.kind = 'escalation' AND (e.id IS NULL OR e.status != 'open')").fetchall()
    missing = db.execute(
        "SELECT e.id FROM escalations e WHERE e.status = 'open' AND e.conversation_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.escalation_id = e.id)").fetchall()
    if not stale and not missing:
        return
    with transaction(db):
        for (case_id,) in stale:
            row = db.execute("SELECT e.outcome, c.conversation_id, c.taken_over_by FROM cases c "
                             "LEFT JOIN escalations e ON e.id = c.escalation_id WHERE c.id = ?", [case_id]).fetchone()
            db.execute("UPDATE cases SET status = 'closed', outcome = COALESCE(?, 'gesloten'), closed_at = ?, "
                       "taken_over_by = NULL, updated_at = ? WHERE id = ? AND status = 'open'",
                       [row[0], now, now, case_id])
            if row[2] and row[1]:
                db.execute("UPDATE conversations SET paused = 0 WHERE id = ?", [row[1]])
        for (escalation_id,) in missing:
            _case_for_escalation(db, escalation_id, now)


def _case_for_escalation(db: Database, escalation_id: int, now: str) -> Optional[int]:
    """Inside a transaction: the case of an open escalation, made when missing."""
    row = db.execute("SELECT id FROM cases WHERE escalation_id = ?", [escalation_id]).fetchone()
    if row:
        return row[0]
    escalation = db.execute("SELECT conversation_id, created_at, status FROM escalations WHERE id = ?",
                            [escalation_id]).fetchone()
    if escalation is None or escalation[2] != "open" or not escalation[0]:
        return None
    conversation_id, created_at, _ = escalation
    request = db.execute("SELECT id, kind FROM cases WHERE conversation_id = ? AND status = 'open'",
                         [conversation_id]).fetchone()
    if request is not None:
        # The young person asked for a person first (or an older escalation's case is still open
        # while sync catches up): the case becomes this escalation's, keeping its claim.
        db.execute("UPDATE cases SET kind = 'escalation', escalation_id = ?, updated_at = ? WHERE id = ?",
                   [escalation_id, now, request[0]])
        return request[0]
    return db.execute(
        "INSERT INTO cases (kind, escalation_id, conversation_id, pseudonym, status, created_at, updated_at) "
        "VALUES ('escalation', ?, ?, ?, 'open', ?, ?)",
        [escalation_id, conversation_id, pseudonym(conversation_id), created_at or now, now]).lastrowid


def ensure_for_escalation(db: Database, escalation_id: int, now: Optional[str] = None) -> Optional[int]:
    """The case id of an open escalation (made now when missing)."""
    with transaction(db):
        return _case_for_escalation(db, escalation_id, now or utc_now())


_SELECT = (
    "SELECT c.*, e.category, e.severity, COALESCE(e.severity_rank, ?) AS severity_rank, e.matched, e.triggers, "
    "e.turns, e.created_at AS escalation_created_at, e.status AS escalation_status, "
    "claimer.name AS claimed_by_name, taker.name AS taken_over_by_name, conv.channel AS channel, "
    "conv.paused AS paused FROM cases c LEFT JOIN escalations e ON e.id = c.escalation_id "
    "LEFT JOIN accounts claimer ON claimer.id = c.claimed_by LEFT JOIN accounts taker ON taker.id = c.taken_over_by "
    "LEFT JOIN conversations conv ON conv.id = c.conversation_id ")


def _decode(row: Dict[str, Any]) -> Dict[str, Any]:
    for key in ("matched", "triggers", "turns"):
        try:
            row[key] = json.loads(row.get(key) or "[]")
        except ValueError:
            row[key] = []
    return row


def queue(db: Database, now: Optional[str] = None) -> List[Dict[str, Any]]:
    """Open cases, most severe first, then the longest waiting."""
    sync(db, now)
    return [_decode(row) for row in db.query(
        _SELECT + "WHERE c.status = 'open' ORDER BY severity_rank DESC, c.created_at ASC, c.id ASC", [REQUEST_RANK])]


def get(db: Database, case_id: int) -> Optional[Dict[str, Any]]:
    rows = list(db.query(_SELECT + "WHERE c.id = ?", [REQUEST_RANK, case_id]))
    return _decode(rows[0]) if rows else None


def earlier(db: Database, case: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Earlier cases of the same conversation, newest first."""
    if not case.get("conversation_id"):
        return []
    return [_decode(row) for row in db.query(
        _SELECT + "WHERE c.conversation_id = ? AND c.id != ? ORDER BY c.created_at DESC",
        [REQUEST_RANK, case["conversation_id"], case["id"]])]


def notes(db: Database, case_id: int) -> List[Dict[str, Any]]:
    return list(db.query("SELECT * FROM case_notes WHERE case_id = ? ORDER BY id", [case_id]))


def conversation_notes(db: Database, conversation_id: Optional[str]) -> List[Dict[str, Any]]:
    if not conversation_id:
        return []
    return list(db.query("SELECT * FROM case_notes WHERE conversation_id = ? ORDER BY id", [conversation_id]))


def moderator_messages(db: Database, conversation_id: Optional[str]) -> List[Dict[str, Any]]:
    if not conversation_id:
        return []
    return list(db.query("SELECT * FROM moderator_messages WHERE conversation_id = ? ORDER BY id",
                         [conversation_id]))


def takeovers(db: Database, account_id: int) -> int:
    return db.execute("SELECT COUNT(*) FROM cases WHERE status = 'open' AND taken_over_by = ?",
                      [account_id]).fetchone()[0]


def staff(db: Database) -> List[Dict[str, Any]]:
    """Colleagues a case can go to."""
    return list(db.query("SELECT id, name, role, on_duty FROM accounts WHERE enabled = 1 AND role IN "
                         "('moderator', 'admin') ORDER BY name COLLATE NOCASE"))


# --- acting ------------------------------------------------------------------------------------
@contextmanager
def _action(db: Database, request_id: Optional[str]) -> Iterator[None]:
    """One transaction for the checks, the effect and its audit row. A request id seen before
    raises audit.AlreadyDone (nothing happens a second time)."""
    if audit.seen(db, request_id):
        raise audit.AlreadyDone(request_id)
    with transaction(db):
        yield


def _open_case(db: Database, case_id: int) -> Dict[str, Any]:
    case = get(db, case_id)
    if case is None:
        raise CaseError("Deze melding bestaat niet (meer).", 404)
    if case["status"] != "open":
        raise CaseError("Deze melding is al afgesloten.")
    return case


def _is_admin(account: Dict[str, Any]) -> bool:
    return account.get("role") == "admin"


def _require_claim(case: Dict[str, Any], account: Dict[str, Any], admin_may: bool = False) -> None:
    if case["claimed_by"] == account["id"] or (admin_may and _is_admin(account)):
        return
    if case["claimed_by"] is None:
        raise CaseError("Pak deze melding eerst op.")
    raise CaseError(f"Deze melding is opgepakt door {case['claimed_by_name']}.")


def _staff_account(db: Database, name: str) -> Dict[str, Any]:
    rows = list(db.query("SELECT id, name, role FROM accounts WHERE name = ? AND enabled = 1 AND role IN "
                         "('moderator', 'admin')", [(name or "").strip()]))
    if not rows:
        raise CaseError("Kies een collega met een actief account.", 400)
    return rows[0]


def _audit(db: Database, account: Optional[Dict[str, Any]], action: str, case: Dict[str, Any],
           request_id: Optional[str], now: str, **detail: Any) -> None:
    audit.record(db, account, action, case["id"], case["pseudonym"], detail or None, request_id, now)


def _send_system(db: Database, case: Dict[str, Any], name: str, now: str, **variables: Any) -> None:
    """A text of Sam's to the young person (moderator joined, Sam is back), kept for the transcript."""
    message = _render(name, **variables)
    if message is None or not case.get("conversation_id") or not case.get("channel"):
        return
    ids = outbox.add(db, case["channel"], case["conversation_id"], [message], origin="system", now=now)
    db.execute("INSERT INTO moderator_messages (case_id, conversation_id, author, response, text, outbox_id, "
               "created_at) VALUES (?, ?, 'sam', ?, ?, ?, ?)",
               [case["id"], case["conversation_id"], name, message["text"], ids[0] if ids else None, now])


def _add_note(db: Database, case: Dict[str, Any], account: Dict[str, Any], kind: str, text: str, now: str) -> None:
    db.execute("INSERT INTO case_notes (case_id, conversation_id, account_id, account_name, kind, text, created_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)", [case["id"], case["conversation_id"], account["id"], account["name"],
                                                kind, text, now])


def record_view(db: Database, account: Dict[str, Any], case: Dict[str, Any], now: Optional[str] = None) -> None:
    audit.record(db, account, "view", case["id"], case["pseudonym"], None, None, now)


def claim(db: Database, account: Dict[str, Any], case_id: int, request_id: Optional[str] = None,
          now: Optional[str] = None) -> bool:
    """One moderator at a time: taking a case someone else holds is refused (an admin reassigns)."""
    now = now or utc_now()
    with _action(db, request_id):
        case = _open_case(db, case_id)
        if case["claimed_by"] == account["id"]:
            return False
        if case["claimed_by"] is not None:
            raise CaseError(f"Deze melding is al opgepakt door {case['claimed_by_name']}.")
        db.execute("UPDATE cases SET claimed_by = ?, claimed_at = ?, first_claimed_at = COALESCE(first_claimed_at, ?), "
                   "updated_at = ? WHERE id = ? AND claimed_by IS NULL", [account["id"], now, now, now, case_id])
        _audit(db, account, "claim", case, request_id, now)
    return True


def next_case(db: Database, account: Dict[str, Any], request_id: Optional[str] = None,
              now: Optional[str] = None) -> Optional[int]:
    """"Volgende": claims the most urgent unclaimed case; None when there is none."""
    now = now or utc_now()
    sync(db, now)
    with _action(db, request_id):
        row = db.execute(
            "SELECT c.id FROM cases c LEFT JOIN escalations e ON e.id = c.escalation_id WHERE c.status = 'open' "
            "AND c.claimed_by IS NULL ORDER BY COALESCE(e.severity_rank, ?) DESC, c.created_at ASC, c.id ASC LIMIT 1",
            [REQUEST_RANK]).fetchone()
        if row is None:
            return None
        case = _open_case(db, row[0])
        db.execute("UPDATE cases SET claimed_by = ?, claimed_at = ?, first_claimed_at = COALESCE(first_claimed_at, ?), "
                   "updated_at = ? WHERE id = ?", [account["id"], now, now, now, case["id"]])
        _audit(db, account, "claim", case, request_id, now, via="volgende")
    return case["id"]


def _move(db: Database, case: Dict[str, Any], to: Dict[str, Any], max_takeovers: int, now: str) -> None:
    """Gives the case (and the live chat, if taken over) to another moderator."""
    taken = case["taken_over_by"] is not None
    if taken and to["id"] != case["taken_over_by"] and takeovers(db, to["id"]) >= max_takeovers:
        raise CaseError(f"{to['name']} heeft al {max_takeovers} gesprekken overgenomen. Kies een andere collega.")
    db.execute("UPDATE cases SET claimed_by = ?, claimed_at = ?, first_claimed_at = COALESCE(first_claimed_at, ?), "
               "taken_over_by = CASE WHEN taken_over_by IS NULL THEN NULL ELSE ? END, updated_at = ? WHERE id = ?",
               [to["id"], now, now, to["id"], now, case["id"]])


def assign(db: Database, account: Dict[str, Any], case_id: int, to_name: str, max_takeovers: int,
           request_id: Optional[str] = None, now: Optional[str] = None) -> bool:
    """An admin gives a case to a moderator (also one someone else holds)."""
    if not _is_admin(account):
        raise CaseError("Alleen een beheerder kan een melding toewijzen.", 403)
    now = now or utc_now()
    with _action(db, request_id):
        case = _open_case(db, case_id)
        to = _staff_account(db, to_name)
        if case["claimed_by"] == to["id"]:
            return False
        _move(db, case, to, max_takeovers, now)
        _audit(db, account, "assign", case, request_id, now, to=to["name"], previous=case["claimed_by_name"])
    return True


def transfer(db: Database, account: Dict[str, Any], case_id: int, to_name: str, note: str, max_takeovers: int,
             request_id: Optional[str] = None, now: Optional[str] = None) -> bool:
    """Passes the case to a colleague with a note (for the colleague, not the young person)."""
    note = (note or "").strip()
    if not note:
        raise CaseError("Schrijf een korte notitie voor je collega.", 400)
    if len(note) > MAX_NOTE:
        raise CaseError(f"Een notitie heeft hoogstens {MAX_NOTE} tekens.", 400)
    now = now or utc_now()
    with _action(db, request_id):
        case = _open_case(db, case_id)
        _require_claim(case, account, admin_may=True)
        to = _staff_account(db, to_name)
        if to["id"] == case["claimed_by"]:
            raise CaseError("Deze collega heeft de melding al.", 400)
        _move(db, case, to, max_takeovers, now)
        _add_note(db, case, account, "transfer", note, now)
        _audit(db, account, "transfer", case, request_id, now, to=to["name"])
    return True


def add_note(db: Database, account: Dict[str, Any], case_id: int, text: str, request_id: Optional[str] = None,
             now: Optional[str] = None) -> bool:
    text = (text or "").strip()
    if not text:
        raise CaseError("De notitie is leeg.", 400)
    if len(text) > MAX_NOTE:
        raise CaseError(f"Een notitie heeft hoogstens {MAX_NOTE} tekens.", 400)
    now = now or utc_now()
    with _action(db, request_id):
        case = get(db, case_id)
        if case is None:
            raise CaseError("Deze melding bestaat niet (meer).", 404)
        _add_note(db, case, account, "note", text, now)
        _audit(db, account, "note", case, request_id, now)
    return True


def _conversation_reachable(case: Dict[str, Any]) -> None:
    if not case.get("conversation_id") or not case.get("channel"):
        raise CaseError("Dit gesprek is gewist. Je kunt de jongere niet meer bereiken.")


def take_over(db: Database, account: Dict[str, Any], case_id: int, max_takeovers: int,
              request_id: Optional[str] = None, now: Optional[str] = None) -> bool:
    """Sam stops answering this young person; their messages wait for the moderator."""
    now = now or utc_now()
    with _action(db, request_id):
        case = _open_case(db, case_id)
        _require_claim(case, account)
        _conversation_reachable(case)
        if case["taken_over_by"] == account["id"]:
            return False
        if takeovers(db, account["id"]) >= max_takeovers:
            raise CaseError(f"Je hebt al {max_takeovers} gesprekken overgenomen. Geef eerst een gesprek terug "
                            f"aan Sam.")
        db.execute("UPDATE cases SET taken_over_by = ?, taken_over_at = ?, updated_at = ? WHERE id = ?",
                   [account["id"], now, now, case_id])
        db.execute("UPDATE conversations SET paused = 1 WHERE id = ?", [case["conversation_id"]])
        _send_system(db, case, "utter_moderator_joined", now)
        _audit(db, account, "takeover", case, request_id, now)
    return True


def _release(db: Database, case: Dict[str, Any], now: str) -> None:
    db.execute("UPDATE cases SET taken_over_by = NULL, updated_at = ? WHERE id = ?", [now, case["id"]])
    if case.get("conversation_id"):
        db.execute("UPDATE conversations SET paused = 0 WHERE id = ?", [case["conversation_id"]])
        _send_system(db, case, "utter_moderator_left", now)


def hand_back(db: Database, account: Optional[Dict[str, Any]], case_id: int, request_id: Optional[str] = None,
              now: Optional[str] = None, reason: Optional[str] = None) -> bool:
    """Sam answers again and says so. `account` None: Sam's own job (the moderator's session ended)."""
    now = now or utc_now()
    with _action(db, request_id):
        case = get(db, case_id)
        if case is None:
            raise CaseError("Deze melding bestaat niet (meer).", 404)
        if case["taken_over_by"] is None:
            return False
        if account is not None and case["taken_over_by"] != account["id"] and not _is_admin(account):
            raise CaseError(f"Dit gesprek is overgenomen door {case['taken_over_by_name']}.")
        _release(db, case, now)
        detail = {"reason": reason} if reason else {}
        _audit(db, account, "handback", case, request_id, now, **detail)
    return True


def reply(db: Database, account: Dict[str, Any], case_id: int, text: str, request_id: Optional[str] = None,
          now: Optional[str] = None) -> bool:
    """A message to the young person, through the outbox, as "Hulpverlener: ..."."""
    text = (text or "").strip()
    if not text:
        raise CaseError("Het bericht is leeg.", 400)
    if len(text) > MAX_REPLY:
        raise CaseError(f"Een bericht heeft hoogstens {MAX_REPLY} tekens.", 400)
    now = now or utc_now()
    with _action(db, request_id):
        case = _open_case(db, case_id)
        _require_claim(case, account)
        _conversation_reachable(case)
        if case["taken_over_by"] != account["id"]:
            raise CaseError("Neem het gesprek eerst over. Dan stopt Sam met antwoorden.")
        full = REPLY_PREFIX + text
        ids = outbox.add(db, case["channel"], case["conversation_id"],
                         [{"text": full, "buttons": [], "response": None}], origin="moderator", now=now)
        db.execute("INSERT INTO moderator_messages (case_id, conversation_id, account_id, account_name, author, "
                   "text, outbox_id, created_at) VALUES (?, ?, ?, ?, 'hulpverlener', ?, ?, ?)",
                   [case["id"], case["conversation_id"], account["id"], account["name"], full,
                    ids[0] if ids else None, now])
        _audit(db, account, "reply", case, request_id, now, length=len(text))
    return True


def resolve(db: Database, account: Dict[str, Any], case_id: int, outcome: str, follow_up: str = "",
            request_id: Optional[str] = None, now: Optional[str] = None) -> Dict[str, Any]:
    """Closes the case (and its escalation) with an outcome; a taken-over chat goes back to Sam.
    Returns {"changed": bool, "acute": bool}."""
    if outcome not in OUTCOMES:
        raise CaseError("Kies een uitkomst.", 400)
    follow_up = (follow_up or "").strip()
    if len(follow_up) > MAX_NOTE:
        raise CaseError(f"Het vervolg heeft hoogstens {MAX_NOTE} tekens.", 400)
    now = now or utc_now()
    try:
        with _action(db, request_id):
            case = get(db, case_id)
            if case is None:
                raise CaseError("Deze melding bestaat niet (meer).", 404)
            if case["status"] != "open":
                return {"changed": False, "acute": False}
            _require_claim(case, account, admin_may=True)
            if case["taken_over_by"] is not None:
                _release(db, case, now)
            db.execute("UPDATE cases SET status = 'closed', outcome = ?, closed_by = ?, closed_at = ?, "
                       "taken_over_by = NULL, updated_at = ? WHERE id = ?", [outcome, account["id"], now, now, case_id])
            if case["escalation_id"]:
                db.execute("UPDATE escalations SET status = 'closed', outcome = ?, closed_at = ?, updated_at = ? "
                           "WHERE id = ? AND status = 'open'", [outcome, now, now, case["escalation_id"]])
            if follow_up:
                _add_note(db, case, account, "follow_up", follow_up, now)
            _audit(db, account, "resolve", case, request_id, now, outcome=outcome, follow_up=bool(follow_up))
    except audit.AlreadyDone:
        return {"changed": False, "acute": False}
    return {"changed": True, "acute": case.get("severity") == "acute"}


# --- requests for a person ---------------------------------------------------------------------
def open_request(db: Database, conversation_id: str, source: str, now: Optional[str] = None) -> int:
    """The young person asks for a person: a request in the queue, or the mark on the case that is
    already open for them. Returns the case id."""
    now = now or utc_now()
    with transaction(db):
        row = db.execute("SELECT id FROM cases WHERE conversation_id = ? AND status = 'open'",
                         [conversation_id]).fetchone()
        if row is not None:
            db.execute("UPDATE cases SET requested_at = COALESCE(requested_at, ?), source = COALESCE(source, ?), "
                       "updated_at = ? WHERE id = ?", [now, source, now, row[0]])
            return row[0]
        case_id = db.execute(
            "INSERT INTO cases (kind, conversation_id, pseudonym, status, source, requested_at, created_at, "
            "updated_at) VALUES ('request', ?, ?, 'open', ?, ?, ?, ?)",
            [conversation_id, pseudonym(conversation_id), source, now, now, now]).lastrowid
        audit.record(db, None, "request", case_id, pseudonym(conversation_id), {"source": source}, None, now)
        return case_id


# --- retention and erasure ---------------------------------------------------------------------
def purge(db: Database, cutoff_iso: str, gone: List[str], case_cutoff_iso: str) -> int:
    """Notes and moderator messages older than the retention limit go, and everything of deleted
    conversations; a case keeps only anonymous facts, and goes after the escalation retention."""
    total = 0
    with transaction(db):
        total += db.execute("DELETE FROM case_notes WHERE created_at < ?", [cutoff_iso]).rowcount
        total += db.execute("DELETE FROM moderator_messages WHERE created_at < ?", [cutoff_iso]).rowcount
        for conversation_id in gone:
            total += db.execute("DELETE FROM case_notes WHERE conversation_id = ?", [conversation_id]).rowcount
            total += db.execute("DELETE FROM moderator_messages WHERE conversation_id = ?",
                                [conversation_id]).rowcount
            db.execute("UPDATE cases SET status = 'closed', outcome = 'bewaartermijn_verlopen', closed_at = ?, "
                       "taken_over_by = NULL, updated_at = ? WHERE conversation_id = ? AND status = 'open'",
                       [utc_now(), utc_now(), conversation_id])
        # A closed case no longer needs to know whose it was once its conversation is gone.
        db.execute("UPDATE cases SET conversation_id = NULL WHERE conversation_id IS NOT NULL AND status = 'closed' "
                   "AND conversation_id NOT IN (SELECT id FROM conversations)")
        total += db.execute("DELETE FROM cases WHERE status = 'closed' AND closed_at < ?", [case_cutoff_iso]).rowcount
    return total
