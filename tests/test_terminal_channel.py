"""The terminal channel with the real runner and gateway and a fake Rasa: it only translates."""
from __future__ import annotations

import asyncio

from bot.channels.terminal import TerminalChannel
from bot.config import load_settings
from bot.gateway import Gateway
from bot.runner import Runner
from bot.store.db import open_db
from tests.gateway_fakes import FakeRasa


async def chat(lines, data_dir, rasa: FakeRasa, capsys):
    gateway = Gateway(load_settings(), open_db(data_dir / "sam.db"), rasa)
    channel = TerminalChannel()
    runner = Runner(gateway, [channel])
    task = asyncio.create_task(runner.run())
    queue = list(lines)

    async def read_line() -> str:
        return queue.pop(0) if queue else ""

    try:
        await asyncio.wait_for(channel.run(gateway, runner.wake, read_line), 30)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        gateway.close()
    return capsys.readouterr().out


async def test_a_typed_number_presses_the_button_shown_and_texts_go_through_rasa(data_dir, capsys):
    rasa = FakeRasa()
    out = await chat(["hoi\n", "1\n", "stop\n"], data_dir, rasa, capsys)
    assert [call["text"] for call in rasa.calls] == ["hoi", "/affirm"]  # button 1 of the echo reply
    assert "Sam: antwoord op hoi" in out and "[1] Ja" in out


async def test_while_rasa_is_down_a_risk_line_gets_the_24_7_lines_and_the_prompt_returns(data_dir, capsys):
    rasa = FakeRasa()
    rasa.mode = "down"
    out = await chat(["ik wil niet meer leven\n", "stop\n"], data_dir, rasa, capsys)
    assert "113" in out and "Doei!" in out
