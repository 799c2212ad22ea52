"""What content/ must hold for Sam to keep working: the checks run on every (re)load of content/.

`problems(content)` lists every problem, each in simple Dutch for the content editors, with the
file and, where possible, the entry. An empty list means Sam can use the content. Only things
that break Sam (or silently switch off a safety feature) are checked, never style.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List

from bot.content import COMMANDS_FILE, FOLLOWUPS_FILE, HELPLINES_FILE, LEXICON_FILE, RESPONSES_DIR, Content
from bot.helplines import ALWAYS, DAYS, UNKNOWN, _parse_range, always_open
from bot.risk.lexicon import CATEGORIES, SEVERITIES, Lexicon

# Responses the code sends by name; the safety path (also used when Rasa is down) comes first.
SAFETY_RESPONSES = ("utter_failsafe_risk", "utter_be_right_back", "utter_default", "utter_handover_helplines",
                    "utter_handover_trusted_adult", "utter_handover_reminder", "utter_express_distress",
                    "utter_check_in", "utter_safety_line") + tuple(f"utter_handover_{c}" for c in CATEGORIES)
# Sent by the gateway (media, commands, flood, /vergeet), the Telegram bridge and the custom actions.
CODE_RESPONSES = ("utter_start", "utter_human", "utter_forget_confirm", "utter_forget_cancelled", "utter_forget_done",
                  "utter_slow_down", "utter_photo_warning", "utter_voice_note", "utter_sticker", "utter_unsupported",
                  "utter_group_only_private", "utter_nudge_trusted_adult",
                  "utter_request_human", "utter_ask_helpline", "utter_affirm", "utter_deny",
                  # the moderators' dashboard and requests for a person (bot/requests.py, bot/store/cases.py)
                  "utter_request_taken", "utter_nobody_on_duty", "utter_moderator_joined", "utter_moderator_left",
                  "utter_request_expired",
                  # the hardest moments (bot/actions/moments.py, bot/actions/answers.py)
                  "utter_help", "utter_feeling_bad", "utter_check_in_yes", "utter_check_in_no")
REQUIRED_RESPONSES = SAFETY_RESPONSES + CODE_RESPONSES
# The code fills these with the helplines; without {helplines} the young person sees none.
HELPLINE_RESPONSES = ("utter_failsafe_risk", "utter_human", "utter_handover_helplines", "utter_request_human",
                      "utter_ask_helpline", "utter_nobody_on_duty", "utter_request_expired", "utter_request_taken",
                      "utter_handover_trusted_adult", "utter_handover_reminder", "utter_express_distress",
                      "utter_check_in", "utter_safety_line", "utter_check_in_yes", "utter_feeling_bad")
LINE_TEXTS = ("open_now", "always_open", "closed_now", "probably_open", "hours_unknown")
MAX_PAYLOAD_BYTES = 64  # Telegram callback data
_RANGE = re.compile(r"^\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}\s*$")
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


def problems(content: Content) -> List[str]:
    """Every reason why Sam cannot safely use this content, in Dutch; empty when all is well."""
    return (_responses(content) + _helplines(content.helplines) + _lexicon(content.lexicon)
            + _followups(content) + _commands(content.commands))


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _word(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool) and bool(str(value).strip())


def _choices(values: Any) -> str:
    return ", ".join(str(v) for v in values)


# --- responses/ ---------------------------------------------------------------------------
def _responses(content: Content) -> List[str]:
    out = [f"{RESPONSES_DIR}/: het antwoord '{name}' ontbreekt. De code stuurt dit antwoord; zonder dit antwoord "
           f"krijgt de jongere niets. Zet het terug." for name in REQUIRED_RESPONSES if name not in content.responses]
    for name, variants in content.responses.items():
        where = f"{content.sources.get(name, RESPONSES_DIR + '/')}: '{name}'"
        if not isinstance(variants, list) or not variants or not all(isinstance(v, dict) for v in variants):
            out.append(f"{where} heeft niet de goede vorm. Zet eronder: - text: \"...\"")
            continue
        for number, variant in enumerate(variants, 1):
            label = f"{where} (variant {number})" if len(variants) > 1 else where
            text = variant.get("text")
            if not _text(text):
                out.append(f"{label} heeft geen tekst. Zet de tekst achter 'text:', tussen dubbele aanhalingstekens.")
            elif name in HELPLINE_RESPONSES and "{helplines}" not in text:
                out.append(f"{label}: {{helplines}} ontbreekt in de tekst. Daar zet Sam de hulplijnen neer. "
                           f"Zonder {{helplines}} ziet de jongere geen hulplijn.")
            out += _buttons(label, variant.get("buttons"))
    return out


def _buttons(label: str, buttons: Any) -> List[str]:
    if buttons is None:
        return []
    if not isinstance(buttons, list):
        return [f"{label}: de knoppen (buttons) moeten een lijst zijn. Elke knop begint met '- title:'."]
    out = []
    for number, button in enumerate(buttons, 1):
        if not isinstance(button, dict):
            out.append(f"{label}: knop {number} heeft niet de goede vorm. Schrijf 'title:' en 'payload:'.")
            continue
        if not _text(button.get("title")):
            out.append(f"{label}: knop {number} heeft geen title (de tekst op de knop).")
        payload = button.get("payload")
        if not _text(payload):
            out.append(f"{label}: knop {number} heeft geen payload. Schrijf '/' en een bestaande intent, "
                       f"bijvoorbeeld /request_human.")
        elif len(payload.encode()) > MAX_PAYLOAD_BYTES:
            out.append(f"{label}: de payload van knop {number} is te lang voor Telegram "
                       f"(max {MAX_PAYLOAD_BYTES} tekens).")
    return out


# --- helplines.yml ------------------------------------------------------------------------
def _helplines(data: Dict[str, Any]) -> List[str]:
    f = HELPLINES_FILE
    lines = data.get("lines")
    if not isinstance(lines, dict) or not lines:
        return [f"{f}: het stuk 'lines:' met de hulplijnen ontbreekt of heeft niet de goede vorm."]
    out: List[str] = []
    for line_id, line in lines.items():
        out += _line(f"{f}: lijn '{line_id}'", line)

    def unknown_ids(where: str, ids: List[Any]) -> List[str]:
        return [f"{f}: {where} noemt lijn '{i}', maar die staat niet onder 'lines'. Kies uit: {_choices(lines)}."
                for i in ids if i not in lines]

    routing = data.get("routing")
    if not isinstance(routing, dict):
        out.append(f"{f}: het stuk 'routing:' ontbreekt. Daar staat per soort probleem welke lijnen Sam toont.")
        routing = {}
    for category in CATEGORIES + ("general",):
        if category not in routing:
            out.append(f"{f}: bij 'routing' ontbreekt '{category}'. Zet daar de lijnen die Sam bij dit probleem toont.")
    for category, ids in routing.items():
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            out.append(f"{f}: routing → '{category}' moet een lijst met lijnen zijn, "
                       f"bijvoorbeeld [kindertelefoon, politie].")
        else:
            out += unknown_ids(f"routing → '{category}'", ids)

    fallback = data.get("always_open") or []
    if isinstance(fallback, dict):
        for category, ids in fallback.items():
            ids = [ids] if isinstance(ids, str) else ids
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                out.append(f"{f}: always_open → '{category}' moet één lijn zijn, bijvoorbeeld 'politie'.")
            else:
                out += unknown_ids(f"always_open → '{category}'", ids)
    elif isinstance(fallback, list) and all(isinstance(i, str) for i in fallback):
        out += unknown_ids("always_open", fallback)
    else:
        out.append(f"{f}: always_open heeft niet de goede vorm. Zet per soort probleem één lijn die altijd open is, "
                   f"bijvoorbeeld 'selfharm: zelfmoordpreventie_113'.")

    texts = data.get("texts") or {}
    if not isinstance(texts, dict):
        out.append(f"{f}: 'texts:' heeft niet de goede vorm. Schrijf per soort regel een tekst, "
                   f"bijvoorbeeld open_now: \"...\".")
        texts = {}
    for key, text in texts.items():
        if not isinstance(text, str):
            out.append(f"{f}: texts → '{key}' moet een tekst zijn, tussen dubbele aanhalingstekens.")
        elif key in LINE_TEXTS and "{contact}" not in text:
            out.append(f"{f}: in texts → '{key}' ontbreekt {{contact}}. "
                       f"Dan ziet de jongere niet hoe ze de lijn bereikt.")

    if not out:  # only when the structure is sound: what the fail-safe shows when Rasa is down
        for category in CATEGORIES:
            if not always_open(category, data):
                out.append(f"{f}: bij '{category}' staat geen lijn die dag en nacht open is (hours: always, "
                           f"hours_verified: true). Als Sam storing heeft, kan Sam dan geen hulplijn noemen. "
                           f"Zet zo'n lijn bij always_open → '{category}'.")
    return out


def _line(where: str, line: Any) -> List[str]:
    if not isinstance(line, dict):
        return [f"{where} heeft niet de goede vorm. Zet eronder name, contact en hours."]
    out = []
    for key, meaning in (("name", "de naam die de jongere ziet"), ("contact", "hoe je de lijn bereikt")):
        if not _text(line.get(key)):
            out.append(f"{where} heeft geen {key} ({meaning}).")
    if "hours_verified" in line and not isinstance(line["hours_verified"], bool):
        out.append(f"{where}: hours_verified moet true of false zijn.")
    hours = line.get("hours")
    if hours in (ALWAYS, UNKNOWN):
        return out
    if hours is None:
        return out + [f"{where} heeft geen hours. Schrijf always (dag en nacht), unknown (niet zeker) "
                      f"of de tijden per dag."]
    if not isinstance(hours, dict) or not hours:
        return out + [f"{where}: hours '{hours}' kent Sam niet. Schrijf always (dag en nacht), unknown (niet zeker) "
                      f"of de tijden per dag, bijvoorbeeld ma: \"09:00-17:00\"."]
    for day, value in hours.items():
        if day not in DAYS:
            out.append(f"{where}: '{day}' is geen dag. Gebruik {_choices(DAYS)}.")
        elif not _valid_range(value):
            out.append(f"{where}, {day}: '{value}' is geen goede tijd. Schrijf het zo: \"09:00-17:00\" "
                       f"(met aanhalingstekens; middernacht is 00:00).")
    return out


def _valid_range(value: Any) -> bool:
    if not isinstance(value, str) or not _RANGE.match(value):
        return False
    try:
        _parse_range(value)
    except ValueError:
        return False
    return True


# --- risk_lexicon.yml ---------------------------------------------------------------------
def _lexicon(data: Dict[str, Any]) -> List[str]:
    f = LEXICON_FILE
    out: List[str] = []
    for key in ("emoji", "spelling"):
        if not isinstance(data.get(key) or {}, dict):
            out.append(f"{f}: '{key}' moet een lijst zijn van 'dit: wordt dat', elk op een eigen regel.")
    for key in ("question_words", "first_person", "third_party"):
        words = data.get(key) or []
        if not isinstance(words, list) or not all(_word(w) for w in words):
            out.append(f"{f}: '{key}' moet een lijst met woorden zijn, bijvoorbeeld [ik, mij].")
    entries = data.get("entries")
    if not isinstance(entries, list) or not entries:
        return out + [f"{f}: er staan geen risicowoorden onder 'entries'. Zonder risicowoorden herkent Sam "
                      f"gevaar veel slechter."]
    for number, raw in enumerate(entries, 1):
        out += _entry(number, raw)
    if out:
        return out
    try:  # everything has the right shape: now compile it exactly as the risk detector does
        lexicon = Lexicon(data)
    except Exception as error:  # noqa: BLE001 - any failure here would stop risk detection
        return [f"{f}: Sam kan de risicowoorden niet verwerken ({type(error).__name__}: {error}). "
                f"Vraag een ontwikkelaar om hulp."]
    return [f"{f}: {_label(number, raw)} bevat geen letters of cijfers die Sam kan herkennen."
            for number, (raw, entry) in enumerate(zip(entries, lexicon.entries, strict=True), 1) if not any(entry.keys)]


def _label(number: int, raw: Any) -> str:
    if isinstance(raw, dict) and _word(raw.get("term")):
        return f"woord '{raw['term']}'"
    if isinstance(raw, dict) and isinstance(raw.get("all"), list) and raw["all"]:
        return f"woorden [{', '.join(str(w) for w in raw['all'])}]"
    return f"risicowoord nr. {number} onder 'entries'"


def _entry(number: int, raw: Any) -> List[str]:
    where = f"{LEXICON_FILE}: {_label(number, raw)}"
    if not isinstance(raw, dict):
        return [f"{where} heeft niet de goede vorm. Schrijf zo: - {{term: ..., category: ..., severity: ...}}"]
    out = []
    if "term" in raw and "all" in raw:
        out.append(f"{where} heeft zowel 'term' als 'all'. Kies er één.")
    elif "term" in raw:
        if not _word(raw["term"]):
            out.append(f"{where}: 'term' moet één woord of zin zijn. "
                       f"Meer woorden in elke volgorde? Gebruik all: [...].")
    elif "all" in raw:
        words = raw["all"]
        if not isinstance(words, list):
            out.append(f"{where}: 'all' moet een lijst met woorden zijn, bijvoorbeeld all: [mes, arm].")
        elif not words:
            out.append(f"{where}: 'all' is leeg. Dan zou Sam bij elk bericht alarm geven. Zet er woorden in.")
        elif not all(_word(w) for w in words):
            out.append(f"{where}: in 'all' staat iets wat geen woord is.")
    else:
        out.append(f"{where} heeft geen 'term' of 'all'. Zet het woord achter term:, of een lijst woorden achter all:.")
    category = raw.get("category")
    if category is None:
        out.append(f"{where} heeft geen category. Kies een van: {_choices(CATEGORIES)}.")
    elif category not in CATEGORIES:
        out.append(f"{where} heeft category '{category}', die kent Sam niet. Kies een van: {_choices(CATEGORIES)}.")
    severity = raw.get("severity")
    if severity is None:
        out.append(f"{where} heeft geen severity. Kies een van: {_choices(SEVERITIES)}.")
    elif severity not in SEVERITIES:
        out.append(f"{where} heeft severity '{severity}', die kent Sam niet. Kies een van: {_choices(SEVERITIES)}.")
    if "topic" in raw and not isinstance(raw["topic"], bool):
        out.append(f"{where}: topic moet true of false zijn.")
    return out


# --- followups.yml and commands.yml -------------------------------------------------------
def _followups(content: Content) -> List[str]:
    f = FOLLOWUPS_FILE
    out = []
    for question, answers in content.followups.items():
        if not isinstance(answers, dict):
            out.append(f"{f}: onder '{question}' horen de regels 'affirm: utter_...' en 'deny: utter_...'.")
            continue
        for intent, response in answers.items():
            if not isinstance(response, str) or response not in content.responses:
                out.append(f"{f}: bij '{question}' → {intent} staat '{response}', maar dat antwoord bestaat niet "
                           f"in {RESPONSES_DIR}/.")
    return out


def _commands(commands: Any) -> List[str]:
    f = COMMANDS_FILE
    if not isinstance(commands, dict):
        return [f"{f}: onder 'commands:' hoort per regel 'commando: uitleg'."]
    out = []
    for name, text in commands.items():
        if not isinstance(name, str) or not _COMMAND.match(name):
            out.append(f"{f}: '{name}' is geen goed commando. Verander de commando's zelf niet; alleen de uitleg.")
        if not _text(text) or len(text) > 256:
            out.append(f"{f}: de uitleg bij '{name}' moet een tekst zijn van 1 tot 256 tekens.")
    return out
