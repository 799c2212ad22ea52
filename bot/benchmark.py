"""Speed measurements, written to reports/bench.json: REST round trip for one user (target
p95 <= 100 ms) and the risk check alone (the bridge's fail-safe path)."""
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
                      "risk_check_only": risk_check(messages * 5)}
        finally:
            supervisor.stop()
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    (REPORTS_DIR / "bench.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return report
