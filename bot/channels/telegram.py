"""Telegram (python-telegram-bot 22): translates Bot API updates into `Incoming` messages for the
gateway and sends the runner's replies. Polling by default, webhook mode with TELEGRAM_WEBHOOK_URL.

PTB's own Updater confirms updates before they are handled, so this channel polls itself: an
update is written to the durable inbox first, and only then confirmed to Telegram (the next
getUpdates offset). Updates are read as plain JSON, field by field, so an update that a newer Bot
API shapes differently can never stop the channel. Photos, videos, voice notes, stickers and
files are never downloaded: only their kind and caption are used.
"""
from __future__ import annotations

import asyncio
import hmac
import html
import logging
import re
import warnings
from typing import Any, Dict, List, Optional, Tuple

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ChatAction
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest
from telegram.warnings import PTBUserWarning

from bot import content
from bot.config import Settings, secret_from_env_or_file
from bot.gateway import Gateway
from bot.messages import Incoming, PermanentSendError, Reply, TemporarySendError
from bot.store import kv

logger = logging.getLogger(__name__)
# Raw getUpdates is deliberate (see poll_forever); PTB warns about it on every call.
warnings.filterwarnings("ignore", message=r".*Bot\.getUpdates.*", category=PTBUserWarning)
CHANNEL = "telegram"
MAX_LENGTH = 4096  # Telegram's limit for one message
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
OFFSET_KEY = "telegram_offset"
POLL_TIMEOUT = 25
RETRY_SECONDS = 2.0
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
# Message fields -> the kind the gateway answers; the first one present wins.
MEDIA_FIELDS = (("photo", "photo"), ("animation", "photo"), ("video", "video"), ("video_note", "video"),
                ("voice", "voice"), ("audio", "voice"), ("sticker", "sticker"), ("document", "document"))
SERVICE_FIELDS = ("new_chat_members", "left_chat_member", "group_chat_created", "supergroup_chat_created",
                  "migrate_to_chat_id", "migrate_from_chat_id", "pinned_message", "new_chat_title")


def split_text(text: str, limit: int = MAX_LENGTH) -> List[str]:
    """Splits a long text into parts of at most `limit` characters, at sentence boundaries."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    parts: List[str] = []
    current = ""
    pieces = []
    position = 0
    for match in _SENTENCE_END.finditer(text):
        pieces.append(text[position:match.end()])
        position = match.end()
    pieces.append(text[position:])
    for piece in pieces:
        while len(piece) > limit:  # one "sentence" longer than the limit: cut at a space
            cut = piece.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            if current:
                parts.append(current.rstrip())
                current = ""
            parts.append(piece[:cut].rstrip())
            piece = piece[cut:].lstrip()
        if len(current) + len(piece) > limit:
            parts.append(current.rstrip())
            current = ""
        current += piece
    if current.strip():
        parts.append(current.rstrip())
    return [p for p in parts if p]


def keyboard(buttons: List[Dict[str, str]]) -> Optional[InlineKeyboardMarkup]:
    rows = [[InlineKeyboardButton(b["title"], callback_data=b["payload"])] for b in buttons
            if b.get("payload") and b.get("title") and len(b["payload"].encode()) <= 64]
    return InlineKeyboardMarkup(rows) if rows else None


def _dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _chat_id(value: Any) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else ""


def parse_update(data: Any) -> Tuple[Optional[Incoming], Optional[str]]:
    """(the message for the gateway, a callback query id to acknowledge) of one raw update.

    Never raises and never looks at names or profile data. An update without a usable update_id
    gives (None, None); one Sam does not answer is an Incoming of kind 'ignore' (stored, so a
    redelivery is recognised).
    """
    data = _dict(data)
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None, None
    key = str(update_id)
    query = _dict(data.get("callback_query"))
    if query:
        chat = _dict(_dict(query.get("message")).get("chat"))
        chat_id = _chat_id(chat.get("id")) or _chat_id(_dict(query.get("from")).get("id"))
        kind = "callback" if chat.get("type", "private") == "private" else "ignore"
        return Incoming(chat_id, key, kind if chat_id else "ignore", _text(query.get("data"))), \
            _text(query.get("id")) or None
    edited = "edited_message" in data
    message = _dict(data.get("edited_message") if edited else data.get("message"))
    chat = _dict(message.get("chat"))
    chat_id = _chat_id(chat.get("id"))
    if not message or not chat_id:
        return Incoming("", key, "ignore"), None
    if any(message.get(field) for field in SERVICE_FIELDS):
        return Incoming(chat_id, key, "ignore"), None
    if chat.get("type") != "private":
        return Incoming(chat_id, key, "ignore" if edited else "group"), None
    text = _text(message.get("text"))
    caption = _text(message.get("caption"))
    if edited:
        return Incoming(chat_id, key, "edited", text or caption), None
    if "text" in message:
        return Incoming(chat_id, key, "command" if text.startswith("/") else "text", text), None
    for field, kind in MEDIA_FIELDS:
        if message.get(field):
            return Incoming(chat_id, key, kind, caption), None
    return Incoming(chat_id, key, "other", caption), None


class TelegramChannel:
    """Sends replies and receives updates; knows nothing of Rasa, risk or storage rules."""

    name = CHANNEL

    def __init__(self, settings: Settings, bot: ExtBot, gateway: Gateway, wake=lambda: None) -> None:
        self.settings = settings
        self.bot = bot
        self.gateway = gateway
        self.wake = wake

    # --- sending -----------------------------------------------------------------------------
    async def send(self, chat_key: str, reply: Reply) -> None:
        """Sends one reply: escaped HTML, split at sentences, buttons on the last part."""
        parts = split_text(reply.text) or ["…"]
        for index, part in enumerate(parts):
            markup = keyboard(reply.buttons) if index == len(parts) - 1 else None
            await self._deliver(self.bot.send_message, chat_id=int(chat_key), text=html.escape(part, quote=False),
                                parse_mode="HTML", reply_markup=markup)

    async def typing(self, chat_key: str) -> None:
        await self._deliver(self.bot.send_chat_action, chat_id=int(chat_key), action=ChatAction.TYPING)

    async def leave(self, chat_key: str) -> None:
        await self._deliver(self.bot.leave_chat, chat_id=int(chat_key))

    @staticmethod
    async def _deliver(method, **kwargs: Any) -> Any:
        """One Bot API call, its failure translated for the runner (which does the retrying)."""
        try:
            return await method(**kwargs)
        except RetryAfter as error:
            delay = error.retry_after.total_seconds() if hasattr(error.retry_after, "total_seconds") \
                else float(error.retry_after)
            raise TemporarySendError("Telegram flood limit", retry_after=delay + 0.1) from error
        except (Forbidden, BadRequest, ChatMigrated) as error:  # blocked, chat not found, bad request
            raise PermanentSendError(f"{type(error).__name__}: {error.message}") from error
        except (TelegramError, InvalidToken) as error:  # network errors, time-outs, server errors
            raise TemporarySendError(type(error).__name__) from error

    async def _call(self, method, **kwargs: Any) -> Any:
        """A set-up call (menu, webhook) that waits out short outages."""
        for attempt in range(5):
            try:
                return await self._deliver(method, **kwargs)
            except TemporarySendError as error:
                await asyncio.sleep(error.retry_after or min(2 ** attempt, 10))
        raise TemporarySendError("Telegram did not accept the request after 5 attempts")

    # --- receiving ---------------------------------------------------------------------------
    async def receive_raw(self, data: Any) -> None:
        """Stores one raw update durably; never raises on bad input."""
        incoming, callback_id = parse_update(data)
        if incoming is None:
            logger.warning("skipped an update without update_id")
            return
        if callback_id:
            try:
                await self.bot.answer_callback_query(callback_query_id=callback_id)
            except TelegramError as error:
                logger.info("answering a button press failed (%s)", type(error).__name__)
        await self.gateway.receive(CHANNEL, incoming)
        self.wake()

    async def poll_forever(self, timeout: int = POLL_TIMEOUT) -> None:
        offset = int(await self.gateway.io(kv.get_value, self.gateway.db, OFFSET_KEY) or 0) or None
        while True:
            try:
                # Raw JSON (not Bot.get_updates) so every update is translated on its own.
                updates = await self.bot.do_api_request(
                    "getUpdates", api_kwargs={"offset": offset, "timeout": timeout, "allowed_updates": ALLOWED_UPDATES},
                    read_timeout=timeout + 10)
            except TelegramError as error:
                logger.warning("getUpdates failed: %s", type(error).__name__)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            updates = [u for u in updates or [] if isinstance(u, dict)]
            for data in updates:
                try:
                    await self.receive_raw(data)
                except Exception:  # storage failed: do not confirm, Telegram sends it again
                    logger.exception("storing an update failed")
                    updates = []
                    await asyncio.sleep(RETRY_SECONDS)
                    break
            ids = [u["update_id"] for u in updates if isinstance(u.get("update_id"), int)]
            if ids:
                # Stored: only now may Telegram forget them (the next getUpdates confirms).
                offset = max(ids) + 1
                await self.gateway.io(kv.set_value, self.gateway.db, OFFSET_KEY, str(offset))

    async def set_commands(self) -> None:
        commands = content.current().commands
        await self._call(self.bot.set_my_commands, commands=[BotCommand(name, text) for name, text in commands.items()])


def webhook_secret(settings: Settings) -> str:
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    return secret_from_env_or_file("TELEGRAM_WEBHOOK_SECRET", settings.data_dir, "webhook.secret").decode()


async def serve_webhook(channel: TelegramChannel, settings: Settings) -> None:
    """Receives updates over HTTPS (behind a proxy); every request must carry the secret token."""
    from aiohttp import web

    secret = webhook_secret(settings)

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403)
        try:
            data = await request.json()
        except Exception:
            return web.Response(status=400)
        try:
            await channel.receive_raw(data)
        except Exception:  # not stored: a 500 makes Telegram deliver it again
            logger.exception("storing an update failed")
            return web.Response(status=500)
        return web.Response(status=200)

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/telegram", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.telegram_webhook_port).start()
    await channel._call(channel.bot.set_webhook, url=settings.telegram_webhook_url, secret_token=secret,
                        allowed_updates=ALLOWED_UPDATES)
    await asyncio.Event().wait()


def build_bot(settings: Settings) -> ExtBot:
    return ExtBot(
        settings.telegram_token,
        base_url=settings.telegram_api_base_url,
        rate_limiter=AIORateLimiter(max_retries=3),
        request=HTTPXRequest(connection_pool_size=16),
        get_updates_request=HTTPXRequest(read_timeout=POLL_TIMEOUT + 10),
    )


async def run_telegram(settings: Settings, channel: TelegramChannel, poll_timeout: int = POLL_TIMEOUT) -> None:
    """Configures the bot at Telegram and receives updates until cancelled."""
    if not settings.telegram_webhook_url:
        await channel._call(channel.bot.delete_webhook)  # polling and a webhook exclude each other
    # Last start-up call: once the menu is set, the channel is fully configured.
    await channel.set_commands()
    print("Sam luistert op Telegram.", flush=True)
    if settings.telegram_webhook_url:
        await serve_webhook(channel, settings)
    else:
        await channel.poll_forever(poll_timeout)
