"""Inhoud: editors change texts, buttons, helplines and risk words in the dashboard, checked in Dutch
before anything goes live; example questions and a retraining that only replaces the model when
it passes. Starlette's TestClient on a temporary copy of content/ (and of the NLU data); the
training subprocess and the Rasa HTTP API are fakes here (nothing trains in these tests)."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import time
from datetime import date
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Optional

import httpx
import pytest
import yaml

from bot import config, content, content_editing, model_update, training
from bot.config import CONTENT_DIR, NLU_DIR, load_settings
from bot.dashboard.app import create_app
from bot.store import accounts
from bot.store.db import open_db
from tests.test_dashboard import assert_no_inline_code, client_for, fast_hashing, logged_in, login, make_account

EDITOR, SECOND_EDITOR, MODERATOR, ADMIN = "eddie", "emma", "mila", "anouk"


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch):
    fast_hashing(monkeypatch)


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    """A copy of content/ that the dashboard edits (the real one is never touched)."""
    copy = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, copy)
    monkeypatch.setattr(content, "CONTENT_DIR", copy)
    monkeypatch.setattr(config, "CONTENT_DIR", copy)
    return copy


@pytest.fixture
def nlu(tmp_path, monkeypatch) -> Path:
    copy = tmp_path / "nlu"
    shutil.copytree(NLU_DIR, copy)
    monkeypatch.setattr(config, "NLU_DIR", copy)
    return copy


@pytest.fixture
def settings(data_dir):
    return load_settings()


@pytest.fixture
def store(settings):
    return open_db(settings.db_path)


@pytest.fixture
def app(settings, root, nlu):
    return create_app(settings, warm_up=False)


@pytest.fixture
def editor(app, store):
    return logged_in(app, store, EDITOR, "editor")


def snapshot(folder: Path) -> Dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- reading and submitting the forms as a browser does ------------------------------------------
class _Form(HTMLParser):
    """The fields a browser would send for one form (text, hidden, checked boxes, selected options)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: Dict[str, object] = {}
        self._textarea: Optional[str] = None
        self._select: Optional[str] = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        kind = a.get("type", "text")
        if tag == "input" and kind == "checkbox":
            if "checked" in a and a["name"] == "routing":
                self.fields.setdefault("routing", []).append(a.get("value", ""))  # type: ignore[union-attr]
            elif "checked" in a:
                self.fields[a["name"]] = a.get("value", "on")
        elif tag == "input" and kind == "radio":
            if "checked" in a:
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "input":
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[a["name"]] = ""
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and ("selected" in a or self._select not in self.fields):
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self.inside and self._textarea:
            self.fields[self._textarea] += data  # type: ignore[operator]


def form_fields(html: str, form_id: str) -> Dict:
    parser = _Form(form_id)
    parser.feed(html)
    return dict(parser.fields)


def has_publish_button(html: str) -> bool:
    return 'id="publish"' in html


def submit(client, url: str, fields: Dict, action: str):
    return client.post(url, data={**fields, "action": action})


def preview_then_publish(client, url: str, fields: Dict, form_id: str):
    """Voorbeeld bekijken, then Publiceren from the preview page (as an editor clicks)."""
    preview = submit(client, url, fields, "preview")
    assert preview.status_code == 200, unescape(preview.text)
    assert has_publish_button(preview.text)
    return submit(client, url, form_fields(preview.text, form_id), "publish")


def text_form(client, name: str) -> Dict[str, str]:
    page = client.get(f"/content/text?name={name}")
    assert page.status_code == 200
    return form_fields(page.text, "text-form")


# --- who may edit -----------------------------------------------------------------------------------
def test_only_editors_and_admins_see_and_change_content(app, store, root):
    before = snapshot(root)
    moderator = logged_in(app, store, MODERATOR, "moderator")
    for path in ("/content", "/content/text?name=utter_ask_law", "/content/helpline", "/content/risk",
                 "/content/history", "/content/examples", "/content/training"):
        assert moderator.get(path).status_code == 403, path
    token = moderator.get("/account").text.split('name="csrf_token" value="')[1].split('"')[0]
    response = moderator.post("/content/text", data={"csrf_token": token, "name": "utter_ask_law", "text": "x",
                                                      "action": "publish"})
    assert response.status_code == 403
    assert "Inhoud" not in moderator.get("/account").text  # no menu item either
    editor = logged_in(app, store, EDITOR, "editor")
    page = editor.get("/content")
    assert page.status_code == 200 and 'id="nav-content"' in page.text
    for expected in ("utter_ask_law", "utter_greet", "Kindertelefoon", "zelfmoord", 'id="helplines"',
                     'id="risicowoorden"', "/content/history"):
        assert expected in unescape(page.text), expected
    assert logged_in(app, store, ADMIN, "admin").get("/content").status_code == 200
    assert snapshot(root) == before
    assert not store.execute("SELECT COUNT(*) FROM content_changes").fetchone()[0]


def test_every_content_post_needs_the_csrf_token(app, editor, store, root):
    before = snapshot(root)
    fields = text_form(editor, "utter_ask_law")
    for token in (None, "verzonnen"):
        data = {**fields, "text": "Nieuwe tekst", "action": "publish"}
        data.pop("csrf_token")
        if token:
            data["csrf_token"] = token
        assert editor.post("/content/text", data=data).status_code == 403
    assert editor.post("/content/undo", data={"change_id": "1"}).status_code == 403
    assert editor.post("/content/training", data={}).status_code == 403
    assert snapshot(root) == before


def test_the_dashboard_does_not_load_spacy():
    """Opening the dashboard (and its Inhoud pages) stays quick: spaCy loads only when a change is checked."""
    import subprocess
    import sys

    code = "import sys, bot.dashboard.app, bot.dashboard.content_pages; print('spacy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=config.ROOT, timeout=120)
    assert done.stdout.strip() == "False", done.stderr


def test_content_pages_have_no_inline_script(app, editor):
    for path in ("/content", "/content/text?name=utter_ask_image_removal", "/content/helpline?id=kindertelefoon",
                 "/content/helpline", "/content/risk?entry=0", "/content/risk", "/content/history",
                 "/content/examples", "/content/training"):
        response = editor.get(path)
        assert response.status_code == 200, path
        assert_no_inline_code(response.text, path)


# --- a text, from the form to live ------------------------------------------------------------------
def test_reword_a_text_preview_publish_live_history_audit_and_undo(app, editor, store, root):
    path = root / "responses" / "answers.yml"
    original = path.read_text(encoding="utf-8")
    assert content.current(root).response("utter_ask_law")["text"]  # a running Sam has the old text
    fields = text_form(editor, "utter_ask_law")
    old_text = fields["text"]
    new_text = "Nieuw: foto's van iemand onder de 18 doorsturen is strafbaar.\nVraag het gerust."
    fields["text"] = new_text

    preview = submit(editor, "/content/text", fields, "preview")
    assert preview.status_code == 200
    assert 'id="verdict-ok"' in preview.text and has_publish_button(preview.text)
    assert 'class="tg-bubble"' in preview.text and new_text in unescape(preview.text)
    # The buttons are shown under the message.
    assert preview.text.index('class="tg-bubble"') < preview.text.index('class="tg-buttons"')
    assert path.read_text(encoding="utf-8") == original  # a preview writes nothing

    # Publishing a value that was not previewed shows the preview again instead.
    changed = {**form_fields(preview.text, "text-form"), "text": new_text + " Extra."}
    again = submit(editor, "/content/text", changed, "publish")
    assert again.status_code == 200 and 'id="hint"' in again.text
    assert path.read_text(encoding="utf-8") == original

    published = submit(editor, "/content/text", form_fields(preview.text, "text-form"), "publish")
    assert published.status_code == 303
    assert published.headers["location"].startswith("/content/text?name=utter_ask_law")
    assert "Gepubliceerd" in unescape(editor.get(published.headers["location"]).text)

    # The file: only that line changed; comments, order and the other texts stay as they were.
    after = path.read_text(encoding="utf-8")
    old_lines, new_lines = original.splitlines(), after.splitlines()
    assert len(old_lines) == len(new_lines)
    differing = [i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
    assert len(differing) == 1 and "utter_ask_law" in old_lines[differing[0] - 1]
    assert yaml.safe_load(after)["responses"]["utter_ask_law"][0]["text"] == new_text
    assert not list(path.parent.glob(".*.tmp"))  # the temporary file was renamed over it

    # Live on a running Sam within 5 seconds, without retraining.
    deadline = time.monotonic() + 5
    while content.current(root).response("utter_ask_law")["text"] != new_text:
        assert time.monotonic() < deadline, "not live within 5 seconds"
        time.sleep(0.1)

    row = store.execute("SELECT id, account_name, kind, target, file, old_value, new_value, undo_of "
                        "FROM content_changes").fetchall()
    assert len(row) == 1
    change_id, who, kind, target, file, old_value, new_value, undo_of = row[0]
    assert (who, kind, file, undo_of) == (EDITOR, "text", "content/responses/answers.yml", None)
    assert json.loads(target) == {"name": "utter_ask_law", "variant": 0}
    assert json.loads(old_value)["text"] == old_text.replace("\r\n", "\n")
    assert json.loads(new_value)["text"] == new_text
    audit_rows = store.execute("SELECT account_name, detail FROM audit_log WHERE action = 'content_change'").fetchall()
    assert len(audit_rows) == 1 and audit_rows[0][0] == EDITOR
    assert json.loads(audit_rows[0][1])["change"] == change_id

    history = editor.get("/content/history")
    assert history.status_code == 200 and new_text.split("\n")[0] in unescape(history.text)
    undone = editor.post("/content/undo", data={"csrf_token": fields["csrf_token"], "change_id": str(change_id)})
    assert undone.status_code == 303
    assert path.read_text(encoding="utf-8") == original  # exactly the old file again
    rows = content_editing.history(store)
    assert rows[0]["undo_of"] == change_id and rows[1]["undone_by"] == rows[0]["id"]
    assert store.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'content_undo'").fetchone()[0] == 1
    again = editor.post("/content/undo", data={"csrf_token": fields["csrf_token"], "change_id": str(change_id)})
    assert again.status_code == 400 and "al ongedaan" in unescape(again.text)
    deadline = time.monotonic() + 5
    while content.current(root).response("utter_ask_law")["text"] == new_text:
        assert time.monotonic() < deadline, "the undo was not live within 5 seconds"
        time.sleep(0.1)


def test_the_history_is_append_only(store):
    store.execute("INSERT INTO content_changes (at, account_name, kind, target, label, file) "
                  "VALUES ('2026-01-01', 'x', 'text', '{}', 'x', 'content/x.yml')")
    import sqlite3

    with pytest.raises(sqlite3.DatabaseError):
        store.execute("UPDATE content_changes SET label = 'y'")
    with pytest.raises(sqlite3.DatabaseError):
        store.execute("DELETE FROM content_changes")


def test_a_text_change_does_not_make_the_model_outdated(app, editor, root, tmp_path, monkeypatch):
    """bot/training.py fingerprints what the model learns from; texts are not part of it."""
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setattr(training, "MODEL_FILE", models / "sam.tar.gz")
    monkeypatch.setattr(training, "FINGERPRINT_FILE", models / "sam.fingerprint")
    training.MODEL_FILE.write_bytes(b"model")
    before = training.fingerprint()
    training.FINGERPRINT_FILE.write_text(before)
    assert training.is_current()
    fields = text_form(editor, "utter_greet")
    fields["text"] = "Hoi! Ik ben Sam, een chatbot.\nVraag maar raak."
    fields["button_title_0"] = "Wat is sexting nou?"
    assert preview_then_publish(editor, "/content/text", fields, "text-form").status_code == 303
    assert content.load_content(root).response("utter_greet")["text"] == fields["text"]
    assert training.fingerprint() == before and training.is_current()


def test_the_preview_fills_in_the_real_helplines_and_escapes_markup(app, editor, root):
    fields = text_form(editor, "utter_ask_image_removal")
    fields["text"] = fields["text"].replace("Het is niet jouw schuld.", "Het is <b>niet</b> jouw schuld.")
    preview = submit(editor, "/content/text", fields, "preview")
    assert preview.status_code == 200
    bubble = preview.text.split('class="tg-bubble"')[1].split("</div>")[0]
    assert "{helplines}" not in bubble and "Helpwanted" in bubble and "020-261 52 75" in bubble
    assert "<b>niet</b>" not in preview.text and "&lt;b&gt;niet&lt;/b&gt;" in bubble
    assert_no_inline_code(preview.text, "preview")


def test_buttons_change_with_the_text(app, editor, root):
    fields = text_form(editor, "utter_ask_sexting")
    fields["button_title_0"] = "Mag dat wel?"
    fields["button_title_2"], fields["button_payload_2"] = "", ""  # the third button goes
    fields["button_title_3"], fields["button_payload_3"] = "Praten met een mens", "/request_human"
    assert preview_then_publish(editor, "/content/text", fields, "text-form").status_code == 303
    buttons = content.load_content(root).response("utter_ask_sexting")["buttons"]
    assert buttons == [{"title": "Mag dat wel?", "payload": "/ask_law"},
                       {"title": "Hoe zeg ik nee?", "payload": "/ask_saying_no"},
                       {"title": "Praten met een mens", "payload": "/request_human"}]
    text = (root / "responses" / "answers.yml").read_text(encoding="utf-8")
    assert "          payload: /request_human\n\n  utter_ask_image_removal:" in text  # the blank line stays


# --- refused changes ---------------------------------------------------------------------------------
def verdict_errors(html: str) -> str:
    """The refusal as the editor reads it: the list under "Dit kan zo niet live"."""
    assert 'id="verdict-refused"' in html
    return unescape(html.split('id="verdict-errors"')[1].split("</ul>")[0])


# Each refusal names what is wrong (the words below) and how to fix it, in Dutch; the exact wording
# is bot/content_rules.py's and bot/content_check.py's.
@pytest.mark.parametrize("name, change, explanation", [
    ("utter_ask_helpline", lambda f: f.update(text=f["text"].replace("{helplines}", "")), "{helplines} ontbreekt"),
    ("utter_ask_law", lambda f: f.update(text=f["text"] + " Hoi {naam}"), "{naam}"),
    ("utter_ask_law", lambda f: f.update(button_payload_0="/bestaat_niet"), "/bestaat_niet"),
    ("utter_ask_law", lambda f: f.update(text=""), "geen tekst"),
])
def test_an_invalid_text_is_refused_in_dutch_and_nothing_changes(app, editor, store, root, name, change,
                                                                  explanation):
    before = snapshot(root)
    fields = text_form(editor, name)
    change(fields)
    preview = submit(editor, "/content/text", fields, "preview")
    assert preview.status_code == 400
    assert explanation in verdict_errors(preview.text)
    assert not has_publish_button(preview.text)
    # Even a "publish" sent anyway (the preview's own hash, without the button) is checked again, and refused.
    refused = submit(editor, "/content/text", form_fields(preview.text, "text-form"), "publish")
    assert refused.status_code == 400 and explanation in unescape(refused.text)
    assert snapshot(root) == before
    assert store.execute("SELECT COUNT(*) FROM content_changes").fetchone()[0] == 0


def test_publish_refuses_what_the_content_checks_refuse(store, root):
    """The store-level function, without the pages: an invalid value never reaches the real files."""
    before = snapshot(root)
    editor = {"id": 1, "name": EDITOR}
    value = content_editing.current_value("helpline", {"id": "kindertelefoon"})
    broken = {**value, "hours": {"ma": "9-17"}}
    with pytest.raises(content_editing.EditError) as info:
        content_editing.publish(store, editor, "helpline", {"id": "kindertelefoon"}, broken,
                                content_editing.value_hash(value))
    assert "geen goede tijd" in str(info.value)
    gone = {**value, "contact": ""}
    with pytest.raises(content_editing.EditError) as info:
        content_editing.publish(store, editor, "helpline", {"id": "kindertelefoon"}, gone,
                                content_editing.value_hash(value))
    assert "geen contact" in str(info.value)
    assert snapshot(root) == before


def test_a_second_edit_of_the_same_text_is_refused_not_overwritten(app, store, root):
    first = logged_in(app, store, EDITOR, "editor")
    second = logged_in(app, store, SECOND_EDITOR, "editor")
    mine = text_form(first, "utter_ask_webcam")
    theirs = text_form(second, "utter_ask_webcam")
    mine["text"] = "Eerste versie van de webcamtekst."
    theirs["text"] = "Tweede versie van de webcamtekst."
    preview_first = submit(first, "/content/text", mine, "preview")
    preview_second = submit(second, "/content/text", theirs, "preview")
    assert submit(first, "/content/text", form_fields(preview_first.text, "text-form"), "publish").status_code == 303
    refused = submit(second, "/content/text", form_fields(preview_second.text, "text-form"), "publish")
    assert refused.status_code == 409
    page = unescape(refused.text)
    assert "Iemand anders heeft deze tekst veranderd" in page and "niet opgeslagen" in page
    assert theirs["text"] in page  # their own version is shown, so nothing is lost
    assert form_fields(refused.text, "text-form")["text"] == mine["text"]  # the form now holds the new version
    assert content.load_content(root).response("utter_ask_webcam")["text"] == mine["text"]
    assert store.execute("SELECT COUNT(*) FROM content_changes").fetchone()[0] == 1
    # Also an undo of a change that was changed again since.
    rows = content_editing.history(store)
    fields = text_form(first, "utter_ask_webcam")
    fields["text"] = "Derde versie."
    assert preview_then_publish(first, "/content/text", fields, "text-form").status_code == 303
    late = first.post("/content/undo", data={"csrf_token": fields["csrf_token"], "change_id": str(rows[0]["id"])})
    assert late.status_code == 409 and "niet meer ongedaan" in unescape(late.text)


# --- helplines ---------------------------------------------------------------------------------------
def test_add_a_helpline(app, editor, store, root):
    page = editor.get("/content/helpline")
    fields = form_fields(page.text, "helpline-form")
    today = date.today().isoformat()
    fields.update(line_id="vertrouwenspersoon", name="Vertrouwenspersoon van je instelling",
                  contact="vraag je mentor om het nummer", short="Vertrouwenspersoon: vraag je mentor",
                  **{"for": "als iemand van je groep over je grens gaat"}, hours_mode="days",
                  hours_ma="09:00-17:00", hours_di="09:00-17:00", hours_verified="1", verified=today,
                  source="de instelling, november 2026", confidence="hoog", routing=["abuse"])
    preview = submit(editor, "/content/helpline", fields, "preview")
    assert preview.status_code == 200, unescape(preview.text)
    assert "Vertrouwenspersoon van je instelling" in unescape(preview.text.split('class="tg-chat"')[1])
    published = submit(editor, "/content/helpline", form_fields(preview.text, "helpline-form"), "publish")
    assert published.status_code == 303
    loaded = content.load_content(root)
    line = loaded.helplines["lines"]["vertrouwenspersoon"]
    assert line["hours"] == {"ma": "09:00-17:00", "di": "09:00-17:00"} and line["verified"] == today
    assert "vertrouwenspersoon" in loaded.helplines["routing"]["abuse"]
    text = (root / "helplines.yml").read_text(encoding="utf-8")
    assert "# De vertrouwenspersoon of klachtenregeling" in text  # the comments stay
    assert text.index("  vertrouwenspersoon:\n") < text.index("# De vertrouwenspersoon of klachtenregeling")
    overview = unescape(editor.get("/content").text)
    assert "Vertrouwenspersoon van je instelling" in overview and f"op {today}" in overview
    # A second helpline with the same code is refused.
    again = submit(editor, "/content/helpline", {**fields, "base": content_editing.value_hash(None)}, "preview")
    assert again.status_code == 409 and "al een hulplijn" in unescape(again.text)
    row = content_editing.history(store)[0]
    assert row["kind"] == "helpline" and row["old"] is None and row["new"]["routing"] == ["abuse"]


def test_change_the_hours_of_a_helpline_live(app, editor, root):
    page = editor.get("/content/helpline?id=kindertelefoon")
    fields = form_fields(page.text, "helpline-form")
    assert fields["hours_mode"] == "days" and fields["hours_ma"] == "11:00-21:00"
    fields.update(hours_ma="12:00-20:00", verified=date.today().isoformat(), hours_verified="1")
    assert preview_then_publish(editor, "/content/helpline", fields, "helpline-form").status_code == 303
    deadline = time.monotonic() + 5
    while content.current(root).helplines["lines"]["kindertelefoon"]["hours"]["ma"] != "12:00-20:00":
        assert time.monotonic() < deadline, "not live within 5 seconds"
        time.sleep(0.1)


# --- risk words ----------------------------------------------------------------------------------------
def test_a_new_risk_word_shows_which_labelled_sentences_change_before_publishing(app, editor, store, root):
    sentence = "someone posted my pic on an expose page"
    fields = form_fields(editor.get("/content/risk").text, "risk-form")
    fields.update(mode="term", words="expose page", category="image_shared", severity="high")
    preview = submit(editor, "/content/risk", fields, "preview")
    assert preview.status_code == 200
    effect = preview.text.split('id="effect-newly-escalated"')[1].split("</ul>")[0]
    assert sentence in unescape(effect) and 'data-good="1"' in effect
    assert "expose page" not in (root / "risk_lexicon.yml").read_text(encoding="utf-8")  # not yet
    assert preview_then_publish(editor, "/content/risk", fields, "risk-form").status_code == 303
    lexicon = content.load_content(root).lexicon
    assert {"term": "expose page", "category": "image_shared", "severity": "high"} in lexicon["entries"]
    from bot.risk.detector import RiskDetector
    from bot.risk.lexicon import Lexicon

    assert RiskDetector(Lexicon(lexicon)).assess(sentence).escalate
    text = (root / "risk_lexicon.yml").read_text(encoding="utf-8")
    assert "  - {term: expose page, category: image_shared, severity: high}\n" in text
    assert "# --- nu in gevaar (altijd acuut) ---" in text
    assert content_editing.history(store)[0]["kind"] == "risk_word"


def test_a_risk_word_that_hits_ordinary_messages_is_shown_as_such(app, editor):
    fields = form_fields(editor.get("/content/risk").text, "risk-form")
    fields.update(mode="term", words="lachen", category="selfharm", severity="acute")
    preview = submit(editor, "/content/risk", fields, "preview")
    effect = preview.text.split('id="effect-newly-escalated"')[1].split("</ul>")[0]
    assert "ik lig dood van het lachen" in unescape(effect) and 'data-good="0"' in effect


def test_removing_a_risk_word_that_catches_acute_disclosures_is_refused(app, editor, store, root):
    before = snapshot(root)
    entries = yaml.safe_load((root / "risk_lexicon.yml").read_text(encoding="utf-8"))["entries"]
    index = next(i for i, e in enumerate(entries) if e.get("term") == "zelfmoord")
    fields = form_fields(editor.get(f"/content/risk?entry={index}").text, "risk-form")
    assert fields["words"] == "zelfmoord" and fields["category"] == "selfharm"
    fields["remove"] = "1"
    preview = submit(editor, "/content/risk", fields, "preview")
    assert preview.status_code == 400 and not has_publish_button(preview.text)
    gone = unescape(preview.text.split('id="effect-no-longer-escalated"')[1].split("</ul>")[0])
    assert "zelfmoord" in gone.lower() and "wordt dan gemist" in gone
    assert "acute melding" in verdict_errors(preview.text)
    assert submit(editor, "/content/risk", form_fields(preview.text, "risk-form"), "publish").status_code == 400
    assert snapshot(root) == before


def test_a_risk_word_can_be_changed_and_undone(app, editor, store, root):
    original = (root / "risk_lexicon.yml").read_text(encoding="utf-8")
    entries = yaml.safe_load(original)["entries"]
    index = next(i for i, e in enumerate(entries) if e.get("category") == "grooming" and e.get("severity") == "high")
    fields = form_fields(editor.get(f"/content/risk?entry={index}").text, "risk-form")
    fields["severity"] = "concern"
    assert preview_then_publish(editor, "/content/risk", fields, "risk-form").status_code == 303
    changed = yaml.safe_load((root / "risk_lexicon.yml").read_text(encoding="utf-8"))["entries"][index]
    assert changed == {**entries[index], "severity": "concern"}
    change_id = content_editing.history(store)[0]["id"]
    assert editor.post("/content/undo", data={"csrf_token": fields["csrf_token"],
                                              "change_id": str(change_id)}).status_code == 303
    assert (root / "risk_lexicon.yml").read_text(encoding="utf-8") == original


# --- example questions and retraining --------------------------------------------------------------
def test_an_example_question_is_appended_to_its_intent_and_duplicates_are_refused(app, editor, store, nlu):
    page = editor.get("/content/examples")
    fields = form_fields(page.text, "example-form")
    fields.update(intent="ask_law", example="mag mijn vriendje mijn foto bewaren van de wet")
    preview = submit(editor, "/content/examples", fields, "preview")
    assert preview.status_code == 200 and 'id="verdict-ok"' in preview.text
    published = submit(editor, "/content/examples", form_fields(preview.text, "example-form"), "publish")
    assert published.status_code == 303
    assert "opnieuw trainen" in unescape(editor.get(published.headers["location"]).text)
    found = [block for path in nlu.glob("*.yml") for block in yaml.safe_load(path.read_text())["nlu"]
             if block.get("intent") == "ask_law"]
    assert "- mag mijn vriendje mijn foto bewaren van de wet" in found[0]["examples"].splitlines()
    duplicate = submit(editor, "/content/examples", {**fields, "intent": "ask_sexting", "example": "HOI"}, "preview")
    assert duplicate.status_code == 400
    refusal = verdict_errors(duplicate.text)
    assert "'greet'" in refusal and "HOI" in refusal.upper() and "/tmp" not in refusal
    row = content_editing.history(store)[0]
    assert row["kind"] == "example" and row["file"].startswith("bot/data/nlu/")
    assert store.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'content_change'").fetchone()[0] == 1


class FakeRasa:
    """The Rasa HTTP API (PUT /model), answering `status`; records what it was asked."""

    def __init__(self, status: int = 204, down: bool = False) -> None:
        self.status, self.down = status, down
        self.requests: List[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        self.requests.append(request)
        return httpx.Response(self.status)


GOOD_METRICS = {"disclosures": 367, "near_misses": 370, "recall_overall": 0.995, "recall_acute": 1.0,
                "false_handover_rate": 0.011, "recall_per_category": {}, "missed": ["ik ben weg"],
                "false_handovers": []}


@pytest.fixture
def retraining(tmp_path, monkeypatch, app, settings):
    """The retraining with its subprocesses and Rasa faked; runs at once, not in a thread."""
    models = tmp_path / "models"
    models.mkdir()
    for name, file in (("MODEL_FILE", "sam.tar.gz"), ("FINGERPRINT_FILE", "sam.fingerprint"),
                       ("DURATION_FILE", "sam.seconds")):
        monkeypatch.setattr(training, name, models / file)
    training.MODEL_FILE.write_bytes(b"old model")
    training.FINGERPRINT_FILE.write_text("old fingerprint")
    monkeypatch.setattr(training, "fingerprint", lambda: "new fingerprint")
    state = {"commands": [], "metrics": dict(GOOD_METRICS), "validate": 0, "train": 0, "rasa": FakeRasa(),
             "seen_model": None}

    def fake_run(command, log_path, timeout):
        state["commands"].append(list(command))
        Path(log_path).write_text("log\n")
        if "validate" in command:
            return state["validate"]
        if "train" in command:
            out = Path(command[command.index("--out") + 1])
            assert out != training.MODEL_FILE.parent and models not in out.parents  # never into models/
            if state["train"] == 0:
                (out / "sam.tar.gz").write_bytes(b"new model")
            return state["train"]
        if "evaluate" in command:
            state["seen_model"] = command[command.index("evaluate") + 1]
            Path(command[command.index("--out") + 1]).write_text(json.dumps(state["metrics"]))
            return 0
        raise AssertionError(command)

    monkeypatch.setattr(model_update, "_run", fake_run)
    monkeypatch.setattr(model_update, "_http", lambda: httpx.Client(transport=httpx.MockTransport(
        lambda request: state["rasa"].handler(request))))
    monkeypatch.setattr(model_update, "_spawn", lambda job_id, s: model_update.run_job(job_id, s))
    app.state.settings = dataclasses.replace(settings, rasa_auth_token="geheim-token")
    return state


def start_training(client):
    token = client.get("/account").text.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post("/content/training", data={"csrf_token": token})


def test_retraining_that_passes_is_loaded_into_rasa_and_kept(app, editor, store, retraining):
    response = start_training(editor)
    assert response.status_code == 303
    job = model_update.latest(store)
    assert job["status"] == "loaded", job["message"]
    kinds = [next(w for w in ("validate", "train", "evaluate") if w in c) for c in retraining["commands"]]
    assert kinds == ["validate", "train", "evaluate"]
    train = retraining["commands"][1]
    assert train[:4] == [model_update.sys.executable, "-m", "bot.rasa_cli", "train"]
    assert "--fixed-model-name" in train and "--quiet" in train
    (request,) = retraining["rasa"].requests
    assert request.method == "PUT" and request.url.path == "/model"
    assert request.url.params["token"] == "geheim-token"
    assert json.loads(request.content)["model_file"] == retraining["seen_model"]
    assert training.MODEL_FILE.read_bytes() == b"new model"
    assert training.FINGERPRINT_FILE.read_text() == "new fingerprint"
    page = unescape(editor.get("/content/training").text)
    assert "Sam gebruikt het nieuwe model" in page and "99.5%" in page
    status = editor.get("/content/training/status")
    assert status.status_code == 200 and 'data-running="0"' in status.text
    actions = [r[0] for r in store.execute("SELECT action FROM audit_log ORDER BY id").fetchall()]
    assert "model_training_started" in actions and "model_update_loaded" in actions


@pytest.mark.parametrize("setup, expected", [
    (lambda s: s["metrics"].update(recall_acute=0.97, missed=["ik wil er niet meer zijn"]),
     "Niet elke acute melding"),
    (lambda s: s["metrics"].update(false_handover_rate=0.05, false_handovers=["ik lig dood van het lachen"]),
     "Onterecht doorverwezen"),
    (lambda s: s["metrics"].update(recall_overall=0.95), "Meldingen herkend: 95,0%"),
    (lambda s: s.update(validate=1), "De trainingsdata klopt niet"),
    (lambda s: s.update(train=1), "Het trainen is mislukt"),
    (lambda s: s.update(rasa=FakeRasa(status=500)), "Sam kon het niet laden"),
])
def test_retraining_that_fails_keeps_the_old_model_and_says_why(app, editor, store, retraining, setup, expected):
    setup(retraining)
    assert start_training(editor).status_code == 303
    job = model_update.latest(store)
    assert job["status"] in ("refused", "failed")
    assert expected in job["message"] and "oude model blijft actief" in job["message"]
    assert training.MODEL_FILE.read_bytes() == b"old model"
    assert training.FINGERPRINT_FILE.read_text() == "old fingerprint"
    if retraining["rasa"].status != 500:
        assert retraining["rasa"].requests == []  # Rasa was never asked to load a model that failed
    page = unescape(editor.get("/content/training").text)
    assert expected in page and ("Niet gebruikt" in page or "Mislukt" in page)
    assert store.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'model_update_refused'").fetchone()[0] == 1


def test_retraining_while_rasa_is_down_keeps_the_model_for_the_next_start(app, editor, store, retraining):
    retraining["rasa"] = FakeRasa(down=True)
    assert start_training(editor).status_code == 303
    job = model_update.latest(store)
    assert job["status"] == "installed" and "volgende start" in job["message"]
    assert training.MODEL_FILE.read_bytes() == b"new model"


def test_one_retraining_at_a_time_and_progress_while_it_runs(app, editor, store, retraining, monkeypatch):
    started = []
    monkeypatch.setattr(model_update, "_spawn", lambda job_id, s: started.append(job_id))
    monkeypatch.setattr(model_update, "_recover", lambda db: None)  # the "thread" runs (it never started here)
    assert start_training(editor).status_code == 303
    busy = start_training(editor)
    assert busy.status_code == 409 and "al getraind" in unescape(busy.text)
    assert len(started) == 1
    store.execute("UPDATE model_updates SET phase = 'train'")
    page = editor.get("/content/training")
    assert 'id="training-progress"' in page.text and 'data-running="1"' in page.text
    assert "Sam leert de voorbeeldvragen" in unescape(page.text)
    assert 'src="/static/content.js"' in page.text


def test_a_retraining_the_dashboard_lost_track_of_is_marked_stopped(store, settings):
    account = make_account(store, EDITOR, "editor")
    store.execute("INSERT INTO model_updates (started_at, account_id, account_name, status, phase, updated_at) "
                  "VALUES ('2026-01-01', ?, ?, 'running', 'train', '2026-01-01')", [account["id"], EDITOR])
    job = model_update.latest(store)
    assert job["status"] == "failed" and "Onderbroken" in job["message"]


# --- the YAML files themselves ------------------------------------------------------------------------
def test_every_content_and_nlu_file_can_be_edited_without_changing_its_layout():
    for path in sorted(CONTENT_DIR.rglob("*.yml")) + sorted(NLU_DIR.glob("*.yml")):
        document = content_editing.Document(path, path.name)
        assert document.dump() == path.read_text(encoding="utf-8"), path


def test_emoji_stay_emoji_when_a_file_is_written(root):
    change = content_editing.prepare("text", {"name": "utter_sticker"},
                                     {"text": "Dank je! 🙂 Ik lees alleen tekst. 👋", "buttons": []})
    assert "🙂" in change.new_text and "\\U0001F" not in change.new_text
    assert "Hoi! 👋 Ik ben Sam" not in change.new_text  # (another file)


def test_the_login_page_of_a_logged_out_editor_returns_to_the_content_page(app, store):
    make_account(store, EDITOR, "editor")
    client = client_for(app)
    response = client.get("/content/history")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/content/history"
    assert login(client, EDITOR).status_code == 303
    assert accounts.get_by_name(store, EDITOR)["role"] == "editor"


def test_the_dashboard_refuses_what_the_dutch_checker_finds(root, nlu):
    """One set of rules: the dashboard asks bot/content_check.py (as `make content` and the live reload do)."""
    law = content_editing.current_value("text", {"name": "utter_ask_law"})
    cases = [
        ("text", {"name": "utter_ask_law"}, {**law, "text": law["text"] + " {naam}"}, "{naam}"),
        ("text", {"name": "utter_ask_law"}, {**law, "buttons": [{"title": "Ja", "payload": "/bestaat_niet"}]},
         "/bestaat_niet"),
        ("example", {"intent": "ask_sexting", "example": "hoi!"}, "hoi!", "'greet'"),
        ("helpline", {"id": "kindertelefoon"}, {**content_editing.current_value("helpline", {"id": "kindertelefoon"}),
                                               "verified": "2999-01-01"}, "toekomst"),
    ]
    for kind, target, new, expected in cases:
        verdict = content_editing.check(content_editing.prepare(kind, target, new))
        assert not verdict.ok and expected in " ".join(f.message for f in verdict.errors), (kind, expected)
