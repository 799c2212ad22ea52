"""The runner: the loops around the gateway, for every channel alike.

- answering: one task per conversation with pending messages (in order within a conversation,
  conversations in parallel), so a slow conversation never holds up another;
- the fail-safe sweep: every pending message past its deadline gets helplines or a short note;
- sending: the outbox, row by row, each with its own retries; permanent failures are marked and
  logged, never retried, never blocking other rows;
- waking: a message another process puts in the outbox (the dashboard) is noticed by polling
  SQLite's `PRAGMA data_version` every 100 ms (measured: sent about 0.1 s after it was written);
- the schedule: the retention purge, hourly;
- supervision (optional): Rasa and the action server are started, and restarted when they die,
  while the channel is already answering with the fail-safe.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from datetime import timedelta
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from bot.gateway import Gateway, iso, reply_of
from bot.messages import Channel, PermanentSendError, TemporarySendError
from bot.store import inbox, outbox

logger = logging.getLogger(__name__)
TICK_SECONDS = 0.25  # how often the loops look at the database when nothing woke them
WATCH_SECONDS = 0.1  # how often `PRAGMA data_version` is read (costs microseconds)
PURGE_SECONDS = 3600.0
MAX_SEND_ATTEMPTS = 12  # with the backoff below: about half an hour of trying
MAX_BACKOFF_SECONDS = 300.0


def backoff(attempts: int) -> float:
    return min(2.0 ** attempts, MAX_BACKOFF_SECONDS)


class Runner:
    def __init__(self, gateway: Gateway, channels: List[Channel], purge: Optional[Callable[[], Any]] = None,
                 supervise: Optional[Callable[[], Any]] = None,
                 jobs: Sequence[Tuple[float, Callable[[], Any], str]] = ()) -> None:
        self.gateway = gateway
        self.channels: Dict[str, Channel] = {channel.name: channel for channel in channels}
        self.purge = purge
        self.supervise = supervise
        self.jobs = list(jobs)  # (every how many seconds, blocking function, name): run in a thread
        self._answering: Dict[str, asyncio.Task] = {}
        self._sending: Set[str] = set()
        self._send_tasks: Set[asyncio.Task] = set()
        self._wake_answer = asyncio.Event()
        self._wake_send = asyncio.Event()
        self._data_version: Optional[int] = None
        gateway.typing = self.typing

    @property
    def db(self):
        return self.gateway.db

    def wake(self) -> None:
        """Something new arrived in this process: look now instead of at the next tick."""
        self._wake_answer.set()
        self._wake_send.set()

    # --- the loops ---------------------------------------------------------------------------
    async def run(self) -> None:
        """Runs every loop until cancelled."""
        loops = [self._answer_loop(), self._failsafe_loop(), self._send_loop(), self._watch_loop()] \
            if self.channels else []
        if self.purge is not None:
            loops.append(self._every(PURGE_SECONDS, self.purge, "retention purge"))
        loops += [self._every(seconds, job, name) for seconds, job, name in self.jobs]
        if self.supervise is not None:
            loops.append(self._supervise())
        tasks = [asyncio.create_task(loop) for loop in loops]
        try:
            await asyncio.gather(*tasks)
        finally:
            pending = [*tasks, *self._answering.values(), *self._send_tasks]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _answer_loop(self) -> None:
        while True:
            await self._guarded(self.start_answering(), "answering")
            await self._sleep(self._wake_answer)

    async def _failsafe_loop(self) -> None:
        while True:
            if await self._guarded(self.gateway.failsafe_sweep(self.channels), "fail-safe sweep"):
                self._wake_send.set()
            await asyncio.sleep(TICK_SECONDS)

    async def _send_loop(self) -> None:
        while True:
            await self._guarded(self.start_sending(), "sending")
            await self._sleep(self._wake_send)

    async def _watch_loop(self) -> None:
        """Wakes the other loops when another process committed to the database."""
        while True:
            version = await self.gateway.io(lambda: self.db.execute("PRAGMA data_version").fetchone()[0])
            if self._data_version is not None and version != self._data_version:
                self.wake()
            self._data_version = version
            await asyncio.sleep(WATCH_SECONDS)

    async def _every(self, seconds: float, job: Callable[[], Any], name: str) -> None:
        while True:
            try:
                counts = await asyncio.get_running_loop().run_in_executor(None, job)
                logger.info("%s: %s", name, counts)
            except Exception:
                logger.exception("%s failed", name)
            await asyncio.sleep(seconds)

    async def _supervise(self) -> None:
        """Runs the blocking supervisor in a daemon thread of its own: it must not keep the
        process alive at shutdown, and the supervisor's own stop() ends it."""
        done = asyncio.get_running_loop().create_future()

        def run() -> None:
            try:
                self.supervise()
            except Exception:
                logger.exception("supervision stopped")
            finally:
                if not done.done():
                    done.get_loop().call_soon_threadsafe(lambda: done.done() or done.set_result(None))

        threading.Thread(target=run, name="sam-supervisor", daemon=True).start()
        await done

    @staticmethod
    async def _sleep(event: asyncio.Event) -> None:
        try:
            await asyncio.wait_for(event.wait(), timeout=TICK_SECONDS)
        except asyncio.TimeoutError:
            pass
        event.clear()

    @staticmethod
    async def _guarded(awaitable: Any, what: str) -> Any:
        try:
            return await awaitable
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("%s failed", what)
            return None

    # --- answering ---------------------------------------------------------------------------
    async def start_answering(self) -> None:
        """Starts a task for every conversation with pending messages that has none yet."""
        await self.gateway.close_orphans(self.channels)
        # Also while Rasa is down: what needs no Rasa (media, commands, a taken-over chat) is answered,
        # the rest waits (process_next says 'wait' at once) and the fail-safe sweep covers it.
        for conversation_id in await self.gateway.io(inbox.pending_conversations, self.db, list(self.channels)):
            if conversation_id not in self._answering:
                self._answering[conversation_id] = asyncio.create_task(self._answer(conversation_id))

    async def _answer(self, conversation_id: str) -> None:
        try:
            while await self.gateway.process_next(conversation_id) == "done":
                self._wake_send.set()
        finally:
            self._answering.pop(conversation_id, None)

    async def settle(self, timeout: float = 10.0) -> None:
        """Waits until the running answer tasks are done (for the terminal chat and tests)."""
        tasks = list(self._answering.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    # --- sending -----------------------------------------------------------------------------
    async def start_sending(self) -> int:
        """Sends every due outbox row: conversations in parallel, each conversation in order."""
        rows = await self.gateway.io(outbox.due, self.db, list(self.channels), self.gateway.now())
        groups: Dict[str, List[Dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(row["conversation_id"] or f"row:{row['id']}", []).append(row)
        for key, group in groups.items():
            if key in self._sending:
                continue  # still sending earlier rows of this conversation
            self._sending.add(key)
            task = asyncio.create_task(self._send_group(key, group))
            self._send_tasks.add(task)
            task.add_done_callback(self._send_tasks.discard)
        return len(rows)

    async def flush(self) -> None:
        """Sends what is due now and waits until it went out (tests, the terminal chat)."""
        await self.start_sending()
        while self._send_tasks:
            await asyncio.wait(list(self._send_tasks))

    async def _send_group(self, key: str, rows: List[Dict[str, Any]]) -> None:
        try:
            for row in rows:
                if not await self._send_row(row):
                    break  # a later message must not overtake one that waits for a retry
        finally:
            self._sending.discard(key)

    async def _send_row(self, row: Dict[str, Any]) -> bool:
        """Sends one row. False when it has to wait for a retry."""
        channel = self.channels[row["channel"]]
        who = (row["conversation_id"] or "-")[:8]  # pseudonym prefix: enough to find it, nothing more
        chat_key = await self.gateway.io(self.gateway.chat_key, row["conversation_id"], row["chat_ref"])
        if chat_key is None:
            # No readable chat reference (the encryption key changed, or the conversation was
            # erased): never pretend it was sent. It is tried again, because the young person's
            # next message refreshes the reference.
            logger.error("outbox %s for conversation %s has no readable chat reference (key changed?); not sent",
                         row["id"], who)
            return await self._retry_or_give_up(row, "undeliverable", "no readable chat reference")
        try:
            await channel.send(chat_key, reply_of(row))
        except PermanentSendError as error:
            logger.error("outbox %s for conversation %s refused for good: %s", row["id"], who, error)
            await self.gateway.io(outbox.give_up, self.db, row["id"], "failed", str(error))
            return True
        except TemporarySendError as error:
            logger.warning("outbox %s for conversation %s not sent yet: %s", row["id"], who, error)
            return await self._retry_or_give_up(row, "failed", str(error), error.retry_after)
        except Exception as error:
            logger.exception("outbox %s for conversation %s: unexpected send error", row["id"], who)
            return await self._retry_or_give_up(row, "failed", type(error).__name__)
        await self.gateway.io(outbox.mark_sent, self.db, row["id"], self.gateway.now())
        if row["leave_chat"]:
            try:
                await channel.leave(chat_key)
            except Exception:
                logger.exception("leaving a chat failed")
        return True

    async def _retry_or_give_up(self, row: Dict[str, Any], final: str, error: str,
                                retry_after: Optional[float] = None) -> bool:
        attempts = (row["attempts"] or 0) + 1
        if attempts >= MAX_SEND_ATTEMPTS:
            logger.error("outbox %s for conversation %s given up after %d attempts (%s)", row["id"],
                         (row["conversation_id"] or "-")[:8], attempts, final)
            await self.gateway.io(outbox.give_up, self.db, row["id"], final, error)
            return True
        delay = max(retry_after or 0.0, backoff(attempts))
        await self.gateway.io(outbox.retry_later, self.db, row["id"],
                              iso(self.gateway.clock() + timedelta(seconds=delay)), error)
        return False

    # --- helpers for channels ----------------------------------------------------------------
    async def typing(self, channel: str, conversation_id: str) -> None:
        """Shows "Sam is typing" while Rasa thinks; never holds up the answer."""
        chat_key = await self.gateway.io(self.gateway.chat_key, conversation_id)
        if chat_key is not None:
            try:
                await self.channels[channel].typing(chat_key)
            except Exception:
                logger.debug("typing indicator failed")
