"""The dashboard app: `create_app()` for tests and uvicorn, `main()` for `python -m bot dashboard`
and the supervised service that `make run` starts (bot/services.py)."""
from __future__ import annotations

import contextlib
import logging
import threading
from typing import AsyncIterator, Optional

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from bot.config import Settings, load_settings
from bot.dashboard import admin, auth, content_pages, conversation, queue, stats
from bot.dashboard.web import STATIC_DIR, Ctx, database
from bot.store import accounts
from bot.store.db import open_db

logger = logging.getLogger(__name__)
FIRST_ACCOUNT_HINT = ("Er is nog geen account voor het dashboard. Maak het eerste account (een beheerder) zo:\n"
                      "  .venv/bin/python -m bot moderators add NAAM --role admin\n"
                      "en typ daarna het wachtwoord (minstens {n} tekens).")


def _warm_up() -> None:
    """Loads content/ once in the background (its checks import spaCy, which takes seconds), so
    the first takeover does not wait for it."""
    try:
        from bot import content

        content.current()
    except Exception:  # noqa: BLE001 - a takeover then goes on without Sam's text (logged there)
        logger.exception("content/ could not be loaded")


async def _not_found(request: Request, exc: Exception) -> Response:
    settings = request.app.state.settings
    ctx = Ctx(request, settings, database(settings.db_path))
    status = getattr(exc, "status_code", 404)
    return ctx.render("error.html", status=status, message="Deze pagina bestaat niet." if status == 404
                      else "Dit kan hier niet.")


def create_app(settings: Optional[Settings] = None, warm_up: bool = True) -> Starlette:
    settings = settings or load_settings()
    open_db(settings.db_path).conn.close()  # the schema is up to date before the first request

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if warm_up:
            threading.Thread(target=_warm_up, name="content-warm-up", daemon=True).start()
        yield

    routes = [*auth.routes(), *queue.routes(), *conversation.routes(), *admin.routes(), *stats.routes(),
              *content_pages.routes(),
              Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static")]
    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(auth.SecurityHeaders, https=settings.dashboard_url.startswith("https://"))],
                    exception_handlers={404: _not_found, 405: _not_found})
    app.state.settings = settings
    return app


def first_account_hint(settings: Settings) -> Optional[str]:
    """How to make the first account, when there is none (printed by `make run`)."""
    db = open_db(settings.db_path)
    try:
        if db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]:
            return None
    finally:
        db.conn.close()
    return FIRST_ACCOUNT_HINT.format(n=accounts.MIN_PASSWORD_LENGTH)


def main() -> None:
    import sys

    import uvicorn

    # spaCy (content checks) would import TensorFlow through thinc: seconds and memory for nothing.
    sys.modules.setdefault("tensorflow", None)

    settings = load_settings()
    # No websockets (the pinned websockets is older than uvicorn's), plain h11 and asyncio: nothing
    # the dashboard needs is left out, and nothing depends on optional extras.
    uvicorn.run(create_app(settings), host=settings.dashboard_host, port=settings.dashboard_port, http="h11",
                ws="none", loop="asyncio", log_level="warning", access_log=False, proxy_headers=True,
                server_header=False)


if __name__ == "__main__":
    main()
