"""The one path every message takes, whatever the channel: pseudonymise, store in the inbox,
answer locally what needs no Rasa, respect a moderator's takeover, ask Rasa once, store every
reply in the outbox. The fail-safe (helplines when Rasa is down, slow or broken) lives here too.

A channel adapter only translates its updates into `Incoming`; the runner (bot/runner.py) drives
this gateway and sends what lands in the outbox.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Deque, Dict, Iterable, List, Optional

from sqlite_utils import Database

from bot import content
from bot.config import Settings, secret_from_env_or_file
from bot.helplines import helplines_text
from bot.messages import Incoming, Reply
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.requests import request_person
from bot.risk import get_detector
from bot.risk.normalise import clean_text
from bot.store import conversations, escalations, inbox, outbox, trackers
from bot.store.conversations import Pseudonymiser

logger = logging.getLogger(__name__)

# Update kinds answered by the gateway itself from content/. A caption is answered by Rasa first.
MEDIA_RESPONSES = {
    "photo": "utter_photo_warning",
    "video": "utter_photo_warning",
    "voice": "utter_voice_note",
    "sticker": "utter_sticker",
    "document": "utter_unsupported",
    "other": "utter_unsupported",
}
# Commands answered by the gateway; other commands map to Rasa intents (see COMMAND_PAYLOADS).
COMMAND_RESPONSES = {"/start": "utter_start", "/vergeet": "utter_forget_confirm", "/mens": "utter_human"}
COMMAND_PAYLOADS = {"/help": "/help", "/privacy": "/ask_bot_privacy"}
FORGET_YES, FORGET_NO = "/vergeet_ja", "/vergeet_nee"
NOT_ANSWERED = ("ignore", "failed")  # stored only so a redelivery is recognised
# The last resort when content/ cannot be used at all: the one text that lives in code.
LAST_RESORT_TEXT = ("Ik kan nu even niet goed antwoorden. Sorry.\n"
                    "Ben je in gevaar? Bel 112.\n"
                    "Denk je aan zelfmoord? Bel gratis 113 of 0800-0113, of chat op 113.nl. Dag en nacht.")
RASA_RETRY_SECONDS = 2.0  # after Rasa could not be reached, wait this long before asking again
MAX_ERRORS = 3  # unexpected errors on one item before it is closed (its fail-safe was sent)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def pseudonymiser_for(settings: Settings) -> Pseudonymiser:
    """Pseudonyms from SAM_PSEUDONYM_SECRET; chat ids encrypted with SAM_ENCRYPTION_KEY, and still
    readable with the keys in SAM_ENCRYPTION_KEY_PREVIOUS during a key rotation."""
    current = _fernet_key(secret_from_env_or_file("SAM_ENCRYPTION_KEY", settings.data_dir, "encryption.key"))
    previous = [_fernet_key(k.strip().encode()) for k in settings.previous_encryption_keys if k.strip()]
    return Pseudonymiser(secret_from_env_or_file("SAM_PSEUDONYM_SECRET", settings.data_dir, "pseudonym.key"),
                         current, previous)


def _fernet_key(secret: bytes) -> bytes:
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


@dataclass
class Risk:
    escalate: bool
    category: str = "general"
    failed: bool = False  # the check itself failed: treat as risk, answer with the last resort


class Gateway:
    def __init__(self, settings: Settings, db: Database, rasa: RasaClient,
                 clock: Callable[[], datetime] = now_utc, pseudonyms: Optional[Pseudonymiser] = None) -> None:
        self.settings = settings
        self.db = db
        self.rasa = rasa
        self.clock = clock
        self.pseudonyms = pseudonyms or pseudonymiser_for(settings)
        self.flood = FloodControl(settings.flood_messages, settings.flood_seconds)
        self.started_at = clock()
        self.rasa_down_until: Optional[datetime] = None
        self._errors: Dict[int, int] = defaultdict(int)
        self._flood: Dict[int, str] = {}
        self.typing: Optional[Callable[[str, str], Awaitable[None]]] = None  # set by the runner
        # One thread owns the SQLite connection: synced writes never stall the event loop, and
        # transactions of different conversations never interleave on the shared connection.
        self._db_thread = ThreadPoolExecutor(1, thread_name_prefix="sam-db")

    # --- plumbing ----------------------------------------------------------------------------
    async def io(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Runs a store call on the database thread."""
        return await asyncio.get_running_loop().run_in_executor(self._db_thread, lambda: fn(*args, **kwargs))

    def now(self) -> str:
        return iso(self.clock())

    def rasa_known_down(self) -> bool:
        return self.rasa_down_until is not None and self.clock() < self.rasa_down_until

    def chat_key(self, conversation_id: Optional[str], chat_ref: Optional[str] = None) -> Optional[str]:
        """The channel's chat id, decrypted only in memory to send. None when unknown or unreadable."""
        if chat_ref is None and conversation_id:
            chat_ref = conversations.chat_ref(self.db, conversation_id)
        return self.pseudonyms.decrypt(chat_ref) if chat_ref else None

    def close(self) -> None:
        self._db_thread.shutdown(wait=False)

    # --- receiving ---------------------------------------------------------------------------
    async def receive(self, channel: str, incoming: Incoming) -> Optional[int]:
        """Stores an update durably before the channel confirms it. None for a redelivery."""
        return await self.io(self._receive, channel, incoming)

    def _receive(self, channel: str, incoming: Incoming) -> Optional[int]:
        now = self.now()
        if incoming.kind in NOT_ANSWERED or not incoming.chat_key:
            return inbox.receive(self.db, channel, incoming.update_key, None, incoming.kind or "ignore", None, now,
                                 status="done")
        if incoming.kind == "group":
            # Sam talks one-to-one only: a note to the group, then the channel leaves it.
            item = inbox.receive(self.db, channel, incoming.update_key, None, "group", None, now, status="done")
            if item is not None:
                outbox.add(self.db, channel, None, [self._render("utter_group_only_private")], origin="system",
                           inbox_id=item, chat_ref=self.pseudonyms.encrypt(incoming.chat_key), leave_chat=True,
                           now=now)
            return item
        conversation_id = self.pseudonyms.conversation_id(channel, incoming.chat_key)
        conversations.touch(self.db, conversation_id, channel, self.pseudonyms.encrypt(incoming.chat_key), now)
        return inbox.receive(self.db, channel, incoming.update_key, conversation_id, incoming.kind, incoming.text, now)

    # --- answering ---------------------------------------------------------------------------
    async def process_next(self, conversation_id: str) -> str:
        """Answers the conversation's oldest pending item: 'done', 'empty', 'wait' (Rasa down)."""
        item = await self.io(inbox.next_pending, self.db, conversation_id)
        if item is None:
            return "empty"
        try:
            return "done" if await self._process(item) else "wait"
        except Exception:
            self._errors[item["id"]] += 1
            logger.exception("answering inbox %s failed (attempt %d)", item["id"], self._errors[item["id"]])
            if self._errors[item["id"]] >= MAX_ERRORS:
                # Its fail-safe went out at the deadline; closing it keeps the conversation moving.
                await self.io(inbox.complete, self.db, item["id"], conversation_id, [], now=self.now())
                return "done"
            return "wait"

    async def close_orphans(self, channels: Iterable[str]) -> int:
        """Pending items whose conversation was erased are closed without an answer."""
        items = await self.io(inbox.pending_orphans, self.db, list(channels))
        for item in items:
            await self.io(inbox.complete, self.db, item["id"], None, [], now=self.now())
        return len(items)

    async def _process(self, item: Dict[str, Any]) -> bool:
        """Answers one item. False when Rasa could not be reached (the item stays pending)."""
        conversation_id = item["conversation_id"]
        text = clean_text(item["text"] or "")
        if text in (FORGET_YES, FORGET_NO):
            return await self._forget(item, confirmed=text == FORGET_YES)
        local = await self._local_answer(item)
        if local is not None:
            return await self._complete(item, local)
        if await self.io(conversations.is_paused, self.db, conversation_id):
            # A moderator has taken over: Sam stays quiet and the message is kept for them, but a
            # risk message still gets the 24/7 lines at once.
            risk = await self.assess(text)
            return await self._complete(item, [self._failsafe_reply(risk)] if risk.escalate else [], held=True)
        if self.rasa_known_down():
            return False
        if item["id"] not in self._flood:  # counted once, also when the item waits for Rasa
            self._flood[item["id"]] = self.flood.check(conversation_id, self.clock().timestamp()) \
                if item["kind"] != "callback" else "ok"
        flood = self._flood[item["id"]]
        if flood != "ok" and not (await self.assess(text)).escalate:
            warning = [self._render_or_last_resort("utter_slow_down")] if flood == "warn" else []
            return await self._complete(item, warning)
        await self.io(inbox.mark_submitted, self.db, item["id"], self.now())
        if self.typing is not None:
            asyncio.ensure_future(self.typing(item["channel"], conversation_id))
        try:
            messages = await self.rasa.send(conversation_id, self._rasa_text(item, text),
                                            inbox_id=f"{item['channel']}:{item['id']}",
                                            retry=item["submitted_at"] is not None)
        except RasaUnavailable as error:
            # Logged once per outage (Rasa starting or training can take minutes), then quietly retried.
            log = logger.debug if self.rasa_down_until is not None else logger.warning
            log("Rasa unavailable (%s); messages wait, the fail-safe answers", error)
            self.rasa_down_until = self.clock() + timedelta(seconds=RASA_RETRY_SECONDS)
            return False
        if self.rasa_down_until is not None:
            logger.warning("Rasa answers again")
            self.rasa_down_until = None
        replies = [self._from_rasa(m) for m in messages]
        if item["kind"] in MEDIA_RESPONSES:  # a caption was answered; the photo warning follows
            replies.append(self._render(MEDIA_RESPONSES[item["kind"]]))
        return await self._complete(item, replies)

    async def _local_answer(self, item: Dict[str, Any]) -> Optional[List[Dict[str, Any]]]:
        """The answer to an item that needs no Rasa, or None when Rasa must answer."""
        kind, text = item["kind"], clean_text(item["text"] or "")
        if kind in MEDIA_RESPONSES and not text:
            return [self._render_or_last_resort(MEDIA_RESPONSES[kind])]
        if kind == "edited" and not text:
            return []  # an edit without text (a removed caption): nothing to answer
        if kind == "command":
            command = text.split()[0].split("@")[0].lower() if text else ""
            if command in COMMAND_RESPONSES:
                # /mens lists the people to talk to now; it works even when Rasa is down. With a moderator
                # on duty it becomes a request in the dashboard's queue (bot/requests.py, never raises).
                name = COMMAND_RESPONSES[command]
                category = None
                if command == "/mens":
                    name = await asyncio.get_running_loop().run_in_executor(
                        None, request_person, self.settings, item["conversation_id"], "mens") or name
                    category = await self.io(escalations.open_category, self.db, item["conversation_id"])
                return [self._render_or_last_resort(name, helplines=helplines_text(category or "general"))]
        if not text:
            return [self._render_or_last_resort("utter_default")]
        return None

    @staticmethod
    def _rasa_text(item: Dict[str, Any], text: str) -> str:
        if item["kind"] == "command":
            return COMMAND_PAYLOADS.get(text.split()[0].split("@")[0].lower(), text)
        return text

    async def _forget(self, item: Dict[str, Any], confirmed: bool) -> bool:
        if not confirmed:
            return await self._complete(item, [self._render("utter_forget_cancelled")])
        await self.io(self._erase, item)
        return True

    def _erase(self, item: Dict[str, Any]) -> None:
        """/vergeet: everything about the conversation goes; the confirmation is sent to the
        encrypted chat reference alone, so nothing links it to the erased conversation."""
        conversation_id = item["conversation_id"]
        chat_ref = conversations.chat_ref(self.db, conversation_id)
        conversations.erase(self.db, conversation_id)
        trackers.erase(self.settings.tracker_db_path, conversation_id)
        inbox.complete(self.db, item["id"], None, [], now=self.now())
        if chat_ref:
            outbox.add(self.db, item["channel"], None, [self._render("utter_forget_done")], origin="system",
                       inbox_id=item["id"], chat_ref=chat_ref, now=self.now())

    async def _complete(self, item: Dict[str, Any], replies: List[Dict[str, Any]], held: bool = False) -> bool:
        replies = one_set_of_buttons(replies)
        await self.io(inbox.complete, self.db, item["id"], item["conversation_id"], replies, held, self.now())
        self._errors.pop(item["id"], None)
        self._flood.pop(item["id"], None)
        return True

    # --- the fail-safe -----------------------------------------------------------------------
    async def failsafe_sweep(self, channels: Iterable[str]) -> int:
        """Every unanswered item past its deadline gets a fail-safe, whatever stands before it:
        the 24/7 lines for a risk message, one "I'll be right back" per waiting conversation
        otherwise. Items that need no Rasa are answered for real, out of turn.

        The deadline is RASA_TIMEOUT_SECONDS after the item arrived (or after this runner
        started, so a restart does not answer old items twice), and immediate while Rasa is
        known to be down."""
        now = self.clock()
        if self.rasa_known_down():
            cutoff = now
        else:
            cutoff = now - timedelta(seconds=self.settings.rasa_timeout)
            if self.started_at > cutoff:
                return 0
        items = await self.io(inbox.failsafe_due, self.db, list(channels), iso(cutoff))
        for item in items:
            await self._failsafe(item)
        return len(items)

    async def _failsafe(self, item: Dict[str, Any]) -> None:
        text = clean_text(item["text"] or "")
        local = None
        if text not in (FORGET_YES, FORGET_NO):
            try:
                local = await self._local_answer(item)
            except Exception:
                logger.exception("local answer failed for inbox %s", item["id"])
        if local is not None:
            await self._complete(item, local)
            return
        risk = await self.assess(text)
        if risk.escalate:
            messages = [self._failsafe_reply(risk)]
        elif await self.io(inbox.earlier_failsafe, self.db, item["conversation_id"], item["id"]):
            messages = []  # this conversation already heard that Sam will be right back
        else:
            messages = [self._render_or_last_resort("utter_be_right_back")]
        if await self.io(inbox.add_failsafe, self.db, item, messages, self.now()):
            logger.warning("fail-safe for inbox %s (%s)", item["id"], "risk" if risk.escalate else "waiting")

    async def assess(self, text: str) -> Risk:
        """The lexicon's verdict, off the event loop. A failing check counts as a risk."""
        if not text or text.startswith("/"):
            return Risk(False)
        try:
            assessment = await asyncio.get_running_loop().run_in_executor(None, lambda: get_detector().assess(text))
        except Exception as error:
            logger.error("risk check failed (%s); answering with the last-resort helplines", type(error).__name__)
            return Risk(True, failed=True)
        return Risk(bool(assessment.escalate), assessment.category or "general")

    def _failsafe_reply(self, risk: Risk) -> Dict[str, Any]:
        if risk.failed:
            return {"text": LAST_RESORT_TEXT, "buttons": [], "response": None}
        try:
            return self._render("utter_failsafe_risk", helplines=helplines_text(risk.category, only_24_7=True))
        except Exception as error:
            logger.error("fail-safe text unavailable (%s); sending the last-resort text", type(error).__name__)
            return {"text": LAST_RESORT_TEXT, "buttons": [], "response": None}

    # --- texts -------------------------------------------------------------------------------
    def _render_or_last_resort(self, name: str, **variables: Any) -> Dict[str, Any]:
        try:
            return self._render(name, **variables)
        except Exception as error:
            logger.error("text %s unavailable (%s); sending the last-resort text", name, type(error).__name__)
            return {"text": LAST_RESORT_TEXT, "buttons": [], "response": None}

    @staticmethod
    def _render(name: str, **variables: Any) -> Dict[str, Any]:
        message = content.current().render(name, **variables)
        return {"text": message["text"], "buttons": message["buttons"], "response": name}

    @staticmethod
    def _from_rasa(message: Dict[str, Any]) -> Dict[str, Any]:
        buttons = [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                   for b in message.get("buttons") or [] if isinstance(b, dict)]
        return {"text": str(message.get("text") or ""), "buttons": buttons, "response": message.get("response")}


def one_set_of_buttons(replies: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """A turn shows one set of buttons, numbered once: only the last message with buttons keeps them."""
    with_buttons = [i for i, reply in enumerate(replies) if reply.get("buttons")]
    return [{**reply, "buttons": []} if i in with_buttons[:-1] else reply for i, reply in enumerate(replies)]


def reply_of(row: Dict[str, Any]) -> Reply:
    return Reply(row.get("text") or "", row.get("buttons") or [], row.get("response"))
