"""Browser tests: the moderators' dashboard served by uvicorn on a free local port, with its own
data folder, driven by Debian's Chromium through Playwright (sync API).

Playwright never downloads a browser here: it starts /usr/bin/chromium (scripts/setup-venv.sh
installs it with apt-get when missing). Without Chromium or Playwright every browser test is
skipped with the reason. Nothing leaves this machine: the dashboard listens on 127.0.0.1 and
Chromium runs with its background networking off.

What the young person writes is seeded the way the real processes write it (gateway: conversation
and inbox; action server: escalation), through separate SQLite connections, as another process.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

CHROMIUM = Path(os.environ.get("SAM_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium's own connections are refused by this closed
# network (and it would try to reach the internet). Every launch also gets a fresh, temporary
# --user-data-dir from Playwright (which refuses one among the args), and a fresh HOME from us.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PASSWORD = "lang-genoeg-wachtwoord-42"  # at least 12 characters (bot/store/accounts.py)
MODERATOR = "mod_anna"
SECOND_MODERATOR = "mod_bram"
ADMIN = "admin_chris"
STEP_TIMEOUT_MS = 10_000  # at most, for a click, a fill, a navigation (a busy CI machine)
LIVE_TIMEOUT_MS = 15_000  # at most, until a change another process made shows up without reload

LOGIN_URL = re.compile(r"/login(\?.*)?$")
# The page's script polls for live updates every POLL_SECONDS (bot/dashboard/queue.py, conversation.py).
# The tests shorten that to the least the script allows (2 s), so awaiting an update stays short;
# what is tested (the page changes without a reload) is the same.
POLL_SECONDS = 2
POLLING_MODULES = ("bot.dashboard.queue", "bot.dashboard.conversation")
ENV_KEYS = ("SAM_DATA_DIR", "DASHBOARD_HOST", "DASHBOARD_PORT", "DASHBOARD_URL", "MODERATOR_CHAT_ID")


def skip_reason() -> Optional[str]:
    """Why the browser tests cannot run here, or None."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"Debian's Chromium is not installed ({CHROMIUM}); scripts/setup-venv.sh installs it with apt-get"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed in .venv (pip install -r requirements.lock)"
    return None


# --- the dashboard server ------------------------------------------------------------------------
@dataclass
class Case:
    conversation_id: str
    escalation_id: int
    case_id: int
    pseudonym: str
    channel: str = "telegram"


class Dashboard:
    """The running dashboard: its address, settings and a way to write like another process."""

    def __init__(self, settings: Any, url: str) -> None:
        from cryptography.fernet import Fernet

        from bot.store.conversations import Pseudonymiser

        self.settings = settings
        self.url = url
        self.app: Any = None  # the Starlette app, for walking its routes
        # Conversation ids and chat references made the way the gateway makes them (HMAC; Fernet).
        self.pseudonyms = Pseudonymiser(secrets.token_bytes(32), Fernet.generate_key())
        self._update = 1000

    def db(self):
        """A new SQLite connection, as another process (the gateway, the action server) has."""
        from bot.store.db import open_db

        return open_db(self.settings.db_path)

    def query(self, sql: str, params: Optional[list] = None) -> List[Dict[str, Any]]:
        db = self.db()
        try:
            return list(db.query(sql, params or []))
        finally:
            db.conn.close()

    # What the young person's side writes ---------------------------------------------------------
    def new_conversation(self, channel: str = "telegram") -> str:
        from bot.store import conversations

        chat_key = str(secrets.randbelow(10**9) + 10**9)
        conversation_id = self.pseudonyms.conversation_id(channel, chat_key)
        db = self.db()
        try:
            conversations.touch(db, conversation_id, channel, self.pseudonyms.encrypt(chat_key))
        finally:
            db.conn.close()
        return conversation_id

    def young_message(self, conversation_id: str, text: str, held: bool = False,
                      replies: Optional[List[Dict[str, Any]]] = None, channel: str = "telegram") -> int:
        """A message stored by the gateway and answered (or held for the moderator who took over):
        inbox.receive, then inbox.complete in one go, as bot/gateway.py does."""
        from bot.store import conversations, inbox

        self._update += 1
        db = self.db()
        try:
            chat_ref = conversations.chat_ref(db, conversation_id)
            conversations.touch(db, conversation_id, channel, chat_ref or "")
            inbox_id = inbox.receive(db, channel, f"u{self._update}-{secrets.token_hex(4)}", conversation_id,
                                     "text", text)
            assert inbox_id is not None
            if not held:
                inbox.mark_submitted(db, inbox_id)  # answered by Rasa; a held message never goes there
            inbox.complete(db, inbox_id, conversation_id, replies or [], held=held)
        finally:
            db.conn.close()
        return inbox_id

    def escalate(self, text: str, category: str = "grooming", severity: str = "high",
                 conversation_id: Optional[str] = None, matched: Optional[List[str]] = None) -> Case:
        """A young person's risk message: the gateway stores and answers it; the action server
        records the escalation with the last turns (bot/actions/handover.py). Returns the case."""
        from bot.store import escalations

        conversation_id = conversation_id or self.new_conversation()
        handover = {"text": "Wat rot voor je. Het is nooit jouw schuld.", "buttons": [],
                    "response": f"utter_handover_{category}"}
        self.young_message(conversation_id, text, replies=[handover])
        now = time.time()  # Rasa's tracker events carry unix seconds
        turns = [
            {"from": "jongere", "text": text, "at": now},
            {"from": "sam", "response": handover["response"], "text": handover["text"], "at": now},
        ]
        db = self.db()
        try:
            escalation_id = escalations.record_trigger(db, conversation_id, category, severity, matched or ["geheim"],
                                                       0.91, "lexicon", turns)
        finally:
            db.conn.close()
        return Case(conversation_id, escalation_id, self.case_id(escalation_id), conversation_id[:6].upper())

    def request_person(self, conversation_id: Optional[str] = None) -> Case:
        """/mens: the young person asks for a person (bot/requests.py puts it in the queue)."""
        from bot.store import cases

        conversation_id = conversation_id or self.new_conversation()
        db = self.db()
        try:
            case_id = cases.open_request(db, conversation_id, "mens")
        finally:
            db.conn.close()
        return Case(conversation_id, 0, case_id, cases.pseudonym(conversation_id))

    def case_id(self, escalation_id: int) -> int:
        """The dashboard's case of an escalation (made when missing, as the dashboard's queue does)."""
        from bot.store import cases

        db = self.db()
        try:
            case_id = cases.ensure_for_escalation(db, escalation_id)
        finally:
            db.conn.close()
        assert case_id is not None
        return case_id

    def add_account_with_cli(self, name: str, role: str, password: str = PASSWORD) -> None:
        """`python -m bot moderators add NAME --role ROLE`, the password on standard input."""
        from bot.config import ROOT

        done = subprocess.run([sys.executable, "-m", "bot", "moderators", "add", name, "--role", role],
                              input=password + "\n", capture_output=True, text=True, cwd=ROOT, timeout=120,
                              env={**os.environ, "SAM_DATA_DIR": str(self.settings.data_dir)})
        assert done.returncode == 0, done.stdout + done.stderr

    def add_account(self, name: str, role: str, password: str = PASSWORD) -> None:
        from bot.store import accounts

        db = self.db()
        try:
            if accounts.get_by_name(db, name) is None:
                accounts.add(db, name, password, role)
        finally:
            db.conn.close()


def _make_app(settings: Any) -> Any:
    """The dashboard's ASGI app, as `python -m bot dashboard` builds it (content/ warms up in the
    background: the first takeover needs Sam's texts)."""
    from bot.dashboard.app import create_app

    return create_app(settings)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """The dashboard with uvicorn in a background thread on a free port, with its own data dir.
    The environment is set before the settings are read, and restored afterwards."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    import uvicorn

    data_dir = tmp_path_factory.mktemp("dashboard-data")
    # The listening socket is made here and handed to uvicorn: no other process can take the port.
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = {"SAM_DATA_DIR": str(data_dir), "DASHBOARD_HOST": "127.0.0.1", "DASHBOARD_PORT": str(port),
           "DASHBOARD_URL": url, "MODERATOR_CHAT_ID": ""}
    old = {key: os.environ.get(key) for key in ENV_KEYS}
    os.environ.update(env)
    server = thread = None
    polling: Dict[Any, Any] = {}
    try:
        import importlib

        from bot.config import load_settings

        for name in POLLING_MODULES:
            module = importlib.import_module(name)
            polling[module] = module.POLL_SECONDS
            module.POLL_SECONDS = POLL_SECONDS

        settings = load_settings()
        board = Dashboard(settings, url)
        board.db().conn.close()  # the schema exists before the first request
        board.app = _make_app(settings)
        # As bot/dashboard/app.py main() serves it: h11, asyncio, no websockets.
        config = uvicorn.Config(board.app, host="127.0.0.1", port=port, http="h11", ws="none", loop="asyncio",
                                log_level="warning", access_log=False, server_header=False,
                                timeout_graceful_shutdown=2)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="dashboard", daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the dashboard did not start")
            time.sleep(0.02)
        board.add_account_with_cli(ADMIN, "admin")  # as the operator makes the first account
        for name in (MODERATOR, SECOND_MODERATOR):
            board.add_account(name, "moderator")
        yield board
    finally:
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(10)
        listener.close()
        for module, seconds in polling.items():
            module.POLL_SECONDS = seconds
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# --- the browser ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh profile folder for Chromium's own files
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                                              env={**os.environ, "HOME": str(profile)}, timeout=30_000)
    except Exception:
        playwright.stop()
        raise
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()
        shutil.rmtree(profile, ignore_errors=True)


class Pages:
    """Per test: new browser contexts (each its own cookies), their dialogs and page errors."""

    def __init__(self, browser: Any, dashboard: Dashboard, sessions: Dict[Tuple[str, str], Any]) -> None:
        self.browser = browser
        self.dashboard = dashboard
        self.sessions = sessions
        self.contexts: List[Any] = []
        self.dialogs: List[str] = []
        self.errors: List[str] = []

    def new(self, storage_state: Optional[Dict[str, Any]] = None) -> Any:
        context = self.browser.new_context(base_url=self.dashboard.url, locale="nl-NL",
                                           timezone_id="Europe/Amsterdam", storage_state=storage_state)
        context.set_default_timeout(STEP_TIMEOUT_MS)
        context.set_default_navigation_timeout(STEP_TIMEOUT_MS)
        self.contexts.append(context)
        # Any alert/confirm/prompt on any page of the context is recorded (an XSS payload would
        # fire one) and dismissed; so is any error thrown by the dashboard's script.
        context.on("dialog", lambda dialog: (self.dialogs.append(f"{dialog.type}: {dialog.message}"),
                                             dialog.dismiss()))
        context.on("weberror", lambda error: self.errors.append(str(error.error)))
        return context.new_page()

    def close(self) -> None:
        for context in self.contexts:
            try:
                context.close()
            except Exception:  # noqa: BLE001 - closing after a failed test must not hide its failure
                pass


@pytest.fixture(scope="module")
def sessions() -> Dict[Tuple[str, str], Any]:
    """Cookies of accounts that logged in through the form once (checking a password takes
    argon2's half second; later tests of the module start from the logged-in state)."""
    return {}


@pytest.fixture
def pages(browser, dashboard: Dashboard, sessions: Dict[Tuple[str, str], Any]) -> Iterator[Pages]:
    made = Pages(browser, dashboard, sessions)
    try:
        yield made
    finally:
        made.close()
    assert made.errors == [], f"the dashboard's script threw: {made.errors}"


@pytest.fixture
def page(pages: Pages):
    """A fresh, logged-out page on the dashboard."""
    return pages.new()


@pytest.fixture
def dialogs(pages: Pages) -> List[str]:
    return pages.dialogs


def login(page: Any, name: str, password: str = PASSWORD) -> None:
    """Logs in through the login form, as a person would: name, password, the button; then waits
    until the dashboard has left the login page."""
    from playwright.sync_api import expect

    if not LOGIN_URL.search(page.url):  # already there (e.g. sent by a page): keep its ?next=
        page.goto("/login")
    page.locator("#login-form #name").fill(name)
    page.locator("#login-form #password").fill(password)
    page.locator("#login-form #login").click()
    expect(page).not_to_have_url(LOGIN_URL)


@pytest.fixture
def login_as(pages: Pages) -> Callable[..., Any]:
    """login_as(name) -> a new page (its own browser context) logged in as that account, on the
    page the dashboard opens after logging in."""

    def make(name: str = MODERATOR, password: str = PASSWORD) -> Any:
        if (name, password) in pages.sessions:
            page = pages.new(storage_state=pages.sessions[(name, password)])
            page.goto("/")
            if not LOGIN_URL.search(page.url):
                return page
        page = pages.new()
        login(page, name, password)
        pages.sessions[(name, password)] = page.context.storage_state()
        return page

    return make
