"""A chat in the terminal that takes the same path as Telegram (gateway, runner, outbox)."""
from __future__ import annotations

import asyncio
import secrets
import sys
import threading
from typing import Awaitable, Callable, List

from bot.gateway import Gateway
from bot.messages import Incoming, Reply
from bot.store import inbox, outbox

CHANNEL = "terminal"


def _stdin_reader() -> Callable[[], Awaitable[str]]:
    """Reads lines in a daemon thread, so a blocked read never holds up shutdown (Ctrl+C)."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue = asyncio.Queue()

    def read() -> None:
        while True:
            line = sys.stdin.readline()
            loop.call_soon_threadsafe(lines.put_nowait, line)
            if not line:
                return

    threading.Thread(target=read, name="sam-stdin", daemon=True).start()
    return lines.get
ANSWER_WAIT_SECONDS = 15.0  # how long the prompt waits for Sam's answer before it is shown again


class TerminalChannel:
    name = CHANNEL

    def __init__(self) -> None:
        self.chat_key = secrets.token_hex(8)  # a new anonymous conversation per session
        self.buttons: List[dict] = []
        self._counter = 0

    async def send(self, chat_key: str, reply: Reply) -> None:
        """Prints Sam's message; buttons get numbers the young person can type."""
        print(f"\nSam: {reply.text}", flush=True)
        if reply.buttons:
            self.buttons = reply.buttons
            for number, button in enumerate(reply.buttons, 1):
                print(f"  [{number}] {button['title']}", flush=True)

    async def typing(self, chat_key: str) -> None:
        return None

    async def leave(self, chat_key: str) -> None:
        return None

    def to_incoming(self, line: str) -> Incoming:
        self._counter += 1
        text = line.strip()
        kind = "text"
        if text.isdigit() and 0 < int(text) <= len(self.buttons):
            text, kind = self.buttons[int(text) - 1]["payload"], "callback"
        elif text.startswith("/") and not text.startswith("/vergeet_"):
            kind = "command"
        return Incoming(self.chat_key, f"{self.chat_key}-{self._counter}", kind, text)

    async def run(self, gateway: Gateway, wake: Callable[[], None],
                  read_line: Callable[[], Awaitable[str]] = None) -> None:
        read_line = read_line or _stdin_reader()
        print("Chat met Sam. Typ een bericht, of het nummer van een knop. Stoppen: Ctrl+D of 'stop'.", flush=True)
        await self._say(gateway, wake, Incoming(self.chat_key, f"{self.chat_key}-0", "command", "/start"))
        while True:
            print("\nJij: ", end="", flush=True)
            line = await read_line()
            if not line or line.strip().lower() in {"stop", "quit", "exit"}:
                print("\nDoei!")
                return
            if line.strip():
                await self._say(gateway, wake, self.to_incoming(line))

    async def _say(self, gateway: Gateway, wake: Callable[[], None], incoming: Incoming) -> None:
        """Hands one line to the gateway and waits until its answer was shown (so a typed button
        number refers to the buttons on screen), or a fail-safe note when Sam is slow."""
        inbox_id = await gateway.receive(CHANNEL, incoming)
        wake()
        if inbox_id is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_WAIT_SECONDS
        while loop.time() < deadline:
            item = await gateway.io(inbox.get, gateway.db, inbox_id)
            answered = item is None or item["status"] == "done" or item["failsafe_sent"]
            if answered and not await gateway.io(outbox.pending_count, gateway.db, inbox_id):
                return  # the answer, or the fail-safe note while Rasa starts (the answer follows)
            await asyncio.sleep(0.05)
