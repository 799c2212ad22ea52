"""Editing content/ from the dashboard (texts with their buttons, helplines, risk words) and adding
example questions to the NLU data: one change at a time, checked on a copy before anything live
changes, written so that git still shows a small, readable diff.

A change names a *target* (a text, a helpline, a risk word, one example of an intent) and its new
value (plain JSON-like data; None = not there). `publish()`:
1. under a lock, reads the target's value from the file on disk now; the editor's form carries
   the hash of the value it started from (`base`): when they differ, somebody else changed it
   meanwhile and the change is refused (Conflict), never silently overwritten;
2. writes the new value into the parsed file with ruamel.yaml round-trip (comments, key order,
   quotes and indentation stay as they were) and parses the result again to be sure it says
   exactly that;
3. applies the new file to a temporary copy of content/ and loads that copy the way Sam does
   (`content.load_content`, plus the Dutch checker `bot.content_check`): any error
   refuses the change, with its Dutch explanation, and nothing live has changed;
4. records the change (old and new value) in `content_changes` and the audit log and replaces the
   real file atomically (temp file in the same folder, fsync, os.replace), in one transaction.
`content.current()` picks the new file up within a second: texts, buttons, helplines and risk
words are live without retraining (texts are no training input: bot/training.py). Example
questions are training data: they count after a retraining (bot/model_update.py).
Undo is a new change that puts the old value back, checked the same way.
"""
from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString
from sqlite_utils import Database

from bot import config, content
from bot.categories import CATEGORIES, SEVERITIES
from bot.store import audit
from bot.store.db import transaction, utc_now

KINDS = ("text", "helpline", "risk_word", "example")
KIND_LABELS = {"text": "Tekst", "helpline": "Hulplijn", "risk_word": "Risicowoord", "example": "Voorbeeldvraag"}
# A helpline's fields, in the order the file has them. `verified` is the day somebody checked the line
# at its source (bot/content_check.py reads it; `verified_on` is its older spelling, kept as it is).
HELPLINE_FIELDS = ("name", "contact", "short", "for", "hours", "hours_verified", "verified", "verified_on", "source",
                   "confidence")
DAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
LINE_ID = re.compile(r"^[a-z0-9_]{2,40}$")
MAX_EXAMPLE_LENGTH = 300
# Indentation styles tried when a file is read; the one that writes the unchanged file back byte
# for byte is used. A file none of them reproduces is not edited from the dashboard.
_INDENTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 2, 0))
_lock = threading.Lock()


class EditError(ValueError):
    """The change cannot be made; `problems` says why, in Dutch, for the editor."""

    def __init__(self, problems: Any) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class Conflict(EditError):
    """The value changed on disk since the editor opened the form (optimistic locking)."""

    def __init__(self, message: str, current: Any) -> None:
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class Finding:
    """One problem the checks found: level 'fout' (blocks publishing) or 'waarschuwing'."""

    level: str
    file: str
    line: Optional[int]
    message: str
    blocks_reload: bool = False  # content.current() would refuse it too

    @property
    def blocking(self) -> bool:
        return self.level == "fout"


@dataclass
class Change:
    """A change prepared on the parsed file: what it was, what it becomes, the new file text."""

    kind: str
    target: Dict[str, Any]
    file: str  # shown to editors and stored: content/..., bot/data/nlu/...
    path: Path
    old: Any
    new: Any
    new_text: str
    label: str


@dataclass
class Verdict:
    errors: List[Finding] = field(default_factory=list)
    warnings: List[Finding] = field(default_factory=list)
    content: Optional[content.Content] = None  # the would-be content, when it loaded
    effect: Optional[Dict[str, Any]] = None  # a risk-word change: what it does to the labelled sets

    @property
    def ok(self) -> bool:
        return not self.errors


# --- where things live -------------------------------------------------------------------------
def content_root() -> Path:
    return Path(content.CONTENT_DIR)


def nlu_root() -> Path:
    return Path(config.NLU_DIR)


def _file_path(file: str) -> Path:
    if file.startswith("content/"):
        return content_root() / file[len("content/"):]
    if file.startswith("bot/data/nlu/"):
        return nlu_root() / file[len("bot/data/nlu/"):]
    raise EditError(f"Onbekend bestand: {file}")


def response_files(root: Optional[Path] = None) -> List[Path]:
    return sorted((root or content_root()).glob(f"{content.RESPONSES_DIR}/*.yml"))


def _plain_load(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=content.YAML_LOADER)  # noqa: S506 - a safe loader


def response_file(name: str) -> str:
    """The file (content/responses/...) that holds a response; EditError when none does."""
    for path in response_files():
        data = _plain_load(path) or {}
        if name in (data.get("responses") or {}):
            return f"content/{content.RESPONSES_DIR}/{path.name}"
    raise EditError(f"De tekst '{name}' bestaat niet (meer). Kies een tekst uit de lijst.")


def example_file(intent: str) -> str:
    for path in sorted(nlu_root().glob("*.yml")):
        for block in (_plain_load(path) or {}).get("nlu") or []:
            if isinstance(block, dict) and block.get("intent") == intent:
                return f"bot/data/nlu/{path.name}"
    raise EditError(f"De intent '{intent}' bestaat niet. Kies een intent uit de lijst.")


def file_for(kind: str, target: Dict[str, Any]) -> str:
    if kind == "text":
        return response_file(str(target.get("name", "")))
    if kind == "helpline":
        return f"content/{content.HELPLINES_FILE}"
    if kind == "risk_word":
        return f"content/{content.LEXICON_FILE}"
    if kind == "example":
        return example_file(str(target.get("intent", "")))
    raise EditError(f"Onbekende soort wijziging: {kind}")


# --- ruamel.yaml round trip --------------------------------------------------------------------
def _yaml(indent: Tuple[int, int, int]) -> YAML:
    made = YAML(typ="rt")
    made.preserve_quotes = True
    made.width = 1_000_000  # never fold a long text over several lines
    made.allow_unicode = True
    made.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    return made


def _unescape_supplementary(text: str) -> str:
    """ruamel 0.17 writes characters outside the Basic Multilingual Plane (most emoji) in double
    quotes as \\UXXXXXXXX escapes; the files have the emoji themselves. Same value, but editors
    should see 👋, not \\U0001F44B (and git an unchanged line)."""
    out: List[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            code = text[i + 2:i + 10]
            if text[i + 1] == "U" and re.fullmatch(r"[0-9A-F]{8}", code) and 0x10000 <= int(code, 16) <= 0x10FFFF:
                out.append(chr(int(code, 16)))
                i += 10
                continue
            out.append(text[i:i + 2])  # any other escape (also "\\\\") stays as it is
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


class Document:
    """A YAML file parsed for editing; `dump()` gives the file text back (unchanged parts exactly)."""

    def __init__(self, path: Path, display: str) -> None:
        self.path = path
        self.display = display
        try:
            self.text = path.read_text(encoding="utf-8")
        except FileNotFoundError as error:
            raise EditError(f"{display}: dit bestand ontbreekt.") from error
        for indent in _INDENTS:
            made = _yaml(indent)
            try:
                data = made.load(self.text)
            except Exception as error:  # noqa: BLE001 - any parse error means: fix the file first
                raise EditError(f"{display}: de opmaak van dit bestand klopt nu niet, dus het dashboard past het "
                                f"niet aan. Laat een ontwikkelaar het bestand eerst herstellen. ({error})") from error
            self.yaml, self.data = made, data
            if self._dump() == self.text:
                return
        raise EditError(f"{display}: het dashboard kan dit bestand niet aanpassen zonder de opmaak te veranderen. "
                        f"Vraag een ontwikkelaar het aan te passen.")

    def _dump(self) -> str:
        out = io.StringIO()
        self.yaml.dump(self.data, out)
        return _unescape_supplementary(out.getvalue())

    def dump(self) -> str:
        return self._dump()


def _dq(value: Any) -> DoubleQuotedScalarString:
    return DoubleQuotedScalarString(str(value))


def _is_map(node: Any) -> bool:
    return isinstance(node, CommentedMap)


def _is_block(node: Any) -> bool:
    return isinstance(node, (CommentedMap, CommentedSeq)) and len(node) > 0 and not node.fa.flow_style()


def _tail_slot(node: Any) -> Tuple[Any, Any, int]:
    """(container, key, position) of the comment slot after the last line of `node`: where
    ruamel keeps a blank line or comment that follows a block."""
    while True:
        key = list(node.keys())[-1] if _is_map(node) else len(node) - 1
        child = node[key]
        if _is_block(child):
            node = child
            continue
        return node, key, 2 if _is_map(node) else 0


def _take_tail(node: Any) -> Any:
    if not _is_block(node):
        return None
    container, key, position = _tail_slot(node)
    slot = container.ca.items.get(key)
    if not slot or len(slot) <= position or slot[position] is None:
        return None
    token, slot[position] = slot[position], None
    return token


def _put_tail(node: Any, token: Any) -> None:
    if token is None or not _is_block(node):
        return
    container, key, position = _tail_slot(node)
    slot = container.ca.items.setdefault(key, [None, None, None, None])
    while len(slot) <= position:
        slot.append(None)
    slot[position] = token


def _separator(node: Any, index: int) -> Any:
    """The blank line (or nothing) that follows the element at `index` of a block: what goes
    between two siblings, copied for a new one."""
    keys = list(node.keys()) if _is_map(node) else list(range(len(node)))
    if not 0 <= index < len(keys):
        return None
    child = node[keys[index]]
    if _is_block(child):
        container, key, position = _tail_slot(child)
    else:
        container, key, position = node, keys[index], 2 if _is_map(node) else 0
    slot = container.ca.items.get(key)
    token = slot[position] if slot and len(slot) > position else None
    if token is None or set(token.value) - {"\n"}:
        return None  # a real comment belongs to its place; copy only blank lines
    return copy.copy(token)


def _append(node: Any, value: Any, key: Any = None) -> None:
    """Adds a last element; the comment that followed the old last element moves below it."""
    between = _separator(node, len(node) - 2)  # the gap between two siblings, for the old last one
    token = _take_tail(node)
    if _is_map(node):
        node[key] = value
    else:
        node.append(value)
    if token is not None:
        _put_tail(node, token)
        if between is not None:  # the old last element is now followed by its sibling: same gap as before
            keys = list(node.keys()) if _is_map(node) else list(range(len(node)))
            old_last = node[keys[-2]]
            if _is_block(old_last):
                _put_tail(old_last, between)
            else:
                slot = node.ca.items.setdefault(keys[-2], [None, None, None, None])
                slot[2 if _is_map(node) else 0] = between


def _remove(node: Any, key: Any) -> None:
    """Removes an element; when it was the last one, the comment below it stays."""
    keys = list(node.keys()) if _is_map(node) else list(range(len(node)))
    last = keys and key == keys[-1]
    token = _take_tail(node) if last else None
    del node[key]
    if token is not None and len(node):
        own = _take_tail(node)
        if own is not None and set(own.value) - {"\n"}:
            _put_tail(node, own)  # a real comment of its own stays; the removed element's ending goes
            return
        _put_tail(node, token)  # its blank line makes way for the block's ending


def _insert_key(node: CommentedMap, key: str, value: Any, order: Sequence[str]) -> None:
    """Sets a key of a mapping; a new key goes where `order` says, not at the end."""
    if key in node:
        node[key] = value
        return
    later = [k for k in order[order.index(key) + 1:] if k in node] if key in order else []
    if not later:
        _append(node, value, key)
        return
    node.insert(list(node.keys()).index(later[0]), key, value)


# --- values: read and write one target ---------------------------------------------------------
def _plain(value: Any) -> Any:
    """ruamel nodes as plain Python (dict, list, str, bool, int)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def value_hash(value: Any) -> str:
    """What the form carries to say which version it started from."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:24]


# texts ------------------------------------------------------------------------------------------
def _variant(data: Any, target: Dict[str, Any]) -> Optional[CommentedMap]:
    responses = (data or {}).get("responses") or {}
    variants = responses.get(target.get("name"))
    index = int(target.get("variant") or 0)
    if isinstance(variants, dict):
        return variants if index == 0 else None
    if isinstance(variants, list) and 0 <= index < len(variants) and isinstance(variants[index], dict):
        return variants[index]
    return None


def _get_text(data: Any, target: Dict[str, Any]) -> Any:
    variant = _variant(data, target)
    if variant is None:
        return None
    buttons = variant.get("buttons") or []
    return {"text": str(variant.get("text") or ""),
            "buttons": [{"title": str(b.get("title") or ""), "payload": str(b.get("payload") or "")}
                        for b in buttons if isinstance(b, dict)]}


def _set_text(data: Any, target: Dict[str, Any], new: Any) -> None:
    variant = _variant(data, target)
    if variant is None or new is None:
        raise EditError(f"De tekst '{target.get('name')}' bestaat niet (meer). Nieuwe teksten of teksten weghalen "
                        f"kan alleen een ontwikkelaar: de code zoekt ze op naam.")
    variant["text"] = _dq(new["text"])
    wanted = new.get("buttons") or []
    buttons = variant.get("buttons")
    if not wanted:
        if "buttons" in variant:
            _remove(variant, "buttons")
        return
    if not isinstance(buttons, CommentedSeq):
        made = CommentedSeq()
        for button in wanted:
            made.append(CommentedMap([("title", _dq(button["title"])), ("payload", button["payload"])]))
        _insert_key(variant, "buttons", made, ("text", "buttons"))
        return
    for index, button in enumerate(wanted):
        if index < len(buttons) and isinstance(buttons[index], CommentedMap):
            if str(buttons[index].get("title")) != button["title"]:
                buttons[index]["title"] = _dq(button["title"])
            if str(buttons[index].get("payload")) != button["payload"]:
                buttons[index]["payload"] = button["payload"]
        else:
            _append(buttons, CommentedMap([("title", _dq(button["title"])), ("payload", button["payload"])]))
    while len(buttons) > len(wanted):
        _remove(buttons, len(buttons) - 1)


# helplines --------------------------------------------------------------------------------------
def _get_helpline(data: Any, target: Dict[str, Any]) -> Any:
    line_id = str(target.get("id") or "")
    line = ((data or {}).get("lines") or {}).get(line_id)
    if not isinstance(line, dict):
        return None
    value = {key: _plain(line[key]) for key in HELPLINE_FIELDS if key in line}
    routing = (data or {}).get("routing") or {}
    value["routing"] = [str(category) for category, ids in routing.items() if isinstance(ids, list) and line_id in ids]
    return value


def _helpline_node(key: str, value: Any) -> Any:
    if key == "hours":
        if isinstance(value, dict):
            return CommentedMap((day, _dq(value[day])) for day in DAYS if day in value)
        return str(value)
    if isinstance(value, bool):
        return value
    return _dq(value)


def _set_helpline(data: Any, target: Dict[str, Any], new: Any) -> None:
    line_id = str(target.get("id") or "")
    lines = data.get("lines")
    routing = data.get("routing")
    if not isinstance(lines, CommentedMap) or not isinstance(routing, CommentedMap):
        raise EditError(f"content/{content.HELPLINES_FILE}: 'lines' of 'routing' ontbreekt. Laat een ontwikkelaar het "
                        f"bestand herstellen.")
    if new is None:
        if line_id in lines:
            _remove(lines, line_id)
        for ids in routing.values():
            while isinstance(ids, list) and line_id in ids:
                ids.remove(line_id)
        return
    if line_id not in lines:
        _append(lines, CommentedMap((key, _helpline_node(key, new[key])) for key in HELPLINE_FIELDS if key in new),
                line_id)
    else:
        line = lines[line_id]
        for key in HELPLINE_FIELDS:
            if key in new:
                if key not in line or _plain(line[key]) != new[key]:
                    _insert_key(line, key, _helpline_node(key, new[key]), HELPLINE_FIELDS)
            elif key in line:
                _remove(line, key)
    wanted = set(new.get("routing") or [])
    for category, ids in routing.items():
        if not isinstance(ids, list):
            continue
        if category in wanted and line_id not in ids:
            ids.append(line_id)
        elif category not in wanted:
            while line_id in ids:
                ids.remove(line_id)


# risk words -------------------------------------------------------------------------------------
def risk_identity(value: Dict[str, Any]) -> Dict[str, Any]:
    """Which risk word this is: its words (the category and severity may change)."""
    if "term" in value:
        return {"term": str(value["term"])}
    return {"all": [str(w) for w in value.get("all") or []]}


def _identity_key(value: Dict[str, Any]) -> Tuple[str, Any]:
    if "term" in value:
        return "term", " ".join(str(value["term"]).lower().split())
    return "all", tuple(sorted(" ".join(str(w).lower().split()) for w in value.get("all") or []))


def _risk_value(entry: Any) -> Dict[str, Any]:
    value: Dict[str, Any] = {}
    if "term" in entry:
        value["term"] = str(entry["term"])
    else:
        value["all"] = [str(w) for w in entry.get("all") or []]
    value["category"] = str(entry.get("category"))
    value["severity"] = str(entry.get("severity"))
    if entry.get("topic"):
        value["topic"] = True
    return value


def _risk_index(data: Any, identity: Dict[str, Any]) -> Optional[int]:
    wanted = _identity_key(identity)
    for index, entry in enumerate((data or {}).get("entries") or []):
        if isinstance(entry, dict) and ("term" in entry or "all" in entry) and _identity_key(entry) == wanted:
            return index
    return None


def _get_risk(data: Any, target: Dict[str, Any]) -> Any:
    index = _risk_index(data, target)
    return None if index is None else _risk_value(data["entries"][index])


def _risk_node(value: Dict[str, Any]) -> CommentedMap:
    node = CommentedMap()
    if "term" in value:
        node["term"] = value["term"]
    else:
        words = CommentedSeq(value["all"])
        words.fa.set_flow_style()
        node["all"] = words
    node["category"] = value["category"]
    node["severity"] = value["severity"]
    if value.get("topic"):
        node["topic"] = True
    node.fa.set_flow_style()
    return node


def _set_risk(data: Any, target: Dict[str, Any], new: Any) -> None:
    entries = data.get("entries")
    if not isinstance(entries, CommentedSeq):
        raise EditError(f"content/{content.LEXICON_FILE}: 'entries' ontbreekt. Laat een ontwikkelaar het bestand "
                        f"herstellen.")
    index = _risk_index(data, target)
    if index is not None and (new is None or new["category"] != str(entries[index].get("category"))):
        _remove(entries, index)  # gone, or moving to the section of its new category
        index = None
    if new is None:
        return
    if index is not None:
        entries[index] = _risk_node(new)
        return
    same = [i for i, e in enumerate(entries) if isinstance(e, dict) and e.get("category") == new["category"]]
    if same and same[-1] < len(entries) - 1:
        entries.insert(same[-1] + 1, _risk_node(new))
    else:
        _append(entries, _risk_node(new))


# example questions ------------------------------------------------------------------------------
def _example_lines(block: Any) -> List[str]:
    return [line.strip()[2:].strip() for line in str(block.get("examples") or "").splitlines()
            if line.strip().startswith("- ")]


def normalise_example(text: str) -> str:
    return " ".join(str(text).casefold().split()).strip(" .!?")


def _intent_block(data: Any, intent: str) -> Optional[CommentedMap]:
    for block in (data or {}).get("nlu") or []:
        if isinstance(block, dict) and block.get("intent") == intent:
            return block
    return None


def _get_example(data: Any, target: Dict[str, Any]) -> Any:
    block = _intent_block(data, str(target.get("intent")))
    wanted = normalise_example(target.get("example", ""))
    if block is None:
        return None
    return next((line for line in _example_lines(block) if normalise_example(line) == wanted), None)


def _set_example(data: Any, target: Dict[str, Any], new: Any) -> None:
    block = _intent_block(data, str(target.get("intent")))
    if block is None:
        raise EditError(f"De intent '{target.get('intent')}' bestaat niet (meer).")
    lines = str(block.get("examples") or "").splitlines(keepends=True)
    if new is None:
        wanted = normalise_example(target.get("example", ""))
        lines = [line for line in lines if not (line.strip().startswith("- ")
                                                and normalise_example(line.strip()[2:]) == wanted)]
    else:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.append(f"- {new}\n")
    block["examples"] = LiteralScalarString("".join(lines))


_GET = {"text": _get_text, "helpline": _get_helpline, "risk_word": _get_risk, "example": _get_example}
_SET = {"text": _set_text, "helpline": _set_helpline, "risk_word": _set_risk, "example": _set_example}


def label_for(kind: str, target: Dict[str, Any], value: Any = None) -> str:
    if kind == "text":
        variant = int(target.get("variant") or 0)
        return f"{target.get('name')}" + (f" (variant {variant + 1})" if variant else "")
    if kind == "helpline":
        name = (value or {}).get("name") if isinstance(value, dict) else None
        return f"{name} ({target.get('id')})" if name else str(target.get("id"))
    if kind == "risk_word":
        return words_label(target)
    return f"{target.get('intent')}: {target.get('example')}"


def words_label(value: Dict[str, Any]) -> str:
    if "term" in value:
        return f"'{value['term']}'"
    return "alle woorden [" + ", ".join(str(w) for w in value.get("all") or []) + "]"


def current_value(kind: str, target: Dict[str, Any]) -> Any:
    """The target's value in the file on disk now (None: not there)."""
    file = file_for(kind, target)
    return _GET[kind](_plain_load(_file_path(file)), target)


def prepare(kind: str, target: Dict[str, Any], new: Any) -> Change:
    """Reads the file, puts the new value in, and gives the new file text (nothing is written)."""
    if kind not in KINDS:
        raise EditError(f"Onbekende soort wijziging: {kind}")
    file = file_for(kind, target)
    path = _file_path(file)
    document = Document(path, file)
    old = _GET[kind](document.data, target)
    _SET[kind](document.data, target, new)
    new_text = document.dump()
    # What was written must read back as exactly the new value (and the rest unchanged).
    reread = yaml.load(new_text, Loader=content.YAML_LOADER)  # noqa: S506 - a safe loader
    check_target = risk_identity(new) if kind == "risk_word" and new is not None else target
    if _GET[kind](reread, check_target) != new:
        raise EditError(f"{file}: het dashboard kon deze wijziging niet netjes in het bestand zetten. Er is niets "
                        f"veranderd. Vraag een ontwikkelaar om hulp.")
    return Change(kind, target, file, path, old, new, new_text, label_for(kind, target, new or old))


# --- checks ------------------------------------------------------------------------------------
def _problem_file(problem: str) -> str:
    head = problem.split(":", 1)[0].strip()
    return f"content/{head}" if head.endswith(".yml") or head.endswith("/") else "content/"


def _display(file: str, root: Path, nlu_dir: Path) -> str:
    """A finding's file as editors know it (content/..., bot/data/nlu/...), also for a temporary copy."""
    for folder, shown in ((nlu_dir, "bot/data/nlu"), (root, "content")):
        for form in (str(folder), str(folder.resolve())):
            if file.startswith(form + "/"):
                return f"{shown}/{file[len(form) + 1:]}"
    return file


def checker_findings(root: Path, nlu_dir: Optional[Path] = None) -> List[Finding]:
    """What bot.content_check (the same checker as `make content` and the live reload) says about the
    content in `root` and the examples in `nlu_dir`, with the paths editors know."""
    from bot.content_check import ERROR, check  # imported here: it loads the language libraries

    nlu_dir = Path(nlu_dir or nlu_root())
    found = []
    for item in check(root, nlu_dir=nlu_dir):
        message = item.message
        for folder, shown in ((nlu_dir, "bot/data/nlu"), (root, "content")):  # a temporary copy's paths
            message = message.replace(str(folder.resolve()), shown).replace(str(folder), shown)
        found.append(Finding("fout" if item.level == ERROR else "waarschuwing", _display(item.file, root, nlu_dir),
                             item.line, message, item.blocks_reload))
    return found


_current_findings: Dict[Tuple[str, ...], List[Finding]] = {}


def _stamp(folder: Path) -> str:
    return "|".join(f"{p.name}:{p.stat().st_mtime_ns}:{p.stat().st_size}" for p in sorted(folder.glob("*.yml")))


def _findings_now(root: Path, nlu_dir: Path) -> List[Finding]:
    """The checker's findings about the live files (cached until a file changes)."""
    key = (str(root), content._fingerprint(root), str(nlu_dir), _stamp(nlu_dir))
    if key not in _current_findings:
        _current_findings.clear()
        _current_findings[key] = checker_findings(root, nlu_dir)
    return _current_findings[key]


def _same(finding: Finding) -> Tuple[str, str, str]:
    return finding.level, finding.file, finding.message


def check_content_copy(root: Path, nlu_dir: Optional[Path] = None) -> Verdict:
    """Loads the content in `root` the way Sam does, and asks the Dutch checker about it (with the
    example questions in `nlu_dir`).

    What the live files already have is left out of the checker's findings, so the editor sees what
    their change does; what would stop Sam from loading the content is always shown."""
    verdict = Verdict()
    loaded: List[Finding] = []
    try:
        verdict.content = content.load_content(root)
    except content.ContentError as error:
        loaded = [Finding("fout", _problem_file(p), None, p, True) for p in error.problems]
    nlu_dir = Path(nlu_dir or nlu_root())
    found = checker_findings(root, nlu_dir)
    if loaded and not any(f.blocks_reload for f in found):
        verdict.errors += loaded
    known = {_same(f) for f in _findings_now(content_root(), nlu_root())}
    for finding in found:
        if _same(finding) in known and not finding.blocks_reload:
            continue
        (verdict.errors if finding.blocking else verdict.warnings).append(finding)
    return verdict


def domain_intents() -> List[str]:
    data = _plain_load(config.DOMAIN_FILE) or {}
    return [str(i if isinstance(i, str) else next(iter(i))) for i in data.get("intents") or []]


def nlu_intents() -> List[str]:
    found: List[str] = []
    for path in sorted(nlu_root().glob("*.yml")):
        for block in (_plain_load(path) or {}).get("nlu") or []:
            if isinstance(block, dict) and block.get("intent") and block["intent"] not in found:
                found.append(str(block["intent"]))
    return found


def _rules(change: Change) -> Tuple[List[Finding], List[Finding]]:
    """What only the form can know (the value before the change, a new line's code, the risk word's
    fields); everything about the files themselves is bot/content_check.py's, said once."""
    errors: List[Finding] = []
    warnings: List[Finding] = []
    where, new, old = change.file, change.new, change.old

    def error(message: str) -> None:
        errors.append(Finding("fout", where, None, message))

    def warn(message: str) -> None:
        warnings.append(Finding("waarschuwing", where, None, message))

    if change.kind == "text" and new is not None:
        _text_rules(change, warn)
    elif change.kind == "helpline" and new is not None:
        line_id = str(change.target.get("id") or "")
        if old is None and not LINE_ID.match(line_id):
            error(f"'{line_id}' is geen goede code voor een hulplijn. Gebruik 2 tot 40 kleine letters, cijfers of "
                  f"liggende streepjes, bijvoorbeeld 'vertrouwenspersoon'.")
    elif change.kind == "risk_word" and new is not None:
        words = [new["term"]] if "term" in new else list(new.get("all") or [])
        if not words or not all(str(w).strip() for w in words):
            error("Schrijf het risicowoord (of de woorden) in.")
        if new.get("category") not in CATEGORIES:
            error(f"Kies een soort (category) uit de lijst: {', '.join(CATEGORIES)}.")
        if new.get("severity") not in SEVERITIES:
            error(f"Kies een ernst (severity) uit de lijst: {', '.join(SEVERITIES)}.")
        if new.get("severity") == "acute" and new.get("category") not in ("selfharm", "acute_danger", "runaway"):
            warn("'acute' is alleen voor zelfdoding, nu in gevaar en nu weglopen. Weet je het zeker?")
        if any(len(str(w).strip()) < 3 for w in words):
            warn("Een heel kort woord raakt snel ook gewone berichten. Kijk goed naar het effect hieronder.")
    elif change.kind == "example" and new is not None:
        _example_rules(change, error)
    return errors, warnings


def _text_rules(change: Change, warn: Any) -> None:
    name, new, old = change.target.get("name"), change.new, change.old
    had = set(PLACEHOLDER.findall((old or {}).get("text") or ""))
    now = set(PLACEHOLDER.findall(new.get("text") or ""))
    for gone in sorted(had - now):
        warn(f"'{name}': {{{gone}}} staat er niet meer in. Daar zette Sam de hulplijnen; zonder ziet de jongere ze "
             f"hier niet. Zet {{{gone}}} terug, tenzij dat echt de bedoeling is.")


def _example_rules(change: Change, error: Any) -> None:
    """The form's own limits; an example under two intents is bot/content_check.py's to report."""
    text = change.new
    if not text.strip():
        error("Schrijf een voorbeeldvraag.")
        return
    if len(text) > MAX_EXAMPLE_LENGTH:
        error(f"Een voorbeeldvraag is hoogstens {MAX_EXAMPLE_LENGTH} tekens.")
    if any(c in text for c in "[]{}\n\r") or text.lstrip().startswith(("#", "-")):
        error("Gebruik geen [ ] { } en begin niet met # of -: die tekens betekenen iets anders in de "
              "trainingsdata. Schrijf de vraag zoals een jongere hem typt.")


def _copy_content(target: Path) -> Path:
    shutil.copytree(content_root(), target, ignore=shutil.ignore_patterns(".*", "*.tmp"))
    return target


def check(change: Change) -> Verdict:
    """Would Sam accept content/ (and the example questions) with this change? Tried on temporary
    copies, never on the real files."""
    errors, warnings = _rules(change)
    with tempfile.TemporaryDirectory(prefix="sam-content-check-") as folder:
        root = _copy_content(Path(folder) / "content")
        nlu_dir = nlu_root()
        if change.file.startswith("content/"):
            (root / change.file[len("content/"):]).write_text(change.new_text, encoding="utf-8")
        else:
            nlu_dir = Path(shutil.copytree(nlu_root(), Path(folder) / "nlu", ignore=shutil.ignore_patterns(".*")))
            (nlu_dir / change.path.name).write_text(change.new_text, encoding="utf-8")
        verdict = check_content_copy(root, nlu_dir)
    if change.kind == "risk_word" and verdict.content is not None:
        verdict.effect = lexicon_effect(_plain_load(content_root() / content.LEXICON_FILE) or {},
                                        verdict.content.lexicon)
        missed = [e for e in verdict.effect["no_longer_escalated"] if e["severity"] == "acute"]
        if missed:  # the fail-safe path must keep every acute disclosure it caught
            errors.append(Finding("fout", change.file, None, (
                f"Dan herkent Sam {len(missed)} acute melding(en) uit de testset niet meer, bijvoorbeeld "
                f"'{missed[0]['text']}'. Bij zelfdoding en gevaar moet Sam altijd meteen hulp geven, ook als de rest "
                f"van Sam storing heeft. Voeg eerst een risicowoord toe dat deze zinnen wel herkent (zie de lijst), "
                f"en haal dit woord daarna weg."), True))
    verdict.errors = errors + verdict.errors
    verdict.warnings = warnings + verdict.warnings
    return verdict


# --- writing -----------------------------------------------------------------------------------
@contextlib.contextmanager
def _edit_lock() -> Iterator[None]:
    """One publisher at a time: within this process (threads) and across processes (a lock file)."""
    digest = hashlib.sha256(str(content_root().resolve()).encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"sam-content-{digest}.lock"
    with _lock:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            os.close(handle)


def write_atomically(path: Path, text: str) -> None:
    """The whole new file or the old one, never half: a temp file in the same folder, flushed to
    disk, then renamed over the old one (and the folder entry flushed too)."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


CONFLICT_MESSAGE = ("Iemand anders heeft {what} veranderd nadat jij begon. Jouw wijziging is niet opgeslagen, "
                    "zodat zijn of haar werk niet verloren gaat. Hieronder staat de nieuwe versie; doe je wijziging "
                    "daarin opnieuw.")
EXISTS_MESSAGE = {"helpline": "Er is al een hulplijn met de code '{id}'. Kies een andere code, of pas die lijn aan.",
                  "risk_word": "Dit risicowoord staat er al. Pas het bestaande woord aan in de lijst.",
                  "example": "Deze voorbeeldvraag staat er al."}


def _what(kind: str) -> str:
    return {"text": "deze tekst", "helpline": "deze hulplijn", "risk_word": "dit risicowoord",
            "example": "deze voorbeeldvraag"}[kind]


def verify_base(kind: str, target: Dict[str, Any], base: str, current: Any) -> None:
    """Optimistic locking: the value on disk must still be the one the form started from."""
    if base == value_hash(current):
        return
    if base == value_hash(None) and current is not None and kind in EXISTS_MESSAGE:
        raise Conflict(EXISTS_MESSAGE[kind].format(**{k: v for k, v in target.items() if isinstance(v, str)}), current)
    raise Conflict(CONFLICT_MESSAGE.format(what=_what(kind)), current)


def publish(db: Database, account: Optional[Dict[str, Any]], kind: str, target: Dict[str, Any], new: Any,
            base: str, undo_of: Optional[int] = None) -> Tuple[int, Verdict]:
    """Checks and writes one change; returns (change id, verdict with its warnings).

    EditError (with Dutch problems) when the checks refuse it, Conflict when the value changed since
    `base`. Publishing the value that is already there does nothing and returns id 0."""
    with _edit_lock():
        change = prepare(kind, target, new)
        if change.old == new:
            return 0, Verdict()
        verify_base(kind, target, base, change.old)
        verdict = check(change)
        if not verdict.ok:
            raise EditError([f.message for f in verdict.errors])
        with transaction(db):
            change_id = db.execute(
                "INSERT INTO content_changes (at, account_id, account_name, kind, target, label, file, old_value, "
                "new_value, undo_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [utc_now(), account["id"] if account else None, account["name"] if account else audit.SYSTEM, kind,
                 json.dumps(target, ensure_ascii=False, sort_keys=True), change.label, change.file,
                 None if change.old is None else json.dumps(change.old, ensure_ascii=False),
                 None if new is None else json.dumps(new, ensure_ascii=False), undo_of]).lastrowid
            # The audit log names what changed; the values are in content_changes (an example question
            # may echo how young people write, so the log keeps only its intent).
            label = str(target.get("intent")) if kind == "example" else change.label
            audit.record(db, account, "content_undo" if undo_of else "content_change",
                         detail={"change": change_id, "kind": kind, "file": change.file, "label": label,
                                 **({"undo_of": undo_of} if undo_of else {})})
            write_atomically(change.path, change.new_text)
        return change_id, verdict


def get_change(db: Database, change_id: int) -> Optional[Dict[str, Any]]:
    rows = history(db, where="c.id = ?", params=[change_id])
    return rows[0] if rows else None


def history(db: Database, limit: int = 200, where: str = "1 = 1",
            params: Optional[list] = None) -> List[Dict[str, Any]]:
    """Published changes, newest first, with their values and which later change undid them."""
    rows = list(db.query(
        f"SELECT c.*, (SELECT MIN(u.id) FROM content_changes u WHERE u.undo_of = c.id) AS undone_by "
        f"FROM content_changes c WHERE {where} ORDER BY c.id DESC LIMIT ?", [*(params or []), limit]))
    for row in rows:
        row["target"] = json.loads(row["target"])
        old, new = row.pop("old_value"), row.pop("new_value")
        row["old"] = None if old is None else json.loads(old)
        row["new"] = None if new is None else json.loads(new)
    return rows


def undo_target(row: Dict[str, Any]) -> Dict[str, Any]:
    if row["kind"] == "risk_word":
        return risk_identity(row["new"] if row["new"] is not None else row["old"])
    return row["target"]


def undo(db: Database, account: Optional[Dict[str, Any]], change_id: int) -> Tuple[int, Verdict]:
    """Puts back the value from before change `change_id`: a new change, checked like any other.
    Refused (Conflict) when the value was changed again since."""
    row = get_change(db, change_id)
    if row is None:
        raise EditError("Deze wijziging bestaat niet.")
    if row["undone_by"]:
        raise EditError("Deze wijziging is al ongedaan gemaakt.")
    target = undo_target(row)
    try:
        return publish(db, account, row["kind"], target, row["old"], value_hash(row["new"]), undo_of=change_id)
    except Conflict as error:
        raise Conflict("Dit kan niet meer ongedaan worden gemaakt: het is daarna nog eens veranderd. Maak eerst de "
                       "latere wijziging ongedaan, of pas het zelf aan.", error.current) from error


# --- what a risk-word change does to the labelled sets -----------------------------------------
_effect_lock = threading.Lock()
_outcomes_cache: Dict[str, List[bool]] = {}
_labelled: List[List[Dict[str, Any]]] = []


def labelled_sentences() -> List[Dict[str, Any]]:
    """The labelled risk sets (tests/data/risk_disclosures.yml and risk_near_misses.yml only)."""
    if not _labelled:
        from bot.evaluation import DISCLOSURES_FILE, NEAR_MISSES_FILE

        items = [{**item, "set": "disclosure"} for item in _plain_load(DISCLOSURES_FILE) or []]
        items += [{**item, "set": "near_miss"} for item in _plain_load(NEAR_MISSES_FILE) or []]
        _labelled.append(items)
    return _labelled[0]


def _outcomes(lexicon_data: Dict[str, Any]) -> List[bool]:
    from bot.risk.detector import RiskDetector
    from bot.risk.lexicon import Lexicon

    key = value_hash(lexicon_data)
    if key not in _outcomes_cache:
        detector = RiskDetector(Lexicon(lexicon_data))
        if len(_outcomes_cache) > 4:
            _outcomes_cache.clear()
        _outcomes_cache[key] = [detector.assess(item["text"]).escalate for item in labelled_sentences()]
    return _outcomes_cache[key]


def _rates(items: List[Dict[str, Any]], outcomes: List[bool]) -> Dict[str, float]:
    pairs = list(zip(items, outcomes, strict=True))
    disclosures = [o for i, o in pairs if i["set"] == "disclosure"]
    acute = [o for i, o in pairs if i["set"] == "disclosure" and i.get("severity") == "acute"]
    near = [o for i, o in pairs if i["set"] == "near_miss"]
    return {"recall": sum(disclosures) / max(1, len(disclosures)), "recall_acute": sum(acute) / max(1, len(acute)),
            "false_handovers": sum(near) / max(1, len(near))}


def lexicon_effect(old_lexicon: Dict[str, Any], new_lexicon: Dict[str, Any]) -> Dict[str, Any]:
    """Which labelled sentences change outcome with the lexicon alone (the fail-safe path):
    newly escalated, or no longer escalated. `good`: the change moves the sentence the right way."""
    items = labelled_sentences()
    with _effect_lock:
        before, after = _outcomes(old_lexicon), _outcomes(new_lexicon)
    newly, no_longer = [], []
    for item, was, now in zip(items, before, after, strict=True):
        if was == now:
            continue
        row = {"text": item["text"], "set": item["set"], "category": item.get("category"),
               "severity": item.get("severity"), "class": item.get("class"),
               "good": now == (item["set"] == "disclosure")}
        (newly if now else no_longer).append(row)
    return {"newly_escalated": newly, "no_longer_escalated": no_longer, "before": _rates(items, before),
            "after": _rates(items, after), "sentences": len(items)}
