"""The gateway and runner with a fake Rasa, a recording channel and a frozen clock: every path a
young person's message can take, including Rasa down, slow, erroring and odd, bad content, failed
sends and a changed encryption key."""
from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import timedelta

import pytest

from bot.config import load_settings
from bot.gateway import LAST_RESORT_TEXT, Gateway
from bot.messages import Incoming
from bot.runner import MAX_SEND_ATTEMPTS, Runner
from bot.store import conversations, outbox
from bot.store.db import open_db
from tests.gateway_fakes import CHANNEL, Clock, FakeRasa, RecordingChannel

RISK = "ik wil niet meer leven"
SEXTORTION_CAPTION = "hij dreigt deze foto te delen als ik niet betaal"


class Harness:
    def __init__(self, settings, db_path) -> None:
        self.settings = settings
        self.clock = Clock()
        self.rasa = FakeRasa()
        self.channel = RecordingChannel()
        self.db_path = db_path
        self.gateway = Gateway(settings, open_db(db_path), self.rasa, clock=self.clock)
        self.runner = Runner(self.gateway, [self.channel])
        self._updates = 0

    async def say(self, chat: str, text: str, kind: str = "text") -> int:
        self._updates += 1
        return await self.gateway.receive(CHANNEL, Incoming(chat, f"u{self._updates}", kind, text))

    async def cycle(self, seconds: float = 0.0) -> None:
        """One turn of the runner's loops, after the clock moved on."""
        self.clock.advance(seconds)
        await self.runner.start_answering()
        await self.runner.settle()
        await self.gateway.failsafe_sweep([CHANNEL])
        await self.runner.flush()

    def conversation(self, chat: str) -> str:
        return self.gateway.pseudonyms.conversation_id(CHANNEL, chat)

    def rows(self, sql: str, *params):
        return sqlite3.connect(self.db_path).execute(sql, params).fetchall()


@pytest.fixture
async def sam(data_dir):
    harness = Harness(load_settings(), data_dir / "sam.db")
    yield harness
    harness.rasa.release.set()
    await harness.runner.settle()
    harness.gateway.close()


async def test_a_message_is_answered_once_through_the_outbox(sam):
    await sam.say("1", "hoi")
    await sam.cycle()
    assert sam.channel.names("1") == ["utter_echo"]
    assert sam.rows("SELECT status, origin, response, text FROM outbox") == [("sent", "sam", "utter_echo", None)]
    assert sam.rows("SELECT status, text FROM inbox") == [("done", None)]
    await sam.cycle(5)
    assert len(sam.rasa.calls) == 1 and len(sam.channel.sent) == 1


async def test_a_risk_message_behind_a_pending_one_gets_the_failsafe_when_rasa_is_down(sam):
    # Defect 1: "hoi" then a risk message while Rasa is down used to give only "ik ben er zo weer".
    sam.rasa.mode = "down"
    await sam.say("1", "hoi")
    await sam.say("1", RISK)
    await sam.cycle()
    assert sam.channel.names("1") == ["utter_be_right_back", "utter_failsafe_risk"]
    assert "113" in sam.channel.texts("1")[1]
    await sam.say("2", RISK)  # another conversation, while Rasa is known to be down: at once
    await sam.cycle()
    assert sam.channel.names("2") == ["utter_failsafe_risk"]
    sam.rasa.mode = "up"
    await sam.cycle(3)
    assert sam.channel.names("1")[2:] == ["utter_echo", "utter_handover_selfharm", "utter_handover_helplines"]


async def test_only_one_be_right_back_per_waiting_conversation(sam):
    sam.rasa.mode = "down"
    for text in ("hoi", "hallo?", "ben je er"):
        await sam.say("1", text)
    await sam.cycle()
    await sam.cycle(3)
    assert sam.channel.names("1") == ["utter_be_right_back"]


async def test_a_slow_rasa_gets_the_failsafe_at_the_deadline_and_is_asked_only_once(sam):
    # Defect 2: a slow Rasa used to be asked the same message again: two handovers.
    sam.rasa.mode = "slow"
    first = await sam.say("1", RISK)
    await sam.runner.start_answering()
    await asyncio.sleep(0.05)
    assert len(sam.rasa.calls) == 1  # in flight
    await sam.say("1", "hallo")  # waits behind it
    sam.clock.advance(sam.settings.rasa_timeout + 0.1)
    await sam.gateway.failsafe_sweep([CHANNEL])
    await sam.runner.start_answering()  # must not ask Rasa again while the first request waits
    await sam.runner.flush()
    assert sam.channel.names("1") == ["utter_failsafe_risk"]  # one note covers the waiting conversation
    sam.rasa.release.set()
    await sam.cycle()
    await sam.cycle(5)
    inbox_ids = [call["inbox_id"] for call in sam.rasa.calls]
    assert inbox_ids.count(f"{CHANNEL}:{first}") == 1 and len(inbox_ids) == 2
    assert sam.channel.names("1").count("utter_handover_selfharm") == 1


async def test_a_risk_message_waiting_behind_a_slow_one_gets_the_failsafe_within_the_deadline(sam):
    sam.rasa.mode = "slow"
    await sam.say("1", "hoi")
    await sam.runner.start_answering()
    await asyncio.sleep(0.05)
    sam.clock.advance(1)
    await sam.say("1", RISK)
    await sam.cycle(1.2)  # the first message is past its deadline, the risk message not yet
    assert sam.channel.names("1") == ["utter_be_right_back"]
    await sam.cycle(1)
    assert sam.channel.names("1") == ["utter_be_right_back", "utter_failsafe_risk"]
    sam.rasa.release.set()


async def test_a_retry_after_a_lost_answer_tells_rasa_it_is_a_retry(sam):
    # A crash after Rasa answered but before the replies were stored: the next runner asks
    # again with retry=True, and Sam's Rasa channel answers from the tracker instead of twice.
    await sam.say("1", RISK)
    sam.rasa.mode = "error"
    await sam.cycle()
    sam.rasa.mode = "up"
    await sam.cycle(3)
    assert [call["retry"] for call in sam.rasa.calls] == [False, True]
    assert sam.channel.names("1").count("utter_handover_selfharm") == 1


async def test_rasa_erroring_or_answering_oddly_never_silences_sam(sam):
    sam.rasa.mode = "error"
    await sam.say("1", RISK)
    await sam.cycle()
    assert sam.channel.names("1") == ["utter_failsafe_risk"]
    sam.rasa.mode = "odd"
    await sam.say("2", "hoi")
    await sam.cycle(3)
    assert sam.rows("SELECT COUNT(*) FROM inbox WHERE status = 'pending'") == [(0,)]
    assert all(isinstance(s["text"], str) for s in sam.channel.sent)


async def test_a_broken_risk_check_still_gives_the_last_resort_helplines(sam, monkeypatch):
    # Defect 3, last resort: when the risk check itself fails, 112/113 from code.
    import bot.gateway

    def broken():
        raise KeyError("category")

    monkeypatch.setattr(bot.gateway, "get_detector", broken)
    sam.rasa.mode = "down"
    await sam.say("1", RISK)
    await sam.cycle()
    assert sam.channel.texts("1") == [LAST_RESORT_TEXT]
    assert "112" in LAST_RESORT_TEXT and "113" in LAST_RESORT_TEXT


async def test_unusable_content_still_gives_the_last_resort_text(sam, monkeypatch):
    from bot import content

    def unavailable(*args, **kwargs):
        raise content.ContentError("inhoud kapot")

    monkeypatch.setattr(content, "current", unavailable)
    sam.rasa.mode = "down"
    await sam.say("1", RISK)
    await sam.say("2", "/start", kind="command")
    await sam.cycle()
    assert sam.channel.texts("1") == [LAST_RESORT_TEXT]
    assert sam.channel.texts("2") == [LAST_RESORT_TEXT]


@pytest.mark.parametrize("kind", ["photo", "video", "document"])
async def test_a_caption_is_assessed_and_answered_like_a_message(sam, kind):
    # Defect 4: a risk caption used to get only the photo warning.
    await sam.say("1", SEXTORTION_CAPTION, kind=kind)
    await sam.cycle()
    assert sam.rasa.texts_sent() == [SEXTORTION_CAPTION]
    names = sam.channel.names("1")
    assert names[0] == "utter_handover_sextortion" and names[-1] in ("utter_photo_warning", "utter_unsupported")


async def test_a_risk_caption_gets_the_failsafe_when_rasa_is_down(sam):
    sam.rasa.mode = "down"
    await sam.say("1", SEXTORTION_CAPTION, kind="photo")
    await sam.cycle()
    assert sam.channel.names("1") == ["utter_failsafe_risk"]


async def test_the_new_text_of_an_edited_message_is_answered(sam):
    await sam.say("1", RISK, kind="edited")
    await sam.say("1", "", kind="edited")  # an edit that removed a caption: nothing to answer
    await sam.cycle()
    assert sam.rasa.texts_sent() == [RISK]
    assert sam.channel.names("1")[0] == "utter_handover_selfharm"


async def test_media_without_caption_is_answered_without_rasa(sam):
    sam.rasa.mode = "down"
    await sam.say("1", "", kind="photo")
    await sam.say("1", "", kind="voice")
    await sam.cycle()
    assert sam.channel.names("1") == ["utter_photo_warning", "utter_voice_note"]
    assert sam.rasa.calls == []


async def test_a_permanent_send_failure_is_marked_and_blocks_nobody(sam, caplog):
    # Defect 5: one refused send used to be retried and then stop every later reply.
    sam.channel.permanent.add("1")
    await sam.say("1", "hoi")
    await sam.say("1", "hallo")
    await sam.say("2", "hoi")
    with caplog.at_level(logging.ERROR):
        await sam.cycle()
    assert sam.channel.names("2") == ["utter_echo"]
    assert sam.rows("SELECT status, COUNT(*) FROM outbox GROUP BY status ORDER BY status") == [("failed", 2),
                                                                                              ("sent", 1)]
    assert sam.conversation("1")[:8] in caplog.text and "'1'" not in caplog.text


async def test_a_temporary_send_failure_is_retried_later_in_order_without_blocking_others(sam):
    await sam.say("1", "een")
    await sam.say("1", "twee")
    sam.channel.temporary = 1
    await sam.cycle()
    assert sam.channel.texts("1") == []  # "een" waits for its retry; "twee" may not overtake it
    await sam.say("2", "hoi")
    await sam.cycle()
    assert sam.channel.names("2") == ["utter_echo"]
    await sam.cycle(5)
    assert sam.channel.texts("1") == ["antwoord op een", "antwoord op twee"]


async def test_a_send_that_keeps_failing_is_given_up_not_marked_sent(sam):
    await sam.say("1", "hoi")
    sam.channel.temporary = 10 ** 6
    for _ in range(MAX_SEND_ATTEMPTS + 1):
        await sam.cycle(400)
    assert sam.rows("SELECT status FROM outbox") == [("failed",)]


async def test_failsafe_replies_survive_a_crash_in_the_outbox(sam, data_dir):
    sam.rasa.mode = "down"
    await sam.say("1", RISK)
    await sam.runner.start_answering()
    await sam.runner.settle()
    await sam.gateway.failsafe_sweep([CHANNEL])  # queued, then the process "dies" before sending
    assert sam.channel.sent == []
    again = Harness(sam.settings, sam.db_path)
    again.clock.now = sam.clock.now
    await again.runner.flush()
    assert again.channel.names("1") == ["utter_failsafe_risk"]
    again.gateway.close()


async def test_a_changed_encryption_key_never_marks_a_reply_sent(sam, monkeypatch, caplog):
    # Defect 6: after a key change, replies were marked sent without being sent.
    await sam.say("1", "hoi")
    await sam.cycle()
    monkeypatch.setenv("SAM_ENCRYPTION_KEY", "een-nieuwe-sleutel")
    changed = Harness(load_settings(), sam.db_path)
    changed.clock.now = sam.clock.now
    conversation = sam.conversation("1")
    outbox.add(changed.gateway.db, CHANNEL, conversation, [{"text": "moderator", "response": None}],
               origin="moderator", now=changed.gateway.now())
    with caplog.at_level(logging.ERROR):
        await changed.cycle()
    assert changed.channel.sent == []
    assert changed.rows("SELECT status FROM outbox WHERE origin = 'moderator'") == [("pending",)]
    assert "no readable chat reference" in caplog.text
    # The young person's next message refreshes the reference: everything is delivered.
    await changed.say("1", "ben je er nog")
    await changed.cycle(5)
    assert changed.channel.texts("1")[0] == "moderator"
    assert changed.rows("SELECT COUNT(*) FROM outbox WHERE status != 'sent'") == [(0,)]
    changed.gateway.close()


async def test_a_key_rotation_with_the_previous_key_loses_nothing(sam, monkeypatch):
    await sam.say("1", "hoi")
    await sam.cycle()
    old_key = (sam.settings.data_dir / "secrets" / "encryption.key").read_text().strip()
    monkeypatch.setenv("SAM_ENCRYPTION_KEY", "een-nieuwe-sleutel")
    monkeypatch.setenv("SAM_ENCRYPTION_KEY_PREVIOUS", old_key)
    rotated = Harness(load_settings(), sam.db_path)
    outbox.add(rotated.gateway.db, CHANNEL, sam.conversation("1"), [{"text": "hallo", "response": None}],
               origin="moderator", now=rotated.gateway.now())
    await rotated.cycle()
    assert rotated.channel.texts("1") == ["hallo"]
    rotated.gateway.close()


async def test_messages_to_a_paused_conversation_are_kept_for_the_moderator(sam):
    # Defect 9: messages received during a takeover used to be blanked.
    await sam.say("1", "hoi")
    await sam.cycle()
    conversations.set_paused(sam.gateway.db, sam.conversation("1"), True)
    await sam.say("1", "ik wil met iemand praten")
    await sam.say("1", RISK)
    await sam.cycle()
    held = sam.rows("SELECT text, held, status FROM inbox WHERE held = 1 ORDER BY id")
    assert held == [("ik wil met iemand praten", 1, "done"), (RISK, 1, "done")]
    assert len(sam.rasa.calls) == 1  # Sam stays quiet during the takeover...
    assert sam.channel.names("1") == ["utter_echo", "utter_failsafe_risk"]  # ...but risk gets the 24/7 lines


async def test_a_moderator_message_from_another_process_is_sent_within_a_second(sam):
    await sam.say("1", "hoi")
    await sam.cycle()
    task = asyncio.create_task(sam.runner.run())
    try:
        await asyncio.sleep(0.3)
        other = open_db(sam.db_path)  # another connection, as the dashboard process would use
        loop = asyncio.get_running_loop()
        started = loop.time()
        outbox.add(other, CHANNEL, sam.conversation("1"), [{"text": "Hulpverlener: hoi", "response": None}],
                   origin="moderator", now=sam.gateway.now())
        while "Hulpverlener: hoi" not in sam.channel.texts("1"):
            assert loop.time() - started < 1.0, "not sent within a second"
            await asyncio.sleep(0.02)
    finally:
        task.cancel()


async def test_the_runner_schedules_the_retention_purge_whatever_the_channel(sam):
    purged = asyncio.Event()
    runner = Runner(sam.gateway, [], purge=purged.set)
    task = asyncio.create_task(runner.run())
    try:
        await asyncio.wait_for(purged.wait(), 5)
    finally:
        task.cancel()


async def test_a_group_gets_one_note_through_the_outbox_and_sam_leaves(sam):
    await sam.gateway.receive(CHANNEL, Incoming("-100", "g1", "group", "hoi allemaal"))
    await sam.cycle()
    assert sam.channel.names("-100") == ["utter_group_only_private"]
    assert sam.channel.left == ["-100"]
    assert sam.rows("SELECT COUNT(*) FROM conversations") == [(0,)]


async def test_a_redelivered_update_is_answered_once(sam):
    await sam.gateway.receive(CHANNEL, Incoming("1", "same", "text", "hoi"))
    assert await sam.gateway.receive(CHANNEL, Incoming("1", "same", "text", "hoi")) is None
    await sam.cycle()
    assert sam.channel.names("1") == ["utter_echo"]


async def test_flood_control_warns_once_but_lets_risk_through(sam):
    for i in range(sam.settings.flood_messages + 3):
        await sam.say("1", f"hoi {i}")
    await sam.say("1", RISK)
    await sam.cycle()
    names = sam.channel.names("1")
    assert names.count("utter_slow_down") == 1
    assert names.count("utter_echo") == sam.settings.flood_messages
    assert "utter_handover_selfharm" in names


async def test_vergeet_erases_and_confirms_without_a_link_to_the_conversation(sam):
    await sam.say("1", RISK)
    await sam.cycle()
    await sam.say("1", "/vergeet", kind="command")
    await sam.cycle()
    await sam.say("1", "/vergeet_ja", kind="callback")
    await sam.cycle()
    assert sam.channel.names("1")[-2:] == ["utter_forget_confirm", "utter_forget_done"]
    assert sam.rows("SELECT COUNT(*) FROM conversations") == [(0,)]
    assert sam.rows("SELECT COUNT(*) FROM outbox WHERE conversation_id IS NOT NULL") == [(0,)]


async def test_the_fail_safe_does_not_answer_old_messages_again_after_a_restart(sam):
    # A runner that just started gives Rasa its normal time first (exactly one answer each).
    sam.rasa.mode = "slow"
    await sam.say("1", "hoi")
    sam.clock.advance(60)  # the message waited a minute while Sam was stopped
    fresh = Harness(sam.settings, sam.db_path)
    fresh.clock.now = sam.clock.now
    fresh.rasa = sam.rasa
    fresh.gateway.rasa = sam.rasa
    fresh.gateway.started_at = fresh.clock.now
    await fresh.gateway.failsafe_sweep([CHANNEL])
    await fresh.runner.flush()
    assert fresh.channel.sent == []
    sam.rasa.release.set()
    fresh.gateway.close()


async def test_a_turn_shows_one_set_of_buttons(sam):
    await sam.say("1", "kijk mijn nieuwe schoenen", kind="photo")  # Rasa's echo has buttons, so has the warning
    await sam.cycle()
    buttons = [bool(s["buttons"]) for s in sam.channel.sent]
    assert sam.channel.names("1") == ["utter_echo", "utter_photo_warning"] and buttons == [False, True]


async def test_a_taken_over_chat_gets_no_be_right_back_while_rasa_is_down(sam):
    await sam.say("1", "hoi")
    await sam.cycle()
    conversations.set_paused(sam.gateway.db, sam.conversation("1"), True)
    sam.rasa.mode = "down"
    sam.gateway.rasa_down_until = sam.clock() + timedelta(seconds=60)
    await sam.say("1", "bent u er nog")
    await sam.cycle(3)
    assert sam.channel.names("1") == ["utter_echo"]  # the moderator answers, not Sam's note
    assert sam.rows("SELECT held, text FROM inbox WHERE held = 1") == [(1, "bent u er nog")]
