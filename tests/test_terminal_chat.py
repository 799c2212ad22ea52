"""The terminal chat takes the same path as Telegram: gateway, inbox, real Rasa, outbox."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot import content
from bot.config import ROOT

pytestmark = pytest.mark.integration


def first_line(name: str) -> str:
    return content.current().response(name)["text"].split("\n")[0]


def test_terminal_chat_greets_answers_and_presses_buttons(sam_servers):
    greet_buttons = content.current().response("utter_greet")["buttons"]
    first_button = greet_buttons[0]["payload"].lstrip("/")
    env = {**os.environ, "SAM_DATA_DIR": str(sam_servers.settings.data_dir), "RASA_URL": sam_servers.url}
    result = subprocess.run([sys.executable, "-m", "bot", "chat"], cwd=ROOT, env=env, text=True,
                            input="hoi\n1\nwat is sexting\nstop\n", capture_output=True, timeout=120)
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert first_line("utter_start") in out
    assert first_line("utter_greet") in out
    assert first_line(f"utter_{first_button}") in out  # button 1 of the greeting menu
    assert first_line("utter_ask_sexting") in out
    assert "tensorflow" not in (out + result.stderr).lower()  # no start-up noise in the chat
    db = sam_servers.settings.db_path
    import sqlite3

    rows = sqlite3.connect(db).execute("SELECT COUNT(*) FROM inbox WHERE channel = 'terminal' AND status = 'done'")
    assert rows.fetchone()[0] >= 4
