"""The moderators' dashboard: accounts, sessions, CSRF, security headers, the rate limit, every
route without a session and with the wrong role, escaping of youth messages, the append-only
audit log. Starlette's TestClient; no Rasa, no servers.

The helpers at the top are shared by the other tests/test_dashboard_*.py files."""
from __future__ import annotations

import io
import json
import logging
import re
import sqlite3
from datetime import datetime, timedelta, timezone
from html import unescape
from html.parser import HTMLParser
from typing import Dict, Optional

import pytest
from argon2 import PasswordHasher
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from bot import content
from bot.config import CONTENT_DIR, load_settings
from bot.dashboard import auth
from bot.dashboard.app import create_app, first_account_hint
from bot.store import accounts, audit, cases, conversations, escalations
from bot.store.db import open_db

PASSWORD = "een-lang-wachtwoord-123"
ROLE_ACCOUNTS = {"moderator": "mila", "admin": "anouk", "editor": "eddie"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- shared helpers ------------------------------------------------------------------------------
def fast_hashing(monkeypatch):
    """argon2 with small costs: the same code path, a fraction of the time."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(accounts, "_dummy", [])


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch):
    fast_hashing(monkeypatch)


_CONTENT = []


@pytest.fixture(autouse=True)
def quick_content(monkeypatch):
    """The real content/ files, read without the checks (which import spaCy; tests/test_content*.py
    run them)."""
    if not _CONTENT:
        _CONTENT.append(content._read(CONTENT_DIR))
    monkeypatch.setattr(content, "current", lambda root=None: _CONTENT[0])


@pytest.fixture
def settings(data_dir):
    return load_settings()


@pytest.fixture
def store(settings):
    return open_db(settings.db_path)


@pytest.fixture
def app(settings):
    return create_app(settings, warm_up=False)


def make_account(store, name: str, role: str = "moderator", password: str = PASSWORD) -> Dict:
    accounts.add(store, name, password, role)
    return accounts.get_by_name(store, name)


def client_for(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


def login(client: TestClient, name: str, password: str = PASSWORD):
    # The login page sends a logged-in browser on: the form is fetched without the session cookie.
    saved = [c for c in client.cookies.jar if c.name == auth.SESSION_COOKIE]
    for cookie in saved:
        client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)
    token = _CSRF.search(client.get("/login").text).group(1)
    for cookie in saved:
        client.cookies.jar.set_cookie(cookie)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


def logged_in(app, store, name: str = "mila", role: str = "moderator") -> TestClient:
    if accounts.get_by_name(store, name) is None:
        make_account(store, name, role)
    client = client_for(app)
    response = login(client, name)
    assert response.status_code == 303, response.text
    return client


def csrf(client: TestClient) -> str:
    return _CSRF.search(client.get("/account").text).group(1)


def post(client: TestClient, url: str, data: Optional[Dict] = None, token: Optional[str] = None):
    return client.post(url, data={"csrf_token": token or csrf(client), **(data or {})})


def conversation(store, conversation_id: str = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", channel: str = "telegram") -> str:
    conversations.touch(store, conversation_id, channel, "versleuteld")
    return conversation_id


def escalate(store, conversation_id: str, severity: str = "high", category: str = "grooming",
             matched=("geheimpje",), text: str = "hij wil dat ik het geheim hou") -> int:
    """An escalation as the action server records it; returns its case id."""
    escalation_id = escalations.record_trigger(store, conversation_id, category, severity, list(matched), 0.9,
                                               "lexicon", [{"from": "jongere", "text": text}])
    return cases.ensure_for_escalation(store, escalation_id)


# --- the store: accounts and the audit log --------------------------------------------------------
def test_passwords_are_hashed_with_argon2id(store, monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher())  # the real costs, once
    make_account(store, "mila")
    stored = store.execute("SELECT password_hash FROM accounts").fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert accounts.authenticate(store, "mila", PASSWORD)["name"] == "mila"
    monkeypatch.undo()
    fast_hashing(monkeypatch)
    assert accounts.authenticate(store, "MILA", PASSWORD)["name"] == "mila"  # names ignore case
    assert accounts.authenticate(store, "mila", "fout-wachtwoord-123") is None
    assert accounts.authenticate(store, "niemand", PASSWORD) is None


@pytest.mark.parametrize("name, password, role", [("mila", "kort", "moderator"), ("", PASSWORD, "moderator"),
                                                  ("mila zonder spatie", PASSWORD, "moderator"),
                                                  ("mila", PASSWORD, "baas")])
def test_account_rules(store, name, password, role):
    with pytest.raises(accounts.AccountError):
        accounts.add(store, name, password, role)


def test_a_name_is_taken_once(store):
    make_account(store, "mila")
    with pytest.raises(accounts.AccountError):
        make_account(store, "Mila")


def test_the_audit_log_is_append_only_in_the_database(store):
    audit.record(store, None, "view", 1, "ABC123")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.execute("UPDATE audit_log SET action = 'iets anders'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.execute("DELETE FROM audit_log")
    assert store.execute("SELECT action FROM audit_log").fetchall() == [("view",)]


def test_a_request_id_counts_once(store):
    audit.record(store, None, "note", 1, "ABC123", request_id="r1")
    with pytest.raises(audit.AlreadyDone):
        audit.record(store, None, "note", 1, "ABC123", request_id="r1")
    assert audit.seen(store, "r1") and not audit.seen(store, "r2")


# --- the command line ---------------------------------------------------------------------------
def run_cli(monkeypatch, capsys, *argv: str, stdin: str = ""):
    from bot.__main__ import main

    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit) as done:
        main(["moderators", *argv])
    return done.value.code, capsys.readouterr()


def test_moderators_command_line(settings, monkeypatch, capsys):
    code, out = run_cli(monkeypatch, capsys, "add", "anouk", "--role", "admin", stdin=PASSWORD + "\n")
    assert code == 0 and "anouk" in out.out and PASSWORD not in out.out + out.err
    db = open_db(settings.db_path)
    assert accounts.authenticate(db, "anouk", PASSWORD)["role"] == "admin"
    code, out = run_cli(monkeypatch, capsys, "add", "anouk", stdin=PASSWORD + "\n")
    assert code == 1 and "al een account" in out.err
    code, out = run_cli(monkeypatch, capsys, "add", "kees", stdin="kort\n")
    assert code == 1 and accounts.get_by_name(db, "kees") is None
    code, out = run_cli(monkeypatch, capsys, "list")
    assert code == 0 and "anouk" in out.out and "admin" in out.out
    code, _ = run_cli(monkeypatch, capsys, "reset-password", "anouk", stdin="nog-een-lang-wachtwoord\n")
    assert code == 0 and accounts.authenticate(db, "anouk", "nog-een-lang-wachtwoord")
    code, _ = run_cli(monkeypatch, capsys, "disable", "anouk")
    assert code == 0 and accounts.authenticate(db, "anouk", "nog-een-lang-wachtwoord") is None
    code, _ = run_cli(monkeypatch, capsys, "enable", "anouk")
    assert code == 0 and accounts.get_by_name(db, "anouk")["enabled"] == 1
    actions = [row[0] for row in db.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["account_added", "password_reset", "account_disabled", "account_enabled"]


def test_make_run_says_how_to_make_the_first_account(settings, store):
    assert "moderators add" in first_account_hint(settings)
    make_account(store, "anouk", "admin")
    assert first_account_hint(settings) is None


# --- login, sessions, cookies ---------------------------------------------------------------------
def test_login_sets_a_strict_http_only_session_cookie(app, store):
    make_account(store, "mila")
    client = client_for(app)
    response = login(client, "mila")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = [h for h in response.headers.get_list("set-cookie") if h.startswith(auth.SESSION_COOKIE)][0]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    # only a hash of the session id is stored
    token = client.cookies.get(auth.SESSION_COOKIE)
    assert token and store.execute("SELECT COUNT(*) FROM dashboard_sessions WHERE id_hash = ?",
                                   [token]).fetchone()[0] == 0
    assert client.get("/queue").status_code == 200


def test_cookies_are_secure_over_https(data_dir, monkeypatch):
    monkeypatch.setenv("DASHBOARD_URL", "https://sam.example.nl")
    settings = load_settings()
    app = create_app(settings, warm_up=False)
    make_account(open_db(settings.db_path), "mila")
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    response = login(client, "mila")
    cookie = [h for h in response.headers.get_list("set-cookie") if h.startswith(auth.SESSION_COOKIE)][0]
    assert "Secure" in cookie
    assert "max-age" in client.get("/login").headers["strict-transport-security"]


def test_the_session_id_changes_at_login_and_logout_ends_it_on_the_server(app, store):
    client = logged_in(app, store)
    first = client.cookies.get(auth.SESSION_COOKIE)
    assert login(client, "mila").status_code == 303
    second = client.cookies.get(auth.SESSION_COOKIE)
    assert second != first
    stolen = client_for(app)
    stolen.cookies.set(auth.SESSION_COOKIE, first)
    assert stolen.get("/queue").status_code == 303  # the old id is dead
    stolen = client_for(app)
    stolen.cookies.set(auth.SESSION_COOKIE, second)
    assert stolen.get("/queue").status_code == 200
    assert post(client, "/logout").status_code == 303
    assert store.execute("SELECT COUNT(*) FROM dashboard_sessions").fetchone()[0] == 0
    assert stolen.get("/queue").status_code == 303  # a copy of the cookie is worthless now
    assert [r[0] for r in store.execute("SELECT action FROM audit_log ORDER BY id")].count("logout") == 1


def test_a_session_expires_after_inactivity(app, store, settings):
    client = logged_in(app, store)
    assert client.get("/queue").status_code == 200
    stale = (datetime.now(timezone.utc) - timedelta(minutes=settings.dashboard_session_minutes + 1)).isoformat()
    store.execute("UPDATE dashboard_sessions SET last_seen_at = ?", [stale])
    response = client.get("/queue")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert store.execute("SELECT COUNT(*) FROM dashboard_sessions").fetchone()[0] == 0


def test_a_disabled_account_is_out_at_once(app, store):
    client = logged_in(app, store)
    accounts.set_enabled(store, "mila", False)
    assert client.get("/queue").status_code == 303
    assert login(client_for(app), "mila").status_code == 401


def test_a_failed_login_is_logged_without_the_password(app, store, caplog):
    make_account(store, "mila")
    caplog.set_level(logging.WARNING)
    response = login(client_for(app), "mila", "geheim-fout-wachtwoord")
    assert response.status_code == 401 and "klopt niet" in response.text
    assert "mila" in caplog.text and "geheim-fout-wachtwoord" not in caplog.text
    # a password typed into the name field is not stored either
    login(client_for(app), "geheim-in-naamveld", PASSWORD)
    dump = "\n".join(open_db(store.conn.execute("PRAGMA database_list").fetchone()[2]).conn.iterdump())
    assert "geheim-fout-wachtwoord" not in dump and "geheim-in-naamveld" not in dump
    assert "geheim-in-naamveld" not in caplog.text
    rows = [json.loads(r[0]) for r in store.execute("SELECT detail FROM audit_log WHERE action = 'login_failed'")]
    assert rows[0]["account"] == "mila" and rows[1]["account"] == "(onbekende naam)"


def test_the_login_form_needs_its_csrf_token(app, store):
    make_account(store, "mila")
    client = client_for(app)
    client.get("/login")
    response = client.post("/login", data={"name": "mila", "password": PASSWORD, "csrf_token": "verzonnen"})
    assert response.status_code == 403 and auth.SESSION_COOKIE not in client.cookies
    fresh = client_for(app)  # no cookie at all: a cross-site form post
    assert fresh.post("/login", data={"name": "mila", "password": PASSWORD}).status_code == 403


def test_logins_are_rate_limited_per_account(app, store):
    make_account(store, "mila")
    for _ in range(auth.MAX_FAILURES_PER_ACCOUNT):
        assert login(client_for(app), "mila", "fout-wachtwoord-123").status_code == 401
    blocked = login(client_for(app), "mila")  # even the right password waits now
    assert blocked.status_code == 429 and auth.SESSION_COOKIE not in blocked.headers.get("set-cookie", "")
    assert store.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'login_blocked'").fetchone()[0] == 1
    store.execute("UPDATE login_failures SET at = ?",
                  [(datetime.now(timezone.utc) - timedelta(minutes=auth.FAILURE_WINDOW_MINUTES + 1)).isoformat()])
    assert login(client_for(app), "mila").status_code == 303  # after the window


def test_logins_are_rate_limited_per_address(app, store):
    make_account(store, "mila")
    for n in range(auth.MAX_FAILURES_PER_ADDRESS):
        login(client_for(app), f"naam{n}", "fout-wachtwoord-123")
    assert login(client_for(app), "mila").status_code == 429


def test_a_successful_login_goes_back_to_the_page_asked_for_but_never_elsewhere(app, store):
    make_account(store, "mila")
    client = client_for(app)
    assert client.get("/admin/stats").headers["location"] == "/login?next=/admin/stats"
    for target, expected in (("/queue", "/queue"), ("//evil.example", "/"), ("https://evil.example", "/")):
        client = client_for(app)
        token = _CSRF.search(client.get("/login").text).group(1)
        response = client.post("/login", data={"name": "mila", "password": PASSWORD, "csrf_token": token,
                                               "next": target})
        assert response.headers["location"] == expected


def test_a_moderator_changes_their_own_password(app, store):
    client = logged_in(app, store)
    response = post(client, "/account/password", {"current_password": "fout", "new_password": "x" * 12,
                                                  "new_password_repeat": "x" * 12})
    assert response.status_code == 400
    response = post(client, "/account/password", {"current_password": PASSWORD, "new_password": "nieuw-wachtwoord-1",
                                                  "new_password_repeat": "nieuw-wachtwoord-1"})
    assert response.status_code == 303 and client.get("/account").status_code == 200
    assert accounts.authenticate(store, "mila", "nieuw-wachtwoord-1")


# --- every route ---------------------------------------------------------------------------------
def app_routes(app):
    """(method, path, roles) for every route of the app, with path parameters filled in."""
    found = []
    for route in app.routes:
        if isinstance(route, Mount) or route.path == "/login":
            continue
        assert isinstance(route, Route) and hasattr(route, "roles"), f"{route.path} is not made with auth.route()"
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, route.path, route.roles))
    return found


def fill(path: str, case_id: int) -> str:
    return path.replace("{case_id:int}", str(case_id)).replace("{name}", "eddie")


@pytest.fixture
def every_role(app, store):
    clients = {role: logged_in(app, store, name, role) for role, name in ROLE_ACCOUNTS.items()}
    case_id = escalate(store, conversation(store), "acute", "selfharm")
    return clients, case_id


def test_the_app_has_the_routes_the_issue_asks_for(app):
    paths = {path for _, path, _ in app_routes(app)}
    assert {"/queue", "/queue/rows", "/queue/next", "/duty", "/cases/{case_id:int}", "/cases/{case_id:int}/claim",
            "/cases/{case_id:int}/reply", "/cases/{case_id:int}/takeover", "/cases/{case_id:int}/handback",
            "/cases/{case_id:int}/transfer", "/cases/{case_id:int}/note", "/cases/{case_id:int}/resolve",
            "/cases/{case_id:int}/assign", "/admin/accounts", "/admin/audit", "/admin/audit.csv", "/admin/stats",
            "/admin/stats.csv", "/logout"} <= paths


def test_every_route_needs_a_session(app, every_role):
    _, case_id = every_role
    anonymous = client_for(app)
    for method, path, _ in app_routes(app):
        response = anonymous.request(method, fill(path, case_id), data={"csrf_token": "x"})
        assert response.status_code in (303, 401), (method, path, response.status_code)
        if response.status_code == 303:
            assert response.headers["location"].startswith("/login"), (method, path)
        assert "ABC" not in response.text and "selfharm" not in response.text.lower(), (method, path)


def test_every_route_refuses_the_wrong_role(app, every_role, store):
    clients, case_id = every_role
    before = store.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
    checked = 0
    for method, path, roles in app_routes(app):
        for role, client in clients.items():
            if role in roles:
                continue
            response = client.request(method, fill(path, case_id), data={"csrf_token": csrf(client)})
            assert response.status_code == 403, (role, method, path, response.status_code)
            checked += 1
    assert checked > 20
    assert store.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] == before  # nothing happened
    assert cases.get(store, case_id)["claimed_by"] is None


def test_every_post_needs_the_sessions_csrf_token(app, every_role, store):
    clients, case_id = every_role
    before = store.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
    for method, path, roles in app_routes(app):
        if method != "POST":
            continue
        client = clients["admin" if "admin" in roles else roles[0]]
        other = clients["moderator"] if client is not clients["moderator"] else clients["admin"]
        for data in ({}, {"csrf_token": "verzonnen"}, {"csrf_token": csrf(other)}):
            response = client.post(fill(path, case_id), data=data)
            assert response.status_code == 403, (path, data, response.status_code)
    assert store.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] == before
    assert store.execute("SELECT COUNT(*) FROM dashboard_sessions").fetchone()[0] == 3  # logout needed a token too


def test_the_csrf_token_may_come_in_a_header(app, store):
    client = logged_in(app, store)
    token = csrf(client)
    response = client.post("/duty", data={"on_duty": "1"}, headers={"X-CSRF-Token": token})
    assert response.status_code == 303 and accounts.get_by_name(store, "mila")["on_duty"] == 1


def test_only_login_and_static_files_are_public(app):
    anonymous = client_for(app)
    assert anonymous.get("/login").status_code == 200
    assert anonymous.get("/static/dashboard.js").status_code == 200
    assert anonymous.get("/static/dashboard.css").status_code == 200
    assert anonymous.get("/").status_code == 303
    assert anonymous.get("/bestaat-niet").status_code == 404


# --- headers, no inline script, escaping --------------------------------------------------------
def test_security_headers_on_every_kind_of_response(app, store):
    client = logged_in(app, store)
    for response in (client.get("/queue"), client.get("/queue/rows"), client.get("/static/dashboard.js"),
                     client_for(app).get("/login"), client.get("/bestaat-niet"), client_for(app).get("/queue")):
        headers = response.headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
    assert client.get("/queue").headers["cache-control"] == "no-store"


class _Tags(HTMLParser):
    """Every real tag and attribute of a page (escaped text is not a tag)."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"{tag} {name}=")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.problems.append(f"{tag} {name}=javascript:")


def assert_no_inline_code(html: str, where: str) -> None:
    parser = _Tags()
    parser.feed(html)
    assert not parser.problems, (where, parser.problems)


PAYLOADS = ['<script>alert("xss")</script>', '<img src=x onerror=alert(1)>', 'javascript:alert(1)',
            '"><a href="javascript:alert(1)">klik</a>', "<b>vet</b> & 'quotes'"]


def test_youth_messages_are_escaped_everywhere(app, store, settings):
    client = logged_in(app, store, "anouk", "admin")
    conversation_id = conversation(store)
    case_id = escalate(store, conversation_id, "acute", "selfharm", matched=[PAYLOADS[1]], text=PAYLOADS[0])
    from tests.test_retention import add_event, make_tracker_db

    tracker = make_tracker_db(settings.tracker_db_path)
    for payload in PAYLOADS:
        add_event(tracker, conversation_id, datetime.now(timezone.utc), "user", payload)
    store.execute("INSERT INTO inbox (channel, update_key, conversation_id, kind, text, status, failsafe_sent, "
                  "attempts, received_at, held) VALUES ('telegram', 'u1', ?, 'text', ?, 'done', 0, 0, ?, 1)",
                  [conversation_id, PAYLOADS[3], datetime.now(timezone.utc).isoformat()])
    post(client, f"/cases/{case_id}/note", {"text": PAYLOADS[2]})
    pages = {path: client.get(path).text for path in
             ("/queue", "/queue/rows", f"/cases/{case_id}", f"/cases/{case_id}/transcript", "/admin/audit")}
    for path, html in pages.items():
        assert_no_inline_code(html, path)
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>vet</b>" not in html, path
    case_page = pages[f"/cases/{case_id}"]
    for payload in PAYLOADS:
        assert payload in unescape(case_page), payload  # shown, as text
    assert "&lt;script&gt;" in case_page and 'href="javascript:' not in case_page


def test_no_page_has_inline_script_or_style(app, store):
    client = logged_in(app, store, "anouk", "admin")
    case_id = escalate(store, conversation(store))
    for path in ("/queue", f"/cases/{case_id}", "/admin/accounts", "/admin/audit", "/admin/stats", "/account"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_inline_code(response.text, path)
    assert_no_inline_code(client_for(app).get("/login").text, "/login")


# --- settings and content the dashboard adds ------------------------------------------------------
def test_every_dashboard_setting_is_in_env_example():
    from tests.test_repo import settings_in_code, settings_in_env_example

    ours = {"DASHBOARD_HOST", "DASHBOARD_PORT", "DASHBOARD_URL", "DASHBOARD_SESSION_MINUTES",
            "DASHBOARD_MAX_TAKEOVERS", "SAM_REQUEST_FALLBACK_MINUTES", "MODERATOR_CHAT_ID"}
    assert ours <= settings_in_code() and ours <= settings_in_env_example()


def test_the_new_texts_pass_the_content_checks():
    from bot.content_rules import CODE_RESPONSES, HELPLINE_RESPONSES, problems

    loaded = _CONTENT[0] if _CONTENT else content._read(CONTENT_DIR)
    names = {"utter_request_taken", "utter_nobody_on_duty", "utter_moderator_joined", "utter_moderator_left",
             "utter_request_expired"}
    assert names <= set(CODE_RESPONSES) and names <= set(loaded.responses)
    assert {"utter_nobody_on_duty", "utter_request_expired"} <= set(HELPLINE_RESPONSES)
    assert [p for p in problems(loaded) if "moderation.yml" in p or any(name in p for name in names)] == []
    for name in names:  # short sentences for young people (B1): never more than 20 words
        for sentence in re.split(r"[.!?\n]+", loaded.response(name)["text"]):
            assert len(sentence.split()) <= 20, (name, sentence)


def test_live_updates_do_not_keep_an_unattended_session_alive(app, store, settings):
    client = logged_in(app, store)
    old = (datetime.now(timezone.utc) - timedelta(minutes=settings.dashboard_session_minutes - 1)).isoformat()
    store.execute("UPDATE dashboard_sessions SET last_seen_at = ?", [old])
    assert client.get("/queue/rows").status_code == 200
    assert store.execute("SELECT last_seen_at FROM dashboard_sessions").fetchone()[0] == old
    assert client.get("/queue").status_code == 200  # a person's request does
    assert store.execute("SELECT last_seen_at FROM dashboard_sessions").fetchone()[0] != old
