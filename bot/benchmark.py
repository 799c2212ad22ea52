"""Speed measurements, written to reports/bench.json: REST round trip for one user (target
p95 <= 100 ms), the risk check alone (the fail-safe path), and the runner itself with a fake Rasa
(reply latency, event-loop stalls, the cross-process outbox wake-up)."""
from __future__ import annotations

import json
import os
import socket
import statistics
import tempfile
import time
from typing import Dict, List

import httpx

from bot.config import REPORTS_DIR, load_settings

MESSAGES = ["hoi", "wat is sexting", "hoe zet ik mijn account op prive", "ja", "wat is grooming", "nee",
            "hoe blokkeer ik iemand op snap", "dankjewel", "wat is een loverboy", "doei"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentiles(samples: List[float]) -> Dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]  # noqa: E731
    return {"n": len(ordered), "p50_ms": round(pick(0.5), 1), "p95_ms": round(pick(0.95), 1),
            "p99_ms": round(pick(0.99), 1), "mean_ms": round(statistics.mean(ordered), 1)}


def rest_round_trip(url: str, messages: int) -> Dict[str, float]:
    samples = []
    with httpx.Client(timeout=30) as client:
        for i in range(messages + 10):
            sender = f"bench-{i // len(MESSAGES)}"
            started = time.perf_counter()
            client.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": MESSAGES[i % len(MESSAGES)]})
            if i >= 10:  # warm-up excluded
                samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def risk_check(messages: int) -> Dict[str, float]:
    from bot.risk import get_detector

    detector = get_detector()
    samples = []
    for i in range(messages):
        started = time.perf_counter()
        detector.assess(MESSAGES[i % len(MESSAGES)] + " ik wil dood" * (i % 2))
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


class _InstantRasa:
    """Answers after a fixed delay, like a healthy Rasa, so the runner itself is measured."""

    async def send(self, conversation_id, text, inbox_id, retry=False):
        import asyncio

        await asyncio.sleep(0.02)
        return [{"text": "ok", "buttons": [], "response": None}]

    async def close(self):
        return None


class _NullChannel:
    name = "bench"

    def __init__(self) -> None:
        self.sent_at: Dict[str, float] = {}

    async def send(self, chat_key, reply):
        self.sent_at.setdefault(chat_key, time.perf_counter())

    async def typing(self, chat_key):
        return None

    async def leave(self, chat_key):
        return None


def runner_pipeline(messages: int) -> Dict[str, Dict[str, float]]:
    """The runner and gateway with SQLite (full sync) and a 20 ms fake Rasa: time from receiving a
    message to sending its reply, the longest stall of the event loop meanwhile, and how long a
    message another process puts in the outbox takes to go out (the dashboard's path)."""
    import asyncio

    from bot.gateway import Gateway
    from bot.messages import Incoming
    from bot.runner import Runner
    from bot.store import outbox
    from bot.store.db import open_db

    async def measure() -> Dict[str, Dict[str, float]]:
        settings = load_settings()
        gateway = Gateway(settings, open_db(settings.db_path), _InstantRasa())
        channel = _NullChannel()
        runner = Runner(gateway, [channel])
        stalls: List[float] = []

        async def tick() -> None:
            while True:
                started = time.perf_counter()
                await asyncio.sleep(0.005)
                stalls.append((time.perf_counter() - started - 0.005) * 1000)

        tasks = [asyncio.create_task(runner.run()), asyncio.create_task(tick())]
        received: Dict[str, float] = {}
        for i in range(messages):
            chat = str(100000 + i)
            received[chat] = time.perf_counter()
            await gateway.receive("bench", Incoming(chat, f"b{i}", "text", MESSAGES[i % len(MESSAGES)]))
            runner.wake()
            await asyncio.sleep(0.005)
        while len(channel.sent_at) < messages:
            await asyncio.sleep(0.01)
        latencies = [(channel.sent_at[c] - received[c]) * 1000 for c in received]
        wakes = []
        other = open_db(settings.db_path)
        conversation = gateway.pseudonyms.conversation_id("bench", "100000")
        for _ in range(20):
            channel.sent_at.pop("100000", None)
            started = time.perf_counter()
            outbox.add(other, "bench", conversation, [{"text": "moderator", "response": None}], origin="moderator")
            while "100000" not in channel.sent_at:
                await asyncio.sleep(0.005)
            wakes.append((channel.sent_at["100000"] - started) * 1000)
        for task in tasks:
            task.cancel()
        gateway.close()
        return {"message_to_reply": percentiles(latencies), "event_loop_stall": percentiles(stalls),
                "other_process_outbox_to_sent": percentiles(wakes)}

    return asyncio.run(measure())


def run(messages: int = 200) -> Dict[str, Dict[str, float]]:
    from bot.services import Supervisor, build_services
    from bot.training import train

    train()
    with tempfile.TemporaryDirectory() as data:
        os.environ.update(SAM_DATA_DIR=data, RASA_PORT=str(_free_port()), ACTION_SERVER_PORT=str(_free_port()))
        os.environ.pop("RASA_URL", None)
        settings = load_settings()
        supervisor = Supervisor(build_services(settings, quiet=True))
        supervisor.start()
        try:
            report = {"rest_round_trip_one_user": rest_round_trip(settings.rasa_url, messages),
                      "risk_check_only": risk_check(messages * 5),
                      "runner_with_fake_rasa": runner_pipeline(messages)}
        finally:
            supervisor.stop()
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    (REPORTS_DIR / "bench.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return report
