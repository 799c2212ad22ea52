"""What the page groups share: templates, one database connection per worker thread, the request
context handed to every page, Dutch labels and times."""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Optional
from zoneinfo import ZoneInfo

import jinja2
from sqlite_utils import Database
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.config import Settings
from bot.requests import CATEGORY_LABELS
from bot.store import accounts
from bot.store.db import open_db

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

ALL_ROLES = ("moderator", "admin", "editor")
STAFF = ("moderator", "admin")
ADMIN = ("admin",)

SEVERITY_LABELS = {"acute": "Acuut", "high": "Hoog", "concern": "Zorg"}
REQUEST_LABEL = "Vraagt om een mens"
OUTCOME_LABELS = {
    "doorverwezen": "Doorverwezen", "gesprek_gevoerd": "Gesprek gevoerd", "geen_zorg": "Geen zorg",
    "anders": "Anders", "verlopen": "Niemand kon het op tijd oppakken (hulplijnen gestuurd)",
    "gewist_door_jongere": "Gewist door de jongere", "bewaartermijn_verlopen": "Bewaartermijn verlopen",
    "gesloten": "Gesloten",
}
ACTION_LABELS = {
    "login": "Ingelogd", "login_failed": "Inloggen mislukt", "login_blocked": "Inloggen geblokkeerd (te vaak fout)",
    "logout": "Uitgelogd", "view": "Gesprek bekeken", "claim": "Opgepakt", "assign": "Toegewezen",
    "transfer": "Overgedragen", "note": "Notitie", "takeover": "Gesprek overgenomen",
    "handback": "Teruggegeven aan Sam",
    "reply": "Bericht gestuurd", "resolve": "Afgesloten", "on_duty": "In dienst", "off_duty": "Uit dienst",
    "request": "Jongere vraagt om een mens", "request_expired": "Verzoek verlopen, hulplijnen gestuurd",
    "account_added": "Account gemaakt", "account_disabled": "Account uitgezet", "account_enabled": "Account aangezet",
    "password_reset": "Wachtwoord opnieuw ingesteld", "password_changed": "Eigen wachtwoord veranderd",
    "audit_export": "Auditlog gedownload", "stats_export": "Statistieken gedownload",
}
ROLE_LABELS = {"moderator": "Moderator", "admin": "Beheerder", "editor": "Redacteur"}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=True,  # every value is escaped; youth messages are untrusted input
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_local = threading.local()


def database(path: Path) -> Database:
    """This worker thread's own connection (a connection is never shared between threads)."""
    dbs: Dict[str, Database] = getattr(_local, "dbs", None) or {}
    _local.dbs = dbs
    key = str(path)
    if key not in dbs:
        dbs[key] = open_db(path)
    return dbs[key]


def parse_time(value: Any) -> Optional[datetime]:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def make_filters(settings: Settings) -> Dict[str, Any]:
    tz = ZoneInfo(settings.timezone)

    def local(value: Any, fmt: str = "%d-%m %H:%M") -> str:
        moment = parse_time(value)
        return moment.astimezone(tz).strftime(fmt) if moment else ""

    def waiting(value: Any) -> str:
        moment = parse_time(value)
        if moment is None:
            return ""
        minutes = max(0, int((datetime.now(timezone.utc) - moment).total_seconds() // 60))
        if minutes < 60:
            return f"{minutes} min"
        if minutes < 24 * 60:
            return f"{minutes // 60} u {minutes % 60} min"
        return f"{minutes // (24 * 60)} d {minutes % (24 * 60) // 60} u"

    return {"local": local, "waiting": waiting}


@dataclass
class Ctx:
    """Everything a page needs: the request, the settings, this thread's database, the logged-in
    account (with its session) and the submitted form."""

    request: Request
    settings: Settings
    db: Database
    account: Optional[Dict[str, Any]] = None
    form: Any = field(default_factory=FormData)

    @property
    def role(self) -> Optional[str]:
        return self.account["role"] if self.account else None

    def value(self, name: str, default: str = "") -> str:
        value = self.form.get(name, default)
        return value if isinstance(value, str) else default

    def flash(self, text: str) -> None:
        if self.account:
            accounts.set_flash(self.db, self.account["session_id"], text)

    def redirect(self, url: str, flash: Optional[str] = None) -> Response:
        if flash:
            self.flash(flash)
        return RedirectResponse(url, status_code=303)

    def render(self, template: str, status: int = 200, fragment: bool = False, **context: Any) -> HTMLResponse:
        base: Dict[str, Any] = {
            "account": self.account, "role": self.role, "request_path": self.request.url.path,
            "csrf_token": self.account["session_csrf"] if self.account else context.pop("login_csrf", ""),
            "new_request_id": lambda: secrets.token_urlsafe(16),
            "severity_labels": SEVERITY_LABELS, "category_labels": CATEGORY_LABELS, "request_label": REQUEST_LABEL,
            "outcome_labels": OUTCOME_LABELS, "action_labels": ACTION_LABELS, "role_labels": ROLE_LABELS,
            "flash": None, "pause_hint": False, "error": None,
            **make_filters(self.settings),
        }
        if self.account and not fragment:
            base["flash"] = self.account.get("session_flash")
            base["pause_hint"] = bool(self.account.get("session_pause_hint"))
            if base["flash"]:
                accounts.set_flash(self.db, self.account["session_id"], None)
        base.update(context)
        return HTMLResponse(_env.get_template(template).render(**base), status_code=status)
