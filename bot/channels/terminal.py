"""A chat in the terminal that takes the same path as Telegram (through the gateway)."""
from __future__ import annotations

import asyncio
import secrets
import sys
from typing import List

from bot.gateway import Gateway, Incoming, Reply

CHANNEL = "terminal"


class TerminalChat:
    def __init__(self) -> None:
        self.chat_key = secrets.token_hex(8)  # a new anonymous conversation per session
        self.buttons: List[dict] = []
        self._counter = 0

    async def show(self, chat_key: str, reply: Reply) -> None:
        """Prints Sam's message; buttons get numbers the young person can type."""
        print(f"\nSam: {reply.text}")
        if reply.buttons:
            self.buttons = reply.buttons
            for number, button in enumerate(reply.buttons, 1):
                print(f"  [{number}] {button['title']}")

    def to_incoming(self, line: str) -> Incoming:
        self._counter += 1
        text = line.strip()
        kind = "text"
        if text.isdigit() and 0 < int(text) <= len(self.buttons):
            text, kind = self.buttons[int(text) - 1]["payload"], "callback"
        elif text.startswith("/") and not text.startswith("/vergeet_"):
            kind = "command"
        return Incoming(self.chat_key, f"{self.chat_key}-{self._counter}", kind, text)

    async def run(self, gateway: Gateway) -> None:
        print("Chat met Sam. Typ een bericht, of het nummer van een knop. Stoppen: Ctrl+D of 'stop'.")
        await self._send(gateway, "/start", kind="command")
        loop = asyncio.get_running_loop()
        while True:
            print("\nJij: ", end="", flush=True)
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line or line.strip().lower() in {"stop", "quit", "exit"}:
                print("\nDoei!")
                return
            if line.strip():
                incoming = self.to_incoming(line)
                if gateway.receive(incoming) is not None:
                    await gateway.process_pending()

    async def _send(self, gateway: Gateway, text: str, kind: str) -> None:
        self._counter += 1
        gateway.receive(Incoming(self.chat_key, f"{self.chat_key}-{self._counter}", kind, text))
        await gateway.process_pending()
