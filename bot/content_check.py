"""The editors' check of content/ (`python -m bot content check`, `make content`), and the preview.

Two layers, so the check and the live reload can never disagree about what breaks Sam:
1. the runtime must-haves: `bot.content_rules.problems()`, the code `content.current()` runs on every
   (re)load. Each of its problems is an error here (`blocks_reload=True`): Sam refuses that content.
2. editor checks on top (this module), errors and warnings: fields, what uses what, phone numbers,
   links, opening hours, verified dates, buttons, placeholders, the language for young people with
   LVB (readability, sentence length, rare words, tone), the disclosure answers, and the stories and
   example questions in bot/stories/ and bot/data/nlu/. With `rasa=True` also `rasa data validate`,
   its messages in Dutch.

Errors make the check fail (exit code 1); warnings are listed but do not fail. Every message is in
simple Dutch and says what to do. Runs in a few seconds, without a model or servers.
"""
from __future__ import annotations

import difflib
import re
import sys
import textwrap
import time
import types
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from statistics import median
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import yaml

from bot import content as content_module
from bot.config import BOT_DIR, DOMAIN_FILE, NLU_DIR, REPORTS_DIR, ROOT, STORIES_DIR
from bot.content import (
    COMMANDS_FILE,
    FOLLOWUPS_FILE,
    HELPLINES_FILE,
    LEXICON_FILE,
    RESPONSES_DIR,
    YAML_LOADER,
    Content,
    ContentError,
)

ERROR, WARNING = "error", "warning"
LEVEL_NL = {ERROR: "FOUT", WARNING: "LET OP"}
WORDS_FILE = "woorden_uitleg.yml"
TONE_FILE = "toon.yml"

# --- the limits, and why ------------------------------------------------------------------
MAX_BUTTONS = 3  # the issue: "at most 3 buttons"; more choices are hard for young people with LVB
TITLE_WARN_CHARS = 40  # Telegram cuts longer button titles on a phone
TITLE_MAX_BYTES = 64  # longer titles Telegram may refuse
SENTENCE_WARN_WORDS = 15  # the brief: aim at 12 words, never more than 20
SENTENCE_MAX_WORDS = 25
# Flesch-Douma (the Dutch Flesch formula, textstat with Dutch hyphenation): 60-70 is "normal",
# below 60 "rather difficult", below 30 "very difficult". The score says little about a very short
# text, so it is only judged from READABILITY_MIN_WORDS words on (and always reported).
READABILITY_WARN = 60.0
READABILITY_MIN = 30.0
READABILITY_MIN_WORDS = 20
# Zipf frequency (wordfreq, Dutch): 3.0 = once per million words. The Zipf scale's authors (van Heuven,
# Mandera, Keuleers & Brysbaert 2014) put the line between low- and high-frequency words there; a word
# below it is unknown to many readers, more so to young people with LVB.
RARE_ZIPF = 3.0
MAX_LINES = 6  # content/LEESMIJ.md: max about 6 lines per text
HANDOVER_MAX_LINES = 4  # the first disclosure message; with utter_handover_helplines at most 8 lines
MAX_EMOJI = 1
MAX_ROUTING = 4
VERIFIED_MONTHS = 6

RESPONSE_FIELDS = ("text", "buttons")
BUTTON_FIELDS = ("title", "payload")
LINE_REQUIRED = ("name", "contact", "hours")  # also a runtime rule
LINE_FIELDS_ERROR = ("source", "hours_verified")  # a fact without its source; open-or-not without certainty
LINE_FIELDS_WARN = ("short", "for", "confidence", "verified")
VERIFIED_ALIASES = ("verified", "verified_on")  # verified_on: an older spelling, still read
LINE_FIELDS = LINE_REQUIRED + LINE_FIELDS_ERROR + LINE_FIELDS_WARN + ("verified_on",)
HELPLINES_TOP = ("lines", "routing", "always_open", "texts")
LEXICON_TOP = ("emoji", "spelling", "question_words", "first_person", "third_party", "entries")
ENTRY_FIELDS = ("term", "all", "category", "severity", "topic")
FOLLOWUP_INTENTS = ("affirm", "deny")
HANDOVER_COMPANION = "utter_handover_helplines"
_HANDOVER = re.compile(r"^utter_handover_([a-z_]+)$")


def _handover_category(name: str) -> Optional[str]:
    """The risk category of a first disclosure message (utter_handover_<category>), else None."""
    from bot.risk.lexicon import CATEGORIES

    match = _HANDOVER.match(name)
    return match.group(1) if match and match.group(1) in CATEGORIES else None
PLACEHOLDER = "{helplines}"
LINE_TEXT_VARIABLES = {"name", "contact", "hours", "for"}
COMPACT_TEXT_VARIABLES = {"short", "name", "contact", "hours"}


@dataclass(frozen=True)
class Finding:
    """One problem: `level` is "error" or "warning"; `line` is 1-based (None: the whole file)."""

    level: str
    file: str
    line: Optional[int]
    message: str
    item: str = ""  # the response, helpline, intent or command it is about (for the dashboard)
    blocks_reload: bool = False  # True: the live reload refuses this content too (bot.content_rules)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}  {LEVEL_NL.get(self.level, self.level)}  {self.message}"


# --- reading YAML with line numbers and duplicate keys --------------------------------------


@dataclass
class Parsed:
    data: Any = None
    lines: Dict[Tuple[Any, ...], int] = field(default_factory=dict)  # key path -> line (1-based)
    text: str = ""
    ok: bool = False

    def line(self, *path: Any) -> Optional[int]:
        """The line of the deepest part of `path` that is known."""
        for end in range(len(path), 0, -1):
            if tuple(path[:end]) in self.lines:
                return self.lines[tuple(path[:end])]
        return None

    def find(self, key: Any) -> Optional[int]:
        """The first line where `key` is a key or list item, anywhere in the file."""
        found = [line for path, line in self.lines.items() if path and path[-1] == key]
        return min(found) if found else None


def read_yaml(path: Path, display: str) -> Tuple[Parsed, List[Finding]]:
    """A YAML file with the line of every key; duplicate keys and syntax errors as findings."""
    parsed = Parsed()
    try:
        parsed.text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return parsed, []
    except UnicodeDecodeError:
        return parsed, [Finding(ERROR, display, None, "het bestand is niet opgeslagen als UTF-8. Sla het op als "
                                                      "UTF-8 (in de meeste editors: 'Opslaan als' → UTF-8).")]
    loader = YAML_LOADER(parsed.text)
    node = None
    try:
        node = loader.get_single_node()
        parsed.data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        return parsed, [Finding(ERROR, display, mark.line + 1 if mark else None,
                                "de opmaak (YAML) klopt niet. Kijk op deze regel en de regel erboven naar "
                                "inspringen (spaties, geen tabs), dubbele punten en aanhalingstekens. "
                                f"({getattr(error, 'problem', None) or error})")]
    except ValueError as error:  # e.g. a date that does not exist (2026-02-30): YAML reads it as a date
        bad = _bad_scalar(node)
        return parsed, [Finding(ERROR, display, bad.start_mark.line + 1 if bad is not None else None,
                                f"'{bad.value if bad is not None else ''}' kan Sam niet lezen ({error}). Bestaat deze "
                                f"datum wel? Schrijf een echte datum als JJJJ-MM-DD, of zet de tekst tussen "
                                f"aanhalingstekens.")]
    finally:
        loader.dispose()
    parsed.ok = True
    findings: List[Finding] = []
    if node is not None:
        _walk(node, (), parsed.lines, findings, display)
    return parsed, findings


def _bad_scalar(node: Any) -> Any:
    """The first scalar under `node` that YAML cannot turn into a value (such as 2026-02-30)."""
    if isinstance(node, yaml.ScalarNode):
        try:
            yaml.SafeLoader("").construct_object(node)
        except (ValueError, yaml.YAMLError):
            return node
        return None
    children = node.value if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) else []
    for child in children:
        for part in child if isinstance(child, tuple) else (child,):
            bad = _bad_scalar(part)
            if bad is not None:
                return bad
    return None


def _walk(node: Any, path: Tuple[Any, ...], lines: Dict[Tuple[Any, ...], int], findings: List[Finding],
          display: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: Dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                findings.append(Finding(ERROR, display, line, f"'{key}' staat hier twee keer (ook op regel "
                                        f"{seen[key]}). Sam gebruikt dan alleen de laatste en negeert de eerste. "
                                        f"Haal er één weg, of voeg ze samen.", item=str(key)))
            else:
                seen[key] = line
            lines.setdefault(path + (key,), line)
            _walk(value_node, path + (key,), lines, findings, display)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.setdefault(path + (index,), item.start_mark.line + 1)
            _walk(item, path + (index,), lines, findings, display)


# --- what the code does (read from the code itself, so the check follows it) -------------------
@dataclass(frozen=True)
class Code:
    intents: frozenset
    actions: frozenset
    responses_in_code: frozenset  # response names the Python code sends
    fills_helplines: frozenset  # responses whose {helplines} the code fills in (besides followup answers)
    answers: Dict[str, str]  # question intent -> answer (action_answer)
    answer_helplines: Dict[str, str]  # question intent -> helpline category of its answer
    commands: frozenset  # Telegram commands the gateway handles
    extra_payloads: frozenset  # button payloads the gateway handles itself
    routing_keys: frozenset  # helpline categories the code asks for


@lru_cache(maxsize=4)
def code_facts(domain_file: Path = DOMAIN_FILE) -> Code:
    from bot.actions import answers as answer_actions
    from bot.actions import moments
    from bot.content_rules import HELPLINE_RESPONSES
    from bot.gateway import COMMAND_PAYLOADS, COMMAND_RESPONSES, FORGET_NO, FORGET_YES, MEDIA_RESPONSES
    from bot.risk.lexicon import CATEGORIES

    domain = yaml.load(domain_file.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}
    in_code: Set[str] = set(MEDIA_RESPONSES.values()) | set(COMMAND_RESPONSES.values())
    for path in BOT_DIR.rglob("*.py"):
        if path.name != "content_check.py":
            # a quoted name, but not a prefix test (name.startswith(...) of a family of names)
            source = path.read_text(encoding="utf-8")
            in_code |= set(re.findall(r"(?<!startswith\()[\"'](utter_[a-z0-9_]+)[\"']", source))
    in_code.discard("utter_action")
    in_code |= {f"utter_handover_{category}" for category in CATEGORIES}
    in_code |= {f"utter_{intent}" for intent in FOLLOWUP_INTENTS}  # action_followup without a question
    in_code |= set(moments.ANSWERS.values())
    fills = (set(HELPLINE_RESPONSES) | set(moments.ANSWERS.values()) | set(answer_actions.RISK_FOLLOWUPS.values())
             | set(COMMAND_RESPONSES.values()))
    commands = {name.lstrip("/") for name in list(COMMAND_RESPONSES) + list(COMMAND_PAYLOADS)}
    routing = set(CATEGORIES) | {"general", moments.DISTRESS_LINES, moments.FEELING_BAD_LINES,
                                 moments.CHECK_IN_LINES, answer_actions.DISTRESS}
    return Code(intents=frozenset(list(domain.get("intents") or []) + ["nlu_fallback"]),
                actions=frozenset(domain.get("actions") or []), responses_in_code=frozenset(in_code),
                fills_helplines=frozenset(fills), answers=dict(moments.ANSWERS),
                answer_helplines=dict(moments.ANSWER_HELPLINES), commands=frozenset(commands),
                extra_payloads=frozenset({FORGET_YES, FORGET_NO}), routing_keys=frozenset(routing))


# --- language ------------------------------------------------------------------------------
_WORD = re.compile(r"\w+(?:['’-]\w+)*")
_LETTER_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_VARIABLE_ANY = re.compile(r"\{[^{}]*\}")
_URLISH = re.compile(r"(?:https?:/*|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:nl|com|org|net|be|eu|info)\b\S*", re.I)
_COMMAND_WORD = re.compile(r"(?<!\w)/\w+")


def _plain(text: str) -> str:
    """The words a young person reads: no placeholders, links or /commands."""
    return _COMMAND_WORD.sub(" ", _URLISH.sub(" ", _VARIABLE_ANY.sub(" ", text)))


def sentences(text: str) -> List[str]:
    """Sentences as the young person sees them: every line, split after . ? ! and :"""
    out = []
    for line in _plain(text).split("\n"):
        for sentence in re.split(r"(?<=[.?!:])\s+", line):
            sentence = sentence.strip().strip("•-– ").strip()
            if _WORD.search(sentence):
                out.append(sentence)
    return out


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


@lru_cache(maxsize=1)
def _textstat():
    """textstat set to Dutch: Flesch-Douma, syllables from pyphen's Dutch hyphenation.

    textstat imports nltk (1.3 s with scipy) only for English syllables (CMUdict, never used for
    "nl"). An empty stand-in while textstat loads keeps the check fast; the real nltk stays
    importable for anyone else."""
    stand_in = None
    if "nltk" not in sys.modules and "textstat" not in sys.modules:
        stand_in = sys.modules["nltk"] = types.ModuleType("nltk", "stand-in: textstat is used for Dutch only")
    try:
        import textstat
    finally:
        if stand_in is not None and sys.modules.get("nltk") is stand_in:
            del sys.modules["nltk"]
    textstat.set_lang("nl")
    return textstat


def readability(text: str) -> Optional[float]:
    """Flesch-Douma of a text (higher is easier); None for a text without words."""
    parts = []
    for sentence in sentences(text):
        parts.append(sentence if sentence[-1] in ".?!" else sentence.rstrip(":") + ".")
    if not parts:
        return None
    return round(float(_textstat().flesch_reading_ease(" ".join(parts))), 1)


def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "nl")


class Words:
    """The allow-list (content/woorden_uitleg.yml) plus the helpline names and Sam's name."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = {w.lower() for w in allowed}

    def allows(self, word: str) -> bool:
        word = word.lower().replace("’", "'")
        forms = {word}
        for ending in ("'s", "s", "en", "jes", "je"):
            if word.endswith(ending) and len(word) > len(ending) + 2:
                forms.add(word[: -len(ending)])
        return bool(forms & self.allowed)

    def rare(self, text: str) -> List[str]:
        """Words below RARE_ZIPF that are not on the list, in order, each once."""
        found: List[str] = []
        for token in _LETTER_WORD.findall(_plain(text)):
            if self.allows(token):
                continue
            for part in token.split("-"):
                if len(part) >= 3 and not self.allows(part) and _zipf(part.lower()) < RARE_ZIPF:
                    if token not in found:
                        found.append(token)
                    break
        return found


@dataclass(frozen=True)
class TextStats:
    flesch: Optional[float]
    words: int
    longest: int
    longest_sentence: str
    rare: Tuple[str, ...]


def text_stats(text: str, words: Words) -> TextStats:
    parts = sentences(text)
    longest = max(parts, key=word_count) if parts else ""
    return TextStats(readability(text), word_count(_plain(text)), word_count(longest), longest,
                     tuple(words.rare(text)))


@dataclass(frozen=True)
class Phrase:
    text: str
    better: str
    kind: str
    pattern: Any


def _phrase_pattern(text: str) -> Any:
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in text.split()) + r"(?!\w)", re.I)


class Tone:
    def __init__(self, data: Dict[str, Any]) -> None:
        self.phrases: List[Phrase] = []
        for kind in ("oordelen", "bang_maken"):
            for entry in data.get(kind) or []:
                if isinstance(entry, dict) and isinstance(entry.get("zin"), str) and entry["zin"].strip():
                    self.phrases.append(Phrase(entry["zin"].strip(), str(entry.get("beter") or ""), kind,
                                               _phrase_pattern(entry["zin"].strip())))
        self.trusted_adult = [_phrase_pattern(str(w)) for w in data.get("vertrouwde_volwassene") or []
                              if str(w).strip()]

    def hits(self, text: str) -> List[Phrase]:
        return [p for p in self.phrases if p.pattern.search(text)]

    def names_trusted_adult(self, text: str) -> bool:
        return any(p.search(text) for p in self.trusted_adult)


def _emoji_count(text: str) -> int:
    return sum(1 for ch in text if unicodedata.category(ch) == "So" and ord(ch) >= 0x2190)


# --- phone numbers, links, dates --------------------------------------------------------------
_NUMBER = re.compile(r"(?<![\w.+])\+?\d[\d -]*\d(?![\w-])(?!\.\w)|(?<![\w.+])\d(?![\w.-])")


def phone_numbers(text: str) -> List[str]:
    return [m.group(0).strip() for m in _NUMBER.finditer(text or "")]


def phone_ok(number: str) -> bool:
    """A Dutch phone number: short (112, 113, 144, 14 + area code, 116 xxx), 0800/090x, or 10 digits."""
    digits = re.sub(r"\D", "", number)
    if re.search(r"[^\d +-]", number) or "--" in number:
        return False
    if number.startswith("+"):
        return digits.startswith("31") and len(digits) == 11
    if len(digits) == 3:
        return digits in ("112", "113", "144")
    if digits.startswith("116"):
        return len(digits) == 6
    if digits.startswith("14"):
        return len(digits) in (5, 6)
    if re.match(r"^0(800|90[069])", digits):
        return 8 <= len(digits) <= 11
    return digits.startswith("0") and len(digits) == 10


_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")


def url_problems(text: str) -> List[str]:
    """Links in a text that are written wrong: what is wrong, in Dutch."""
    out = []
    for match in re.finditer(r"\b(https?)(:?/*)(\S*)", text or "", re.I):
        if match.group(2) != "://":
            out.append(f"'{match.group(0)}': na {match.group(1)} hoort '://'")
    for match in _URLISH.finditer(text or ""):
        link = match.group(0).rstrip(".,;:!?)'\"")
        if not re.match(r"https?://", link, re.I) and re.match(r"https?", link, re.I):
            continue  # reported above
        host = re.sub(r"^https?://", "", link, flags=re.I).split("/")[0].split("?")[0].lower()
        if not _HOST.match(host):
            out.append(f"'{link}' is geen goed webadres")
    for match in re.finditer(r"\b\w+(?:\s+\.|,)(?:nl|com|org|be)\b", text or "", re.I):
        out.append(f"'{match.group(0)}' lijkt een webadres met een spatie of komma erin")
    for match in re.finditer(r"\bwww\.[\w-]+\b(?!\.)", text or "", re.I):
        out.append(f"'{match.group(0)}' mist het einde (zoals .nl)")
    return list(dict.fromkeys(out))


def _as_date(value: Any) -> Optional[date]:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, d)
        except ValueError:
            continue
    return date(year, month + 1, 28)


# --- the check --------------------------------------------------------------------------------
class _Checker:
    def __init__(self, root: Path, stories_dir: Path, nlu_dir: Path, domain_file: Path, today: date) -> None:
        self.root, self.stories_dir, self.nlu_dir, self.domain_file = root, stories_dir, nlu_dir, domain_file
        self.today = today
        self.findings: List[Finding] = []
        self.parsed: Dict[str, Parsed] = {}  # file name inside content/ -> parsed
        self.broken_files: Set[str] = set()

    # -- helpers
    def display(self, name: str) -> str:
        return f"content/{name}"

    def add(self, level: str, name: str, line: Optional[int], message: str, item: str = "",
            blocks_reload: bool = False, display: Optional[str] = None) -> None:
        self.findings.append(Finding(level, display or self.display(name), line, message, item, blocks_reload))

    def read(self, name: str) -> Parsed:
        parsed, findings = read_yaml(self.root / name, self.display(name))
        self.parsed[name] = parsed
        self.findings += findings
        if not parsed.ok and (self.root / name).exists():
            self.broken_files.add(name)
        return parsed

    def _display_path(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(ROOT))
        except ValueError:
            return str(path)

    # -- run
    def run(self) -> List[Finding]:
        for path in sorted((self.root / RESPONSES_DIR).glob("*.yml")):
            self.read(f"{RESPONSES_DIR}/{path.name}")
        for name in (HELPLINES_FILE, LEXICON_FILE, FOLLOWUPS_FILE, COMMANDS_FILE, WORDS_FILE, TONE_FILE):
            self.read(name)
        self.code = code_facts(self.domain_file)
        self.words, self.tone = self._lists()
        content = self._runtime()
        stories = self._stories(content)
        self._nlu()
        if content is not None:
            self._responses(content, stories)
            self._disclosure_turns(content)
            self._helplines(content)
            self._lexicon(content)
            self._followups(content)
            self._commands(content)
        order = {ERROR: 0, WARNING: 1}
        return sorted(self.findings, key=lambda f: (f.file, f.line or 0, order.get(f.level, 2), f.message))

    # -- layer 1: exactly what the live reload checks
    def _runtime(self) -> Optional[Content]:
        from bot.content_rules import problems

        try:
            content = content_module._read(self.root)
        except ContentError as error:
            found, content = error.problems, None
        except Exception as error:  # noqa: BLE001 - the reload refuses such content too ("onverwachte fout")
            found, content = [f"Sam kan de inhoud niet laden: {type(error).__name__}: {error}"], None
        else:
            found = problems(content)
        for problem in found:
            self._from_runtime(problem)
        return content

    def _from_runtime(self, problem: str) -> None:
        match = re.match(r"^([\w./-]+?): (.*)$", problem, re.S)
        name, rest = (match.group(1), match.group(2)) if match else ("", problem)
        if name in self.broken_files:
            return  # the syntax error is already reported, with its line
        item_match = re.search(r"'([^']+)'", rest)
        item = item_match.group(1) if item_match else ""
        line = None
        parsed = self.parsed.get(name)
        if name.startswith(RESPONSES_DIR) and item:
            source = next((n for n, p in self.parsed.items() if n.startswith(RESPONSES_DIR) and
                           p.line("responses", item)), None)
            if name == f"{RESPONSES_DIR}/" and source:
                name, parsed = source, self.parsed[source]
        if parsed is not None and item:
            line = parsed.find(item) or self._entry_line(parsed, item)
        if item and name.startswith(RESPONSES_DIR) and not item.startswith("utter_"):
            item = ""
        self.add(ERROR, name, line, rest + " (Sam laadt deze inhoud niet: de vorige versie blijft actief.)",
                 item=item, blocks_reload=True, display=self.display(name) if name else "content/")

    @staticmethod
    def _entry_line(parsed: Parsed, term: str) -> Optional[int]:
        entries = (parsed.data or {}).get("entries") if isinstance(parsed.data, dict) else None
        for index, entry in enumerate(entries or []):
            if isinstance(entry, dict) and str(entry.get("term")) == term:
                return parsed.line("entries", index)
        return None

    # -- the allow-list and the tone list
    def _lists(self) -> Tuple[Words, Tone]:
        words_data = self.parsed[WORDS_FILE].data if self.parsed[WORDS_FILE].ok else {}
        tone_data = self.parsed[TONE_FILE].data if self.parsed[TONE_FILE].ok else {}
        allowed: List[str] = ["sam"]
        if not (self.root / WORDS_FILE).exists():
            self.add(WARNING, WORDS_FILE, None, "dit bestand ontbreekt. Zonder deze lijst noemt de check ook "
                     "woorden die Sam uitlegt (sextortion, grooming) 'zeldzaam'. Zet het terug uit git.")
        elif not isinstance(words_data, dict) or not all(isinstance(words_data.get(k) or {}, dict)
                                                         for k in ("uitgelegd", "bekend")):
            self.add(ERROR, WORDS_FILE, None, "het bestand heeft niet de goede vorm. Onder 'uitgelegd:' en "
                     "'bekend:' hoort per regel: woord: \"waarom\".")
            words_data = {}
        for key in ("uitgelegd", "bekend"):
            allowed += [str(w) for w in (words_data or {}).get(key) or {}]
        helplines = self._data(HELPLINES_FILE)
        for line in ((helplines.get("lines") or {}) if isinstance(helplines, dict) else {}).values():
            if isinstance(line, dict):
                allowed += _LETTER_WORD.findall(str(line.get("name") or ""))
        if not (self.root / TONE_FILE).exists():
            self.add(ERROR, TONE_FILE, None, "dit bestand ontbreekt. Zonder deze lijst kan de check niet zien of "
                     "een tekst oordeelt of bang maakt. Zet het terug uit git.")
            tone_data = {}
        elif not isinstance(tone_data, dict):
            self.add(ERROR, TONE_FILE, None, "het bestand heeft niet de goede vorm. Kijk hoe het in git stond.")
            tone_data = {}
        for kind in ("oordelen", "bang_maken"):
            for index, entry in enumerate(tone_data.get(kind) or []):
                if not (isinstance(entry, dict) and isinstance(entry.get("zin"), str) and entry["zin"].strip()):
                    self.add(ERROR, TONE_FILE, self.parsed[TONE_FILE].line(kind, index),
                             f"bij '{kind}' staat iets zonder zin. Schrijf: - zin: \"...\" en beter: \"...\".")
        tone = Tone(tone_data)
        if not tone.trusted_adult and (self.root / TONE_FILE).exists():
            self.add(ERROR, TONE_FILE, None, "'vertrouwde_volwassene' is leeg. Zet er woorden in zoals "
                     "'volwassene' en 'groepsleider': zo ziet de check dat een melding-antwoord een volwassene noemt.")
        return Words(allowed), tone

    def _data(self, name: str) -> Any:
        parsed = self.parsed.get(name)
        return parsed.data if parsed and parsed.ok else {}

    # -- responses
    def _responses(self, content: Content, stories: Set[str]) -> None:
        from bot.content_rules import REQUIRED_RESPONSES

        code = self.code
        followup_answers = {a for answers in content.followups.values() if isinstance(answers, dict)
                            for a in answers.values()}
        used = stories | set(code.responses_in_code) | followup_answers
        fills = set(code.fills_helplines) | followup_answers
        for name in sorted((stories | set(code.responses_in_code)) - set(content.responses) - set(REQUIRED_RESPONSES)):
            where = "een regel in bot/stories/" if name in stories else "de code"
            self.add(ERROR, RESPONSES_DIR + "/", None, f"het antwoord '{name}' ontbreekt, maar {where} stuurt het. "
                     f"Dan krijgt de jongere op die plek niets. Zet het terug (kijk in git hoe het was).", item=name)
        for name, variants in content.responses.items():
            file = content.sources.get(name, RESPONSES_DIR + "/")
            parsed = self.parsed.get(file, Parsed())
            if name not in used:
                self.add(WARNING, file, parsed.line("responses", name), f"'{name}': niemand stuurt deze tekst (geen "
                         f"regel, geen code, geen followup). De jongere ziet hem dus nooit. Haal hem weg, of vraag een "
                         f"ontwikkelaar hem te gebruiken.", item=name)
            if not isinstance(variants, list):
                continue
            for index, variant in enumerate(variants):
                if isinstance(variant, dict):
                    self._variant(content, name, index, variant, file, parsed, fills)

    def _variant(self, content: Content, name: str, index: int, variant: Dict[str, Any], file: str,
                 parsed: Parsed, fills: Set[str]) -> None:
        label = f"'{name}'" + (f" (variant {index + 1})" if len(content.responses[name]) > 1 else "")

        def at(*path: Any) -> Optional[int]:
            return parsed.line("responses", name, index, *path) or parsed.line("responses", name)

        def add(level: str, message: str, *path: Any) -> None:
            self.add(level, file, at(*path), f"{label}: {message}", item=name)

        for key in variant:
            if key not in RESPONSE_FIELDS:
                add(ERROR, f"het veld '{key}' kent Sam niet. Een tekst heeft alleen 'text:' en eventueel 'buttons:'. "
                    f"Tikfout? Verbeter het, of haal het weg.", key)
        text = variant.get("text")
        buttons = variant.get("buttons") if isinstance(variant.get("buttons"), list) else []
        if isinstance(text, str):
            self._placeholders(name, text, fills, add)
            self._language(text, add, handover=_handover_category(name) is not None)
            for problem in url_problems(text):
                add(ERROR, f"{problem}. Schrijf het zo: helpwanted.nl of https://www.helpwanted.nl.", "text")
            self._names_closed_line(content, text, add)
        if len(buttons) > MAX_BUTTONS:
            add(ERROR, f"heeft {len(buttons)} knoppen. Maximaal {MAX_BUTTONS}: meer keuzes zijn lastig voor de "
                f"jongere. Houd de {MAX_BUTTONS} belangrijkste; de rest kan via 'Alle onderwerpen' (/help).",
                "buttons")
        for number, button in enumerate(buttons, 1):
            if isinstance(button, dict):
                self._button(number, button, add)

    def _categories(self) -> Tuple[str, ...]:
        from bot.risk.lexicon import CATEGORIES

        return tuple(CATEGORIES)

    def _button(self, number: int, button: Dict[str, Any], add: Any) -> None:
        path = ("buttons", number - 1)
        for key in button:
            if key not in BUTTON_FIELDS:
                add(ERROR, f"knop {number} heeft het veld '{key}'. Een knop heeft alleen 'title:' en 'payload:'.",
                    *path, key)
        title, payload = button.get("title"), button.get("payload")
        if isinstance(title, str):
            size = len(title.encode())
            if size > TITLE_MAX_BYTES:
                add(ERROR, f"de tekst op knop {number} ('{title}') is te lang voor Telegram ({size} bytes, max "
                    f"{TITLE_MAX_BYTES}). Maak hem korter, bijvoorbeeld 'Wie kan ik het vertellen?'.", *path, "title")
            elif len(title) > TITLE_WARN_CHARS:
                add(WARNING, f"de tekst op knop {number} ('{title}') heeft {len(title)} tekens. Op een telefoon valt "
                    f"na ongeveer {TITLE_WARN_CHARS} tekens een stuk weg. Maak hem korter.", *path, "title")
            for phrase in self.tone.hits(title):
                add(ERROR, f"op knop {number} staat '{phrase.text}'. {self._tone_reason(phrase)}", *path, "title")
            rare = self.words.rare(title)
            if rare:
                add(WARNING, f"moeilijk of zeldzaam woord op knop {number}: {', '.join(rare)}. {self._rare_tip()}",
                    *path, "title")
        if isinstance(payload, str) and payload.strip():
            intent = payload[1:] if payload.startswith("/") else None
            if payload not in self.code.extra_payloads and (intent is None or intent not in self.code.intents):
                close = difflib.get_close_matches(intent or payload, sorted(self.code.intents), n=1)
                hint = f" Bedoel je /{close[0]}?" if close else ""
                add(ERROR, f"knop {number} wijst naar '{payload}', maar die intent bestaat niet. Een payload is '/' "
                    f"plus een intent uit domain.yml, zoals /ask_sexting of /request_human.{hint}", *path, "payload")

    def _placeholders(self, name: str, text: str, fills: Set[str], add: Any) -> None:
        for variable in re.findall(r"\{([^{}]*)\}", text):
            if variable != "helplines":
                add(ERROR, f"'{{{variable}}}' vult de code niet in. De jongere ziet dan letterlijk '{{{variable}}}'. "
                    f"Alleen {PLACEHOLDER} bestaat (en alleen in teksten die het al hebben).", "text")
        stray = re.sub(r"\{[^{}]*\}", "", text)
        if "{" in stray or "}" in stray:
            add(ERROR, "er staat een losse accolade { of } in de tekst. Schrijf {helplines} precies zo, of haal de "
                "accolade weg.", "text")
        if PLACEHOLDER in text and name not in fills:
            add(ERROR, f"{PLACEHOLDER} staat in deze tekst, maar de code vult het hier niet in. De jongere ziet dan "
                f"letterlijk '{PLACEHOLDER}'. Haal het weg en gebruik een tekst die de hulplijnen al noemt, zoals "
                f"utter_ask_helpline.", "text")

    def _language(self, text: str, add: Any, handover: bool = False) -> None:
        stats = text_stats(text, self.words)
        for sentence in sentences(text):
            count = word_count(sentence)
            short = sentence if len(sentence) <= 60 else sentence[:57] + "..."
            if count > SENTENCE_MAX_WORDS:
                add(ERROR, f"de zin '{short}' heeft {count} woorden (max {SENTENCE_MAX_WORDS}). Maak er twee of drie "
                    f"zinnen van. Richtlijn: hooguit {SENTENCE_WARN_WORDS} woorden, liefst 12.", "text")
            elif count > SENTENCE_WARN_WORDS:
                add(WARNING, f"de zin '{short}' heeft {count} woorden. Liefst hooguit 12, nooit meer dan "
                    f"{SENTENCE_WARN_WORDS}. Maak er twee zinnen van.", "text")
        if stats.flesch is not None and stats.words >= READABILITY_MIN_WORDS:
            if stats.flesch < READABILITY_MIN:
                add(ERROR, f"de tekst is heel moeilijk (leesbaarheid {stats.flesch}, Flesch-Douma; minimaal "
                    f"{READABILITY_WARN:.0f}). Gebruik kortere zinnen en kortere, gewone woorden.", "text")
            elif stats.flesch < READABILITY_WARN:
                add(WARNING, f"de tekst is vrij moeilijk (leesbaarheid {stats.flesch}, Flesch-Douma; liefst "
                    f"{READABILITY_WARN:.0f} of hoger). Gebruik kortere zinnen en kortere, gewone woorden.", "text")
        if stats.rare:
            add(WARNING, f"moeilijk of zeldzaam woord: {', '.join(stats.rare)}. {self._rare_tip()}", "text")
        for phrase in self.tone.hits(text):
            add(ERROR, f"'{phrase.text}' staat in de tekst. {self._tone_reason(phrase)}", "text")
        lines = [line for line in text.split("\n") if line.strip() and line.strip() != PLACEHOLDER]
        limit = HANDOVER_MAX_LINES if handover else MAX_LINES
        if len(lines) > limit:
            why = ("Samen met de hulplijnen (utter_handover_helplines) mag een melding-antwoord max 8 regels zijn."
                   if handover else "Eén idee per regel; maak de tekst korter of verdeel hem.")
            add(ERROR if handover else WARNING, f"de tekst heeft {len(lines)} regels (max {limit}). {why}", "text")
        if _emoji_count(text) > MAX_EMOJI:
            add(WARNING, f"de tekst heeft {_emoji_count(text)} emoji. Max {MAX_EMOJI} per bericht.", "text")
        if re.search(r"(?<!\w)(u|uw)(?!\w)", _plain(text), re.I):
            add(WARNING, "Sam zegt 'je' en 'jouw', niet 'u' en 'uw'.", "text")

    @staticmethod
    def _rare_tip() -> str:
        return (f"Veel jongeren kennen dit woord niet (komt minder dan 1 keer per miljoen woorden voor). Kies een "
                f"gewoner woord. Legt Sam het uit, of kennen de jongeren het wel? Zet het dan in content/{WORDS_FILE}.")

    @staticmethod
    def _tone_reason(phrase: Phrase) -> str:
        why = ("Dat klinkt als een oordeel; de jongere schaamt zich dan nog meer." if phrase.kind == "oordelen"
               else "Dat maakt de jongere bang.")
        better = f" Zeg liever: '{phrase.better}'" if phrase.better else ""
        return f"{why}{better} (zie content/{TONE_FILE})"

    def _line_patterns(self, content: Content) -> Dict[str, Any]:
        patterns = {}
        for line_id, line in (content.helplines.get("lines") or {}).items():
            if not isinstance(line, dict):
                continue
            parts = [re.escape(n) for n in phone_numbers(str(line.get("contact") or ""))]
            name = re.sub(r"^(De |113 )", "", str(line.get("name") or "")).replace(" (chat)", "").strip()
            if name and not name.isdigit():
                parts.append(r"\b" + re.escape(name) + r"\b")
            if parts:
                patterns[line_id] = re.compile("|".join(f"(?<![\\w.-]){p}(?![\\w-])(?!\\.\\w)" if p[0].isdigit()
                                                        else p for p in parts), re.I)
        return patterns

    def _mentioned_lines(self, content: Content, text: str) -> Set[str]:
        return {i for i, p in self._line_patterns(content).items() if p.search(text)}

    def _names_closed_line(self, content: Content, text: str, add: Any) -> None:
        if PLACEHOLDER in text:
            return
        lines = content.helplines.get("lines") or {}
        maybe_closed = sorted(i for i in self._mentioned_lines(content, text)
                              if not (lines[i].get("hours") == "always" and lines[i].get("hours_verified")))
        if maybe_closed:
            add(WARNING, f"de tekst noemt {', '.join(maybe_closed)}, maar die lijn is misschien nu dicht. Zet "
                f"{PLACEHOLDER} neer (in een tekst die dat heeft): dan zegt Sam welke lijnen nu open zijn.", "text")

    # -- the disclosure answers: comfort, the helplines and a trusted adult, in one turn
    def _disclosure_turns(self, content: Content) -> None:
        companion = content.responses.get(HANDOVER_COMPANION) or []
        companion_text = " ".join(str(v.get("text") or "") for v in companion if isinstance(v, dict))
        for category in self._categories():
            name = f"utter_handover_{category}"
            variants = content.responses.get(name)
            if not variants:
                continue  # the runtime rules report it
            file = content.sources.get(name, RESPONSES_DIR + "/")
            line = self.parsed.get(file, Parsed()).line("responses", name)
            for variant in variants:
                if not isinstance(variant, dict):
                    continue
                text = str(variant.get("text") or "")
                turn = f"{text}\n{companion_text}"
                if PLACEHOLDER not in turn and not self._mentioned_lines(content, turn):
                    self.add(ERROR, file, line, f"'{name}': in deze beurt (met {HANDOVER_COMPANION}) staat geen "
                             f"hulplijn. Zet {PLACEHOLDER} terug in {HANDOVER_COMPANION}.", item=name)
                if not self.tone.names_trusted_adult(turn):
                    self.add(ERROR, file, line, f"'{name}': noem een volwassene die de jongere vertrouwt, "
                             f"bijvoorbeeld: 'Vertel het aan een volwassene die je vertrouwt.' of 'Praat erover met je "
                             f"groepsleider.' (Welke woorden tellen, staat in content/{TONE_FILE}.)", item=name)
                if variant.get("buttons"):
                    self.add(ERROR, file, line, f"'{name}': bericht 1 van een melding heeft geen knoppen. De knoppen "
                             f"staan in {HANDOVER_COMPANION} (één rij knoppen per beurt).", item=name)
                named = self._mentioned_lines(content, text) or [
                    n for n in phone_numbers(_plain(text)) if len(re.sub(r"\D", "", n)) >= 3]  # not "onder 16"
                if named:
                    self.add(ERROR, file, line, f"'{name}': noem hier geen hulplijn of telefoonnummer. Die zet Sam in "
                             f"{HANDOVER_COMPANION}, met of ze nu open zijn. Zo staat elk nummer er één keer.",
                             item=name)

    # -- helplines.yml
    def _helplines(self, content: Content) -> None:
        data, parsed, f = content.helplines, self.parsed.get(HELPLINES_FILE, Parsed()), HELPLINES_FILE
        for key in data:
            if key not in HELPLINES_TOP:
                self.add(ERROR, f, parsed.line(key), f"'{key}' kent Sam niet. Bovenaan staan alleen: "
                         f"{', '.join(HELPLINES_TOP)}. Tikfout? Verbeter het.", item=str(key))
        lines = data.get("lines") if isinstance(data.get("lines"), dict) else {}
        for line_id, line in lines.items():
            if isinstance(line, dict):
                self._helpline(str(line_id), line, parsed)
        texts = data.get("texts") if isinstance(data.get("texts"), dict) else {}
        from bot.content_rules import LINE_TEXTS
        from bot.helplines import COMPACT_KEYS

        known_texts = set(LINE_TEXTS) | {"closed_add_24_7"} | set(COMPACT_KEYS.values())
        for key, text in texts.items():
            at = parsed.line("texts", key)
            if key not in known_texts:
                self.add(WARNING, f, at, f"texts → '{key}' gebruikt Sam niet. Tikfout? Sam kent: "
                         f"{', '.join(sorted(known_texts))}.", item=str(key))
                continue
            if not isinstance(text, str):
                continue
            allowed = COMPACT_TEXT_VARIABLES if key in COMPACT_KEYS.values() else LINE_TEXT_VARIABLES
            if key == "closed_add_24_7":
                allowed = set()
            for variable in re.findall(r"\{([^{}]*)\}", text):
                if variable not in allowed:
                    choices = ", ".join("{" + v + "}" for v in sorted(allowed)) or "geen"
                    self.add(ERROR, f, at, f"texts → '{key}': '{{{variable}}}' vult Sam hier niet in. De jongere ziet "
                             f"dan letterlijk '{{{variable}}}'. Hier kan: {choices}.", item=str(key))
            self._short_text(f, at, f"texts → '{key}'", text, str(key))
        routing = data.get("routing") if isinstance(data.get("routing"), dict) else {}
        for key, ids in routing.items():
            at = parsed.line("routing", key)
            if key not in self.code.routing_keys:
                self.add(WARNING, f, at, f"routing → '{key}' vraagt Sam nooit op. Tikfout? Sam kent: "
                         f"{', '.join(sorted(self.code.routing_keys))}.", item=str(key))
            if isinstance(ids, list) and len(ids) > MAX_ROUTING:
                self.add(WARNING, f, at, f"routing → '{key}' noemt {len(ids)} lijnen. Max {MAX_ROUTING}: een lange "
                         f"lijst lezen jongeren niet.", item=str(key))

    def _helpline(self, line_id: str, line: Dict[str, Any], parsed: Parsed) -> None:
        f = HELPLINES_FILE
        where = f"lijn '{line_id}'"

        def add(level: str, message: str, *path: Any) -> None:
            self.add(level, f, parsed.line("lines", line_id, *path), f"{where}: {message}", item=line_id)

        for key in line:
            if key not in LINE_FIELDS:
                close = difflib.get_close_matches(str(key), LINE_FIELDS, n=1)
                hint = f" Bedoel je '{close[0]}'?" if close else ""
                add(ERROR, f"het veld '{key}' kent Sam niet.{hint} Een lijn heeft: {', '.join(LINE_FIELDS)}.", key)
        for key in LINE_FIELDS_ERROR:
            if key not in line:
                why = ("Schrijf waar het feit vandaan komt (website en datum)." if key == "source" else
                       "Schrijf true (tijden zelf recent gecheckt) of false.")
                add(ERROR, f"'{key}' ontbreekt. {why}")
        for key in ("short", "for", "confidence"):
            if key not in line:
                add(WARNING, f"'{key}' ontbreekt. Kijk bij de andere lijnen hoe het moet.")
        for key in ("contact", "short"):
            value = line.get(key)
            if not isinstance(value, str):
                continue
            for number in phone_numbers(value):
                if not phone_ok(number):
                    add(ERROR, f"'{number}' in {key} is geen goed telefoonnummer. Een Nederlands nummer heeft 10 "
                        f"cijfers (020-261 52 75), begint met 0800 of 0900 (0800-0432), of is kort (112, 113). "
                        f"Check het nummer op de website van de organisatie.", key)
            for problem in url_problems(value):
                add(ERROR, f"{problem} (in {key}). Schrijf het zo: helpwanted.nl.", key)
        contact_digits = {re.sub(r"\D", "", n) for n in phone_numbers(str(line.get("contact") or ""))}
        for number in phone_numbers(str(line.get("short") or "")):
            if re.sub(r"\D", "", number) not in contact_digits:
                add(ERROR, f"in short staat {number}, maar dat nummer staat niet bij contact. Zet in short hetzelfde "
                    f"nummer als bij contact.", "short")
        for problem in url_problems(str(line.get("source") or "")):
            add(WARNING, f"{problem} (in source).", "source")
        hours = line.get("hours")
        if isinstance(hours, dict):
            for day, value in hours.items():
                parts = str(value).replace(" ", "").split("-")
                if len(parts) == 2 and parts[0] == parts[1]:
                    add(WARNING, f"op {day} opent en sluit de lijn om {parts[0]}. Dag en nacht open? Schrijf dan "
                        f"'hours: always'.", "hours", day)
        if hours == "unknown" and line.get("hours_verified") is True:
            add(WARNING, "hours is 'unknown' maar hours_verified is true. Dat kan niet allebei. Weet je de tijden? "
                "Schrijf ze op. Anders: hours_verified: false.", "hours_verified")
        self._verified(line, add)
        for key in ("short", "for"):
            if isinstance(line.get(key), str):
                self._short_text(f, parsed.line("lines", line_id, key), f"{where}, {key}", line[key], line_id)

    def _verified(self, line: Dict[str, Any], add: Any) -> None:
        present = [key for key in VERIFIED_ALIASES if line.get(key) not in (None, "")]
        if not present:
            extra = (" Hier staat hours_verified: true, maar niet wanneer dat is gecheckt." if
                     line.get("hours_verified") is True else "")
            add(WARNING, f"er staat niet bij wanneer deze lijn voor het laatst is gecheckt.{extra} Check nummer en "
                f"tijden op de website van de organisatie en zet dan 'verified: JJJJ-MM-DD' (de datum van vandaag).")
            return
        if len(present) > 1 and _as_date(line["verified"]) != _as_date(line["verified_on"]):
            add(WARNING, "verified en verified_on noemen een andere datum. Houd er één over (verified).", "verified")
        key = present[0]
        day = _as_date(line[key])
        if day is None:
            add(ERROR, f"{key} '{line[key]}' is geen datum. Schrijf het zo: {key}: 2026-11-27.", key)
        elif day > self.today:
            add(ERROR, f"{key} {day.isoformat()} ligt in de toekomst. Zet de datum waarop je het echt hebt gecheckt.",
                key)
        elif day < months_before(self.today, VERIFIED_MONTHS):
            add(WARNING, f"voor het laatst gecheckt op {day.isoformat()}, langer dan {VERIFIED_MONTHS} maanden "
                f"geleden. Check nummer en tijden opnieuw op de website en zet de nieuwe datum bij {key}.", key)

    def _short_text(self, file: str, line: Optional[int], where: str, text: str, item: str) -> None:
        for phrase in self.tone.hits(text):
            self.add(ERROR, file, line, f"{where}: '{phrase.text}' staat in de tekst. {self._tone_reason(phrase)}",
                     item=item)
        rare = self.words.rare(text)
        if rare:
            self.add(WARNING, file, line, f"{where}: moeilijk of zeldzaam woord: {', '.join(rare)}. {self._rare_tip()}",
                     item=item)

    # -- risk_lexicon.yml
    def _lexicon(self, content: Content) -> None:
        data, parsed, f = content.lexicon, self.parsed.get(LEXICON_FILE, Parsed()), LEXICON_FILE
        for key in data:
            if key not in LEXICON_TOP:
                self.add(ERROR, f, parsed.line(key), f"'{key}' leest Sam niet. Bovenaan staan alleen: "
                         f"{', '.join(LEXICON_TOP)}. Tikfout? Verbeter het.", item=str(key))
        seen: Dict[Tuple[Any, ...], int] = {}
        for index, entry in enumerate(data.get("entries") or []):
            if not isinstance(entry, dict):
                continue
            at = parsed.line("entries", index)
            for key in entry:
                if key not in ENTRY_FIELDS:
                    close = difflib.get_close_matches(str(key), ENTRY_FIELDS, n=1)
                    hint = f" Bedoel je '{close[0]}'?" if close else ""
                    self.add(ERROR, f, at, f"risicowoord nr. {index + 1}: het veld '{key}' kent Sam niet.{hint} "
                             f"Een risicowoord heeft: {', '.join(ENTRY_FIELDS)}.")
            words = entry.get("term") if "term" in entry else entry.get("all")
            label = (str(words) if "term" in entry else
                     "[" + ", ".join(str(w) for w in words) + "]" if isinstance(words, list) else str(words))
            key = ("term", str(words).lower()) if "term" in entry else ("all", tuple(sorted(
                str(w).lower() for w in words)) if isinstance(words, list) else ())
            if key in seen:
                self.add(WARNING, f, at, f"'{label}' staat er twee keer in (ook nr. {seen[key]}). Haal er één weg.",
                         item=label)
            else:
                seen[key] = index + 1

    # -- followups.yml and commands.yml
    def _followups(self, content: Content) -> None:
        parsed, f = self.parsed.get(FOLLOWUPS_FILE, Parsed()), FOLLOWUPS_FILE
        for question, answers in content.followups.items():
            at = parsed.line(question)
            if question not in content.responses:
                self.add(ERROR, f, at, f"'{question}' is geen antwoord van Sam (niet in {RESPONSES_DIR}/). Links staat "
                         f"de naam van Sams vraag, zoals utter_nudge_trusted_adult.", item=str(question))
            if isinstance(answers, dict):
                for intent in answers:
                    if intent not in FOLLOWUP_INTENTS:
                        self.add(ERROR, f, parsed.line(question, intent), f"bij '{question}' staat '{intent}'. Sam "
                                 f"kijkt alleen naar {' en '.join(FOLLOWUP_INTENTS)} (ja en nee).", item=str(question))

    def _commands(self, content: Content) -> None:
        parsed, f = self.parsed.get(COMMANDS_FILE, Parsed()), COMMANDS_FILE
        commands = content.commands if isinstance(content.commands, dict) else {}
        for name, text in commands.items():
            at = parsed.line("commands", name)
            if name not in self.code.commands:
                self.add(ERROR, f, at, f"het commando /{name} kent Sam niet. Verander alleen de uitleg; de commando's "
                         f"zelf ({', '.join('/' + c for c in sorted(self.code.commands))}) horen bij de code.",
                         item=str(name))
            if isinstance(text, str):
                self._short_text(f, at, f"/{name}", text, str(name))
        for name in sorted(self.code.commands - set(commands)):
            self.add(WARNING, f, parsed.line("commands"), f"/{name} staat niet in het menu van Telegram. Zet het "
                     f"terug met een korte uitleg.", item=name)

    # -- bot/stories/ and bot/data/nlu/
    def _stories(self, content: Optional[Content]) -> Set[str]:
        used: Set[str] = set()
        answered: Set[str] = set()
        for path in sorted(self.stories_dir.glob("*.yml")):
            display = self._display_path(path)
            parsed, findings = read_yaml(path, display)
            self.findings += findings
            data = parsed.data if isinstance(parsed.data, dict) else {}
            for kind in ("rules", "stories"):
                for b, block in enumerate(data.get(kind) or []):
                    steps = block.get("steps") if isinstance(block, dict) else None
                    for s, step in enumerate(steps or []):
                        if not isinstance(step, dict):
                            continue
                        at = parsed.line(kind, b, "steps", s)
                        intent, action = step.get("intent"), step.get("action")
                        if intent is not None:
                            answered.add(str(intent))
                            if intent not in self.code.intents:
                                self.findings.append(Finding(ERROR, display, at, f"de intent '{intent}' bestaat niet "
                                                     f"(niet in domain.yml). Tikfout? Kies een intent uit domain.yml.",
                                                     item=str(intent)))
                        if isinstance(action, str):
                            if action.startswith("utter_"):
                                used.add(action)
                                if content is not None and action not in content.responses:
                                    self.findings.append(Finding(ERROR, display, at, f"deze regel stuurt '{action}', "
                                                         f"maar die tekst staat niet in content/{RESPONSES_DIR}/. "
                                                         f"Tikfout? Of zet de tekst erbij.", item=action))
                            elif action not in self.code.actions:
                                self.findings.append(Finding(ERROR, display, at, f"de actie '{action}' bestaat niet "
                                                     f"(niet in domain.yml). Tikfout?", item=action))
        for intent in sorted(self.code.intents - answered - {"nlu_fallback"}):
            self.findings.append(Finding(ERROR, self._display_path(self.stories_dir), None, f"geen regel zegt wat Sam "
                                 f"doet bij de intent '{intent}'. Zet een regel in bot/stories/.", item=intent))
        return used

    def _nlu(self) -> None:
        seen: Dict[str, Tuple[str, str, Optional[int]]] = {}  # example (lower) -> intent, file, line
        with_examples: Set[str] = set()
        for path in sorted(self.nlu_dir.glob("*.yml")):
            display = self._display_path(path)
            parsed, findings = read_yaml(path, display)
            self.findings += findings
            data = parsed.data if isinstance(parsed.data, dict) else {}
            raw_lines = parsed.text.split("\n")
            for index, block in enumerate(data.get("nlu") or []):
                if not isinstance(block, dict) or "intent" not in block:
                    continue
                intent = str(block["intent"])
                start = parsed.line("nlu", index, "examples") or parsed.line("nlu", index) or 1
                if intent not in self.code.intents:
                    self.findings.append(Finding(ERROR, display, parsed.line("nlu", index, "intent"), f"de intent "
                                         f"'{intent}' bestaat niet (niet in domain.yml). Tikfout? Voorbeeldzinnen "
                                         f"horen bij een intent uit domain.yml.", item=intent))
                cursor = start
                for raw in str(block.get("examples") or "").split("\n"):
                    example = raw.strip()
                    if not example.startswith("- "):
                        continue
                    example = example[2:].strip()
                    line = self._line_of(raw_lines, cursor, example)
                    cursor = line + 1 if line else cursor
                    with_examples.add(intent)
                    collapsed = " ".join(example.casefold().split())
                    key = collapsed.strip(" .!?") or collapsed  # "hoi!" is "hoi"; "???" stays itself
                    if key in seen:
                        other_intent, other_file, other_line = seen[key]
                        where = f"{other_file}:{other_line}" if other_line else other_file
                        if other_intent == intent:
                            self.findings.append(Finding(WARNING, display, line, f"de voorbeeldzin '{example}' staat "
                                                 f"twee keer bij '{intent}' (ook {where}). Haal er één weg.",
                                                 item=intent))
                        else:
                            self.findings.append(Finding(ERROR, display, line, f"de voorbeeldzin '{example}' staat bij "
                                                 f"'{intent}' én bij '{other_intent}' ({where}). Zo leert Sam twee "
                                                 f"dingen tegelijk. Laat hem bij één intent staan (zie "
                                                 f"bot/data/INTENTS.md).", item=intent))
                    else:
                        seen[key] = (intent, display, line)
        for intent in sorted(self.code.intents - with_examples - {"nlu_fallback"}):
            self.findings.append(Finding(ERROR, self._display_path(self.nlu_dir), None, f"de intent '{intent}' heeft "
                                 f"geen voorbeeldzinnen. Zet er voorbeelden bij in bot/data/nlu/.", item=intent))

    @staticmethod
    def _line_of(raw_lines: List[str], start: int, example: str) -> Optional[int]:
        for number in range(max(start, 1), len(raw_lines) + 1):
            stripped = raw_lines[number - 1].strip()
            if stripped.startswith("- ") and stripped[2:].strip() == example:
                return number
        return None


def check(root: Optional[Path] = None, *, stories_dir: Optional[Path] = None, nlu_dir: Optional[Path] = None,
          domain_file: Optional[Path] = None, today: Optional[date] = None, rasa: bool = False) -> List[Finding]:
    """Every finding about content/ (or `root`), the stories and the example questions; sorted by file and line.

    The runtime rules (bot.content_rules, what the live reload checks) come first as errors with
    `blocks_reload=True`; the editor checks add errors and warnings. `rasa=True` also runs
    `rasa data validate` (slow) and reports its messages in Dutch.
    """
    checker = _Checker(Path(root or content_module.CONTENT_DIR), Path(stories_dir or STORIES_DIR),
                       Path(nlu_dir or NLU_DIR), Path(domain_file or DOMAIN_FILE), today or date.today())
    findings = checker.run()
    if rasa:
        findings += rasa_findings()
    return findings


def errors(findings: Sequence[Finding]) -> List[Finding]:
    return [f for f in findings if f.level == ERROR]


# --- rasa data validate, in Dutch ------------------------------------------------------------
RASA_MESSAGES: List[Tuple[Any, str]] = [
    (r"The intent '([^']+)' is listed in the domain file, but is not found in the NLU training data",
     "de intent '{0}' heeft geen voorbeeldzinnen in bot/data/nlu/. Zet er voorbeelden bij."),
    (r"There is a message in the training data labeled with intent '([^']+)'\. This intent is not listed",
     "er staan voorbeeldzinnen bij de intent '{0}', maar die intent staat niet in domain.yml. Tikfout? "
     "Gebruik een intent uit domain.yml."),
    (r"The example '(.+?)' was found labeled with multiple different intents.*?The example is labeled with: "
     r"([^.\n]+)", "de voorbeeldzin '{0}' staat bij meer intents ({1}). Laat hem bij één intent staan."),
    (r"The intent '([^']+)' is used in your stories, but it is not listed in the domain file",
     "een regel in bot/stories/ gebruikt de intent '{0}', maar die staat niet in domain.yml. Tikfout?"),
    (r"The intent '([^']+)' is not used in any story or rule",
     "geen regel in bot/stories/ zegt wat Sam doet bij de intent '{0}'. Zet er een regel bij."),
    (r"The action '([^']+)' is used in the stories, but is not a valid utterance action",
     "een regel stuurt '{0}', maar die tekst bestaat niet in content/responses/. Tikfout? Of zet de tekst erbij."),
    (r"The utterance '([^']+)' is not used in any story or rule",
     "de tekst '{0}' gebruikt geen enkele regel."),
    (r"The action '([^']+)' is used in the '([^']+)' block, but it is not listed in the domain file",
     "de regel '{1}' gebruikt de actie '{0}', maar die staat niet in domain.yml. Tikfout?"),
    (r"Story structure conflict after (?:intent|action) '([^']+)':[ \t]*\n((?:[ \t]+.*predicted in.*(?:\n|$))+)",
     "na '{0}' zeggen twee regels iets anders over wat Sam dan doet: {1}. Maak de regels gelijk of haal er één weg."),
    (r"the prediction of the action '([^']+)' in (?:rule|story) '([^']+)' is contradicting with rule\(s\) '([^']+)'",
     "de regel '{1}' laat Sam '{0}' doen, maar de regel(s) '{2}' zeggen iets anders. Maak de regels gelijk."),
]


def translate_rasa(output: str) -> List[Finding]:
    """Findings from the output of `rasa data validate`: known messages in Dutch, the rest as Rasa says it."""
    findings: List[Finding] = []
    known_spans: List[Tuple[int, int]] = []
    for pattern, dutch in RASA_MESSAGES:
        for match in re.finditer(pattern, output):
            groups = [" ".join(g.split()) for g in match.groups()]
            findings.append(Finding(ERROR, "rasa data validate", None, dutch.format(*groups),
                                    item=groups[0] if groups else ""))
            known_spans.append(match.span())
    offset = 0
    for line in output.splitlines(keepends=True):
        span = (offset, offset + len(line))
        offset += len(line)
        if any(start < span[1] and span[0] < end for start, end in known_spans):
            continue
        if re.search(r"UserWarning: |\bERROR\b|Exception: ", line) and "DeprecationWarning" not in line:
            text = line.split("UserWarning: ", 1)[-1].strip()
            findings.append(Finding(ERROR, "rasa data validate", None, f"Rasa meldt (in het Engels): {text}"))
    return findings


def rasa_findings() -> List[Finding]:
    from bot.config import CONFIG_FILE
    from bot.evaluation import _rasa

    result = _rasa("data", "validate", "--fail-on-warnings", "--config", str(CONFIG_FILE),
                   "--domain", str(DOMAIN_FILE), "--data", str(NLU_DIR), str(STORIES_DIR), check=False)
    findings = translate_rasa(result.stdout + "\n" + result.stderr)
    if result.returncode != 0 and not findings:
        tail = " ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
        findings.append(Finding(ERROR, "rasa data validate", None, f"Rasa keurt de verhalen of voorbeeldzinnen af. "
                                f"Vraag een ontwikkelaar. (Laatste regels: {tail})"))
    return findings


# --- output for the terminal ---------------------------------------------------------------
def format_findings(findings: Sequence[Finding], seconds: Optional[float] = None) -> str:
    out: List[str] = []
    current = None
    for finding in findings:
        if finding.file != current:
            current = finding.file
            out.append(f"\n{finding.file}")
        where = f"regel {finding.line}" if finding.line else "       "
        out.append(f"  {where:<10} {LEVEL_NL.get(finding.level, finding.level):<6}  {finding.message}")
    n_errors = len(errors(findings))
    n_warnings = len(findings) - n_errors
    timing = f" ({seconds:.1f} s)" if seconds is not None else ""
    if n_errors:
        blocking = sum(1 for f in findings if f.blocks_reload)
        summary = (f"Niet goed: {n_errors} {'fout' if n_errors == 1 else 'fouten'}, {n_warnings} "
                   f"{'waarschuwing' if n_warnings == 1 else 'waarschuwingen'}{timing}. Los eerst de fouten op.")
        if blocking:
            summary += (f" {blocking} daarvan houden de nieuwe inhoud tegen: Sam blijft de vorige versie gebruiken "
                        f"tot ze zijn opgelost.")
    elif n_warnings:
        summary = (f"Goed, met {n_warnings} {'waarschuwing' if n_warnings == 1 else 'waarschuwingen'}{timing}. "
                   f"Waarschuwingen houden niets tegen, maar kijk er wel naar.")
    else:
        summary = f"Alles goed{timing}."
    return "\n".join(out + ["", summary])


# --- preview: how an answer looks to a young person --------------------------------------------
@dataclass
class Bubble:
    response: str
    file: str
    text: str
    buttons: List[Dict[str, str]]


# (helpline category, form) per response that names helplines, as the code sends it outside a handover.
_PREVIEW_HELPLINES = {
    "utter_failsafe_risk": ("general", "24_7"), "utter_human": ("general", "full"),
    "utter_ask_helpline": ("general", "full"), "utter_request_human": ("general", "full"),
    "utter_request_expired": ("general", "full"), "utter_request_taken": ("general", "full"),
    "utter_nobody_on_duty": ("general", "full"), "utter_feeling_bad": ("feeling_bad", "compact"),
    "utter_express_distress": ("distress", "compact"), "utter_check_in": ("check_in", "compact"),
    "utter_check_in_yes": ("check_in", "compact"), "utter_safety_line": ("check_in", "compact"),
}


def _turn(topic: str, content: Content, code: Code, category: Optional[str]) -> Tuple[List[Tuple[str, Any]], List[str]]:
    """(response, (helpline category, form) or None) for each message, and notes for the editor."""

    notes: List[str] = []

    def spec(name: str) -> Any:
        if PLACEHOLDER not in str((content.responses.get(name) or [{}])[0].get("text") or ""):
            return None
        answered = [code.answer_helplines.get(i, "general") for i, answer in code.answers.items() if answer == name]
        cat, form = (answered[0], "compact") if answered else _PREVIEW_HELPLINES.get(name, ("general", "compact"))
        return (category or cat, form)

    def handover(cat: str) -> List[Tuple[str, Any]]:
        notes.append("Een melding: twee berichten in één beurt; alleen het laatste heeft knoppen.")
        return [(f"utter_handover_{cat}", None), (HANDOVER_COMPANION, (cat, "compact"))]

    if topic in content.responses:
        if _handover_category(topic):
            return handover(_handover_category(topic)), notes
        return [(topic, spec(topic))], notes
    if topic not in code.intents:
        options = sorted(set(content.responses) | set(code.intents))
        close = difflib.get_close_matches(topic, options, n=3)
        hint = f" Bedoel je: {', '.join(close)}?" if close else ""
        raise KeyError(f"'{topic}' is geen antwoord (utter_...) en geen intent.{hint}")
    rules = _rule_actions()
    actions = rules.get(topic) or []
    plan: List[Tuple[str, Any]] = []
    for action in actions:
        if action.startswith("utter_"):
            plan.append((action, spec(action)))
        elif action == "action_answer":
            answer = code.answers.get(topic, "utter_default")
            plan += [(answer, spec(answer)), ("utter_nudge_trusted_adult", None)]
            notes.append("De eerste vraag in een gesprek krijgt er het duwtje naar een volwassene bij; "
                         "daarna alleen het antwoord (met zijn eigen knoppen).")
        elif action == "action_handover":
            plan += handover(topic[len("disclose_"):] if topic.startswith("disclose_") else "abuse")
        elif action == "action_helplines":
            name = "utter_request_human" if topic == "request_human" else "utter_ask_helpline"
            plan.append((name, (category or "general", "full")))
            if topic == "request_human":
                notes.append("Is er een hulpverlener aan het werk? Dan stuurt Sam utter_request_taken in plaats "
                             "hiervan.")
        elif action == "action_feeling_bad":
            plan.append(("utter_feeling_bad", (category or "feeling_bad", "compact")))
        elif action == "action_express_distress":
            plan.append(("utter_express_distress", (category or "distress", "compact")))
        elif action == "action_check_in":
            plan.append(("utter_check_in", ("check_in", "compact")))
        elif action == "action_fallback":
            plan.append(("utter_default", None))
            notes.append("Kort na een melding stuurt Sam hier utter_handover_reminder.")
            notes.append("Een zwaar woord (zoals zelfmoord) in een vraag die geen melding is: Sam geeft het antwoord "
                         "en dan utter_safety_line, met 113 en 112.")
        elif action == "action_help":
            plan.append(("utter_help", None))
        elif action == "action_followup":
            answer = f"utter_{topic}"
            plan.append((answer, spec(answer)))
            notes.append("Zonder vraag van Sam ervoor. Na een vraag kiest followups.yml het antwoord.")
    return plan, notes


@lru_cache(maxsize=1)
def _rule_actions() -> Dict[str, List[str]]:
    rules: Dict[str, List[str]] = {}
    for path in sorted(STORIES_DIR.glob("*.yml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}
        for rule in data.get("rules") or []:
            steps = rule.get("steps") or []
            if steps and "intent" in steps[0]:
                rules.setdefault(steps[0]["intent"], []).extend(s["action"] for s in steps[1:] if "action" in s)
    return rules


def preview(topic: str, root: Optional[Path] = None, now: Optional[datetime] = None,
            category: Optional[str] = None) -> Tuple[List[Bubble], List[str]]:
    """The messages a young person sees for `topic` (a response name or an intent), with the
    helplines open at `now` filled in and one set of buttons under the last message; and notes."""
    from bot.helplines import compact_text, helplines_text

    content = content_module._read(Path(root or content_module.CONTENT_DIR))
    plan, notes = _turn(topic, content, code_facts(DOMAIN_FILE), category)
    bubbles: List[Bubble] = []
    for index, (name, helplines) in enumerate(plan):
        if name not in content.responses:
            notes.append(f"'{name}' ontbreekt in content/{RESPONSES_DIR}/: de jongere krijgt hier niets.")
            continue
        variables = {}
        if helplines:
            cat, form = helplines
            variables["helplines"] = (compact_text(cat, now, content) if form == "compact" else
                                      helplines_text(cat, now, content, only_24_7=form == "24_7"))
        message = content.render(name, **variables)
        bubbles.append(Bubble(name, f"content/{content.sources.get(name, '')}", message["text"],
                              message["buttons"] if index == len(plan) - 1 else []))
    return bubbles, notes


def format_preview(topic: str, bubbles: Sequence[Bubble], notes: Sequence[str], now: datetime,
                   width: int = 44) -> str:
    days = ("ma", "di", "wo", "do", "vr", "za", "zo")
    out = [f"Zo ziet de jongere '{topic}' in Telegram (hulplijnen zoals ze open zijn op "
           f"{days[now.weekday()]} {now:%d-%m %H:%M}):", ""]
    for bubble in bubbles:
        out.append(f"  Sam · {bubble.response} ({bubble.file})")
        out.append("  ╭" + "─" * (width + 2) + "╮")
        for paragraph in bubble.text.split("\n"):
            for line in textwrap.wrap(paragraph, width) or [""]:
                out.append(f"  │ {line:<{width}} │")
        out.append("  ╰" + "─" * (width + 2) + "╯")
        for button in bubble.buttons:
            title = str(button.get("title", ""))
            out.append(f"  [ {title:^{width - 2}} ]  → {button.get('payload', '')}")
        out.append("")
    out += [f"  ℹ {note}" for note in notes]
    return "\n".join(out).rstrip() + "\n"


# --- report: the readability of every text ---------------------------------------------------
def language_table(root: Optional[Path] = None) -> List[Dict[str, Any]]:
    """Per response: Flesch-Douma, words, longest sentence, rare words and the check's verdict."""
    root = Path(root or content_module.CONTENT_DIR)
    findings = check(root)
    content = content_module._read(root)
    checker = _Checker(root, STORIES_DIR, NLU_DIR, DOMAIN_FILE, date.today())
    for name in (WORDS_FILE, TONE_FILE, HELPLINES_FILE):
        checker.read(name)
    words, _ = checker._lists()  # the same allow-list as the check
    rows = []
    for name in sorted(content.responses):
        variant = content.responses[name][0] if content.responses[name] else {}
        stats = text_stats(str(variant.get("text") or ""), words)
        mine = [f for f in findings if f.item == name]
        verdict = "fout" if errors(mine) else "let op" if mine else "goed"
        rows.append({"response": name, "file": content.sources.get(name, ""), "flesch": stats.flesch,
                     "words": stats.words, "longest": stats.longest, "rare": list(stats.rare),
                     "buttons": len(variant.get("buttons") or []), "verdict": verdict,
                     "findings": [f.message for f in mine]})
    return rows


def report_markdown(root: Optional[Path] = None, before: Optional[Path] = None) -> str:
    rows = language_table(root)
    old = {r["response"]: r for r in language_table(before)} if before else {}
    scores = [r["flesch"] for r in rows if r["flesch"] is not None]
    lines = ["# Leesbaarheid van Sams teksten", "",
             "Gemaakt met `python -m bot content report` (dezelfde maten als `make content`).", "",
             f"- Flesch-Douma (textstat, Nederlandse lettergrepen via pyphen): hoger is makkelijker; 60-70 is normaal, "
             f"onder {READABILITY_WARN:.0f} geeft de check een waarschuwing, onder {READABILITY_MIN:.0f} een fout "
             f"(alleen voor teksten van {READABILITY_MIN_WORDS} woorden of meer: bij een heel korte tekst zegt de "
             f"score weinig).",
             f"- Langste zin in woorden: waarschuwing boven {SENTENCE_WARN_WORDS}, fout boven {SENTENCE_MAX_WORDS}.",
             f"- Zeldzame woorden: wordfreq, Zipf < {RARE_ZIPF} (minder dan 1 keer per miljoen woorden), niet in "
             f"content/{WORDS_FILE}.", "- Oordeel: wat `make content` over deze tekst zegt (goed, let op, fout).", "",
             f"{len(rows)} teksten. Flesch-Douma: mediaan {median(scores):.1f}, laagste {min(scores):.1f}, hoogste "
             f"{max(scores):.1f}. Langste zin: {max(r['longest'] for r in rows)} woorden. Oordeel: "
             f"{sum(r['verdict'] == 'goed' for r in rows)} goed, {sum(r['verdict'] == 'let op' for r in rows)} let op, "
             f"{sum(r['verdict'] == 'fout' for r in rows)} fout.", ""]
    if old:
        old_scores = [r["flesch"] for r in old.values() if r["flesch"] is not None]
        lines += [f"Voor de aanpassingen: Flesch-Douma mediaan {median(old_scores):.1f}, laagste "
                  f"{min(old_scores):.1f}; langste zin {max(r['longest'] for r in old.values())} woorden; "
                  f"{sum(r['verdict'] == 'fout' for r in old.values())} teksten met een fout, "
                  f"{sum(len(r['rare']) for r in old.values())} zeldzame woorden. Kolom 'voor' hieronder.", ""]
    head = "| tekst | bestand | Flesch-Douma | " + ("voor | " if old else "") + \
        "woorden | langste zin | zeldzame woorden | knoppen | oordeel |"
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        flesch = "–" if r["flesch"] is None else f"{r['flesch']:.1f}"
        previous = old.get(r["response"])
        before_cell = ""
        if old:
            before_cell = ("–" if not previous or previous["flesch"] is None else f"{previous['flesch']:.1f}") + " | "
        lines.append(f"| `{r['response']}` | {r['file']} | {flesch} | {before_cell}{r['words']} | {r['longest']} | "
                     f"{', '.join(r['rare']) or '–'} | {r['buttons']} | {r['verdict']} |")
    notes = [(r["response"], m) for r in rows for m in r["findings"]]
    if notes:
        lines += ["", "## Wat de check nog zegt", ""] + [f"- `{name}`: {message}" for name, message in notes]
    return "\n".join(lines) + "\n"


def write_report(path: Optional[Path] = None, before: Optional[Path] = None) -> Path:
    path = Path(path or REPORTS_DIR / "content.md")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_markdown(before=before), encoding="utf-8")
    return path


# --- command line (python -m bot content ...) ---------------------------------------------------
def main_check(rasa: bool = False, root: Optional[Path] = None) -> int:
    started = time.perf_counter()
    findings = check(root, rasa=rasa)
    print(format_findings(findings, time.perf_counter() - started).lstrip("\n"))
    return 1 if errors(findings) else 0


def main_preview(topic: str, category: Optional[str] = None, root: Optional[Path] = None) -> int:
    from bot.helplines import local_now

    now = local_now()
    try:
        bubbles, notes = preview(topic, root, now, category)
    except KeyError as error:
        print(error.args[0] if error.args else error)
        return 1
    except ContentError as error:
        print("De inhoud kan niet gelezen worden:\n" + "\n".join(error.problems))
        return 1
    print(format_preview(topic, bubbles, notes, now))
    return 0
