"""Starts and supervises the Rasa server and the action server on local ports."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import IO, Any, Callable, List, Optional

from bot.config import CREDENTIALS_FILE, ENDPOINTS_FILE, ROOT, Settings, ensure_private_dir
from bot.store.db import ensure_private_file
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
    needs_model: bool = False  # started only once the model is trained

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


def build_services(settings: Settings, quiet: bool, dashboard: bool = False) -> List[Service]:
    """Rasa and the action server; with `dashboard`, also the moderators' dashboard (make run)."""
    env = rasa_env()
    env["ACTION_SERVER_PORT"] = str(settings.action_port)
    env["SANIC_HOST"] = "127.0.0.1"  # the action server listens on loopback only
    env["SAM_DATA_DIR"] = str(settings.data_dir)
    env["SAM_TRACKER_DB"] = str(settings.tracker_db_path)
    ensure_private_dir(settings.data_dir)
    ensure_private_file(settings.tracker_db_path)  # Rasa's SQLite file: 0600 before Rasa creates it
    logs: List[Optional[IO]] = [None, None]
    if quiet:
        ensure_private_dir(settings.log_dir)
        logs = [open(ensure_private_file(settings.log_dir / name), "a") for name in ("actions.log", "rasa.log")]
    rasa_command = [
        sys.executable, "-m", "bot.rasa_cli", "run", "--enable-api",
        "-i", "127.0.0.1", "-p", str(settings.rasa_port),
        "--model", str(MODEL_FILE), "--endpoints", str(ENDPOINTS_FILE), "--credentials", str(CREDENTIALS_FILE),
    ]
    if settings.rasa_auth_token:
        rasa_command += ["--auth-token", settings.rasa_auth_token]
    services = [
        Service("actions", [sys.executable, "-m", "rasa_sdk", "--actions", "bot.actions",
                            "-p", str(settings.action_port)],
                f"http://127.0.0.1:{settings.action_port}/health", env, logs[0]),
        Service("rasa", rasa_command, f"http://127.0.0.1:{settings.rasa_port}/", env, logs[1], needs_model=True),
    ]
    if dashboard:
        # Starlette + uvicorn (bot/dashboard/app.py); /login is its only page that answers without an account.
        host = "127.0.0.1" if settings.dashboard_host in ("0.0.0.0", "::", "") else settings.dashboard_host
        log = open(ensure_private_file(settings.log_dir / "dashboard.log"), "a") if quiet else None
        services.append(Service("dashboard", [sys.executable, "-m", "bot.dashboard.app"],
                                f"http://{host}:{settings.dashboard_port}/login", env, log))
    return services


class Supervisor:
    """Keeps the services running: a service that dies is started again."""

    def __init__(self, services: List[Service]) -> None:
        self.services = services
        self._stopping = threading.Event()

    def start(self, timeout: float = 180) -> None:
        """Starts every service and waits until all answer their health check."""
        for service in self.services:
            service.start()
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        for service in self.services:
            while not service.healthy():
                if self._stopping.is_set():
                    return
                if not service.alive():
                    raise RuntimeError(f"{service.name} stopped during start-up; see data/logs/{service.name}.log")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{service.name} did not start within {timeout:.0f}s")
                time.sleep(0.5)

    def run(self, prepare: Optional[Callable[[], Any]] = None, interval: float = 2.0) -> None:
        """Blocking, for a background thread: prepare (e.g. train), start the services, then
        restart any that dies, until stop() is called. The channels answer meanwhile (fail-safe)."""
        for service in self.services:
            if not service.needs_model:
                service.start()  # the dashboard and the actions need no model: up at once
        if prepare is not None:
            try:
                prepare()
            except Exception as error:  # Sam keeps answering with the fail-safe; say why Rasa is missing
                print(f"Let op: het model kon niet worden getraind ({error}); zie models/train.log. "
                      "Sam antwoordt met de noodtekst.", file=sys.stderr, flush=True)
        if self._stopping.is_set():
            return
        for service in self.services:
            if service.needs_model and (prepare is None or MODEL_FILE.exists()):
                service.start()
        started = time.monotonic()
        try:
            self.wait_healthy()
            print(f"Sam is klaar: Rasa antwoordt (opgestart in {time.monotonic() - started:.0f} s).", flush=True)
        except RuntimeError as error:
            print(f"Let op: {error}. Sam antwoordt met de noodtekst en probeert het opnieuw.", file=sys.stderr)
        while not self._stopping.wait(interval):
            self.check()

    def check(self) -> None:
        for service in self.services:
            if service.process is not None and not service.alive() and not self._stopping.is_set():
                service.restarts += 1
                print(f"{service.name} stopped; starting it again", file=sys.stderr)
                service.start()

    def stop(self) -> None:
        self._stopping.set()
        for service in reversed(self.services):
            service.stop()
