"""An editor's change reaches a running Sam: the real Rasa server, action server and Telegram
bridge (against the fake Bot API) read the same copy of content/ (SAM_CONTENT_DIR) that the
dashboard edits in Chromium. Rewording a text, adding a helpline and adding a risk word are each
picked up by the young person's next message within 5 seconds, without retraining.

What is compared is what the test itself wrote (a new sentence, a new line's name) or response
names, never the current wording of content/."""
from __future__ import annotations

import itertools
import os
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator, List, Tuple

import pytest

from tests.browser.conftest import Dashboard

pytestmark = [pytest.mark.browser, pytest.mark.integration]

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

EDITOR = "redacteur_lotte"
LIVE_SECONDS = 5  # the promise: live on a running Sam within 5 seconds
CHECK_TIMEOUT_MS = 60_000  # the first check loads spaCy in the dashboard process
_chats = itertools.count(810000001)


@pytest.fixture(scope="module")
def live_content(sam_servers, dashboard: Dashboard) -> Iterator[Path]:
    """The dashboard edits the content copy the running Sam reads; afterwards every file is put
    back as it was (atomically, so the running processes never see half a file)."""
    from bot import config, content

    root = sam_servers.content_dir
    saved = {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(content, "CONTENT_DIR", root)
        patch.setattr(config, "CONTENT_DIR", root)
        dashboard.add_account(EDITOR, "editor")
        yield root
    for path in root.rglob("*"):
        if path.is_file() and path not in saved:
            path.unlink()
    for path, data in saved.items():
        if path.read_bytes() != data:
            fd, temp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, path)


@pytest.fixture
def chat(telegram, start_bridge, sam_servers, live_content):
    """Sends one message (or button press) in a new chat and returns (response names, texts) of the turn."""
    from tests.test_telegram_bridge import Replies

    start_bridge()
    replies = Replies(telegram, sam_servers.settings)

    def turn(send: Callable[[int], object]) -> Tuple[List[str], str]:
        chat_id = next(_chats)
        send(chat_id)
        replies.wait(chat_id, 1)
        return replies.names(chat_id), "\n".join(telegram.texts(chat_id))

    return turn


def until_live(turn: Callable[[], Tuple[List[str], str]], live: Callable[[List[str], str], bool],
               published_at: float) -> Tuple[List[str], str]:
    """Asks again (a new message each time) until the change shows, at most LIVE_SECONDS after publishing."""
    while True:
        names, text = turn()
        if live(names, text):
            return names, text
        assert time.monotonic() - published_at < LIVE_SECONDS, f"not live {LIVE_SECONDS} s after publishing: {names}"


def publish(page) -> float:
    page.locator("#preview-button").click()
    expect(page.locator("#verdict-ok")).to_be_visible(timeout=CHECK_TIMEOUT_MS)
    page.locator("#publish").click()
    expect(page.locator("#flash")).to_contain_text("Gepubliceerd")
    return time.monotonic()


def test_a_reworded_text_is_in_the_next_answer(login_as, telegram, chat):
    press = lambda: chat(lambda chat_id: telegram.callback(chat_id, "/ask_webcam"))  # noqa: E731
    new_sentence = "Wat je voor de cam doet, kan iemand stiekem opnemen."
    names, text = press()
    assert "utter_ask_webcam" in names and new_sentence not in text

    page = login_as(EDITOR)
    page.goto("/content")
    page.locator('tr[data-response="utter_ask_webcam"] a.edit-text').click()
    page.locator("#text").fill(f"Let op met de webcam.\n{new_sentence}\nHet is nooit jouw schuld.")
    published = publish(page)

    names, _ = until_live(press, lambda names, text: new_sentence in text, published)
    assert "utter_ask_webcam" in names


def test_a_new_helpline_is_named_in_the_next_answer(login_as, telegram, chat):
    press = lambda: chat(lambda chat_id: telegram.callback(chat_id, "/feeling_bad"))  # noqa: E731
    name = "Jongerenlijn Zwolle"
    names, text = press()
    assert "utter_feeling_bad" in names and name not in text

    page = login_as(EDITOR)
    page.goto("/content")
    page.locator("#new-helpline").click()
    page.locator("#line_id").fill("jongerenlijn_zwolle")
    page.locator("#name").fill(name)
    page.locator("#contact").fill("bel gratis 0800-2222333")
    page.locator("#short").fill(f"{name}: bel gratis 0800-2222333")
    page.locator("#for").fill("als je je rot voelt")
    page.locator("#hours_mode_always").check()
    page.locator("#hours_verified").check()
    page.locator("#verified").fill(time.strftime("%Y-%m-%d"))
    page.locator("#source").fill("website van de lijn")
    page.locator("#routing_feeling_bad").check()
    published = publish(page)

    until_live(press, lambda names, text: name in text and "utter_feeling_bad" in names, published)


def test_a_new_risk_word_hands_the_next_message_over(login_as, telegram, chat):
    code_word = "code paarse pinguin"  # an agreed code word of a group: "I am not safe"
    say = lambda: chat(lambda chat_id: telegram.message(chat_id, code_word))  # noqa: E731
    names, _ = say()
    assert not [n for n in names if n and n.startswith("utter_handover")], names

    page = login_as(EDITOR)
    page.goto("/content/risk")
    page.locator("#mode_term").check()
    page.locator("#words").fill(code_word)
    page.locator("#category").select_option("acute_danger")
    page.locator("#severity").select_option("acute")
    published = publish(page)

    names, _ = until_live(say, lambda names, text: "utter_handover_acute_danger" in names, published)
    assert "utter_handover_helplines" in names
