"""Starts and supervises the Rasa server and the action server on local ports."""
from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from typing import IO, List, Optional

from bot.config import CREDENTIALS_FILE, ENDPOINTS_FILE, ROOT, Settings
from bot.training import MODEL_FILE, rasa_env


@dataclass
class Service:
    name: str
    command: List[str]
    health_url: str
    env: dict
    log: Optional[IO] = None
    process: Optional[subprocess.Popen] = None
    restarts: int = field(default=0)

    def start(self) -> None:
        out = self.log if self.log is not None else None
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=out, stderr=out)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.health_url, timeout=1) as response:
                return response.status == 200
        except Exception:
            return False

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def build_services(settings: Settings, quiet: bool) -> List[Service]:
    env = rasa_env()
    env["ACTION_SERVER_PORT"] = str(settings.action_port)
    env["SANIC_HOST"] = "127.0.0.1"  # the action server listens on loopback only
    env["SAM_DATA_DIR"] = str(settings.data_dir)
    env["SAM_TRACKER_DB"] = str(settings.tracker_db_path)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    logs: List[Optional[IO]] = [None, None]
    if quiet:
        settings.log_dir.mkdir(parents=True, exist_ok=True)
        logs = [open(settings.log_dir / "actions.log", "a"), open(settings.log_dir / "rasa.log", "a")]
    rasa_command = [
        sys.executable, "-m", "bot.rasa_cli", "run", "--enable-api",
        "-i", "127.0.0.1", "-p", str(settings.rasa_port),
        "--model", str(MODEL_FILE), "--endpoints", str(ENDPOINTS_FILE), "--credentials", str(CREDENTIALS_FILE),
    ]
    if settings.rasa_auth_token:
        rasa_command += ["--auth-token", settings.rasa_auth_token]
    return [
        Service("actions", [sys.executable, "-m", "rasa_sdk", "--actions", "bot.actions",
                            "-p", str(settings.action_port)],
                f"http://127.0.0.1:{settings.action_port}/health", env, logs[0]),
        Service("rasa", rasa_command, f"http://127.0.0.1:{settings.rasa_port}/", env, logs[1]),
    ]


class Supervisor:
    """Keeps the services running: a service that dies is started again."""

    def __init__(self, services: List[Service]) -> None:
        self.services = services

    def start(self, timeout: float = 180) -> None:
        for service in self.services:
            service.start()
        deadline = time.monotonic() + timeout
        for service in self.services:
            while not service.healthy():
                if not service.alive():
                    raise RuntimeError(f"{service.name} stopped during start-up; see data/logs/{service.name}.log")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{service.name} did not start within {timeout:.0f}s")
                time.sleep(0.5)

    def check(self) -> None:
        for service in self.services:
            if not service.alive():
                service.restarts += 1
                print(f"{service.name} stopped; starting it again", file=sys.stderr)
                service.start()

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
