"""A local fake of the Telegram Bot API (reached through python-telegram-bot's base_url) and a
switchable proxy in front of the real Rasa server. Both run in a background thread."""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from typing import Any, Callable, Dict, List, Optional

from aiohttp import ClientSession, ClientTimeout, web

TOKEN = "123456:TEST-TOKEN"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _ThreadServer:
    """Runs an aiohttp app on its own event loop in a daemon thread."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.loop = asyncio.new_event_loop()
        self._runner: Optional[web.AppRunner] = None

    def app(self) -> web.Application:  # pragma: no cover - overridden
        raise NotImplementedError

    def start(self) -> _ThreadServer:
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)

            async def boot() -> None:
                self._runner = web.AppRunner(self.app(), access_log=None)
                await self._runner.setup()
                await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
                ready.set()

            self.loop.run_until_complete(boot())
            self.loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        assert ready.wait(10), "fake server did not start"
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


class FakeTelegram(_ThreadServer):
    """Speaks the Bot API: getMe, getUpdates (with offsets and long polling), sendMessage,
    answerCallbackQuery, sendChatAction, setMyCommands, deleteWebhook, setWebhook, leaveChat;
    records every call, including any getFile."""

    _first_update_id = 5000

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.calls: List[Dict[str, Any]] = []
        self.queue: List[Dict[str, Any]] = []
        self.confirmed = 0
        # Update ids keep rising over every fake of a test session, as they do for one real bot:
        # bridges of earlier modules stored their offset in the same database.
        FakeTelegram._first_update_id += 100000
        self.next_update_id = FakeTelegram._first_update_id
        self.next_message_id = 1
        self.held: set = set()
        self.too_many_requests = 0  # answer this many sendMessage calls with 429 (flood limit)
        self.forbidden: set = set()  # chats that blocked the bot: sendMessage answers 403
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # --- building updates ------------------------------------------------------------------
    def _user(self, chat_id: int, first_name: str, username: str) -> Dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": first_name, "last_name": "Testachternaam",
                "username": username, "language_code": "nl"}

    def push(self, update: Dict[str, Any]) -> int:
        with self._lock:
            if "update_id" not in update:
                self.next_update_id += 1
                update["update_id"] = self.next_update_id
            self.queue.append(update)
            return update["update_id"]

    def message(self, chat_id: int, text: Optional[str] = None, chat_type: str = "private",
                first_name: str = "Anna", username: str = "anna_test", **fields: Any) -> int:
        self.next_message_id += 1
        chat = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat.update(first_name=first_name, username=username)
        else:
            chat["title"] = "Groep"
        message = {"message_id": self.next_message_id, "date": int(time.time()), "chat": chat,
                   "from": self._user(chat_id if chat_type == "private" else 42, first_name, username), **fields}
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self.push({"message": message})

    def callback(self, chat_id: int, data: str, first_name: str = "Anna", username: str = "anna_test") -> int:
        self.next_message_id += 1
        return self.push({"callback_query": {
            "id": f"cb{self.next_message_id}", "from": self._user(chat_id, first_name, username),
            "chat_instance": "x", "data": data,
            "message": {"message_id": self.next_message_id, "date": int(time.time()),
                        "chat": {"id": chat_id, "type": "private"}, "text": "knoppen"}}})

    # --- inspecting ------------------------------------------------------------------------
    def called(self, method: str, chat_id: Optional[int] = None) -> List[Dict[str, Any]]:
        return [c["params"] for c in list(self.calls) if c["method"] == method
                and (chat_id is None or str(c["params"].get("chat_id")) == str(chat_id))]

    def texts(self, chat_id: int) -> List[str]:
        return [p["text"] for p in self.called("sendMessage", chat_id)]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return False

    # --- the HTTP side ---------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        return app

    async def _params(self, request: web.Request) -> Dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        params = {}
        for key, value in form.items():
            try:
                params[key] = json.loads(value)
            except (TypeError, ValueError):
                params[key] = value
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        while method in self.held:
            await asyncio.sleep(0.05)
        if request.transport is None or request.transport.is_closing():
            # The caller died while the call was held: Telegram never received it.
            return web.Response(status=499)
        self.calls.append({"method": method, "params": params, "at": time.time()})
        if method == "sendMessage" and str(params.get("chat_id")) in {str(c) for c in self.forbidden}:
            return web.json_response({"ok": False, "error_code": 403,
                                      "description": "Forbidden: bot was blocked by the user"}, status=403)
        if method == "sendMessage" and self.too_many_requests > 0:
            self.too_many_requests -= 1
            return web.json_response({"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                                      "parameters": {"retry_after": 1}}, status=429)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 400, "description": f"fake: {method}"}, status=400)
        return web.json_response({"ok": True, "result": await handler(params)})

    async def _api_getMe(self, params):
        return {"id": 999, "is_bot": True, "first_name": "Sam", "username": "sam_test_bot",
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _api_getUpdates(self, params):
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 2.0)
        while True:
            with self._lock:
                if offset:
                    self.confirmed = max(self.confirmed, offset)
                    self.queue = [u for u in self.queue if u["update_id"] >= offset]
                ready = list(self.queue[: int(params.get("limit") or 100)])
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.05)

    async def _api_sendMessage(self, params):
        self.next_message_id += 1
        return {"message_id": self.next_message_id, "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"}, "text": params.get("text", "")}

    async def _api_answerCallbackQuery(self, params):
        return True

    async def _api_sendChatAction(self, params):
        return True

    async def _api_setMyCommands(self, params):
        return True

    async def _api_deleteWebhook(self, params):
        return True

    async def _api_setWebhook(self, params):
        return True

    async def _api_leaveChat(self, params):
        return True

    async def _api_getFile(self, params):  # recorded above; Sam must never call it
        return {"file_id": params.get("file_id"), "file_unique_id": "u", "file_path": "photos/x.jpg"}


class RasaProxy(_ThreadServer):
    """Forwards the REST channel to the real Rasa server, or plays dead / slow on request."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target.rstrip("/")
        self.mode = "up"  # up | down | slow | hold (wait until the mode changes)
        self.requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        return app

    async def _forward(self, request: web.Request) -> web.Response:
        self.requests += 1
        while self.mode == "hold":
            await asyncio.sleep(0.05)
        if self.mode == "down":
            return web.Response(status=503)
        if self.mode == "slow":
            await asyncio.sleep(6)
        body = await request.read()
        async with ClientSession(timeout=ClientTimeout(total=30)) as session:
            async with session.request(request.method, f"{self.target}{request.rel_url}", data=body,
                                       headers={"Content-Type": "application/json"}) as response:
                return web.Response(status=response.status, body=await response.read(),
                                    content_type="application/json")
