"""Wires one process together: the store, the gateway, the runner and a channel. The runner starts
first, so the fail-safe answers while Rasa starts, trains or restarts."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Optional

from bot.config import Settings
from bot.gateway import Gateway
from bot.rasa_client import RasaClient
from bot.runner import Runner
from bot.store.db import open_db

logger = logging.getLogger(__name__)


def build_gateway(settings: Settings) -> Gateway:
    return Gateway(settings, open_db(settings.db_path), RasaClient(settings.rasa_url, settings.rasa_request_timeout))


REQUEST_CHECK_SECONDS = 30.0


def _purge(settings: Settings) -> Callable[[], Any]:
    from bot.retention import purge

    return lambda: purge(settings)


def _jobs(settings: Settings) -> list:
    """Scheduled work besides the purge: a request for a person nobody picked up falls back to
    the helplines; a chat whose moderator's session ended goes back to Sam."""
    from bot.requests import run_expiry

    return [(REQUEST_CHECK_SECONDS, lambda: run_expiry(settings), "request fallback")]


async def serve(settings: Settings, channel: Optional[str], supervise: Optional[Callable[[], Any]] = None) -> None:
    """Runs until cancelled (or, for the terminal, until the chat ends). `channel` is 'telegram',
    'terminal' or None (only the schedule and supervision, for `make serve`)."""
    gateway = build_gateway(settings)
    # Load the risk lexicon now, not when the first message is waiting for its fail-safe.
    warm_up = asyncio.create_task(gateway.assess("hallo"))
    try:
        if channel == "telegram":
            await _serve_telegram(settings, gateway, supervise)
        elif channel == "terminal":
            await _serve_terminal(settings, gateway, supervise)
        else:
            await Runner(gateway, [], purge=_purge(settings), supervise=supervise, jobs=_jobs(settings)).run()
    finally:
        warm_up.cancel()
        await gateway.rasa.close()
        gateway.close()


async def _serve_telegram(settings: Settings, gateway: Gateway, supervise: Optional[Callable[[], Any]]) -> None:
    from bot.channels.telegram import TelegramChannel, build_bot, run_telegram

    bot = build_bot(settings)
    channel = TelegramChannel(settings, bot, gateway)
    runner = Runner(gateway, [channel], purge=_purge(settings), supervise=supervise, jobs=_jobs(settings))
    channel.wake = runner.wake
    runner_task = asyncio.create_task(runner.run())
    try:
        while True:  # Telegram may be unreachable at start; the runner already works meanwhile
            try:
                await bot.initialize()
                break
            except Exception as error:
                logger.warning("Telegram not reachable yet (%s)", type(error).__name__)
                await asyncio.sleep(2)
        await asyncio.gather(runner_task, run_telegram(settings, channel))
    finally:
        runner_task.cancel()
        await asyncio.gather(runner_task, return_exceptions=True)
        try:
            await bot.shutdown()
        except Exception:
            logger.debug("bot shutdown failed")


async def _serve_terminal(settings: Settings, gateway: Gateway, supervise: Optional[Callable[[], Any]]) -> None:
    from bot.channels.terminal import TerminalChannel

    channel = TerminalChannel()
    runner = Runner(gateway, [channel], purge=_purge(settings), supervise=supervise, jobs=_jobs(settings))
    runner_task = asyncio.create_task(runner.run())
    try:
        await channel.run(gateway, runner.wake)
        await asyncio.sleep(0.3)  # let the last reply go out
    finally:
        runner_task.cancel()
        await asyncio.gather(runner_task, return_exceptions=True)
