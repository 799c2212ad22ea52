"""The Telegram bridge end to end: real python-telegram-bot against a local fake Bot API server,
with the real Rasa server, action server and SQLite."""
from __future__ import annotations

import html
import itertools
import sqlite3
import time

import pytest

from bot import content
from bot.helplines import helplines_text

pytestmark = pytest.mark.integration
_chat_ids = itertools.count(700000001)


def new_chat() -> int:
    return next(_chat_ids)


def names(texts):
    """Maps the texts Telegram received back to response names, so no test depends on wording."""
    found = []
    responses = content.current().responses
    for text in texts:
        raw = html.unescape(text)
        match = None
        for name, variants in responses.items():
            template = variants[0]["text"]
            prefix = template.split("{")[0]
            if raw == template or ("{" in template and prefix and raw.startswith(prefix)):
                match = name
                break
        found.append(match)
    return found


def replies(telegram, chat, count, timeout=30):
    assert telegram.wait_for(lambda: len(telegram.texts(chat)) >= count, timeout), telegram.texts(chat)
    time.sleep(0.3)  # nothing more should follow
    return names(telegram.texts(chat))


def test_start_help_privacy_and_person_commands(telegram, start_bridge):
    start_bridge()
    assert telegram.called("getMe") and telegram.called("deleteWebhook")
    commands = telegram.called("setMyCommands")[-1]["commands"]
    assert {c["command"] for c in commands} == {"start", "help", "privacy", "mens", "vergeet"}
    chat = new_chat()
    telegram.message(chat, "/start")
    assert replies(telegram, chat, 1) == ["utter_start"]
    start_message = telegram.called("sendMessage", chat)[0]
    assert start_message["reply_markup"]["inline_keyboard"]
    telegram.message(chat, "/help")
    assert replies(telegram, chat, 2)[1] == "utter_help"
    telegram.message(chat, "/privacy")
    assert replies(telegram, chat, 3)[2] == "utter_ask_bot_privacy"
    telegram.message(chat, "/mens")
    assert replies(telegram, chat, 4)[3] == "utter_human"


def test_buttons_are_inline_keyboards_and_pressing_one_is_like_typing_it(telegram, start_bridge):
    start_bridge()
    chat = new_chat()
    telegram.message(chat, "hoi")
    assert replies(telegram, chat, 1) == ["utter_greet"]
    keyboard = telegram.called("sendMessage", chat)[0]["reply_markup"]["inline_keyboard"]
    payloads = [row[0]["callback_data"] for row in keyboard]
    assert "/ask_sexting" in payloads and all(len(p.encode()) <= 64 for p in payloads)
    assert telegram.called("sendMessage", chat)[0]["parse_mode"] == "HTML"
    update_id = telegram.callback(chat, "/ask_sexting")
    assert replies(telegram, chat, 3)[1:] == ["utter_ask_sexting", "utter_nudge_trusted_adult"]
    assert telegram.called("answerCallbackQuery")
    assert telegram.called("sendChatAction", chat)[0]["action"] == "typing"
    assert update_id


def test_a_disclosure_gets_the_handover_in_the_same_turn(telegram, start_bridge):
    start_bridge()
    chat = new_chat()
    telegram.message(chat, "hij dreigt mn nudes te delen als ik niet betaal")
    assert replies(telegram, chat, 3) == ["utter_handover_sextortion", "utter_handover_helplines",
                                          "utter_handover_trusted_adult"]


@pytest.mark.parametrize("fields, expected", [
    ({"photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 10, "height": 10}]}, "utter_photo_warning"),
    ({"video": {"file_id": "v1", "file_unique_id": "u2", "width": 10, "height": 10, "duration": 1}},
     "utter_photo_warning"),
    ({"voice": {"file_id": "a1", "file_unique_id": "u3", "duration": 2}}, "utter_voice_note"),
    ({"sticker": {"file_id": "s1", "file_unique_id": "u4", "width": 1, "height": 1, "is_animated": False,
                  "is_video": False, "type": "regular"}}, "utter_sticker"),
    ({"document": {"file_id": "d1", "file_unique_id": "u5"}}, "utter_unsupported"),
])
def test_media_is_never_downloaded_and_gets_a_kind_reply(telegram, start_bridge, fields, expected):
    start_bridge()
    chat = new_chat()
    telegram.message(chat, None, **fields)
    assert replies(telegram, chat, 1) == [expected]
    assert telegram.called("getFile") == []


def test_telegram_flood_limit_is_waited_out_and_retried(telegram, start_bridge):
    start_bridge()
    chat = new_chat()
    telegram.too_many_requests = 1
    telegram.message(chat, "doei")
    assert telegram.wait_for(lambda: len(telegram.texts(chat)) >= 2, 30)
    time.sleep(1)
    assert names(telegram.texts(chat)) == ["utter_goodbye", "utter_goodbye"]  # refused with 429, then sent
    attempts = [c["at"] for c in telegram.calls if c["method"] == "sendMessage"
                and str(c["params"]["chat_id"]) == str(chat)]
    assert attempts[1] - attempts[0] >= 1.0  # waited the retry_after Telegram asked for


def test_groups_get_a_one_to_one_message_and_sam_leaves(telegram, start_bridge):
    start_bridge()
    group = -100123
    telegram.message(group, "hoi allemaal", chat_type="group")
    assert telegram.wait_for(lambda: telegram.called("leaveChat", group))
    assert names(telegram.texts(group)) == ["utter_group_only_private"]


def test_same_update_delivered_twice_is_answered_once(telegram, start_bridge):
    start_bridge()
    chat = new_chat()
    update_id = telegram.message(chat, "hoi")
    replies(telegram, chat, 1)
    duplicate = {"update_id": update_id, "message": {"message_id": 1, "date": int(time.time()),
                 "chat": {"id": chat, "type": "private"}, "text": "hoi"}}
    telegram.push(duplicate)
    telegram.message(chat, "doei")
    assert replies(telegram, chat, 2) == ["utter_greet", "utter_goodbye"]


def test_flood_control_slows_down_calmly(telegram, start_bridge):
    start_bridge()
    chat = new_chat()
    for i in range(14):
        telegram.message(chat, f"hoi {i}")
    assert telegram.wait_for(lambda: "utter_slow_down" in names(telegram.texts(chat)), 60)
    time.sleep(2)
    found = names(telegram.texts(chat))
    assert found.count("utter_slow_down") == 1
    assert found.count("utter_greet") <= 10


def test_a_risk_message_is_answered_even_during_a_flood(telegram, start_bridge):
    start_bridge()
    chat = new_chat()
    for i in range(12):
        telegram.message(chat, f"hoi {i}")
    telegram.message(chat, "ik wil niet meer leven")
    assert telegram.wait_for(lambda: "utter_handover_selfharm" in names(telegram.texts(chat)), 60)


@pytest.mark.parametrize("text", ["", "a" * 4096, "😀😀😀", "\x00\x07\x1b[31m", "\u200b\u200d\ufeff",
                                  "مرحبا كيف حالك", "שלום", "<b>vet</b> & 'quote'"])
def test_bad_input_never_crashes_the_bridge(telegram, start_bridge, text):
    bridge = start_bridge()
    chat = new_chat()
    telegram.message(chat, text)
    telegram.push({"edited_message": {"message_id": 5, "date": 1, "edit_date": 2, "text": "x",
                                      "chat": {"id": chat, "type": "private"}}})
    telegram.push({"poll": {"id": "1", "question": "?", "options": [], "total_voter_count": 0, "is_closed": False,
                            "is_anonymous": True, "type": "regular", "allows_multiple_answers": False}})
    telegram.message(chat, "doei")
    assert telegram.wait_for(lambda: "utter_goodbye" in names(telegram.texts(chat)), 60)
    assert "utter_edited_message" in names(telegram.texts(chat))
    assert bridge.process.poll() is None
    for sent in telegram.called("sendMessage", chat):
        assert 0 < len(html.unescape(sent["text"])) <= 4096


def test_vergeet_erases_the_conversation_after_confirmation(telegram, start_bridge, sam_servers):
    start_bridge()
    chat = new_chat()
    telegram.message(chat, "hij dreigt mn nudes te delen als ik niet betaal")
    replies(telegram, chat, 3)
    telegram.message(chat, "/vergeet")
    assert replies(telegram, chat, 4)[3] == "utter_forget_confirm"
    buttons = telegram.called("sendMessage", chat)[3]["reply_markup"]["inline_keyboard"]
    assert [b[0]["callback_data"] for b in buttons] == ["/vergeet_ja", "/vergeet_nee"]
    telegram.callback(chat, "/vergeet_ja")
    assert replies(telegram, chat, 5)[4] == "utter_forget_done"

    from bot.gateway import pseudonymiser_for

    conversation_id = pseudonymiser_for(sam_servers.settings).conversation_id("telegram", str(chat))
    db = sqlite3.connect(sam_servers.settings.db_path)
    assert db.execute("SELECT COUNT(*) FROM conversations WHERE id = ?", [conversation_id]).fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM inbox WHERE conversation_id = ? OR text IS NOT NULL AND status = 'done'",
                      [conversation_id]).fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE conversation_id = ?", [conversation_id]).fetchone()[0] == 0
    anonymous = db.execute("SELECT category, turns FROM escalations WHERE conversation_id IS NULL").fetchall()
    assert ("sextortion", "[]") in anonymous
    assert db.execute("SELECT COUNT(*) FROM escalations WHERE conversation_id = ?", [conversation_id]).fetchone()[0] == 0
    trackers = sqlite3.connect(sam_servers.settings.tracker_db_path)
    assert trackers.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", [conversation_id]).fetchone()[0] == 0


def test_no_telegram_id_or_name_is_stored_or_logged(telegram, start_bridge, sam_servers):
    start_bridge()
    chat = 918273645
    first, username = "Zwaantjeflapdrol", "geheime_gebruiker_x"
    telegram.message(chat, "hoi", first_name=first, username=username)
    telegram.message(chat, "ik wil niet meer leven", first_name=first, username=username)
    telegram.callback(chat, "/ask_trusted_adult", first_name=first, username=username)
    assert telegram.wait_for(lambda: len(telegram.texts(chat)) >= 5, 60)
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


def test_crash_and_restart_answers_every_message_exactly_once(telegram, start_bridge):
    bridge = start_bridge()
    chats = [new_chat() for _ in range(5)]
    telegram.held.add("sendChatAction")  # the bridge stops right before it asks Rasa
    last = max(telegram.message(chat, "hoi") for chat in chats)
    # Stored and confirmed to Telegram (offset past the last update), but not yet answered.
    assert telegram.wait_for(lambda: telegram.confirmed > last, 30)
    time.sleep(1)
    assert all(telegram.texts(chat) == [] for chat in chats)
    bridge.kill()  # kill -9 while a message is being handled
    telegram.held.clear()
    start_bridge()
    for chat in chats:
        assert replies(telegram, chat, 1, timeout=60) == ["utter_greet"]
    time.sleep(2)
    assert all(len(telegram.texts(chat)) == 1 for chat in chats)


def test_rasa_down_gets_a_failsafe_reply_and_the_message_is_answered_later(telegram, start_bridge, sam_servers):
    from tests.fakes import RasaProxy

    proxy = RasaProxy(sam_servers.url).start()
    proxy.mode = "down"
    try:
        start_bridge(rasa_url=proxy.url)
        risky, calm = new_chat(), new_chat()
        telegram.message(risky, "ik wil niet meer leven")
        telegram.message(calm, "wat is sexting")
        assert replies(telegram, risky, 1) == ["utter_failsafe_risk"]
        assert replies(telegram, calm, 1) == ["utter_be_right_back"]
        failsafe = html.unescape(telegram.texts(risky)[0])
        assert helplines_text("selfharm", only_24_7=True) in failsafe
        proxy.mode = "up"
        assert replies(telegram, risky, 4, timeout=60)[1:] == [
            "utter_handover_selfharm", "utter_handover_helplines", "utter_handover_trusted_adult"]
        assert replies(telegram, calm, 3, timeout=60)[1:] == ["utter_ask_sexting", "utter_nudge_trusted_adult"]
    finally:
        proxy.stop()


def test_slow_rasa_counts_as_down_after_3_seconds(telegram, start_bridge, sam_servers):
    from tests.fakes import RasaProxy

    proxy = RasaProxy(sam_servers.url).start()
    proxy.mode = "slow"
    try:
        start_bridge(rasa_url=proxy.url)
        chat = new_chat()
        sent = time.monotonic()
        telegram.message(chat, "hij slaat me nu")
        assert replies(telegram, chat, 1, timeout=20) == ["utter_failsafe_risk"]
        assert time.monotonic() - sent < 10
    finally:
        proxy.mode = "up"
        proxy.stop()


def test_webhook_mode_needs_the_secret_token(telegram, start_bridge, sam_servers):
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
    assert replies(telegram, chat, 1) == ["utter_greet"]
