"""Formatting for Telegram: splitting long texts, escaping, keyboards, and flood control."""
from __future__ import annotations

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.channels.telegram import MAX_LENGTH, TelegramChannel, keyboard, split_text
from bot.gateway import FloodControl
from bot.messages import PermanentSendError, Reply, TemporarySendError


def test_short_text_is_one_message():
    assert split_text("Hoi. Hoe gaat het?") == ["Hoi. Hoe gaat het?"]


def test_long_text_is_split_at_sentence_boundaries_within_the_limit():
    sentence = "Dit is een rustige zin over veilig online zijn. "
    parts = split_text(sentence * 300)
    assert len(parts) > 1
    assert all(len(p) <= MAX_LENGTH for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts).split() == (sentence * 300).split()


def test_one_endless_sentence_is_cut_at_a_space():
    parts = split_text("woord " * 2000)
    assert all(len(p) <= MAX_LENGTH for p in parts) and len(parts) == 3


def test_keyboard_keeps_payloads_within_64_bytes():
    markup = keyboard([{"title": "Ok", "payload": "/ask_law"}, {"title": "Te lang", "payload": "/" + "x" * 80}])
    assert [row[0].callback_data for row in markup.inline_keyboard] == ["/ask_law"]
    assert keyboard([]) is None


async def test_send_escapes_html_and_puts_buttons_on_the_last_part():
    calls = []

    class StubBot:
        async def send_message(self, **kwargs):
            calls.append(kwargs)

    bridge = TelegramChannel.__new__(TelegramChannel)
    bridge.bot = StubBot()
    text = "<b>vet</b> & zo. " * 400
    await bridge.send("42", Reply(text, [{"title": "Menu", "payload": "/help"}]))
    assert len(calls) > 1 and all(c["parse_mode"] == "HTML" for c in calls)
    assert "&lt;b&gt;vet&lt;/b&gt; &amp; zo." in calls[0]["text"] and "<b>" not in calls[0]["text"]
    assert calls[-1]["reply_markup"] is not None and all(c["reply_markup"] is None for c in calls[:-1])


def test_flood_control_warns_once_then_drops_then_recovers():
    flood = FloodControl(limit=10, seconds=10)
    results = [flood.check("c", now=float(i) * 0.1) for i in range(14)]
    assert results[:10] == ["ok"] * 10 and results[10] == "warn" and results[11:] == ["drop"] * 3
    assert flood.check("c", now=30.0) == "ok"
    assert flood.check("other", now=1.0) == "ok"


@pytest.mark.parametrize("error, kind", [
    (Forbidden("Forbidden: bot was blocked by the user"), PermanentSendError),
    (BadRequest("Bad Request: chat not found"), PermanentSendError),
    (RetryAfter(3), TemporarySendError),
    (TimedOut(), TemporarySendError),
    (NetworkError("connection reset"), TemporarySendError),
])
async def test_telegram_errors_become_permanent_or_temporary_for_the_runner(error, kind):
    class FailingBot:
        async def send_message(self, **kwargs):
            raise error

    channel = TelegramChannel.__new__(TelegramChannel)
    channel.bot = FailingBot()
    with pytest.raises(kind) as raised:
        await channel.send("42", Reply("hoi"))
    if isinstance(error, RetryAfter):
        assert raised.value.retry_after >= 3
