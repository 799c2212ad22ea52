"""Shared fixtures: isolated data dirs, and the real Rasa + action servers for integration tests."""
from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Iterator

import pytest

from bot.config import apply_tf_environment

apply_tf_environment()
os.environ["RASA_TELEMETRY_ENABLED"] = "false"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data/ folder (database, secrets, logs)."""
    directory = tmp_path / "data"
    monkeypatch.setenv("SAM_DATA_DIR", str(directory))
    return directory


@pytest.fixture
def db(data_dir: Path):
    from bot.store.db import open_db

    return open_db(data_dir / "sam.db")


class RunningSam:
    def __init__(self, settings, supervisor, content_dir: Path) -> None:
        self.settings = settings
        self.supervisor = supervisor
        self.url = settings.rasa_url
        self.content_dir = content_dir  # every Sam process reads this copy of content/ (SAM_CONTENT_DIR)

    def say(self, conversation: str, text: str) -> list:
        """Sends a message through the REST channel; returns the names of Sam's responses this turn."""
        import httpx

        reply = httpx.post(f"{self.url}/webhooks/rest/webhook", json={"sender": conversation, "message": text},
                           timeout=30)
        reply.raise_for_status()
        return self.last_turn(conversation)

    def tracker(self, conversation: str) -> dict:
        import httpx

        response = httpx.get(f"{self.url}/conversations/{conversation}/tracker",
                             params={"token": self.settings.rasa_auth_token}, timeout=30)
        response.raise_for_status()
        return response.json()

    def last_turn(self, conversation: str) -> list:
        events = self.tracker(conversation)["events"]
        last_user = max(i for i, e in enumerate(events) if e["event"] == "user")
        return [(e.get("metadata") or {}).get("utter_action") for e in events[last_user:] if e["event"] == "bot"]


@pytest.fixture(scope="session")
def sam_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSam]:
    """The real Rasa server and action server on free local ports, with their own data dir and
    their own copy of content/ (a test may edit it as an editor would; the repository stays as it is)."""
    import shutil

    from bot.config import CONTENT_DIR, load_settings
    from bot.services import Supervisor, build_services
    from bot.training import train

    data = tmp_path_factory.mktemp("sam-data")
    content_dir = data / "content"
    shutil.copytree(CONTENT_DIR, content_dir)
    rasa_port, action_port = free_port(), free_port()
    env = {"SAM_DATA_DIR": str(data), "RASA_PORT": str(rasa_port), "ACTION_SERVER_PORT": str(action_port),
           "RASA_URL": f"http://127.0.0.1:{rasa_port}", "RASA_AUTH_TOKEN": "test-token",
           "SAM_CONTENT_DIR": str(content_dir)}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    train()
    settings = load_settings()
    supervisor = Supervisor(build_services(settings, quiet=True))
    supervisor.start()
    try:
        yield RunningSam(settings, supervisor, content_dir)
    finally:
        supervisor.stop()
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Bridge:
    """`python -m bot telegram` as a real subprocess, so it can be killed with SIGKILL."""

    def __init__(self, env: dict, log_path: Path) -> None:
        import subprocess
        import sys

        from bot.config import ROOT

        self.log = open(log_path, "a")
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "telegram"], cwd=ROOT,
                                        env={**os.environ, **env}, stdout=self.log, stderr=self.log)

    def kill(self) -> None:
        import signal

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except Exception:
                self.kill()
        self.log.close()


@pytest.fixture(scope="module")
def telegram():
    from tests.fakes import FakeTelegram

    fake = FakeTelegram().start()
    yield fake
    fake.stop()


@pytest.fixture
def start_bridge(sam_servers, telegram):
    """Starts bridges against the fake Telegram and the real Rasa; stops them after the test."""
    from tests.fakes import TOKEN

    bridges = []

    def start(rasa_url: str = None, **extra_env: str) -> Bridge:
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": telegram.base_url,
               "SAM_DATA_DIR": str(sam_servers.settings.data_dir), "RASA_URL": rasa_url or sam_servers.url,
               # A long fail-safe deadline unless a test is about the fail-safe: on a busy CI machine
               # Rasa may take seconds, and a fail-safe note would then join the expected replies.
               "RASA_TIMEOUT_SECONDS": "30", "SAM_LOG_LEVEL": "INFO", **extra_env}
        log_dir = sam_servers.settings.data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        bridge = Bridge(env, log_dir / "bridge.log")
        bridges.append(bridge)
        assert telegram.wait_for(lambda: len(telegram.called("setMyCommands")) > start.started, 60), \
            "bridge did not start"
        start.started = len(telegram.called("setMyCommands"))
        return bridge

    start.started = len(telegram.called("setMyCommands"))
    yield start
    for bridge in bridges:
        bridge.stop()
