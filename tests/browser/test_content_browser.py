"""Inhoud in a real browser (Debian's Chromium through Playwright): an editor rewords a text, sees
the checks' verdict and the Telegram-like preview, and publishes; an invalid change shows the Dutch
explanation and changes nothing. The dashboard edits a temporary copy of content/ (never the real
files); the running Sam (content.current) has the new text within 5 seconds."""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.browser.conftest import Dashboard

pytestmark = pytest.mark.browser

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

EDITOR = "redacteur_eva"
LIVE_SECONDS = 5
CHECK_TIMEOUT_MS = 60_000  # the first check loads spaCy in the dashboard process


@pytest.fixture(scope="module")
def content_copy(tmp_path_factory: pytest.TempPathFactory, dashboard: Dashboard) -> Iterator[Path]:
    """The dashboard (same process, a server thread) edits this copy of content/."""
    from bot import config, content

    root = tmp_path_factory.mktemp("content-edit") / "content"
    shutil.copytree(config.CONTENT_DIR, root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(content, "CONTENT_DIR", root)
        patch.setattr(config, "CONTENT_DIR", root)
        dashboard.add_account(EDITOR, "editor")
        yield root


def open_text(page, name: str) -> None:
    page.goto("/content")
    page.locator(f'tr[data-response="{name}"] a.edit-text').click()
    expect(page.locator("#text-name")).to_have_text(name)


def test_an_editor_rewords_a_text_sees_the_preview_and_publishes(login_as, content_copy):
    from bot import content

    path = content_copy / "responses" / "answers.yml"
    before = path.read_text(encoding="utf-8")
    content.current(content_copy)  # a running Sam, with the old text
    page = login_as(EDITOR)
    expect(page.locator("#nav-content")).to_be_visible()
    open_text(page, "utter_ask_webcam")
    new_text = "Let op met de webcam.\nWat je voor de cam doet, kan iemand opnemen.\nHet is nooit jouw schuld."
    page.locator("#text").fill(new_text)
    page.locator("#preview-button").click()
    expect(page.locator("#verdict-ok")).to_be_visible(timeout=CHECK_TIMEOUT_MS)
    bubble = page.locator('#preview [data-preview="message"]')
    expect(bubble).to_contain_text("Wat je voor de cam doet, kan iemand opnemen.")
    expect(page.locator('#preview [data-preview="buttons"] .tg-button').first).to_be_visible()
    assert path.read_text(encoding="utf-8") == before  # the preview wrote nothing

    page.locator("#publish").click()
    expect(page.locator("#flash")).to_contain_text("Gepubliceerd")
    expect(page.locator("#text")).to_have_value(new_text)
    deadline = time.monotonic() + LIVE_SECONDS
    while content.current(content_copy).response("utter_ask_webcam")["text"] != new_text:
        assert time.monotonic() < deadline, f"not live within {LIVE_SECONDS} seconds"
        time.sleep(0.1)

    page.goto("/content/history")
    row = page.locator('#history tr[data-kind="text"]').first
    expect(row).to_contain_text(EDITOR)
    expect(row).to_contain_text("utter_ask_webcam")
    row.locator("button.undo").click()
    expect(page.locator("#flash")).to_contain_text("ongedaan")
    assert path.read_text(encoding="utf-8") == before


def test_an_invalid_change_shows_the_dutch_explanation_and_changes_nothing(login_as, content_copy):
    path = content_copy / "responses" / "answers.yml"
    before = path.read_text(encoding="utf-8")
    page = login_as(EDITOR)
    open_text(page, "utter_ask_helpline")
    text = page.locator("#text").input_value()
    assert "{helplines}" in text
    page.locator("#text").fill(text.replace("{helplines}", "").strip())
    page.locator("#preview-button").click()
    expect(page.locator("#verdict-refused")).to_be_visible(timeout=CHECK_TIMEOUT_MS)
    expect(page.locator("#verdict-refused")).to_contain_text("Sam blijft de huidige versie gebruiken")
    expect(page.locator("#verdict-errors")).to_contain_text(re.compile(r"\{helplines\} ontbreekt"))
    expect(page.locator("#publish")).to_have_count(0)
    assert path.read_text(encoding="utf-8") == before


def test_a_moderator_has_no_content_pages(login_as, content_copy):
    from tests.browser.conftest import MODERATOR

    page = login_as(MODERATOR)
    expect(page.locator("#nav-content")).to_have_count(0)
    response = page.goto("/content")
    assert response.status == 403
