"""Property-based tests (hypothesis): whatever a young person or Telegram sends, no exception
escapes, every message gets exactly one answer or a deliberate silence, and nothing is stored
that should not be."""
from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.telegram import parse_update
from bot.messages import Incoming
from bot.risk.normalise import clean_text

# Long enough that it cannot turn up by chance in hashes or encrypted tokens ("4242" did, once).
CHAT_ID = "7318046259137"
KINDS = {"text", "command", "callback", "edited", "photo", "video", "voice", "sticker", "document", "other",
         "group", "ignore"}
NASTY = st.sampled_from(["", " ", "\x00", "\u200b\u200d\ufeff", "\u202e", "a" * 4096, "😭" * 50, "/", "/start",
                         "/vergeet", "/vergeet_nee", "<script>alert(1)</script>", "ik wil niet meer leven",
                         "\n\n\n", "\t", "ﷺ", "𝕙𝕠𝕚"])
TEXTS = st.one_of(st.text(max_size=300), NASTY, st.text(alphabet=st.characters(max_codepoint=0x20), max_size=20))
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
                    lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(st.text(max_size=15), children, max_size=5), max_leaves=25)
CHAT = st.fixed_dictionaries({"id": st.one_of(st.integers(), st.text(max_size=5), st.none()),
                              "type": st.sampled_from(["private", "group", "supergroup", "channel", "weird"])})
MESSAGE = st.fixed_dictionaries(
    {"chat": CHAT},
    optional={"text": st.one_of(TEXTS, st.integers()), "caption": TEXTS, "photo": JSON, "video": JSON,
              "voice": JSON, "sticker": JSON, "document": JSON, "new_chat_members": JSON,
              "from": st.fixed_dictionaries({"id": st.integers(), "first_name": st.just("Geheimenaam")})})
UPDATE = st.one_of(
    JSON,
    st.fixed_dictionaries({"update_id": st.integers(min_value=0)},
                          optional={"message": st.one_of(MESSAGE, JSON), "edited_message": st.one_of(MESSAGE, JSON),
                                    "callback_query": st.one_of(JSON, st.fixed_dictionaries(
                                        {"id": st.text(max_size=5), "data": TEXTS,
                                         "message": st.fixed_dictionaries({"chat": CHAT})})),
                                    "poll": JSON, "my_chat_member": JSON}))


@settings(max_examples=400, deadline=None)
@given(UPDATE)
def test_the_telegram_parser_never_raises_and_never_keeps_names(data):
    incoming, callback_id = parse_update(data)
    if isinstance(data, dict) and isinstance(data.get("update_id"), int) and not isinstance(data["update_id"], bool):
        assert incoming is not None and incoming.update_key == str(data["update_id"])
    if incoming is not None:
        assert incoming.kind in KINDS
        assert isinstance(incoming.text, str) and isinstance(incoming.chat_key, str)
        assert "Geheimenaam" not in incoming.text + incoming.chat_key
        if incoming.kind not in ("ignore",):
            assert incoming.chat_key.lstrip("-").isdigit()
    assert callback_id is None or isinstance(callback_id, str)


async def _run_conversation(messages):
    """One conversation through a fresh gateway and runner; returns the database path."""
    from bot.config import load_settings
    from bot.gateway import Gateway
    from bot.runner import Runner
    from bot.store.db import open_db
    from tests.gateway_fakes import CHANNEL, Clock, FakeRasa, RecordingChannel

    directory = Path(tempfile.mkdtemp())
    import os

    os.environ["SAM_DATA_DIR"] = str(directory)
    gateway = Gateway(load_settings(), open_db(directory / "sam.db"), FakeRasa(), clock=Clock())
    channel = RecordingChannel()
    runner = Runner(gateway, [channel])
    try:
        for number, (kind, text) in enumerate(messages):
            await gateway.receive(CHANNEL, Incoming(CHAT_ID, f"u{number}", kind, text))
        for _ in range(3):
            await runner.start_answering()
            await runner.settle()
            gateway.clock.advance(5)
            await gateway.failsafe_sweep([CHANNEL])
            await runner.flush()
    finally:
        gateway.close()
    return directory / "sam.db", channel


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["text", "command", "callback", "edited", "photo", "document",
                                           "sticker", "voice"]), TEXTS), min_size=1, max_size=8))
def test_every_message_gets_exactly_one_answer_and_no_text_stays_behind(messages):
    import os

    saved = os.environ.get("SAM_DATA_DIR")
    try:
        path, channel = asyncio.run(_run_conversation(messages))
    finally:
        if saved is None:
            os.environ.pop("SAM_DATA_DIR", None)
        else:
            os.environ["SAM_DATA_DIR"] = saved
    db = sqlite3.connect(path)
    items = db.execute("SELECT id, status, text, kind FROM inbox ORDER BY id").fetchall()
    assert len(items) == len(messages)
    erased = any(text.strip() == "/vergeet_ja" for _, text in messages)
    for inbox_id, status, text, kind in items:
        assert status == "done", (inbox_id, kind)
        assert text is None  # answered: the message text is gone
        answers = db.execute("SELECT COUNT(*) FROM outbox WHERE inbox_id = ? AND origin = 'sam'",
                             [inbox_id]).fetchone()[0]
        if not erased and not (kind == "edited" and not clean_text(messages[inbox_id - 1][1])):
            assert answers >= 1, (kind, messages[inbox_id - 1])
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE text IS NOT NULL").fetchone()[0] == 0
    raw = b"".join(p.read_bytes() for p in path.parent.glob("sam.db*"))
    assert CHAT_ID.encode() not in raw  # the chat id is never stored in the clear
    assert all(isinstance(s["text"], str) for s in channel.sent)
