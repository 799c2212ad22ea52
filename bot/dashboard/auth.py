"""Logging in and out, the guard around every page, CSRF and the security headers.

- Every route is made with `route()`: it needs a live session of an enabled account with one of
  the route's roles; a POST also needs the session's CSRF token (form field `csrf_token`, or the
  `X-CSRF-Token` header). Only /login and /static/ are public.
- Sessions live in SQLite (bot/store/accounts.py): a new id at every login, gone at logout, ended
  after DASHBOARD_SESSION_MINUTES without a request. The cookie is HttpOnly, SameSite=Strict and
  Secure when the dashboard is served over HTTPS.
- CSRF: a synchronizer token per session, stored server-side with the session and compared in
  constant time. The login form (no session yet) uses a double-submit cookie (SameSite=Strict).
- Failed logins are counted per account name and per address (hashed); past the limit a login is
  refused for a while without checking the password. Failures are logged without the password.
"""
from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any, Callable, Iterable, Optional, Sequence
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.dashboard.web import ALL_ROLES, Ctx, database
from bot.store import accounts, audit, cases

logger = logging.getLogger(__name__)

SESSION_COOKIE = "sam_session"
LOGIN_CSRF_COOKIE = "sam_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW_MINUTES = 15
MAX_BODY_BYTES = 64 * 1024  # the largest form (a reply, a note) is a few kilobytes

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeaders:
    """Adds the security headers to every response (pages, fragments, static files, errors);
    pages are never cached (they show conversations of minors)."""

    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    headers[key] = value
                if not scope["path"].startswith("/static/"):
                    headers["Cache-Control"] = "no-store"
                if self.https or scope.get("scheme") == "https":
                    headers["Strict-Transport-Security"] = "max-age=31536000"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.app.state.settings.dashboard_url.startswith("https://")


def set_cookie(response: Response, request: Request, name: str, value: str, path: str = "/") -> None:
    response.set_cookie(name, value, httponly=True, samesite="strict", secure=is_https(request), path=path)


def _address(request: Request) -> str:
    return request.client.host if request.client else "onbekend"


async def _read_form(request: Request) -> Any:
    if request.method != "POST":
        return FormData()
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
        return None
    return await request.form(max_files=0, max_fields=50)


def route(path: str, handler: Callable[..., Response], roles: Sequence[str], methods: Iterable[str] = ("GET",),
          fragment: bool = False) -> Route:
    """A page that needs a logged-in, enabled account with one of `roles`. `handler(ctx, **path
    params)` runs in a worker thread with that thread's database connection."""

    async def endpoint(request: Request) -> Response:
        form = await _read_form(request)
        if form is None:
            return PlainTextResponse("Te groot.", status_code=413)
        return await run_in_threadpool(_guarded, request, form, handler, tuple(roles), fragment)

    made = Route(path, endpoint, methods=list(methods))
    made.roles = tuple(roles)  # type: ignore[attr-defined] - read by the route-walking test
    return made


def _guarded(request: Request, form: Any, handler: Callable[..., Response], roles: Sequence[str],
             fragment: bool) -> Response:
    settings = request.app.state.settings
    ctx = Ctx(request, settings, database(settings.db_path), None, form)
    token = request.cookies.get(SESSION_COOKIE)
    # A page's live updates (fragments) do not keep a session alive: only a person's requests do.
    account = accounts.session(ctx.db, token, settings.dashboard_session_minutes, touch=not fragment)
    if account is None:
        if fragment:
            response: Response = PlainTextResponse("Niet ingelogd.", status_code=401)
        else:
            target = "/login"
            if request.method == "GET" and request.url.path != "/":
                target += "?next=" + quote(request.url.path, safe="/")
            response = RedirectResponse(target, status_code=303)
        if token:
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    ctx.account = account
    if account["role"] not in roles:
        return ctx.render("error.html", status=403, message="Je hebt geen toegang tot deze pagina.")
    if request.method == "POST":
        sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), account["session_csrf"].encode()):
            return ctx.render("error.html", status=403,
                              message="Dit formulier is verlopen. Laad de pagina opnieuw en probeer het nog eens.")
    return handler(ctx, **request.path_params)


# --- login and logout --------------------------------------------------------------------------
def _safe_next(value: Optional[str]) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _login_page(ctx: Ctx, status: int = 200, error: Optional[str] = None, name: str = "") -> Response:
    token = secrets.token_urlsafe(32)
    response = ctx.render("login.html", status=status, error=error, name=name, login_csrf=token,
                          next=_safe_next(ctx.request.query_params.get("next") or ctx.value("next")))
    set_cookie(response, ctx.request, LOGIN_CSRF_COOKIE, token, path="/login")
    return response


async def login(request: Request) -> Response:
    form = await _read_form(request)
    if form is None:
        return PlainTextResponse("Te groot.", status_code=413)
    return await run_in_threadpool(_login, request, form)


def _login(request: Request, form: Any) -> Response:
    settings = request.app.state.settings
    ctx = Ctx(request, settings, database(settings.db_path), None, form)
    if request.method != "POST":
        if accounts.session(ctx.db, request.cookies.get(SESSION_COOKIE), settings.dashboard_session_minutes):
            return RedirectResponse("/", status_code=303)
        return _login_page(ctx)
    cookie, sent = request.cookies.get(LOGIN_CSRF_COOKIE) or "", ctx.value(CSRF_FIELD)
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        return _login_page(ctx, 403, "Het inlogformulier is verlopen. Probeer het nog eens.")
    name, password, address = ctx.value("name").strip()[:64], ctx.value("password"), _address(request)
    known = accounts.get_by_name(ctx.db, name) if name else None
    shown_name = known["name"] if known else "(onbekende naam)"  # a password typed as name is never stored
    failures = accounts.failures(ctx.db, name, address, FAILURE_WINDOW_MINUTES)
    if failures["account"] >= MAX_FAILURES_PER_ACCOUNT or failures["address"] >= MAX_FAILURES_PER_ADDRESS:
        logger.warning("login refused for %s from %s: too many failures", shown_name, address)
        audit.record(ctx.db, None, "login_blocked", detail={"account": shown_name, "address": address})
        return _login_page(ctx, 429, f"Te veel mislukte pogingen. Wacht {FAILURE_WINDOW_MINUTES} minuten en "
                                     f"probeer het dan opnieuw.", name)
    account = accounts.authenticate(ctx.db, name, password)
    if account is None:
        accounts.record_failure(ctx.db, name, address)
        logger.warning("login failed for %s from %s", shown_name, address)
        audit.record(ctx.db, None, "login_failed", detail={"account": shown_name, "address": address})
        return _login_page(ctx, 401, "Naam of wachtwoord klopt niet.", name)
    accounts.clear_failures(ctx.db, name)
    accounts.end_session(ctx.db, request.cookies.get(SESSION_COOKIE))  # never reuse a session id
    token = accounts.new_session(ctx.db, account["id"])
    audit.record(ctx.db, account, "login", detail={"address": address})
    response = RedirectResponse(_safe_next(ctx.value("next")), status_code=303)
    set_cookie(response, request, SESSION_COOKIE, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def logout(ctx: Ctx) -> Response:
    """Ends this session on the server. The last session of an account also ends its duty and
    gives its taken-over chats back to Sam: nobody is left talking to a closed browser."""
    account = ctx.account
    accounts.end_session(ctx.db, ctx.request.cookies.get(SESSION_COOKIE))
    if not accounts.live_sessions(ctx.db, account["id"], ctx.settings.dashboard_session_minutes):
        for (case_id,) in ctx.db.execute("SELECT id FROM cases WHERE status = 'open' AND taken_over_by = ?",
                                         [account["id"]]).fetchall():
            cases.hand_back(ctx.db, account, case_id, reason="uitgelogd")
        if accounts.set_on_duty(ctx.db, account["id"], False):
            audit.record(ctx.db, account, "off_duty")
    audit.record(ctx.db, account, "logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def home(ctx: Ctx) -> Response:
    if ctx.role in ("moderator", "admin"):
        return ctx.redirect("/queue")
    return ctx.render("home.html")


def account_page(ctx: Ctx) -> Response:
    return ctx.render("account.html")


def change_password(ctx: Ctx) -> Response:
    account = ctx.account
    if accounts.authenticate(ctx.db, account["name"], ctx.value("current_password")) is None:
        return ctx.render("account.html", status=400, error="Je huidige wachtwoord klopt niet.")
    new = ctx.value("new_password")
    if new != ctx.value("new_password_repeat"):
        return ctx.render("account.html", status=400, error="De twee nieuwe wachtwoorden zijn niet gelijk.")
    try:
        accounts.set_password(ctx.db, account["name"], new)
    except accounts.AccountError as error:
        return ctx.render("account.html", status=400, error=str(error))
    audit.record(ctx.db, account, "password_changed")
    # Every session ended with the new password; this one starts again with a new id.
    token = accounts.new_session(ctx.db, account["id"])
    accounts.set_flash(ctx.db, accounts.session(ctx.db, token, ctx.settings.dashboard_session_minutes)["session_id"],
                       "Je wachtwoord is veranderd.")
    response = RedirectResponse("/account", status_code=303)
    set_cookie(response, ctx.request, SESSION_COOKIE, token)
    return response


def routes() -> list:
    return [
        Route("/login", login, methods=["GET", "POST"]),
        route("/logout", logout, ALL_ROLES, methods=["POST"]),
        route("/", home, ALL_ROLES),
        route("/account", account_page, ALL_ROLES),
        route("/account/password", change_password, ALL_ROLES, methods=["POST"]),
    ]
