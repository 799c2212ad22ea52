"""The editors' check (`python -m bot content check`): every check fails on a small broken copy of
content/ (or of the stories and example questions), the real content passes, the command line's exit
codes and run time, the runtime layer is the live reload's own code, the preview and the report."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import List, Optional
from zoneinfo import ZoneInfo

import pytest

from bot import content, content_check, content_rules
from bot.config import CONTENT_DIR, NLU_DIR, ROOT, STORIES_DIR
from bot.content_check import ERROR, WARNING, Finding, check

TODAY = date(2026, 11, 27)
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))


# --- helpers ---------------------------------------------------------------------------------
@pytest.fixture
def root(tmp_path: Path) -> Path:
    copy = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, copy)
    return copy


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def response_file(root: Path, name: str) -> Path:
    return next(p for p in (root / "responses").glob("*.yml") if f"\n  {name}:\n" in p.read_text(encoding="utf-8"))


def set_text(root: Path, name: str, text: str) -> None:
    """Replaces the text of a response, keeping the rest of the file (and its line numbers)."""
    path = response_file(root, name)
    source = path.read_text(encoding="utf-8")
    pattern = re.compile(rf'(\n  {name}:\n    - text: )"(?:[^"\\]|\\.)*"')
    assert pattern.search(source), name
    path.write_text(pattern.sub(lambda m: m.group(1) + json.dumps(text, ensure_ascii=False), source, count=1),
                    encoding="utf-8")


def add_response(root: Path, name: str, text: str, buttons: Optional[List[tuple]] = None) -> None:
    lines = [f"\n  {name}:", f"    - text: {json.dumps(text, ensure_ascii=False)}"]
    if buttons:
        lines.append("      buttons:")
        for title, payload in buttons:
            lines += [f"        - title: {json.dumps(title, ensure_ascii=False)}", f"          payload: {payload}"]
    path = root / "responses" / "conversation.yml"
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + "\n".join(lines) + "\n", encoding="utf-8")


def found(findings: List[Finding], level: str, text: str, file: Optional[str] = None) -> Finding:
    matches = [f for f in findings
               if f.level == level and text in f.message and (file is None or f.file.endswith(file))]
    assert matches, f"no {level} with {text!r} in:\n" + "\n".join(map(str, findings))
    return matches[0]


def run(root: Path, **kwargs) -> List[Finding]:
    return check(root, today=TODAY, **kwargs)


# --- the real content ---------------------------------------------------------------------------
def test_the_real_content_has_no_errors():
    findings = check(today=TODAY)
    assert not content_check.errors(findings), "\n".join(map(str, content_check.errors(findings)))


def test_the_real_content_only_warns_about_unverified_helplines():
    """No helpline says where it was checked and when, so each has a 'verified' warning; nothing else."""
    findings = check(today=TODAY)
    assert all(f.file == "content/helplines.yml" and "gecheckt" in f.message for f in findings), \
        "\n".join(map(str, findings))


def test_every_finding_is_a_small_dutch_record():
    findings = run_broken_once()
    assert findings and all(isinstance(f, Finding) and f.level in (ERROR, WARNING) for f in findings)
    assert all(f.file and f.message for f in findings)
    assert "regel" in content_check.format_findings(findings)


def run_broken_once() -> List[Finding]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "content"
        shutil.copytree(CONTENT_DIR, copy)
        set_text(copy, "utter_goodbye", "Doei! {naam}")
        return run(copy)


# --- layer 1: the live reload's own rules --------------------------------------------------------
def test_the_runtime_layer_is_the_live_reloads_code(root, monkeypatch):
    monkeypatch.setattr(content_rules, "problems", lambda c: ["helplines.yml: lijn 'politie' test-probleem."])
    finding = found(run(root), ERROR, "test-probleem", "helplines.yml")
    politie = (root / "helplines.yml").read_text(encoding="utf-8").split("\n").index("  politie:") + 1
    assert finding.blocks_reload and finding.item == "politie" and finding.line == politie


def test_a_runtime_problem_blocks_the_reload_and_the_check_alike(root, monkeypatch):
    set_text(root, "utter_failsafe_risk", "Bel 112.")  # {helplines} is a must-have here
    finding = found(run(root), ERROR, "{helplines} ontbreekt", "responses/telegram.yml")
    assert finding.blocks_reload and finding.item == "utter_failsafe_risk" and finding.line
    monkeypatch.setattr(content, "RECHECK_SECONDS", 0)
    with pytest.raises(content.ContentUnavailable):
        content.current(root)  # the live reload refuses the same content


def test_a_missing_required_response_is_a_blocking_error(root):
    path = root / "responses" / "conversation.yml"
    replace(path, "  utter_thank:\n", "  utter_thank_you:\n")
    findings = run(root)
    found(findings, ERROR, "'utter_thank' ontbreekt", "responses/")
    found(findings, WARNING, "'utter_thank_you': niemand stuurt deze tekst")


# --- YAML -----------------------------------------------------------------------------------------
def test_a_yaml_syntax_error_has_its_line(root):
    replace(root / "responses" / "answers.yml", '  utter_ask_law:\n    - text: "', '  utter_ask_law:\n    - text: ""')
    finding = found(run(root), ERROR, "de opmaak (YAML) klopt niet", "responses/answers.yml")
    assert finding.line and "utter_ask_law" in (root / "responses" / "answers.yml").read_text().split("\n")[
        finding.line - 2]


def test_a_duplicate_key_is_an_error_with_both_lines(root):
    add_response(root, "utter_goodbye", "Dag!")
    finding = found(run(root), ERROR, "'utter_goodbye' staat hier twee keer", "responses/conversation.yml")
    assert finding.line and "ook op regel" in finding.message


def test_a_duplicate_key_in_a_helpline(root):
    replace(root / "helplines.yml", '    name: "Fier"\n', '    name: "Fier"\n    name: "Fier2"\n')
    found(run(root), ERROR, "'name' staat hier twee keer", "helplines.yml")


# --- fields ---------------------------------------------------------------------------------------
def test_an_unknown_field_in_a_response(root):
    replace(root / "responses" / "conversation.yml", '  utter_goodbye:\n    - text: "Doei!',
            '  utter_goodbye:\n    - image: "x.png"\n      text: "Doei!')
    found(run(root), ERROR, "het veld 'image' kent Sam niet", "responses/conversation.yml")


def test_an_unknown_field_in_a_button(root):
    replace(root / "responses" / "conversation.yml", '        - title: "Nog een vraag"\n',
            '        - title: "Nog een vraag"\n          url: "https://example.org"\n')
    found(run(root), ERROR, "het veld 'url'", "responses/conversation.yml")


def test_a_helpline_with_a_misspelt_field(root):
    replace(root / "helplines.yml", "    hours_verified: false\n    source: \"fier.nl",
            "    hours_verifed: false\n    source: \"fier.nl")
    findings = run(root)
    found(findings, ERROR, "het veld 'hours_verifed' kent Sam niet. Bedoel je 'hours_verified'?", "helplines.yml")
    found(findings, ERROR, "'hours_verified' ontbreekt", "helplines.yml")


def test_a_helpline_without_source_or_short(root):
    replace(root / "helplines.yml", '    source: "fier.nl; bron uit 2020 noemt chat \'s avonds en \'s nachts, niet '
                                    'gecontroleerd"\n', "")
    replace(root / "helplines.yml", '    short: "Fier: chat via fier.nl"\n', "")
    findings = run(root)
    found(findings, ERROR, "lijn 'fier': 'source' ontbreekt", "helplines.yml")
    found(findings, WARNING, "lijn 'fier': 'short' ontbreekt", "helplines.yml")


def test_an_unknown_top_level_key_in_helplines(root):
    replace(root / "helplines.yml", "\nrouting:\n", "\nroutting:\n  general: [politie]\n\nrouting:\n")
    found(run(root), ERROR, "'routting' kent Sam niet", "helplines.yml")


def test_an_unknown_routing_key_and_too_many_lines(root):
    replace(root / "helplines.yml", "  check_in: [zelfmoordpreventie_113, alarm_112]\n",
            "  check_in: [zelfmoordpreventie_113, alarm_112]\n  checkin: [alarm_112]\n"
            "  general2: [kindertelefoon, helpwanted, politie, fier, alarm_112]\n")
    findings = run(root)
    found(findings, WARNING, "routing → 'checkin' vraagt Sam nooit op", "helplines.yml")
    found(findings, WARNING, "noemt 5 lijnen", "helplines.yml")


def test_an_unknown_variable_in_a_helpline_text(root):
    replace(root / "helplines.yml", '  open_now: "• {name}: {contact}. Nu open."',
            '  open_now: "• {name}: {contact}. Nu open tot {sluit}."')
    found(run(root), ERROR, "texts → 'open_now': '{sluit}' vult Sam hier niet in", "helplines.yml")


def test_an_unknown_helpline_text(root):
    replace(root / "helplines.yml", '  open_now: "', '  open_nu: "• {name}. Open."\n  open_now: "')
    found(run(root), WARNING, "texts → 'open_nu' gebruikt Sam niet", "helplines.yml")


def test_an_unknown_top_level_key_in_the_risk_words(root):
    replace(root / "risk_lexicon.yml", "\nentries:\n", "\nentry:\n  - {term: iets, category: abuse}\n\nentries:\n")
    found(run(root), ERROR, "'entry' leest Sam niet", "risk_lexicon.yml")


def test_an_unknown_field_in_a_risk_word(root):
    replace(root / "risk_lexicon.yml", "\nentries:\n", "\nentries:\n  - {term: testwoordje, category: abuse, "
                                                          "severity: high, topik: true}\n")
    found(run(root), ERROR, "het veld 'topik' kent Sam niet. Bedoel je 'topic'?", "risk_lexicon.yml")


def test_a_risk_word_twice(root):
    replace(root / "risk_lexicon.yml", "\nentries:\n", "\nentries:\n  - {term: testwoordje, category: abuse}\n"
                                                          "  - {term: Testwoordje, category: abuse}\n")
    found(run(root), WARNING, "'Testwoordje' staat er twee keer in", "risk_lexicon.yml")


def test_a_followup_with_an_unknown_intent_or_question(root):
    replace(root / "followups.yml", "utter_check_in:\n  affirm:", "utter_check_in:\n  misschien: utter_deny\n  affirm:")
    replace(root / "followups.yml", "utter_express_distress:\n", "utter_bestaat_niet:\n  affirm: utter_deny\n"
                                                                  "utter_express_distress:\n")
    findings = run(root)
    found(findings, ERROR, "staat 'misschien'", "followups.yml")
    found(findings, ERROR, "'utter_bestaat_niet' is geen antwoord van Sam", "followups.yml")


def test_an_unknown_command(root):
    replace(root / "commands.yml", '  start: "Begin bij Sam"\n', '  start: "Begin bij Sam"\n  stop: "Stop"\n')
    found(run(root), ERROR, "het commando /stop kent Sam niet", "commands.yml")


def test_a_missing_command_is_a_warning(root):
    replace(root / "commands.yml", '  privacy: "Wat bewaart Sam en wie leest mee?"\n', "")
    found(run(root), WARNING, "/privacy staat niet in het menu", "commands.yml")


# --- what uses what ---------------------------------------------------------------------------------
def test_a_response_a_rule_uses_but_that_does_not_exist(root):
    replace(root / "responses" / "conversation.yml", "  utter_goodbye:\n", "  utter_bye:\n")
    findings = run(root)
    found(findings, ERROR, "'utter_goodbye' ontbreekt, maar een regel in bot/stories/ stuurt het")
    found(findings, WARNING, "'utter_bye': niemand stuurt deze tekst", "responses/conversation.yml")


def test_a_response_the_code_sends_but_that_does_not_exist(root):
    replace(root / "responses" / "answers.yml", "  utter_ask_law:\n", "  utter_ask_the_law:\n")
    found(run(root), ERROR, "'utter_ask_law' ontbreekt, maar de code stuurt het")


def test_content_nothing_uses(root):
    add_response(root, "utter_extra_tip", "Een extra tip.")
    finding = found(run(root), WARNING, "'utter_extra_tip': niemand stuurt deze tekst", "responses/conversation.yml")
    assert finding.line and finding.item == "utter_extra_tip"


def test_a_button_to_an_intent_that_does_not_exist(root):
    replace(root / "responses" / "conversation.yml", "          payload: /ask_trusted_adult\n",
            "          payload: /ask_trusted_adults\n")
    found(run(root), ERROR, "wijst naar '/ask_trusted_adults', maar die intent bestaat niet. Een payload is '/' "
                            "plus een intent uit domain.yml, zoals /ask_sexting of /request_human. "
                            "Bedoel je /ask_trusted_adult?")


# --- buttons ------------------------------------------------------------------------------------
def test_more_than_three_buttons_is_an_error(root):
    add_response(root, "utter_goodbye_menu", "Doei!", [("Een", "/help"), ("Twee", "/help"), ("Drie", "/help"),
                                                       ("Vier", "/help")])
    found(run(root), ERROR, "heeft 4 knoppen. Maximaal 3")


def test_a_long_button_title_is_a_warning_and_a_too_long_one_an_error(root):
    add_response(root, "utter_titles", "Kies maar.", [("Dit is een knop met een hele lange tekst erop", "/help"),
                                                      ("Wat moet ik doen als iemand mijn foto's doorstuurt naar "
                                                       "iedereen in de klas?", "/help")])
    findings = run(root)
    found(findings, WARNING, "heeft 45 tekens")
    found(findings, ERROR, "te lang voor Telegram")


# --- placeholders ---------------------------------------------------------------------------------
def test_an_unknown_placeholder(root):
    set_text(root, "utter_goodbye", "Doei {naam}! Fijn dat je er was.")
    found(run(root), ERROR, "'{naam}' vult de code niet in", "responses/conversation.yml")


def test_helplines_where_the_code_does_not_fill_them(root):
    set_text(root, "utter_goodbye", "Doei! Hulp nodig?\n{helplines}")
    found(run(root), ERROR, "{helplines} staat in deze tekst, maar de code vult het hier niet in")


def test_a_stray_brace(root):
    set_text(root, "utter_goodbye", "Doei! {helplines")
    found(run(root), ERROR, "losse accolade")


def test_helplines_in_an_answer_the_code_fills_is_fine(root):
    set_text(root, "utter_ask_law", "De wet is streng.\nHulp nodig?\n{helplines}")  # action_answer fills it
    assert not [f for f in run(root) if f.item == "utter_ask_law" and "{helplines}" in f.message]


# --- phone numbers, links, opening hours, dates --------------------------------------------------------
def test_a_malformed_phone_number(root):
    replace(root / "helplines.yml", 'contact: "bel gratis 0800-0432 of chat', 'contact: "bel gratis 0800-04 of chat')
    found(run(root), ERROR, "'0800-04' in contact is geen goed telefoonnummer", "helplines.yml")


def test_a_short_form_with_another_number(root):
    replace(root / "helplines.yml", 'short: "Politie: bel 0900-8844"', 'short: "Politie: bel 0900-8845"')
    found(run(root), ERROR, "in short staat 0900-8845, maar dat nummer staat niet bij contact", "helplines.yml")


@pytest.mark.parametrize("number, ok", [
    ("112", True), ("0800-0432", True), ("020-261 52 75", True), ("0900-8844", True), ("0800-0113", True),
    ("06-12345678", True), ("+31 20 261 52 75", True),
    ("114", False), ("0800-04", False), ("020-261 52", False), ("0800--0432", False)])
def test_phone_numbers(number, ok):
    assert content_check.phone_ok(number) is ok


def test_a_malformed_link(root):
    replace(root / "helplines.yml", 'contact: "bel 020-261 52 75, of chat en mail via helpwanted.nl"',
            'contact: "bel 020-261 52 75, of chat en mail via https//helpwanted.nl"')
    found(run(root), ERROR, "na https hoort '://'", "helplines.yml")


def test_a_malformed_link_in_a_text(root):
    set_text(root, "utter_goodbye", "Doei! Kijk ook op www.kindertelefoon voor meer.")
    found(run(root), ERROR, "'www.kindertelefoon' mist het einde (zoals .nl)", "responses/conversation.yml")


def test_a_malformed_link_in_a_source_is_a_warning(root):
    replace(root / "helplines.yml", 'source: "centrumseksueelgeweld.nl"', 'source: "http:/centrumseksueelgeweld.nl"')
    found(run(root), WARNING, "na http hoort '://'", "helplines.yml")


@pytest.mark.parametrize("text, ok", [("chat op 113.nl", True), ("https://www.helpwanted.nl/hulp", True),
                                      ("kijk op www.kindertelefoon", False), ("http:/fier.nl", False),
                                      ("ga naar fier .nl", False), ("https://help_wanted.nl", False)])
def test_links(text, ok):
    assert (not content_check.url_problems(text)) is ok, content_check.url_problems(text)


def test_malformed_opening_hours_block_the_reload(root):
    replace(root / "helplines.yml", '      zo: "11:00-21:00"', '      zo: "11:00-25:00"')
    finding = found(run(root), ERROR, "'11:00-25:00' is geen goede tijd", "helplines.yml")
    assert finding.blocks_reload and finding.line


def test_opening_hours_that_open_and_close_at_once(root):
    replace(root / "helplines.yml", '      zo: "11:00-21:00"', '      zo: "11:00-11:00"')
    found(run(root), WARNING, "op zo opent en sluit de lijn om 11:00", "helplines.yml")


def test_unknown_hours_said_to_be_verified(root):
    replace(root / "helplines.yml", "    hours: unknown\n    hours_verified: false\n    source: \"fier.nl",
            "    hours: unknown\n    hours_verified: true\n    source: \"fier.nl")
    found(run(root), WARNING, "hours is 'unknown' maar hours_verified is true", "helplines.yml")


@pytest.mark.parametrize("value, level, text", [
    ("2026-11-01", None, None),
    ("2026-05-20", WARNING, "langer dan 6 maanden geleden"),
    ("2027-01-01", ERROR, "ligt in de toekomst"),
    ("1-11-2026", ERROR, "is geen datum"),
    ("'2026-02-30'", ERROR, "is geen datum"),
])
def test_the_verified_date(root, value, level, text):
    replace(root / "helplines.yml", '    confidence: "laag"\n', f'    confidence: "laag"\n    verified: {value}\n')
    fier = [f for f in run(root) if f.item == "fier"]
    if level is None:
        assert not fier, fier
    else:
        found(fier, level, text, "helplines.yml")


def test_a_date_that_does_not_exist_is_an_error_with_its_line(root):
    replace(root / "helplines.yml", '    confidence: "laag"\n', '    confidence: "laag"\n    verified: 2026-02-30\n')
    finding = found(run(root), ERROR, "'2026-02-30' kan Sam niet lezen", "helplines.yml")
    assert "verified: 2026-02-30" in (root / "helplines.yml").read_text().split("\n")[finding.line - 1]


def test_a_missing_verified_date_is_a_warning_and_the_dashboards_name_counts_too(root):
    found([f for f in run(root) if f.item == "fier"], WARNING, "niet bij wanneer deze lijn voor het laatst is gecheckt")
    replace(root / "helplines.yml", '    confidence: "laag"\n', '    confidence: "laag"\n    verified_on: 2026-11-20\n')
    assert not [f for f in run(root) if f.item == "fier"]


def test_six_months_counts_in_calendar_months():
    assert content_check.months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert content_check.months_before(date(2026, 11, 27), 6) == date(2026, 5, 27)


# --- language -------------------------------------------------------------------------------------
HARD = ("Je kunt informatie vragen over verschillende mogelijkheden.\nMedewerkers beantwoorden alle vragen over "
        "veiligheid op internet.\nZij helpen je ook verder als je het moeilijk vindt.")  # Flesch-Douma 42
VERY_HARD = ("Je kunt informatie krijgen over verschillende organisaties.\nDe medewerkers beantwoorden vragen over "
             "veiligheid en privacy.\nZij ondersteunen jongeren die problemen ervaren met internet.")  # 12


def test_readability_uses_textstat_in_dutch():
    assert content_check.readability(HARD) == pytest.approx(42.0, abs=0.1)
    assert content_check.readability("Doei! Fijn dat je er was.") > 80


def test_a_rather_difficult_text_is_a_warning(root):
    set_text(root, "utter_goodbye", HARD)
    found(run(root), WARNING, "de tekst is vrij moeilijk (leesbaarheid 42.0")


def test_a_very_difficult_text_is_an_error(root):
    set_text(root, "utter_goodbye", VERY_HARD)
    found(run(root), ERROR, "de tekst is heel moeilijk")


def test_a_short_text_is_not_judged_on_readability(root):
    set_text(root, "utter_goodbye", "Informatievoorziening geschiedt digitaal.")
    assert not [f for f in run(root) if f.item == "utter_goodbye" and "leesbaarheid" in f.message]


def test_a_long_sentence_is_a_warning_and_a_very_long_one_an_error(root):
    set_text(root, "utter_goodbye", "Doei en fijn dat je er was en je kunt altijd terugkomen als je nog iets wilt "
                                    "vragen aan mij.")
    found(run(root), WARNING, "heeft 20 woorden")
    set_text(root, "utter_goodbye", "Doei en fijn dat je er was en je kunt altijd terugkomen als je nog iets wilt "
                                    "vragen aan mij of aan een andere volwassene die je vertrouwt op je groep.")
    found(run(root), ERROR, "heeft 31 woorden (max 25)")


def test_a_rare_word_is_a_warning_until_it_is_on_the_list(root):
    set_text(root, "utter_goodbye", "Doei! Dat was een fijn zedendelict-gesprek.")
    found(run(root), WARNING, "moeilijk of zeldzaam woord: zedendelict-gesprek")
    replace(root / "woorden_uitleg.yml", "bekend:\n", "bekend:\n  zedendelict: \"test\"\n")
    assert not [f for f in run(root) if f.item == "utter_goodbye"]


def test_the_rare_word_threshold_is_zipf_3():
    words = content_check.Words([])
    assert words.rare("Sextortion is erg.") == ["Sextortion"]  # Zipf 1.2
    assert words.rare("Een gewone foto.") == []
    assert content_check.Words(["sextortion"]).rare("Sextortion is erg.") == []


def test_a_judging_phrase_is_an_error(root):
    set_text(root, "utter_goodbye", "Waarom heb je dat gedaan? Doei.")
    finding = found(run(root), ERROR, "'waarom heb je' staat in de tekst. Dat klinkt als een oordeel")
    assert "Zeg liever" in finding.message


def test_a_frightening_phrase_is_an_error_also_on_a_button(root):
    add_response(root, "utter_scary", "Let op.", [("Dan ga je de gevangenis in", "/help")])
    found(run(root), ERROR, "op knop 1 staat 'gevangenis'. Dat maakt de jongere bang")


def test_the_tone_list_matches_whole_words_only(root):
    set_text(root, "utter_goodbye", "Doei! Je domein is ook stomp. Dat is goed.")
    assert not [f for f in run(root) if f.item == "utter_goodbye"]


def test_too_many_lines_emoji_and_formal_you_are_warnings(root):
    set_text(root, "utter_goodbye",
             "Doei! 👋😀\nFijn.\nKom terug.\nTot ziens.\nPas op.\nBedankt.\nDag.\nHoe gaat het met u?")
    findings = [f for f in run(root) if f.item == "utter_goodbye"]
    found(findings, WARNING, "8 regels (max 6)")
    found(findings, WARNING, "2 emoji")
    found(findings, WARNING, "niet 'u' en 'uw'")


def test_a_fixed_text_naming_a_line_that_may_be_closed(root):
    set_text(root, "utter_goodbye", "Doei! Bel de Kindertelefoon als je wilt praten.")
    found(run(root), WARNING, "noemt kindertelefoon, maar die lijn is misschien nu dicht")


def test_a_missing_word_list_is_a_warning_and_a_missing_tone_list_an_error(root):
    (root / "woorden_uitleg.yml").unlink()
    (root / "toon.yml").unlink()
    findings = run(root)
    found(findings, WARNING, "dit bestand ontbreekt", "woorden_uitleg.yml")
    found(findings, ERROR, "dit bestand ontbreekt", "toon.yml")


def test_a_malformed_word_list_and_an_empty_trusted_adult_list(root):
    (root / "woorden_uitleg.yml").write_text("uitgelegd:\n  - sexting\n", encoding="utf-8")
    replace(root / "toon.yml", "vertrouwde_volwassene:\n", "vertrouwde_volwassene: []\noud:\n")
    findings = run(root)
    found(findings, ERROR, "het bestand heeft niet de goede vorm", "woorden_uitleg.yml")
    found(findings, ERROR, "'vertrouwde_volwassene' is leeg", "toon.yml")


def test_a_tone_entry_without_a_phrase(root):
    replace(root / "toon.yml", "oordelen:\n", "oordelen:\n  - beter: \"iets\"\n")
    found(run(root), ERROR, "bij 'oordelen' staat iets zonder zin", "toon.yml")


# --- disclosure answers -------------------------------------------------------------------------------
def test_a_disclosure_turn_must_suggest_a_trusted_adult(root):
    set_text(root, "utter_handover_grooming", "Goed dat je het vertelt. Jij hebt niets fout gedaan.\n"
                                              "Blokkeer hem en meld hem bij de app.")
    found(run(root), ERROR, "'utter_handover_grooming': noem een volwassene die de jongere vertrouwt",
          "responses/handover.yml")


def test_a_disclosure_turn_must_name_a_helpline(root):
    set_text(root, "utter_handover_helplines", "Je kunt nu met een mens praten.")
    findings = run(root)
    found(findings, ERROR, "in deze beurt (met utter_handover_helplines) staat geen hulplijn")
    assert found(findings, ERROR, "{helplines} ontbreekt").blocks_reload  # also a runtime rule


def test_a_disclosure_message_names_no_number_has_no_buttons_and_four_lines_at_most(root):
    set_text(root, "utter_handover_runaway", "Fijn dat je het vertelt.\nBel 0800-0432.\nPraat met je groepsleider.\n"
                                             "Ga niet.\nBlijf hier.")
    replace(root / "responses" / "handover.yml", "Praat met je groepsleider.\\nGa niet.\\nBlijf hier.\"\n",
            "Praat met je groepsleider.\\nGa niet.\\nBlijf hier.\"\n      buttons:\n        - title: \"Help\"\n"
            "          payload: /help\n")
    findings = [f for f in run(root) if f.item == "utter_handover_runaway"]
    found(findings, ERROR, "noem hier geen hulplijn of telefoonnummer")
    found(findings, ERROR, "bericht 1 van een melding heeft geen knoppen")
    found(findings, ERROR, "5 regels (max 4)")


def test_an_age_in_a_disclosure_message_is_no_phone_number(root):
    set_text(root, "utter_handover_abuse", "Wat erg. Het is niet jouw schuld.\nBen je onder 16? Dan is het strafbaar "
                                           "voor de ander.\nVertel het aan een volwassene die je vertrouwt.")
    assert not [f for f in run(root) if f.item == "utter_handover_abuse"]


# --- stories and example questions -----------------------------------------------------------------------
@pytest.fixture
def stories(tmp_path: Path) -> Path:
    copy = tmp_path / "stories"
    shutil.copytree(STORIES_DIR, copy)
    return copy


@pytest.fixture
def nlu(tmp_path: Path) -> Path:
    copy = tmp_path / "nlu"
    shutil.copytree(NLU_DIR, copy)
    return copy


def test_a_rule_with_an_unknown_intent_action_or_response(root, stories):
    path = stories / "rules_conversation.yml"
    replace(path, "      - intent: goodbye\n      - action: utter_goodbye", "      - intent: goodby\n"
                                                                          "      - action: utter_goodby")
    replace(path, "      - action: action_help", "      - action: action_hulp")
    findings = run(root, stories_dir=stories)
    found(findings, ERROR, "de intent 'goodby' bestaat niet", "rules_conversation.yml")
    found(findings, ERROR, "deze regel stuurt 'utter_goodby', maar die tekst staat niet", "rules_conversation.yml")
    found(findings, ERROR, "de actie 'action_hulp' bestaat niet", "rules_conversation.yml")
    found(findings, ERROR, "geen regel zegt wat Sam doet bij de intent 'goodbye'")


def test_an_example_under_two_intents_an_unknown_intent_and_a_repeat(root, nlu):
    path = nlu / "conversation.yml"
    replace(path, "- intent: greet\n  examples: |\n    - hoi\n",
            "- intent: greet\n  examples: |\n    - hoi\n    - hoi\n    - wat is sexting\n")
    replace(path, "- intent: greet\n", "- intent: groet\n  examples: |\n    - hallootjes\n\n- intent: greet\n")
    findings = run(root, nlu_dir=nlu)
    twice = found(findings, ERROR, "'wat is sexting' staat bij")
    assert twice.line and f"{path}:" in twice.message + twice.file
    line = int(re.search(r"conversation\.yml:(\d+)", twice.message).group(1))
    assert path.read_text().split("\n")[line - 1].strip() == "- wat is sexting"
    found(findings, ERROR, "de intent 'groet' bestaat niet", "conversation.yml")
    found(findings, WARNING, "de voorbeeldzin 'hoi' staat twee keer bij 'greet'", "conversation.yml")


def test_an_intent_without_examples(root, nlu):
    for path in nlu.glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        if "- intent: goodbye\n" in text:
            path.write_text(text.replace("- intent: goodbye\n", "- intent: goodbye_old\n"), encoding="utf-8")
    found(run(root, nlu_dir=nlu), ERROR, "de intent 'goodbye' heeft geen voorbeeldzinnen")


# --- rasa data validate, in Dutch ----------------------------------------------------------------------------
RASA_OUTPUT = """\
/x/rasa/shared/utils/io.py:99: UserWarning: The intent 'ask_dance' is listed in the domain file, but is not found \
in the NLU training data.
/x/rasa/shared/utils/io.py:99: UserWarning: The example 'hoi' was found labeled with multiple different intents in \
the training data. Each annotated message should only appear with one intent. You should fix that conflict The \
example is labeled with: greet, help.
/x/rasa/shared/utils/io.py:99: UserWarning: The intent 'help' is not used in any story or rule.
2026-11-27 15:41:51 WARNING  rasa.validator  - Story structure conflict after intent 'greet':
  utter_greet predicted in 'greet'
  utter_help predicted in 'other'

/x/rasa/shared/utils/io.py:99: UserWarning: Something new that nobody translated.
"""


def test_rasa_messages_are_translated():
    findings = content_check.translate_rasa(RASA_OUTPUT)
    text = "\n".join(f.message for f in findings)
    assert "de intent 'ask_dance' heeft geen voorbeeldzinnen" in text
    assert "de voorbeeldzin 'hoi' staat bij meer intents (greet, help)" in text
    assert "geen regel in bot/stories/ zegt wat Sam doet bij de intent 'help'" in text
    assert "na 'greet' zeggen twee regels iets anders" in text
    assert "Rasa meldt (in het Engels): Something new that nobody translated." in text
    assert len(findings) == 5 and all(f.level == ERROR for f in findings)


def test_the_rasa_option_runs_rasa_data_validate(monkeypatch):
    import bot.evaluation

    calls = []

    def fake_rasa(*args, check=True):
        calls.append(args)
        return subprocess.CompletedProcess(args, 1, stdout="", stderr=RASA_OUTPUT)

    monkeypatch.setattr(bot.evaluation, "_rasa", fake_rasa)
    findings = check(today=TODAY, rasa=True)
    assert calls and calls[0][:2] == ("data", "validate") and "--fail-on-warnings" in calls[0]
    assert any(f.file == "rasa data validate" and "ask_dance" in f.message for f in findings)
    assert check(today=TODAY) == [f for f in findings if f.file != "rasa data validate"]


# --- the command line -----------------------------------------------------------------------------------------
def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "content", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "SAM_LOG_LEVEL": "WARNING"})


def test_the_command_passes_the_real_content_quickly():
    started = time.perf_counter()
    result = cli("check")
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Goed" in result.stdout and "FOUT" not in result.stdout
    assert "Warning" not in result.stderr and "tensorflow" not in result.stderr.lower()
    assert seconds < 30, f"content check took {seconds:.1f} s (aim: well under 10 s)"


def test_the_command_fails_on_broken_content(root):
    set_text(root, "utter_goodbye", "Waarom heb je dat gedaan?")
    result = cli("check", "--root", str(root))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FOUT" in result.stdout and "content/responses/conversation.yml" in result.stdout
    assert "Niet goed: 1 fout" in result.stdout


def test_warnings_alone_do_not_fail(root, capsys):
    set_text(root, "utter_goodbye", "Doei! 👋😀")
    assert content_check.main_check(root=root) == 0
    assert "LET OP" in capsys.readouterr().out


def test_the_preview_command():
    result = cli("preview", "disclose_selfharm")
    assert result.returncode == 0, result.stderr
    assert "utter_handover_selfharm" in result.stdout and "113" in result.stdout and "[" in result.stdout
    assert cli("preview", "utter_bestaat_niet").returncode == 1


# --- preview -----------------------------------------------------------------------------------------------
def test_a_question_intent_previews_its_answer_and_the_nudge():
    bubbles, notes = content_check.preview("ask_sextortion", now=NOON)
    assert [b.response for b in bubbles] == ["utter_ask_sextortion", "utter_nudge_trusted_adult"]
    assert "{helplines}" not in bubbles[0].text and "Helpwanted" in bubbles[0].text
    assert not bubbles[0].buttons and bubbles[1].buttons, "one set of buttons, under the last message"
    assert notes


def test_a_disclosure_previews_the_whole_turn_with_the_lines_open_now():
    from bot.helplines import compact_text

    for topic in ("disclose_grooming", "utter_handover_grooming"):
        bubbles, _ = content_check.preview(topic, now=NOON)
        assert [b.response for b in bubbles] == ["utter_handover_grooming", "utter_handover_helplines"]
        assert compact_text("grooming", NOON) in bubbles[1].text


def test_a_response_name_previews_that_response_with_its_buttons():
    bubbles, _ = content_check.preview("utter_greet", now=NOON)
    assert [b.response for b in bubbles] == ["utter_greet"] and 1 <= len(bubbles[0].buttons) <= 3
    text = content_check.format_preview("utter_greet", bubbles, [], NOON)
    assert bubbles[0].buttons[0]["title"] in text and "╭" in text


def test_a_preview_can_show_the_lines_of_a_risk_category():
    from bot.helplines import compact_text

    bubbles, _ = content_check.preview("utter_handover_reminder", now=NOON, category="selfharm")
    assert compact_text("selfharm", NOON) in bubbles[0].text


def test_an_unknown_topic_suggests_a_close_one():
    with pytest.raises(KeyError, match="utter_ask_law"):
        content_check.preview("utter_ask_lw", now=NOON)


# --- report -------------------------------------------------------------------------------------------
def test_the_report_has_a_row_for_every_text():
    rows = content_check.language_table()
    assert {r["response"] for r in rows} == set(content.load_content().responses)
    assert all(r["verdict"] in ("goed", "let op", "fout") for r in rows)
    assert all(r["flesch"] is None or r["flesch"] >= content_check.READABILITY_WARN or
               r["words"] < content_check.READABILITY_MIN_WORDS for r in rows)
    markdown = content_check.report_markdown()
    assert "| `utter_greet` |" in markdown and "Flesch-Douma" in markdown


def test_the_committed_report_covers_the_current_texts():
    report = (ROOT / "reports" / "content.md").read_text(encoding="utf-8")
    missing = [name for name in content.load_content().responses if f"`{name}`" not in report]
    assert not missing, f"reports/content.md misses {missing}: run python -m bot content report"


def test_checking_twice_in_one_process_is_fast(root):
    run(root)
    started = time.perf_counter()
    run(root)
    assert time.perf_counter() - started < 5  # the dashboard checks every change it publishes

