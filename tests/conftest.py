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
    def __init__(self, settings, supervisor) -> None:
        self.settings = settings
        self.supervisor = supervisor
        self.url = settings.rasa_url


@pytest.fixture(scope="session")
def sam_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSam]:
    """The real Rasa server and action server on free local ports, with their own data dir."""
    from bot.config import load_settings
    from bot.services import Supervisor, build_services
    from bot.training import train

    data = tmp_path_factory.mktemp("sam-data")
    rasa_port, action_port = free_port(), free_port()
    env = {"SAM_DATA_DIR": str(data), "RASA_PORT": str(rasa_port), "ACTION_SERVER_PORT": str(action_port),
           "RASA_URL": f"http://127.0.0.1:{rasa_port}"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    train()
    settings = load_settings()
    supervisor = Supervisor(build_services(settings, quiet=True))
    supervisor.start()
    try:
        yield RunningSam(settings, supervisor)
    finally:
        supervisor.stop()
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
