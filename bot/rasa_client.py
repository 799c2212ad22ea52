"""Talks to the Rasa server through Sam's own input channel (bot/rasa_channel.py).

Every message carries its inbox id. Rasa answers an inbox id once: asked again (after a crash or
a lost connection), it returns the first answer instead of handling the message a second time.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import httpx

WEBHOOK = "/webhooks/sam/webhook"


class RasaUnavailable(Exception):
    """Rasa could not be reached, answered with an error, or took longer than the request limit."""


class RasaClient:
    def __init__(self, base_url: str, request_timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        # Long on purpose: the fail-safe answers at the (short) deadline while this request keeps
        # waiting, so a slow Rasa is never asked the same message twice.
        self.request_timeout = request_timeout
        self._client: Optional[httpx.AsyncClient] = None

    async def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.request_timeout, connect=2.0),
                                             trust_env=False)
        return self._client

    async def send(self, conversation_id: str, text: str, inbox_id: str, retry: bool = False) -> List[Dict[str, Any]]:
        """Sam's replies to one message: dicts with text, buttons and the response name."""
        client = await self._http()
        try:
            response = await client.post(f"{self.base_url}{WEBHOOK}", json={
                "sender": conversation_id, "message": text, "metadata": {"inbox_id": inbox_id, "retry": retry}})
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise RasaUnavailable(type(error).__name__) from error
        if not isinstance(replies, list):
            raise RasaUnavailable("unexpected answer")
        return [r for r in replies if isinstance(r, dict)]

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
