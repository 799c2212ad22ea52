"""The one path every channel takes: pseudonymise, store in the inbox, fail-safe risk check,
pause during a live takeover, call Rasa, store replies in the outbox, send.

A channel adapter only translates its updates into `Incoming` and sends `Reply`s.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Deque, Dict, List, Optional

from sqlite_utils import Database

from bot import content
from bot.config import Settings, secret_from_env_or_file
from bot.helplines import helplines_text
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.risk import get_detector
from bot.risk.normalise import clean_text
from bot.store import conversations, inbox, trackers
from bot.store.conversations import Pseudonymiser

logger = logging.getLogger(__name__)

# Update kinds answered by the gateway itself from content/, never sent to Rasa.
MEDIA_RESPONSES = {
    "photo": "utter_photo_warning",
    "video": "utter_photo_warning",
    "voice": "utter_voice_note",
    "sticker": "utter_sticker",
    "document": "utter_unsupported",
    "other": "utter_unsupported",
    "edited": "utter_edited_message",
}
# Commands answered by the gateway; other commands map to Rasa intents (see COMMAND_PAYLOADS).
COMMAND_RESPONSES = {"/start": "utter_start", "/vergeet": "utter_forget_confirm", "/mens": "utter_human"}
COMMAND_PAYLOADS = {"/help": "/help", "/privacy": "/ask_bot_privacy"}
FORGET_YES, FORGET_NO = "/vergeet_ja", "/vergeet_nee"


@dataclass
class Incoming:
    chat_key: str  # the channel's chat id; kept in memory and, encrypted, in conversations only
    update_key: str  # the channel's update id, for deduplication
    kind: str = "text"
    text: str = ""


@dataclass
class Reply:
    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)
    response: Optional[str] = None


Sender = Callable[[str, Reply], Awaitable[None]]


def pseudonymiser_for(settings: Settings) -> Pseudonymiser:
    return Pseudonymiser(
        secret_from_env_or_file("SAM_PSEUDONYM_SECRET", settings.data_dir, "pseudonym.key"),
        _fernet_key(secret_from_env_or_file("SAM_ENCRYPTION_KEY", settings.data_dir, "encryption.key")),
    )


def _fernet_key(secret: bytes) -> bytes:
    import base64
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(secret).digest())


class FloodControl:
    """More than `limit` messages within `seconds` from one conversation is a flood."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit, self.seconds = limit, seconds
        self._seen: Dict[str, Deque[float]] = defaultdict(deque)
        self._warned: Dict[str, float] = {}

    def check(self, conversation_id: str, now: Optional[float] = None) -> str:
        """'ok', 'warn' (first message over the limit) or 'drop' (already warned)."""
        now = time.monotonic() if now is None else now
        seen = self._seen[conversation_id]
        seen.append(now)
        while seen and now - seen[0] > self.seconds:
            seen.popleft()
        if len(seen) <= self.limit:
            return "ok"
        if now - self._warned.get(conversation_id, -1e9) > self.seconds:
            self._warned[conversation_id] = now
            return "warn"
        return "drop"


class Gateway:
    def __init__(self, channel: str, settings: Settings, db: Database, rasa: RasaClient, sender: Sender,
                 typing: Optional[Callable[[str], Awaitable[None]]] = None) -> None:
        self.channel = channel
        self.settings = settings
        self.db = db
        self.rasa = rasa
        self.sender = sender
        self.typing = typing
        self.pseudonyms = pseudonymiser_for(settings)
        self.flood = FloodControl(settings.flood_messages, settings.flood_seconds)
        self._locks: Dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    # --- receiving -------------------------------------------------------------------------
    def receive(self, incoming: Incoming) -> Optional[int]:
        """Durably stores an update. Returns its inbox id, or None for a duplicate delivery."""
        conversation_id = self.pseudonyms.conversation_id(self.channel, incoming.chat_key)
        conversations.touch(self.db, conversation_id, self.channel, self.pseudonyms.encrypt(incoming.chat_key))
        return inbox.receive(self.db, self.channel, incoming.update_key, conversation_id, incoming.kind, incoming.text)

    # --- processing ------------------------------------------------------------------------
    async def process_pending(self) -> int:
        """Processes every pending update, in order per conversation, conversations in parallel."""
        items = inbox.pending(self.db, self.channel)
        by_conversation: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
        for item in items:
            by_conversation[item["conversation_id"] or ""].append(item)
        await asyncio.gather(*(self._process_conversation(cid, rows) for cid, rows in by_conversation.items()))
        await self.flush()
        return len(items)

    async def _process_conversation(self, conversation_id: str, items: List[Dict[str, Any]]) -> None:
        async with self._locks[conversation_id]:
            for item in items:
                fresh = inbox.get(self.db, item["id"])
                if fresh is None or fresh["status"] != "pending":
                    continue
                if not await self._process(fresh):
                    break  # Rasa is unreachable: keep order, try again later
                await self.flush(conversation_id)

    async def _process(self, item: Dict[str, Any]) -> bool:
        """Answers one update. False when Rasa could not be reached (item stays pending)."""
        conversation_id = item["conversation_id"]
        if conversation_id is None:  # erased conversation
            inbox.complete(self.db, item["id"], None, [])
            return True
        text = clean_text(item["text"] or "")
        kind = item["kind"]
        if kind in MEDIA_RESPONSES:
            return self._complete(item, [self._render(MEDIA_RESPONSES[kind])])
        if kind == "command":
            command = text.split()[0].split("@")[0].lower() if text else ""
            if command in COMMAND_RESPONSES:
                # /mens lists the people to talk to now; it works even when Rasa is down.
                return self._complete(item, [self._render(COMMAND_RESPONSES[command],
                                                          helplines=helplines_text("general"))])
            text = COMMAND_PAYLOADS.get(command, text)
        if text in (FORGET_YES, FORGET_NO):
            return await self._forget(item, confirmed=text == FORGET_YES)
        if not text:
            return self._complete(item, [self._render("utter_default")])
        if conversations.is_paused(self.db, conversation_id):
            # A moderator has taken over: the message waits for them, Sam stays quiet.
            return self._complete(item, [])

        assessment = get_detector().assess(text) if not text.startswith("/") else None
        flood = self.flood.check(conversation_id) if kind != "callback" else "ok"
        if flood != "ok" and not (assessment and assessment.escalate):
            return self._complete(item, [self._render("utter_slow_down")] if flood == "warn" else [])

        chat_key = self._chat_key(conversation_id)
        if self.typing is not None and chat_key is not None:
            await self._safe(self.typing(chat_key))
        try:
            messages = await self.rasa.send(conversation_id, text)
        except RasaUnavailable as error:
            logger.warning("Rasa unavailable (%s); fail-safe reply for inbox %s", type(error).__name__, item["id"])
            if not item["failsafe_sent"]:
                inbox.mark_failsafe(self.db, item["id"])
                await self._send_now(conversation_id, self._failsafe(assessment))
            return False
        return self._complete(item, [self._from_rasa(m) for m in messages])

    def _failsafe(self, assessment: Any) -> Reply:
        if assessment is not None and assessment.escalate:
            return self._render("utter_failsafe_risk", helplines=helplines_text(assessment.category, only_24_7=True))
        return self._render("utter_be_right_back")

    async def _forget(self, item: Dict[str, Any], confirmed: bool) -> bool:
        conversation_id = item["conversation_id"]
        if not confirmed:
            return self._complete(item, [self._render("utter_forget_cancelled")])
        chat_key = self._chat_key(conversation_id)
        conversations.erase(self.db, conversation_id)
        trackers.erase(self.settings.tracker_db_path, conversation_id)
        inbox.complete(self.db, item["id"], None, [])
        if chat_key is not None:
            # Sent directly: nothing about this conversation may stay in the outbox.
            await self._safe(self.sender(chat_key, self._render("utter_forget_done")))
        return True

    def _complete(self, item: Dict[str, Any], replies: List[Reply]) -> bool:
        inbox.complete(self.db, item["id"], item["conversation_id"],
                       [{"text": r.text, "buttons": r.buttons, "response": r.response} for r in replies])
        return True

    # --- sending ---------------------------------------------------------------------------
    async def flush(self, conversation_id: Optional[str] = None) -> None:
        """Sends stored replies that were not sent yet (also after a crash)."""
        for row in inbox.unsent(self.db, self.channel, conversation_id):
            chat_key = self._chat_key(row["conversation_id"])
            if chat_key is None:
                inbox.mark_sent(self.db, row["id"])
                continue
            await self.sender(chat_key, Reply(row["text"], row["buttons"], row["response"]))
            inbox.mark_sent(self.db, row["id"])

    def _chat_key(self, conversation_id: Optional[str]) -> Optional[str]:
        """The channel's chat id for a conversation, decrypted only in memory to send."""
        chat = conversations.chat_ref(self.db, conversation_id) if conversation_id else None
        return self.pseudonyms.decrypt(chat) if chat else None

    async def _send_now(self, conversation_id: str, reply: Reply) -> None:
        chat_key = self._chat_key(conversation_id)
        if chat_key is not None:
            await self._safe(self.sender(chat_key, reply))

    @staticmethod
    async def _safe(awaitable: Awaitable[Any]) -> None:
        try:
            await awaitable
        except Exception:
            logger.exception("sending failed")

    @staticmethod
    def _render(name: str, **variables: Any) -> Reply:
        message = content.current().render(name, **variables)
        return Reply(message["text"], message["buttons"], name)

    @staticmethod
    def _from_rasa(message: Dict[str, Any]) -> Reply:
        buttons = [{"title": b.get("title", ""), "payload": b.get("payload", "")} for b in message.get("buttons") or []]
        return Reply(message.get("text") or "", buttons, message.get("response"))
