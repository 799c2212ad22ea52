"""Content that parses but is wrong never goes live: each check, the live reload and the first load."""
from __future__ import annotations

import itertools
import logging
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot import content, content_rules
from bot.config import CONTENT_DIR
from bot.content import ContentError, ContentUnavailable
from bot.helplines import DAYS, UNKNOWN, choose, helplines_text, status
from bot.risk.lexicon import CATEGORIES

_mtimes = itertools.count(1_000_000_000)
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    copy = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, copy)
    return copy


def touch(path: Path) -> None:
    """A new mtime for every edit, so the fingerprint changes even on coarse clocks."""
    stamp = next(_mtimes)
    os.utime(path, ns=(stamp, stamp))


def edit(root: Path, name: str, change: Callable[[Dict[str, Any]], Any]) -> None:
    path = root / name
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    change(data)
    path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False), encoding="utf-8")
    touch(path)


def problems_of(root: Path) -> str:
    with pytest.raises(ContentError) as info:
        content.load_content(root)
    assert info.value.problems
    return str(info.value)


# --- the real content -------------------------------------------------------------------
def test_the_real_content_passes():
    assert content_rules.problems(content.load_content()) == []


def test_an_unchanged_round_trip_passes(root):
    edit(root, "risk_lexicon.yml", lambda d: None)
    edit(root, "helplines.yml", lambda d: None)
    content.load_content(root)


def test_required_responses_cover_what_the_gateway_sends():
    from bot.gateway import COMMAND_RESPONSES, MEDIA_RESPONSES

    assert set(MEDIA_RESPONSES.values()) | set(COMMAND_RESPONSES.values()) <= set(content_rules.REQUIRED_RESPONSES)


# --- one broken thing at a time -----------------------------------------------------------
def first_entry(term: str):
    def find(data):
        return next(e for e in data["entries"] if e.get("term") == term)
    return find


def lexicon(change):
    return "risk_lexicon.yml", change


def helplines(change):
    return "helplines.yml", change


def response(file: str, change):
    return f"responses/{file}", lambda d: change(d["responses"])


def missing(file: str, name: str):
    """A required response deleted; the message names the response (it has no file any more)."""
    return f"responses/{file}", lambda d: d["responses"].pop(name), name


BROKEN = {
    # risk_lexicon.yml
    "entry without category": lexicon(lambda d: first_entry("zelfmoord")(d).pop("category")),
    "unknown category": lexicon(lambda d: first_entry("zelfmoord")(d).update(category="zelfmoord")),
    "entry without severity": lexicon(lambda d: first_entry("zelfmoord")(d).pop("severity")),
    "unknown severity": lexicon(lambda d: first_entry("zelfmoord")(d).update(severity="heel erg")),
    "neither term nor all": lexicon(lambda d: first_entry("zelfmoord")(d).pop("term")),
    "both term and all": lexicon(lambda d: first_entry("zelfmoord")(d).update(all=["dood"])),
    "term is a list": lexicon(lambda d: first_entry("zelfmoord")(d).update(term=["zelf", "moord"])),
    "empty all would match everything": lexicon(lambda d: d["entries"].append(
        {"all": [], "category": "abuse", "severity": "high"})),
    "all is not a list": lexicon(lambda d: d["entries"].append({"all": "mes arm", "category": "abuse",
                                                                "severity": "high"})),
    "term without letters": lexicon(lambda d: first_entry("zelfmoord")(d).update(term="!!!")),
    "topic is not true/false": lexicon(lambda d: first_entry("zelfmoord")(d).update(topic="ja")),
    "entry is not a mapping": lexicon(lambda d: d["entries"].append("chantage")),
    "no entries": lexicon(lambda d: d.pop("entries")),
    "spelling is a list": lexicon(lambda d: d.update(spelling=["nie", "niet"])),
    "first_person is not a list": lexicon(lambda d: d.update(first_person="ik")),
    # helplines.yml
    "routing names an unknown line": helplines(lambda d: d["routing"]["selfharm"].append("zelfmoordpreventie")),
    "always_open names an unknown line": helplines(lambda d: d["always_open"].update(selfharm="113")),
    "routing misses a category": helplines(lambda d: d["routing"].pop("runaway")),
    "routing misses general": helplines(lambda d: d["routing"].pop("general")),
    "routing entry is not a list": helplines(lambda d: d["routing"].update(selfharm="zelfmoordpreventie_113")),
    "empty routing entry": helplines(lambda d: d["routing"].update(selfharm=[])),
    "line without contact": helplines(lambda d: d["lines"]["kindertelefoon"].pop("contact")),
    "line without name": helplines(lambda d: d["lines"]["kindertelefoon"].pop("name")),
    "line without hours": helplines(lambda d: d["lines"]["kindertelefoon"].pop("hours")),
    "hours not a range": helplines(lambda d: d["lines"]["kindertelefoon"]["hours"].update(ma="11 tot 21")),
    "hours past midnight as 24:00": helplines(lambda d: d["lines"]["kindertelefoon"]["hours"].update(ma="11:00-24:00")),
    "unknown day": helplines(lambda d: d["lines"]["kindertelefoon"]["hours"].update(maa="11:00-21:00")),
    "unknown hours word": helplines(lambda d: d["lines"]["kindertelefoon"].update(hours="soms")),
    "hours_verified not true/false": helplines(lambda d: d["lines"]["kindertelefoon"].update(hours_verified="nee")),
    "no 24/7 line left for a category": helplines(lambda d: d["lines"]["politie"].update(hours_verified=False)),
    "line text without contact": helplines(lambda d: d["texts"].update(open_now="• {name}. Nu open.")),
    "line text not a text": helplines(lambda d: d["texts"].update(open_now=["a", "b"])),
    "no lines": helplines(lambda d: d.pop("lines")),
    "always_open wrong shape": helplines(lambda d: d.update(always_open="politie")),
    # responses/
    "failsafe response missing": missing("telegram.yml", "utter_failsafe_risk"),
    "be-right-back response missing": missing("telegram.yml", "utter_be_right_back"),
    "default response missing": missing("conversation.yml", "utter_default"),
    "handover response for a category missing": missing("handover.yml", "utter_handover_selfharm"),
    "handover helplines missing": missing("handover.yml", "utter_handover_helplines"),
    "handover trusted adult missing": missing("handover.yml", "utter_handover_trusted_adult"),
    "slow-down response missing": missing("telegram.yml", "utter_slow_down"),
    "failsafe without {helplines}": response("telegram.yml", lambda r: r["utter_failsafe_risk"][0].update(
        text="Bel 113.")),
    "variant without text": response("telegram.yml", lambda r: r["utter_slow_down"][0].pop("text")),
    "text is a number": response("telegram.yml", lambda r: r["utter_slow_down"][0].update(text=112)),
    "empty text": response("telegram.yml", lambda r: r["utter_slow_down"][0].update(text="  ")),
    "variants not a list": response("telegram.yml", lambda r: r.update(utter_slow_down="Rustig aan.")),
    "buttons not a list": response("handover.yml", lambda r: r["utter_handover_helplines"][0].update(
        buttons={"title": "Mens", "payload": "/request_human"})),
    "button without payload": response("handover.yml", lambda r: r["utter_handover_helplines"][0]["buttons"][0].pop(
        "payload")),
    "button without title": response("handover.yml", lambda r: r["utter_handover_helplines"][0]["buttons"][0].pop(
        "title")),
    "payload too long for Telegram": response("handover.yml", lambda r: r["utter_handover_helplines"][0]["buttons"][0]
                                              .update(payload="/" + "x" * 70)),
    "button is a text": response("handover.yml", lambda r: r["utter_handover_helplines"][0].update(
        buttons=["/request_human"])),
    "duplicate response name": response("answers.yml", lambda r: r.update(utter_slow_down=[{"text": "Dubbel"}])),
    # followups.yml and commands.yml
    "followup to a missing response": ("followups.yml", lambda d: d["utter_nudge_trusted_adult"].update(
        affirm="utter_bestaat_niet")),
    "followup not a mapping": ("followups.yml", lambda d: d.update(utter_nudge_trusted_adult="utter_no_problem")),
    "command without description": ("commands.yml", lambda d: d["commands"].update(help="")),
    "command with a bad name": ("commands.yml", lambda d: d["commands"].update({"Hulp nu": "Hulp"})),
    "description too long": ("commands.yml", lambda d: d["commands"].update(help="x" * 300)),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_check_rejects_broken_content(root, case):
    name, change, *expected = BROKEN[case]
    edit(root, name, change)
    message = problems_of(root)
    assert (expected or [Path(name).name])[0] in message, message


def test_the_message_names_the_entry_and_the_choices(root):
    edit(root, "risk_lexicon.yml", lambda d: first_entry("zelfmoord")(d).pop("category"))
    message = problems_of(root)
    assert "zelfmoord" in message and "sextortion" in message


def test_all_problems_are_listed_at_once(root):
    edit(root, "risk_lexicon.yml", lambda d: first_entry("zelfmoord")(d).pop("category"))
    edit(root, "helplines.yml", lambda d: d["routing"]["selfharm"].append("zelfmoordpreventie"))
    edit(root, "responses/telegram.yml", lambda d: d["responses"].pop("utter_be_right_back"))
    with pytest.raises(ContentError) as info:
        content.load_content(root)
    message = str(info.value)
    assert len(info.value.problems) >= 3
    assert all(name in message for name in ("risk_lexicon.yml", "helplines.yml", "utter_be_right_back"))


def test_a_lexicon_that_does_not_compile_is_rejected(root, monkeypatch):
    def broken(self, data):
        raise RuntimeError("kapot")

    monkeypatch.setattr(content_rules.Lexicon, "__init__", broken)
    assert "risk_lexicon.yml" in problems_of(root)


@pytest.mark.parametrize("text", ["lines: [a, b", "- een lijst\n- geen mapping\n"])
def test_unreadable_or_wrongly_shaped_file(root, text):
    (root / "helplines.yml").write_text(text, encoding="utf-8")
    assert "helplines.yml" in problems_of(root)


def test_missing_helplines_file(root):
    (root / "helplines.yml").unlink()
    assert "helplines.yml" in problems_of(root)


def test_not_utf8(root):
    path = root / "responses" / "telegram.yml"
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1", errors="replace"))
    assert "telegram.yml" in problems_of(root)


# --- live reload: the last good content stays -----------------------------------------
def test_a_broken_edit_keeps_the_last_good_content_and_is_logged_once(root, monkeypatch, caplog):
    monkeypatch.setattr(content, "RECHECK_SECONDS", 0)
    good = content.current(root)
    edit(root, "risk_lexicon.yml", lambda d: first_entry("zelfmoord")(d).pop("category"))
    with caplog.at_level(logging.ERROR, logger="bot.content"):
        assert content.current(root) is good
        assert content.current(root) is good
    errors = [r for r in caplog.records if r.name == "bot.content" and r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "vorige versie" in errors[0].getMessage() and "risk_lexicon.yml" in errors[0].getMessage()

    # A second, different broken version is reported too.
    caplog.clear()
    edit(root, "helplines.yml", lambda d: d["routing"]["selfharm"].append("zelfmoordpreventie"))
    with caplog.at_level(logging.ERROR, logger="bot.content"):
        assert content.current(root) is good
    assert any("helplines.yml" in r.getMessage() for r in caplog.records)

    # Fixed: the new content goes live.
    edit(root, "risk_lexicon.yml", lambda d: first_entry("zelfmoord")(d).update(category="selfharm"))
    edit(root, "helplines.yml", lambda d: d["routing"]["selfharm"].remove("zelfmoordpreventie"))
    edit(root, "responses/conversation.yml", lambda d: d["responses"]["utter_greet"][0].update(text="Nieuwe groet"))
    fixed = content.current(root)
    assert fixed is not good and fixed.response("utter_greet")["text"] == "Nieuwe groet"


def test_a_first_load_that_fails_raises_content_unavailable(root, monkeypatch, caplog):
    monkeypatch.setattr(content, "RECHECK_SECONDS", 0)
    edit(root, "helplines.yml", lambda d: d["always_open"].update(selfharm="113"))
    with caplog.at_level(logging.ERROR, logger="bot.content"):
        for _ in range(2):
            with pytest.raises(ContentUnavailable) as info:
                content.current(root)
            assert isinstance(info.value, ContentError)
            assert "helplines.yml" in str(info.value)
    assert len([r for r in caplog.records if r.name == "bot.content"]) == 1
    edit(root, "helplines.yml", lambda d: d["always_open"].update(selfharm="zelfmoordpreventie_113"))
    assert content.current(root).helplines["always_open"]["selfharm"] == "zelfmoordpreventie_113"


def test_a_missing_content_folder_raises_content_unavailable(tmp_path, monkeypatch, caplog):
    with caplog.at_level(logging.ERROR, logger="bot.content"), pytest.raises(ContentUnavailable) as info:
        content.current(tmp_path / "bestaat_niet")
    assert "helplines.yml" in str(info.value)
    assert caplog.records


def test_a_bug_in_a_check_does_not_replace_good_content(root, monkeypatch):
    monkeypatch.setattr(content, "RECHECK_SECONDS", 0)
    good = content.current(root)
    monkeypatch.setattr(content_rules, "problems", lambda c: 1 / 0)
    edit(root, "responses/conversation.yml", lambda d: None)
    assert content.current(root) is good


# --- what passed the checks never makes the safety path raise -----------------------------
@pytest.mark.parametrize("only_24_7", [False, True])
def test_helplines_text_for_every_category_and_unknown_ones(only_24_7):
    c = content.load_content()
    for category in CATEGORIES + ("general", "onbekend", None):
        assert helplines_text(category, NOON, content=c, only_24_7=only_24_7), category


def test_helplines_tolerate_unreadable_hours_and_unknown_lines():
    data = {"lines": {"a": {"name": "A", "contact": "1", "hours": {day: "soms" for day in DAYS}},
                      "b": {"name": "B", "contact": "2", "hours": "always"}},
            "routing": {"general": ["a", "weg"]}, "always_open": ["weg", "b"]}
    assert status(data["lines"]["a"], NOON) == UNKNOWN
    assert [line for line, _ in choose("onbekend", NOON, data)] == ["a", "b"]
