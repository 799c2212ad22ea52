"""Talks to the Rasa server's REST channel (/webhooks/rest/webhook)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import httpx


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


class RasaClient:
    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._client: Optional[httpx.AsyncClient] = None

    async def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, trust_env=False)
        return self._client

    async def send(self, conversation_id: str, text: str) -> List[Dict[str, Any]]:
        """The replies to one message, as Rasa REST messages (text, buttons)."""
        client = await self._http()
        try:
            response = await client.post(f"{self.base_url}/webhooks/rest/webhook",
                                         json={"sender": conversation_id, "message": text})
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise RasaUnavailable(str(error)) from error

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
