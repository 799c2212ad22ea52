"""A young person asks for a person; the moderators hear about new escalations.

- `request_person`: /mens (gateway) and "praten met een mens" (action_helplines). When a
  moderator is on duty the request goes into the dashboard's queue and Sam says honestly that a
  person will read it (no time promise); when accounts exist but nobody is on duty, Sam says so
  and gives the helplines open now. Without any account (no dashboard in use) nothing changes.
- `expire_requests` (`run_expiry` with a connection of its own): the runner's periodic job. A
  request nobody claimed within SAM_REQUEST_FALLBACK_MINUTES gets the helplines open now; a chat
  whose moderator's session ended goes back to Sam.
- `alert_moderators`: one message to the moderators' Telegram group per new or raised escalation.

Everything here is failure-proof where the young person is waiting: an error is logged and the
caller carries on with Sam's usual answer.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Optional

from sqlite_utils import Database

from bot.config import Settings, load_settings
from bot.store import accounts, audit, cases, escalations, outbox
from bot.store.db import open_db, transaction

logger = logging.getLogger(__name__)

REQUEST_TAKEN = "utter_request_taken"
NOBODY_ON_DUTY = "utter_nobody_on_duty"
REQUEST_EXPIRED = "utter_request_expired"
SEVERITY_LABELS = {"acute": "ACUUT", "high": "hoog", "concern": "zorg"}
CATEGORY_LABELS = {
    "sextortion": "sextortion (afpersing met beelden)", "image_shared": "beeld gedeeld", "grooming": "grooming",
    "exploitation": "uitbuiting / loverboy", "abuse": "misbruik of geweld", "selfharm": "zelfbeschadiging / suïcide",
    "runaway": "weglopen", "acute_danger": "acuut gevaar",
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def _now(now: Optional[datetime]) -> datetime:
    now = now or datetime.now(timezone.utc)
    return now if now.tzinfo else now.replace(tzinfo=timezone.utc)


def request_person(settings: Settings, conversation_id: Optional[str], source: str,
                   now: Optional[datetime] = None) -> Optional[str]:
    """The response name to send instead of Sam's usual helplines answer, or None to keep it.

    Opens its own short connection: callers (the gateway's event loop, the action server) must
    not share theirs. Never raises."""
    if not conversation_id:
        return None
    try:
        db = open_db(settings.db_path)
        try:
            return _request_person(db, settings, conversation_id, source, _now(now))
        finally:
            db.conn.close()
    except Exception:  # noqa: BLE001 - the young person gets Sam's usual answer instead
        logger.exception("request for a person could not be recorded")
        return None


def _request_person(db: Database, settings: Settings, conversation_id: str, source: str,
                    now: datetime) -> Optional[str]:
    if accounts.count_staff(db) == 0:
        return None  # the dashboard is not in use here: Sam's usual answer
    if not accounts.on_duty_now(db, settings.dashboard_session_minutes, now):
        return NOBODY_ON_DUTY
    cases.open_request(db, conversation_id, source, _iso(now))
    return REQUEST_TAKEN


def expire_requests(db: Database, settings: Settings, now: Optional[datetime] = None) -> int:
    """The periodic job (every minute is plenty). Returns how many cases it handled:
    - a request for a person nobody claimed within SAM_REQUEST_FALLBACK_MINUTES: the young person
      gets the helplines open now; a pure request is closed ('verlopen'), an escalation stays;
    - a chat taken over by a moderator whose session ended (or whose account was disabled) goes
      back to Sam, who says so: nobody may be left talking to a closed browser."""
    from bot import content
    from bot.helplines import helplines_text

    now = _now(now)
    stamp = _iso(now)
    cutoff = _iso(now - timedelta(minutes=settings.request_fallback_minutes))
    handled = 0
    cases.sync(db, stamp)
    due = db.execute(
        "SELECT c.id FROM cases c WHERE c.status = 'open' AND c.claimed_by IS NULL AND c.requested_at IS NOT NULL "
        "AND c.request_expired_at IS NULL AND c.requested_at < ?", [cutoff]).fetchall()
    for (case_id,) in due:
        with transaction(db):
            case = cases.get(db, case_id)
            if (case is None or case["status"] != "open" or case["claimed_by"] is not None
                    or case["request_expired_at"] is not None):
                continue  # claimed or closed meanwhile
            db.execute("UPDATE cases SET request_expired_at = ?, updated_at = ? WHERE id = ?", [stamp, stamp, case_id])
            if case["kind"] == "request":
                db.execute("UPDATE cases SET status = 'closed', outcome = 'verlopen', closed_at = ? WHERE id = ?",
                           [stamp, case_id])
            if case["conversation_id"] and case["channel"]:
                try:
                    category = escalations.open_category(db, case["conversation_id"]) or "general"
                    message = content.current().render(REQUEST_EXPIRED, helplines=helplines_text(category))
                    message = {"text": message["text"], "buttons": message["buttons"], "response": REQUEST_EXPIRED}
                except Exception:  # noqa: BLE001 - still close it; the fail-safe texts cover danger
                    logger.exception("text %s unavailable", REQUEST_EXPIRED)
                else:
                    outbox.add(db, case["channel"], case["conversation_id"], [message], origin="system", now=stamp)
            audit.record(db, None, "request_expired", case_id, case["pseudonym"], None, None, stamp)
        handled += 1
    live_since = _iso(now - timedelta(minutes=settings.dashboard_session_minutes))
    orphaned = db.execute(
        "SELECT c.id FROM cases c JOIN accounts a ON a.id = c.taken_over_by WHERE c.status = 'open' "
        "AND (a.enabled = 0 OR NOT EXISTS (SELECT 1 FROM dashboard_sessions s WHERE s.account_id = a.id "
        "AND s.last_seen_at >= ?))", [live_since]).fetchall()
    for (case_id,) in orphaned:
        try:
            if cases.hand_back(db, None, case_id, now=stamp, reason="sessie verlopen"):
                handled += 1
        except cases.CaseError:
            pass
    accounts.delete_expired_sessions(db, settings.dashboard_session_minutes, now)
    return handled


def run_expiry(settings: Settings, now: Optional[datetime] = None) -> int:
    """`expire_requests` on a connection of its own, for the runner's schedule (its job threads
    must not share the gateway's connection): `Runner._every(60, lambda: run_expiry(settings), ...)`."""
    db = open_db(settings.db_path)
    try:
        return expire_requests(db, settings, now)
    finally:
        db.conn.close()


def alert_moderators(db: Database, escalation_id: int, change: str, settings: Optional[Settings] = None) -> None:
    """Announces a new ('new') or more serious ('raised') escalation in the moderators' Telegram
    group: severity, category, the short code and the dashboard link; never a message. Never
    raises: the handover to the young person matters more."""
    try:
        settings = settings or load_settings()
        row = db.execute("SELECT conversation_id, category, severity FROM escalations WHERE id = ?",
                         [escalation_id]).fetchone()
        if row is None:
            return
        conversation_id, category, severity = row
        case_id = cases.ensure_for_escalation(db, escalation_id)
        if not settings.moderator_chat_id:
            return
        from bot.gateway import pseudonymiser_for  # the store's callers already run the gateway's code

        title = "Nieuwe melding" if change == "new" else "Melding is ernstiger geworden"
        link = f"{settings.dashboard_url}/cases/{case_id}" if case_id else f"{settings.dashboard_url}/queue"
        text = (f"{title}: {SEVERITY_LABELS.get(severity, severity)}\n"
                f"Soort: {CATEGORY_LABELS.get(category, category)}\n"
                f"Code: {cases.pseudonym(conversation_id)}\n{link}")
        outbox.add(db, "telegram", None, [{"text": text, "buttons": [], "response": None}], origin="system",
                   chat_ref=pseudonymiser_for(settings).encrypt(settings.moderator_chat_id))
    except Exception:  # noqa: BLE001
        logger.exception("could not alert the moderators about escalation %s", escalation_id)
