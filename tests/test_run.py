"""`python -m bot run` as a new user starts it (with a token, against the fake Telegram): the
channel answers before Rasa is up, Rasa and the action server come up beside it, and a server
that dies is started again while the fail-safe covers the gap."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.config import ROOT
from tests.conftest import free_port
from tests.fakes import TOKEN

pytestmark = pytest.mark.integration


def child_pids(parent: int) -> dict:
    """Command line by pid of the direct children of a process (from /proc)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                if int(handle.read().rsplit(")", 1)[1].split()[1]) != parent:
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                found[int(entry)] = handle.read().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
    return found


def test_make_run_answers_risk_at_once_then_rasa_takes_over_and_is_restarted(sam_servers, telegram, tmp_path,
                                                                            monkeypatch):
    from bot.gateway import pseudonymiser_for
    from bot.store.db import open_db

    sam_servers.say("warm-up", "hoi")  # the model is trained (the fixture trained it)
    data = tmp_path / "data"
    rasa_port, action_port = free_port(), free_port()
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": telegram.base_url,
           "SAM_DATA_DIR": str(data), "RASA_PORT": str(rasa_port), "ACTION_SERVER_PORT": str(action_port),
           "RASA_URL": f"http://127.0.0.1:{rasa_port}", "RASA_TIMEOUT_SECONDS": "2",
           "DASHBOARD_PORT": str(free_port())}
    chat = 733000001
    telegram.message(chat, "ik wil niet meer leven")  # waiting at Telegram before Sam starts
    started = time.monotonic()
    log_path = Path(os.environ.get("SAM_TEST_LOGS", tmp_path)) / "run.log"
    log = open(log_path, "w")
    process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        assert telegram.wait_for(lambda: len(telegram.texts(chat)) >= 1, 15), "no fail-safe within 15 s"
        first_answer = time.monotonic() - started
        assert "113" in telegram.texts(chat)[0]
        # Rasa comes up and answers the same message for real, once.
        assert telegram.wait_for(lambda: len(telegram.texts(chat)) >= 3, 180), log_path.read_text()[-3000:]
        monkeypatch.setenv("SAM_DATA_DIR", str(data))
        from bot.config import load_settings

        conversation = pseudonymiser_for(load_settings()).conversation_id("telegram", str(chat))
        db = open_db(data / "sam.db")

        def sent():
            return [r[0] for r in db.execute("SELECT response FROM outbox WHERE conversation_id = ? "
                                             "AND status = 'sent' ORDER BY sent_at, id", [conversation])]
        # Telegram has the third message a moment before the sender marks its row sent.
        telegram.wait_for(lambda: len(sent()) >= 3, 15)
        assert sent() == ["utter_failsafe_risk", "utter_handover_selfharm", "utter_handover_helplines"]
        # Kill Rasa: the supervisor starts it again; meanwhile the fail-safe answers.
        rasa = [pid for pid, command in child_pids(process.pid).items() if "bot.rasa_cli run" in command]
        assert rasa, child_pids(process.pid)
        os.kill(rasa[0], signal.SIGKILL)
        time.sleep(1)
        telegram.message(chat, "hij slaat me nu")
        assert telegram.wait_for(lambda: len(telegram.texts(chat)) >= 4, 15)  # the fail-safe
        assert telegram.wait_for(lambda: any(pid not in rasa and "bot.rasa_cli run" in command
                                             for pid, command in child_pids(process.pid).items()), 15)
        assert telegram.wait_for(lambda: len(telegram.texts(chat)) >= 6, 180), "not answered after the restart"
        print(f"first fail-safe {first_answer:.1f} s after start")
        servers = list(child_pids(process.pid))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
    assert process.returncode is not None
    assert not [pid for pid in servers if os.path.exists(f"/proc/{pid}") and
                "zombie" not in open(f"/proc/{pid}/status").read()], "servers left running"
