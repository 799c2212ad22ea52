"""Telegram bridge (python-telegram-bot 22): translates Telegram updates for the gateway and
sends Sam's replies back. Polling by default, webhook mode when TELEGRAM_WEBHOOK_URL is set.

PTB's own Updater confirms updates before they are handled, so this bridge polls itself:
an update is written to the durable inbox first, and only then confirmed to Telegram (the next
getUpdates offset). Photos, videos, voice notes, stickers and files are never downloaded.
"""
from __future__ import annotations

import asyncio
import html
import hmac
import logging
import re
import warnings
from typing import Any, Dict, List, Optional, Tuple

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, ChatType
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest
from telegram.warnings import PTBUserWarning

from bot import content
from bot.config import Settings, secret_from_env_or_file
from bot.gateway import Gateway, Incoming, Reply
from bot.rasa_client import RasaClient
from bot.store import inbox
from bot.store.db import open_db

logger = logging.getLogger(__name__)
# Raw getUpdates is deliberate (see receive_raw); PTB warns about it on every call.
warnings.filterwarnings("ignore", message=r".*Bot\.getUpdates.*", category=PTBUserWarning)
CHANNEL = "telegram"
MAX_LENGTH = 4096  # Telegram's limit for one message
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
OFFSET_KEY = "telegram_offset"
POLL_TIMEOUT = 25
RETRY_SECONDS = 2.0
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


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
            if b.get("payload") and len(b["payload"].encode()) <= 64]
    return InlineKeyboardMarkup(rows) if rows else None


def translate(update: Update) -> Tuple[str, Optional[int], Optional[str], str]:
    """(kind, chat id, chat type, text) of an update; never looks at names or profile data."""
    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat if query.message is not None else None
        return "callback", chat.id if chat else query.from_user.id, chat.type if chat else ChatType.PRIVATE, \
            query.data or ""
    if update.edited_message is not None:
        return "edited", update.edited_message.chat.id, update.edited_message.chat.type, ""
    message = update.message
    if message is None:
        chat = update.effective_chat
        return "ignore", chat.id if chat else None, chat.type if chat else None, ""
    chat_id, chat_type = message.chat.id, message.chat.type
    if message.text is not None:
        kind = "command" if message.text.startswith("/") else "text"
        return kind, chat_id, chat_type, message.text
    if message.photo or message.animation:
        return "photo", chat_id, chat_type, ""
    if message.video or message.video_note:
        return "video", chat_id, chat_type, ""
    if message.voice or message.audio:
        return "voice", chat_id, chat_type, ""
    if message.sticker:
        return "sticker", chat_id, chat_type, ""
    if message.document:
        return "document", chat_id, chat_type, ""
    if message.new_chat_members or message.left_chat_member or message.group_chat_created:
        return "ignore", chat_id, chat_type, ""
    return "other", chat_id, chat_type, message.caption or ""


class TelegramBridge:
    def __init__(self, settings: Settings, bot: ExtBot, db=None, rasa: Optional[RasaClient] = None) -> None:
        self.settings = settings
        self.bot = bot
        self.db = db or open_db(settings.db_path)
        self.rasa = rasa or RasaClient(settings.rasa_url, settings.rasa_timeout)
        self.gateway = Gateway(CHANNEL, settings, self.db, self.rasa, self.send, self.typing)
        self._wake = asyncio.Event()

    # --- sending ---------------------------------------------------------------------------
    async def send(self, chat_key: str, reply: Reply) -> None:
        """Sends one reply: escaped HTML, split at sentences, buttons on the last part."""
        parts = split_text(reply.text) or ["…"]
        for index, part in enumerate(parts):
            markup = keyboard(reply.buttons) if index == len(parts) - 1 else None
            await self._call(self.bot.send_message, chat_id=int(chat_key), text=html.escape(part, quote=False),
                             parse_mode="HTML", reply_markup=markup)

    async def typing(self, chat_key: str) -> None:
        await self._call(self.bot.send_chat_action, chat_id=int(chat_key), action=ChatAction.TYPING)

    @staticmethod
    async def _call(method, **kwargs: Any) -> Any:
        """A Bot API call that waits out Telegram's flood limits (RetryAfter) and short outages."""
        for attempt in range(5):
            try:
                return await method(**kwargs)
            except RetryAfter as error:
                delay = error.retry_after.total_seconds() if hasattr(error.retry_after, "total_seconds") \
                    else float(error.retry_after)
                await asyncio.sleep(delay + 0.1)
            except Forbidden:
                logger.info("chat blocked the bot; reply dropped")
                return None
            except NetworkError:
                await asyncio.sleep(min(2 ** attempt, 10))
        raise NetworkError("Telegram did not accept the request after 5 attempts")

    # --- receiving -------------------------------------------------------------------------
    async def receive(self, update: Update) -> None:
        """Stores one update durably (or answers a group); never raises on bad input."""
        try:
            await self._receive(update)
        except Exception:
            logger.exception("could not handle update %s", update.update_id)
            inbox.receive(self.db, CHANNEL, str(update.update_id), None, "failed", None)

    async def _receive(self, update: Update) -> None:
        kind, chat_id, chat_type, text = translate(update)
        if update.callback_query is not None:
            await self._call(self.bot.answer_callback_query, callback_query_id=update.callback_query.id)
        if chat_id is None or kind == "ignore":
            inbox.receive(self.db, CHANNEL, str(update.update_id), None, "ignore", None)
            return
        if chat_type != ChatType.PRIVATE:
            if inbox.receive(self.db, CHANNEL, str(update.update_id), None, "group", None) is not None:
                message = content.current().render("utter_group_only_private")
                await self._call(self.bot.send_message, chat_id=chat_id,
                                 text=html.escape(message["text"], quote=False), parse_mode="HTML")
                await self._call(self.bot.leave_chat, chat_id=chat_id)
            return
        self.gateway.receive(Incoming(str(chat_id), str(update.update_id), kind, text))

    # --- loops -----------------------------------------------------------------------------
    async def process_forever(self) -> None:
        """Answers stored updates; retries while Rasa is unreachable."""
        while True:
            try:
                await self.gateway.process_pending()
            except Exception:
                logger.exception("processing failed")
            pending = inbox.pending(self.db, CHANNEL, limit=1)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=RETRY_SECONDS if pending else 30)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    async def receive_raw(self, data: Dict[str, Any]) -> None:
        """Parses one raw update on its own, so one that python-telegram-bot cannot read
        (a newer Bot API, a malformed object) is skipped instead of stopping the bridge."""
        try:
            update = Update.de_json(data, self.bot)
        except Exception as error:
            logger.warning("skipped unreadable update %s (%s)", data.get("update_id"), type(error).__name__)
            if "update_id" in data:
                inbox.receive(self.db, CHANNEL, str(data["update_id"]), None, "failed", None)
            return
        await self.receive(update)

    async def poll_forever(self, timeout: int = POLL_TIMEOUT) -> None:
        offset = int(inbox.get_value(self.db, OFFSET_KEY) or 0) or None
        while True:
            try:
                # Raw JSON (not Bot.get_updates) so every update is parsed on its own.
                updates = await self.bot.do_api_request(
                    "getUpdates", api_kwargs={"offset": offset, "timeout": timeout, "allowed_updates": ALLOWED_UPDATES},
                    read_timeout=timeout + 10)
            except TelegramError as error:
                logger.warning("getUpdates failed: %s", type(error).__name__)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            for data in updates or []:
                await self.receive_raw(data)
            if updates:
                # Stored: only now may Telegram forget them (the next getUpdates confirms).
                offset = max(int(u["update_id"]) for u in updates) + 1
                inbox.set_value(self.db, OFFSET_KEY, str(offset))
                self._wake.set()

    async def set_commands(self) -> None:
        commands = content.current().commands
        await self._call(self.bot.set_my_commands, commands=[BotCommand(name, text) for name, text in commands.items()])


def webhook_secret(settings: Settings) -> str:
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    return secret_from_env_or_file("TELEGRAM_WEBHOOK_SECRET", settings.data_dir, "webhook.secret").decode()


async def serve_webhook(bridge: TelegramBridge, settings: Settings) -> None:
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
        await bridge.receive_raw(data)
        bridge._wake.set()
        return web.Response(status=200)

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/telegram", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.telegram_webhook_port).start()
    await bridge._call(bridge.bot.set_webhook, url=settings.telegram_webhook_url, secret_token=secret,
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


async def run_bridge(settings: Settings, supervisor=None, poll_timeout: int = POLL_TIMEOUT) -> None:
    """Runs the bridge until cancelled; with a supervisor it also restarts dead servers."""
    bot = build_bot(settings)
    async with bot:
        bridge = TelegramBridge(settings, bot)
        if not settings.telegram_webhook_url:
            await bridge._call(bot.delete_webhook)  # polling and a webhook exclude each other
        # Last start-up call: once the menu is set, the bridge is fully configured.
        await bridge.set_commands()
        tasks = [asyncio.create_task(bridge.process_forever())]
        if settings.telegram_webhook_url:
            tasks.append(asyncio.create_task(serve_webhook(bridge, settings)))
        else:
            tasks.append(asyncio.create_task(bridge.poll_forever(poll_timeout)))
        tasks.append(asyncio.create_task(_purge_hourly(settings)))
        if supervisor is not None:
            tasks.append(asyncio.create_task(_supervise(supervisor)))
        print("Sam luistert op Telegram.", flush=True)
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await bridge.rasa.close()


async def _purge_hourly(settings: Settings) -> None:
    """Retention: data older than SAM_RETENTION_DAYS is deleted while the bridge runs."""
    from bot.retention import purge

    while True:
        try:
            await asyncio.get_running_loop().run_in_executor(None, purge, settings)
        except Exception:
            logger.exception("retention purge failed")
        await asyncio.sleep(3600)


async def _supervise(supervisor) -> None:
    while True:
        await asyncio.sleep(2)
        await asyncio.get_running_loop().run_in_executor(None, supervisor.check)
