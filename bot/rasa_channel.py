"""Sam's input channel in the Rasa server (credentials.yml: bot.rasa_channel.SamInput).

Like Rasa's REST channel, with three differences the runner relies on:
- idempotent by inbox id: a message whose inbox id is already in the conversation's tracker is
  not handled again; the replies it got the first time are returned instead;
- each reply comes back whole, with its response name (Rasa's collector splits texts at blank
  lines and drops the name);
- a failure is an HTTP 500 (so the runner tries again), never an empty answer, and nothing of
  the message text is logged.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)
CONTEXT_TURNS = 2
CONTEXT_SECONDS = 600


def _tracker_store(request: Request) -> Any:
    agent = request.app.ctx.agent
    return getattr(agent, "tracker_store", None) or agent.processor.tracker_store


def reply_of(message: Dict[str, Any]) -> Dict[str, Any]:
    return {"text": message.get("text") or "", "buttons": message.get("buttons") or [],
            "response": message.get("utter_action")}


class WholeReplies(CollectingOutputChannel):
    """Collects each bot message whole, with its response name."""

    @classmethod
    def name(cls) -> Text:
        return "sam"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        if message.get("text") or message.get("buttons"):
            self.messages.append(reply_of(message))


def replies_after(events: List[Any], inbox_id: str) -> Optional[List[Dict[str, Any]]]:
    """The bot messages that answered the user message with this inbox id, or None if it is new."""
    found, replies = False, []
    for event in events:
        if isinstance(event, UserUttered):
            if found:
                break
            found = (event.metadata or {}).get("inbox_id") == inbox_id
        elif found and isinstance(event, BotUttered):
            replies.append(reply_of({"text": event.text, **(event.data or {}), **(event.metadata or {})}))
    return replies if found else None


class SamInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "sam"

    def __init__(self) -> None:
        # One message per conversation at a time in this process, so "already answered?" and
        # "answer it" cannot interleave for the same inbox id.
        self._locks: Dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> SamInput:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("sam_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json or {}
            sender, text = body.get("sender"), body.get("message")
            metadata = body.get("metadata") or {}
            inbox_id = metadata.get("inbox_id")
            if not isinstance(sender, str) or not isinstance(text, str):
                return response.json({"error": "sender and message are required"}, status=400)
            async with self._locks[sender]:
                try:
                    if inbox_id and metadata.get("retry"):
                        earlier = await self._earlier_replies(request, sender, inbox_id)
                        if earlier is not None:
                            logger.info("inbox %s was answered before; returning that answer", inbox_id)
                            return response.json(earlier)
                    collector = WholeReplies()
                    context = await self._recent_texts(request, sender) if not text.startswith("/") else []
                    await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(),
                                                     metadata={"inbox_id": inbox_id, "context": context}))
                    return response.json(collector.messages)
                except Exception as error:  # never log the text: it is a young person's message
                    logger.error("handling a message failed (%s)", type(error).__name__)
                    return response.json({"error": "failed"}, status=500)

        return webhook

    @staticmethod
    async def _recent_texts(request: Request, sender: str) -> List[str]:
        """The young person's previous messages (at most CONTEXT_TURNS, within CONTEXT_SECONDS),
        so the risk components can read fragments ("ja, bij mij") in their context. Never stored:
        it rides along in the message's metadata for this one parse."""
        tracker = await _tracker_store(request).retrieve(sender)
        if tracker is None:
            return []
        now = time.time()
        texts = [e.text for e in tracker.events if isinstance(e, UserUttered) and e.text
                 and not e.text.startswith("/") and now - (e.timestamp or 0) <= CONTEXT_SECONDS]
        return texts[-CONTEXT_TURNS:]

    @staticmethod
    async def _earlier_replies(request: Request, sender: str, inbox_id: str) -> Optional[List[Dict[str, Any]]]:
        tracker = await _tracker_store(request).retrieve(sender)
        return replies_after(list(tracker.events), inbox_id) if tracker is not None else None
