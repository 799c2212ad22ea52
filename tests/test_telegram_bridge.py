"""The Telegram bridge end to end: real python-telegram-bot against a local fake Bot API server,
with the real Rasa server, action server and SQLite."""
from __future__ import annotations

import html
import itertools
import sqlite3
import time

import pytest

from bot.helplines import helplines_text

pytestmark = pytest.mark.integration
_chat_ids = itertools.count(700000001)


def new_chat() -> int:
    return next(_chat_ids)


class Replies:
    """What a chat received, by response name, read from the outbox (which stores the name), so no
    test depends on wording. Telegram's own record is checked too: one message per outbox row."""

    def __init__(self, telegram, settings) -> None:
        from bot.gateway import pseudonymiser_for

        self.telegram = telegram
        self.settings = settings
        self.pseudonyms = pseudonymiser_for(settings)

    def names(self, chat: int) -> list:
        conversation = self.pseudonyms.conversation_id("telegram", str(chat))
        db = sqlite3.connect(self.settings.db_path)
        try:
            return [row[0] for row in db.execute(
                "SELECT response FROM outbox WHERE conversation_id = ? AND status = 'sent' ORDER BY sent_at, id",
                [conversation])]
        finally:
            db.close()

    def wait(self, chat: int, count: int, timeout: float = 30) -> list:
        assert self.telegram.wait_for(lambda: len(self.names(chat)) >= count, timeout), \
            (self.names(chat), self.telegram.texts(chat))
        time.sleep(0.3)  # nothing more should follow
        found = self.names(chat)
        assert len(self.telegram.texts(chat)) >= len(found)
        return found


@pytest.fixture
def sent(telegram, sam_servers):
    return Replies(telegram, sam_servers.settings)


def test_start_help_privacy_and_person_commands(telegram, start_bridge, sent):
    start_bridge()
    assert telegram.called("getMe") and telegram.called("deleteWebhook")
    commands = telegram.called("setMyCommands")[-1]["commands"]
    assert {c["command"] for c in commands} == {"start", "help", "privacy", "mens", "vergeet"}
    chat = new_chat()
    telegram.message(chat, "/start")
    assert sent.wait(chat, 1) == ["utter_start"]
    start_message = telegram.called("sendMessage", chat)[0]
    assert start_message["reply_markup"]["inline_keyboard"]
    telegram.message(chat, "/help")
    assert sent.wait(chat, 2)[1] == "utter_help"
    telegram.message(chat, "/privacy")
    assert sent.wait(chat, 3)[2] == "utter_ask_bot_privacy"
    telegram.message(chat, "/mens")
    assert sent.wait(chat, 4)[3] == "utter_human"


def test_buttons_are_inline_keyboards_and_pressing_one_is_like_typing_it(telegram, start_bridge, sent):
    start_bridge()
    chat = new_chat()
    telegram.message(chat, "hoi")
    assert sent.wait(chat, 1) == ["utter_greet"]
    keyboard = telegram.called("sendMessage", chat)[0]["reply_markup"]["inline_keyboard"]
    payloads = [row[0]["callback_data"] for row in keyboard]
    assert "/ask_sexting" in payloads and all(len(p.encode()) <= 64 for p in payloads)
    assert telegram.called("sendMessage", chat)[0]["parse_mode"] == "HTML"
    update_id = telegram.callback(chat, "/ask_sexting")
    assert sent.wait(chat, 3)[1:] == ["utter_ask_sexting", "utter_nudge_trusted_adult"]
    assert telegram.called("answerCallbackQuery")
    assert telegram.called("sendChatAction", chat)[0]["action"] == "typing"
    assert update_id


def test_a_disclosure_gets_the_handover_in_the_same_turn(telegram, start_bridge, sent):
    start_bridge()
    chat = new_chat()
    telegram.message(chat, "hij dreigt mn nudes te delen als ik niet betaal")
    assert sent.wait(chat, 2) == ["utter_handover_sextortion", "utter_handover_helplines"]


@pytest.mark.parametrize("fields, expected", [
    ({"photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 10, "height": 10}]}, "utter_photo_warning"),
    ({"video": {"file_id": "v1", "file_unique_id": "u2", "width": 10, "height": 10, "duration": 1}},
     "utter_photo_warning"),
    ({"voice": {"file_id": "a1", "file_unique_id": "u3", "duration": 2}}, "utter_voice_note"),
    ({"sticker": {"file_id": "s1", "file_unique_id": "u4", "width": 1, "height": 1, "is_animated": False,
                  "is_video": False, "type": "regular"}}, "utter_sticker"),
    ({"document": {"file_id": "d1", "file_unique_id": "u5"}}, "utter_unsupported"),
])
def test_media_is_never_downloaded_and_gets_a_kind_reply(telegram, start_bridge, sent, fields, expected):
    start_bridge()
    chat = new_chat()
    telegram.message(chat, None, **fields)
    assert sent.wait(chat, 1) == [expected]
    assert telegram.called("getFile") == []


def test_a_risk_caption_gets_the_handover_and_the_photo_warning(telegram, start_bridge, sent):
    start_bridge()
    chat = new_chat()
    telegram.message(chat, None, caption="hij dreigt deze foto te delen als ik niet betaal",
                     photo=[{"file_id": "p9", "file_unique_id": "u9", "width": 10, "height": 10}])
    found = sent.wait(chat, 3)
    assert found == ["utter_handover_sextortion", "utter_handover_helplines", "utter_photo_warning"]
    assert telegram.called("getFile") == []


def test_the_new_text_of_an_edited_message_is_assessed_and_answered(telegram, start_bridge, sent):
    start_bridge()
    chat = new_chat()
    telegram.push({"edited_message": {"message_id": 5, "date": 1, "edit_date": 2, "text": "ik wil niet meer leven",
                                      "chat": {"id": chat, "type": "private"}}})
    assert sent.wait(chat, 2) == ["utter_handover_selfharm", "utter_handover_helplines"]


def test_telegram_flood_limit_is_waited_out_and_retried(telegram, start_bridge, sent):
    start_bridge()
    chat = new_chat()
    telegram.too_many_requests = 1
    telegram.message(chat, "doei")
    assert sent.wait(chat, 1) == ["utter_goodbye"]
    attempts = [c["at"] for c in telegram.calls if c["method"] == "sendMessage"
                and str(c["params"]["chat_id"]) == str(chat)]
    assert len(attempts) == 2  # refused with 429, then sent
    assert attempts[1] - attempts[0] >= 1.0  # waited the retry_after Telegram asked for


def test_a_chat_that_blocked_sam_does_not_hold_up_others(telegram, start_bridge, sent, sam_servers):
    start_bridge()
    blocked, other = new_chat(), new_chat()
    telegram.forbidden.add(blocked)
    telegram.message(blocked, "hoi")
    telegram.message(blocked, "doei")
    telegram.message(other, "hoi")
    assert sent.wait(other, 1) == ["utter_greet"]
    conversation = sent.pseudonyms.conversation_id("telegram", str(blocked))
    db = sqlite3.connect(sam_servers.settings.db_path)
    assert telegram.wait_for(lambda: db.execute(
        "SELECT COUNT(*) FROM outbox WHERE conversation_id = ? AND status = 'failed'", [conversation]).fetchone()[0]
        == 2, 30)


def test_groups_get_a_one_to_one_message_and_sam_leaves(telegram, start_bridge, sam_servers):
    start_bridge()
    group = -100123
    telegram.message(group, "hoi allemaal", chat_type="group")
    assert telegram.wait_for(lambda: telegram.called("leaveChat", group))
    assert len(telegram.texts(group)) == 1
    db = sqlite3.connect(sam_servers.settings.db_path)
    assert ("utter_group_only_private", None) in db.execute(
        "SELECT response, conversation_id FROM outbox WHERE status = 'sent'").fetchall()


def test_same_update_delivered_twice_is_answered_once(telegram, start_bridge, sent):
    start_bridge()
    chat = new_chat()
    update_id = telegram.message(chat, "hoi")
    sent.wait(chat, 1)
    duplicate = {"update_id": update_id, "message": {"message_id": 1, "date": int(time.time()),
                 "chat": {"id": chat, "type": "private"}, "text": "hoi"}}
    telegram.push(duplicate)
    telegram.message(chat, "doei")
    assert sent.wait(chat, 2) == ["utter_greet", "utter_goodbye"]


def test_flood_control_slows_down_calmly(telegram, start_bridge, sent):
    start_bridge()
    chat = new_chat()
    for i in range(14):
        telegram.message(chat, f"hoi {i}")
    assert telegram.wait_for(lambda: "utter_slow_down" in sent.names(chat), 60)
    time.sleep(2)
    found = sent.names(chat)
    assert found.count("utter_slow_down") == 1
    assert found.count("utter_greet") <= 10


def test_a_risk_message_is_answered_even_during_a_flood(telegram, start_bridge, sent):
    start_bridge()
    chat = new_chat()
    for i in range(12):
        telegram.message(chat, f"hoi {i}")
    telegram.message(chat, "ik wil niet meer leven")
    assert telegram.wait_for(lambda: "utter_handover_selfharm" in sent.names(chat), 60)


@pytest.mark.parametrize("text", ["", "a" * 4096, "😀😀😀", "\x00\x07\x1b[31m", "\u200b\u200d\ufeff",
                                  "مرحبا كيف حالك", "שלום", "<b>vet</b> & 'quote'"])
def test_bad_input_never_crashes_the_bridge(telegram, start_bridge, sent, text):
    bridge = start_bridge()
    chat = new_chat()
    telegram.message(chat, text)
    telegram.push({"edited_message": {"message_id": 5, "date": 1, "edit_date": 2, "text": "x",
                                      "chat": {"id": chat, "type": "private"}}})
    telegram.push({"poll": {"id": "1", "question": "?", "options": [], "total_voter_count": 0, "is_closed": False,
                            "is_anonymous": True, "type": "regular", "allows_multiple_answers": False}})
    telegram.push({"message": {"chat": None, "text": 5}})
    telegram.message(chat, "doei")
    assert telegram.wait_for(lambda: "utter_goodbye" in sent.names(chat), 60)
    assert bridge.process.poll() is None
    for message in telegram.called("sendMessage", chat):
        assert 0 < len(html.unescape(message["text"])) <= 4096


def test_vergeet_erases_the_conversation_after_confirmation(telegram, start_bridge, sent, sam_servers):
    start_bridge()
    chat = new_chat()
    telegram.message(chat, "hij dreigt mn nudes te delen als ik niet betaal")
    sent.wait(chat, 2)
    telegram.message(chat, "/vergeet")
    assert sent.wait(chat, 3)[2] == "utter_forget_confirm"
    buttons = telegram.called("sendMessage", chat)[2]["reply_markup"]["inline_keyboard"]
    assert [b[0]["callback_data"] for b in buttons] == ["/vergeet_ja", "/vergeet_nee"]
    telegram.callback(chat, "/vergeet_ja")
    assert telegram.wait_for(lambda: len(telegram.texts(chat)) == 4, 30)

    conversation_id = sent.pseudonyms.conversation_id("telegram", str(chat))
    db = sqlite3.connect(sam_servers.settings.db_path)
    # The sender marks the row sent after Telegram answers, a moment after the fake has the text.
    assert telegram.wait_for(lambda: ("utter_forget_done", None) in db.execute(
        "SELECT response, conversation_id FROM outbox WHERE status = 'sent'").fetchall(), 10)
    assert db.execute("SELECT COUNT(*) FROM conversations WHERE id = ?", [conversation_id]).fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM inbox WHERE conversation_id = ? OR text IS NOT NULL AND status = 'done'",
                      [conversation_id]).fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE conversation_id = ?", [conversation_id]).fetchone()[0] == 0
    closed = db.execute("SELECT category, turns, status, outcome FROM escalations WHERE conversation_id IS NULL")
    assert ("sextortion", "[]", "closed", "gewist_door_jongere") in closed.fetchall()
    remaining = db.execute("SELECT COUNT(*) FROM escalations WHERE conversation_id = ?", [conversation_id])
    assert remaining.fetchone()[0] == 0
    trackers = sqlite3.connect(sam_servers.settings.tracker_db_path)
    assert trackers.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", [conversation_id]).fetchone()[0] == 0


def test_no_telegram_id_or_name_is_stored_or_logged(telegram, start_bridge, sent, sam_servers):
    start_bridge()
    chat = 918273645
    first, username = "Zwaantjeflapdrol", "geheime_gebruiker_x"
    telegram.message(chat, "hoi", first_name=first, username=username)
    telegram.message(chat, "ik wil niet meer leven", first_name=first, username=username)
    telegram.callback(chat, "/ask_trusted_adult", first_name=first, username=username)
    assert telegram.wait_for(lambda: "utter_ask_trusted_adult" in sent.names(chat), 60), sent.names(chat)
    time.sleep(1)
    needles = [str(chat).encode(), first.encode(), username.encode(), b"Testachternaam"]
    scanned = 0
    for path in sam_servers.settings.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            scanned += 1
            for needle in needles:
                assert needle not in data, (needle, path)
    assert scanned >= 4  # databases, WAL files, secrets and logs were all looked at
    for log in (sam_servers.settings.data_dir / "logs").glob("*.log"):
        assert b"niet meer leven" not in log.read_bytes(), log  # no message text in any log


def test_kill_while_rasa_thinks_then_restart_answers_every_message_once(telegram, start_bridge, sent, sam_servers):
    from tests.fakes import RasaProxy

    proxy = RasaProxy(sam_servers.url).start()
    try:
        proxy.mode = "hold"  # Rasa "thinks" until the bridge is gone
        bridge = start_bridge(rasa_url=proxy.url, RASA_TIMEOUT_SECONDS="2")
        chats = [new_chat() for _ in range(3)]
        for chat in chats:
            telegram.message(chat, "hoi")
        assert telegram.wait_for(lambda: proxy.requests >= 3, 30)
        bridge.kill()  # kill -9 while every message is being handled
        proxy.mode = "up"
        start_bridge(rasa_url=proxy.url)
        for chat in chats:
            assert telegram.wait_for(lambda chat=chat: "utter_greet" in sent.names(chat), 60), sent.names(chat)
        time.sleep(2)
        for chat in chats:
            assert sent.names(chat).count("utter_greet") == 1, sent.names(chat)
    finally:
        proxy.stop()


def test_kill_after_rasa_answered_before_sending_then_restart_sends_once(telegram, start_bridge, sent, sam_servers):
    bridge = start_bridge()
    chats = [new_chat() for _ in range(3)]
    telegram.held.add("sendMessage")  # Rasa answers; the bridge hangs while sending the reply
    conversations = [sent.pseudonyms.conversation_id("telegram", str(chat)) for chat in chats]
    for chat in chats:
        telegram.message(chat, "hoi")
    db = sqlite3.connect(sam_servers.settings.db_path)
    marks = ",".join("?" * len(conversations))
    assert telegram.wait_for(lambda: db.execute(
        f"SELECT COUNT(DISTINCT conversation_id) FROM outbox WHERE response = 'utter_greet' "
        f"AND conversation_id IN ({marks})", conversations).fetchone()[0] == 3, 30)
    bridge.kill()
    telegram.held.clear()
    start_bridge()
    for chat in chats:
        assert sent.wait(chat, 1, timeout=60) == ["utter_greet"]
    time.sleep(2)
    assert all(len(telegram.texts(chat)) == 1 for chat in chats)


def test_rasa_down_gets_a_failsafe_reply_and_the_message_is_answered_later(telegram, start_bridge, sent,
                                                                          sam_servers):
    from tests.fakes import RasaProxy

    proxy = RasaProxy(sam_servers.url).start()
    proxy.mode = "down"
    try:
        start_bridge(rasa_url=proxy.url, RASA_TIMEOUT_SECONDS="2")
        risky, calm = new_chat(), new_chat()
        telegram.message(calm, "hoi")
        telegram.message(risky, "hoi")
        telegram.message(risky, "ik wil niet meer leven")  # behind another waiting message
        telegram.message(calm, "wat is sexting")
        assert sent.wait(risky, 2) == ["utter_be_right_back", "utter_failsafe_risk"]
        assert sent.wait(calm, 1) == ["utter_be_right_back"]
        failsafe = html.unescape(telegram.texts(risky)[1])
        assert helplines_text("selfharm", only_24_7=True) in failsafe
        proxy.mode = "up"
        assert sent.wait(risky, 5, timeout=60)[2:] == ["utter_greet", "utter_handover_selfharm",
                                                       "utter_handover_helplines"]
        assert sent.wait(calm, 4, timeout=60)[1:] == ["utter_greet", "utter_ask_sexting", "utter_nudge_trusted_adult"]
    finally:
        proxy.stop()


def test_slow_rasa_gets_the_failsafe_at_the_deadline_and_answers_once(telegram, start_bridge, sent, sam_servers):
    from tests.fakes import RasaProxy

    proxy = RasaProxy(sam_servers.url).start()
    proxy.mode = "slow"  # 6 s per request, longer than the fail-safe deadline
    try:
        start_bridge(rasa_url=proxy.url, RASA_TIMEOUT_SECONDS="2")
        chat = new_chat()
        started = time.monotonic()
        telegram.message(chat, "hij slaat me nu")
        assert sent.wait(chat, 1, timeout=20) == ["utter_failsafe_risk"]
        assert time.monotonic() - started < 5
        found = sent.wait(chat, 3, timeout=60)
        assert found[1].startswith("utter_handover_") and found[2] == "utter_handover_helplines"
        time.sleep(3)
        assert len(sent.names(chat)) == 3 and proxy.requests == 1  # Rasa was asked once
    finally:
        proxy.mode = "up"
        proxy.stop()


def test_the_failsafe_answers_while_rasa_is_not_there_yet(telegram, start_bridge, sent):
    from tests.conftest import free_port

    # nothing listens: Rasa still starting
    start_bridge(rasa_url=f"http://127.0.0.1:{free_port()}", RASA_TIMEOUT_SECONDS="2")
    chat = new_chat()
    started = time.monotonic()
    telegram.message(chat, "ik wil niet meer leven")
    assert sent.wait(chat, 1, timeout=15) == ["utter_failsafe_risk"]
    assert time.monotonic() - started < 5


def test_webhook_mode_needs_the_secret_token(telegram, start_bridge, sent, sam_servers):
    import httpx

    from tests.conftest import free_port

    port = free_port()
    start_bridge(TELEGRAM_WEBHOOK_URL="https://sam.example/telegram", TELEGRAM_WEBHOOK_SECRET="s3cret-token",
                 TELEGRAM_WEBHOOK_PORT=str(port))
    assert telegram.wait_for(lambda: telegram.called("setWebhook"), 30)
    registered = telegram.called("setWebhook")[-1]
    assert registered["url"] == "https://sam.example/telegram" and registered["secret_token"] == "s3cret-token"
    chat = new_chat()
    update = {"update_id": 888001, "message": {"message_id": 1, "date": int(time.time()), "text": "hoi",
                                                "chat": {"id": chat, "type": "private"}}}
    url = f"http://127.0.0.1:{port}/telegram"
    assert httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}).status_code == 403
    assert httpx.post(url, json=update).status_code == 403
    time.sleep(1)
    assert telegram.texts(chat) == []
    ok = httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"})
    assert ok.status_code == 200
    assert sent.wait(chat, 1) == ["utter_greet"]
