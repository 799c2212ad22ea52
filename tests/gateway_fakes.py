"""Fakes for the gateway and runner: a Rasa that can be down, slow, erroring or odd; a channel
that records what it sends and can fail; a clock that moves only when told."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Set

from bot.messages import PermanentSendError, Reply, TemporarySendError
from bot.rasa_client import RasaUnavailable
from bot.risk import get_detector

CHANNEL = "test"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeRasa:
    """Answers like Sam's Rasa channel: whole replies with response names. A risk message gets
    the three handover responses; anything else one echo. `mode`: up | down | error | slow | odd."""

    def __init__(self) -> None:
        self.mode = "up"
        self.calls: List[Dict[str, Any]] = []
        self.release = asyncio.Event()
        self.answered: Dict[str, List[Dict[str, Any]]] = {}

    async def send(self, conversation_id: str, text: str, inbox_id: str, retry: bool = False) -> List[Dict[str, Any]]:
        self.calls.append({"conversation": conversation_id, "text": text, "inbox_id": inbox_id, "retry": retry})
        if self.mode == "down":
            raise RasaUnavailable("ConnectError")
        if self.mode == "error":
            raise RasaUnavailable("HTTPStatusError")
        if self.mode == "slow":
            await self.release.wait()
        if self.mode == "odd":
            return [{"text": None, "buttons": "geen lijst"}, {"buttons": [{"title": 3}]}, {}]
        if inbox_id in self.answered:  # Sam's Rasa channel is idempotent by inbox id
            return self.answered[inbox_id]
        assessment = get_detector().assess(text)
        if assessment.escalate:
            category = assessment.category
            replies = [{"text": f"troost {category}", "response": f"utter_handover_{category}"},
                       {"text": "lijnen 113", "response": "utter_handover_helplines",
                        "buttons": [{"title": "Praten", "payload": "/request_human"}]}]
        else:
            replies = [{"text": f"antwoord op {text}", "buttons": [{"title": "Ja", "payload": "/affirm"}],
                        "response": "utter_echo"}]
        self.answered[inbox_id] = replies
        return replies

    def texts_sent(self) -> List[str]:
        return [call["text"] for call in self.calls]

    async def close(self) -> None:
        return None


class RecordingChannel:
    """Records every reply. `permanent` chat keys always fail for good; `temporary` counts how
    many next sends fail for a while."""

    name = CHANNEL

    def __init__(self) -> None:
        self.sent: List[Dict[str, Any]] = []
        self.permanent: Set[str] = set()
        self.temporary = 0
        self.left: List[str] = []
        self.typed: List[str] = []

    async def send(self, chat_key: str, reply: Reply) -> None:
        if chat_key in self.permanent:
            raise PermanentSendError("Forbidden: bot was blocked by the user")
        if self.temporary > 0:
            self.temporary -= 1
            raise TemporarySendError("NetworkError")
        self.sent.append({"chat": chat_key, "response": reply.response, "text": reply.text, "buttons": reply.buttons})

    async def typing(self, chat_key: str) -> None:
        self.typed.append(chat_key)

    async def leave(self, chat_key: str) -> None:
        self.left.append(chat_key)

    def names(self, chat: Optional[str] = None) -> List[Optional[str]]:
        return [s["response"] for s in self.sent if chat is None or s["chat"] == chat]

    def texts(self, chat: str) -> List[str]:
        return [s["text"] for s in self.sent if s["chat"] == chat]
