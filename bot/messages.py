"""The few types a channel adapter shares with the gateway and the runner."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Protocol


@dataclass
class Incoming:
    """One update from a channel, already translated."""

    chat_key: str  # the channel's chat id; kept in memory and, encrypted, in conversations only
    update_key: str  # the channel's update id, for deduplication
    kind: str = "text"  # text | command | callback | edited | photo | video | document | voice | sticker | other
    text: str = ""  # the message text, a caption, or a button payload


@dataclass
class Reply:
    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)
    response: Optional[str] = None  # the content/ response name, when there is one


class SendError(Exception):
    """A channel could not deliver a reply."""


class TemporarySendError(SendError):
    """Worth trying again later (network, flood limit, server error)."""

    def __init__(self, reason: str, retry_after: Optional[float] = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """Will never succeed (bot blocked, chat not found, bad request): mark failed, move on."""


class Channel(Protocol):
    """What the runner needs from a channel adapter."""

    name: str

    async def send(self, chat_key: str, reply: Reply) -> None:
        """Delivers one reply or raises a SendError."""

    async def typing(self, chat_key: str) -> None:
        """Shows that Sam is writing (may do nothing)."""

    async def leave(self, chat_key: str) -> None:
        """Leaves a chat Sam should not be in (may do nothing)."""
