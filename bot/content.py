"""Loads what Sam says and the facts it uses from content/.

This is the only module that reads content/. Files are re-read when they change,
so an editor's text change goes live without retraining or restarting. Every load is
checked (bot.content_rules): content that Sam cannot safely use never goes live.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import yaml

from bot.config import CONTENT_DIR

logger = logging.getLogger(__name__)

RESPONSES_DIR = "responses"
HELPLINES_FILE = "helplines.yml"
LEXICON_FILE = "risk_lexicon.yml"
FOLLOWUPS_FILE = "followups.yml"
COMMANDS_FILE = "commands.yml"
_VARIABLE = re.compile(r"\{([a-z_]+)\}")
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the same safe loader, in C when available (10x faster)


class ContentError(ValueError):
    """content/ holds something Sam cannot use. `problems`: each problem in simple Dutch, for editors."""

    def __init__(self, problems: Union[str, Sequence[str]]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class ContentUnavailable(ContentError):
    """Raised by `current()` when no good content was ever loaded (the first load failed).

    There is no earlier version to fall back to, so callers on the safety path catch this
    and answer with a fixed text from code. `problems` says what is wrong in content/.
    """


@dataclass(frozen=True)
class Content:
    responses: Dict[str, List[Dict[str, Any]]]
    helplines: Dict[str, Any]
    lexicon: Dict[str, Any]
    followups: Dict[str, Dict[str, str]]
    commands: Dict[str, str] = field(default_factory=dict)
    version: str = ""  # changes when any content file changes
    lexicon_version: str = ""  # changes only when the risk lexicon changes
    sources: Dict[str, str] = field(default_factory=dict)  # response name -> file, for editors' messages

    def response(self, name: str) -> Dict[str, Any]:
        """The first variant of a response, as a fresh dict (text, buttons)."""
        variants = self.responses.get(name)
        if not variants:
            raise KeyError(name)
        return {key: (list(value) if isinstance(value, list) else value) for key, value in variants[0].items()}

    def render(self, name: str, **variables: Any) -> Dict[str, Any]:
        """A response with its {variables} filled in; unknown variables stay as they are."""
        message = self.response(name)
        message["text"] = fill(message.get("text", ""), variables)
        message["buttons"] = [dict(b) for b in message.get("buttons") or []]
        message["response"] = name
        return message


def fill(text: str, variables: Dict[str, Any]) -> str:
    return _VARIABLE.sub(lambda m: str(variables.get(m.group(1), m.group(0))), text)


def _read_yaml(root: Path, name: str) -> Dict[str, Any]:
    """One content file as a mapping; ContentError (in Dutch) when it cannot be read."""
    try:
        with (root / name).open(encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=YAML_LOADER)  # noqa: S506 - a safe loader
    except FileNotFoundError as error:
        raise ContentError(f"{name}: dit bestand ontbreekt.") from error
    except UnicodeDecodeError as error:
        raise ContentError(f"{name}: het bestand is niet opgeslagen als UTF-8. Sla het op als UTF-8.") from error
    except OSError as error:
        raise ContentError(f"{name}: Sam kan dit bestand niet lezen ({error.strerror or error}).") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" rond regel {mark.line + 1}" if mark else ""
        raise ContentError(f"{name}: de opmaak klopt niet{where}. Kijk naar inspringen, dubbele punten en "
                           f"aanhalingstekens. ({getattr(error, 'problem', None) or error})") from error
    except ValueError as error:  # e.g. an impossible date such as 2026-02-30, which YAML reads as a date
        raise ContentError(f"{name}: een waarde klopt niet ({error}). Kijk vooral naar datums: "
                           "schrijf ze als JJJJ-MM-DD en gebruik een datum die bestaat.") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ContentError(f"{name}: het bestand heeft niet de goede vorm. Bovenaan horen namen met een dubbele "
                           f"punt erachter, zoals in de vorige versie.")
    return data


def _files(root: Path) -> List[Path]:
    return sorted(root.glob(f"{RESPONSES_DIR}/*.yml")) + [
        root / name for name in (HELPLINES_FILE, LEXICON_FILE, FOLLOWUPS_FILE, COMMANDS_FILE) if (root / name).exists()
    ]


def _stamp(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:  # missing, or deleted while an editor saves
        return ""
    return f"{path.name}:{stat.st_mtime_ns}:{stat.st_size}"


def _fingerprint_of(paths: List[Path]) -> str:
    return "|".join(stamp for stamp in map(_stamp, paths) if stamp)


def _fingerprint(root: Path) -> str:
    return _fingerprint_of(_files(root))


def _read(root: Path) -> Content:
    """Reads every file; ContentError lists every file that cannot be read."""
    problems: List[str] = []

    def read(name: str, optional: bool = False) -> Dict[str, Any]:
        if optional and not (root / name).exists():
            return {}
        try:
            return _read_yaml(root, name)
        except ContentError as error:
            problems.extend(error.problems)
            return {}

    version, lexicon_version = _fingerprint(root), _fingerprint_of([root / LEXICON_FILE])  # before reading
    responses: Dict[str, Any] = {}
    sources: Dict[str, str] = {}
    for path in sorted((root / RESPONSES_DIR).glob("*.yml")):
        name = f"{RESPONSES_DIR}/{path.name}"
        data = read(name).get("responses") or {}
        if not isinstance(data, dict):
            problems.append(f"{name}: onder 'responses:' horen de namen van de antwoorden (utter_...).")
            continue
        for key, variants in data.items():
            if key in responses:
                problems.append(f"{name}: '{key}' staat ook in {sources[key]}. Elke naam mag maar één keer voorkomen.")
                continue
            responses[key] = [variants] if isinstance(variants, dict) else variants
            sources[key] = name
    helplines = read(HELPLINES_FILE)
    lexicon = read(LEXICON_FILE, optional=True)
    followups = read(FOLLOWUPS_FILE, optional=True)
    commands = read(COMMANDS_FILE, optional=True).get("commands") or {}
    if problems:
        raise ContentError(problems)
    return Content(responses=responses, helplines=helplines, lexicon=lexicon, followups=followups,
                   commands=commands, version=version, lexicon_version=lexicon_version, sources=sources)


def load_content(root: Optional[Path] = None) -> Content:
    """Reads and checks content/. ContentError lists every problem, in Dutch (see bot.content_rules)."""
    from bot.content_rules import problems  # imported here: the rules use code that imports this module

    content = _read(root or CONTENT_DIR)
    found = problems(content)
    if found:
        raise ContentError(found)
    return content


@dataclass
class _Cache:
    content: Optional[Content] = None
    checked_at: float = 0.0
    broken: Optional[str] = None  # fingerprint of the last version that failed, so it is reported once
    error: Optional[ContentError] = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_caches: Dict[Path, _Cache] = {}
RECHECK_SECONDS = 1.0


def current(root: Optional[Path] = None) -> Content:
    """The content as it is on disk now, re-read at most once per RECHECK_SECONDS when files changed.

    A changed version that cannot be read or fails the checks never goes live: the last good
    content stays, and the problems are logged once per broken version (ERROR, in Dutch).
    Raises ContentUnavailable when no good content was ever loaded.
    """
    root = root or CONTENT_DIR
    cache = _caches.setdefault(root, _Cache())
    now = time.monotonic()
    if cache.content is not None and now - cache.checked_at < RECHECK_SECONDS:
        return cache.content
    with cache.lock:
        cache.checked_at = now
        fingerprint = _fingerprint(root)
        changed = cache.content is None or fingerprint != cache.content.version
        if changed and fingerprint != cache.broken:
            try:
                cache.content = load_content(root)
            except Exception as error:  # noqa: BLE001 - not even a bug in a check may stop Sam
                if not isinstance(error, ContentError):
                    logger.exception("unexpected error while loading content")
                    error = ContentError(f"Onverwachte fout bij het laden: {type(error).__name__}: {error}")
                cache.broken, cache.error = fingerprint, error
                if cache.content is not None:
                    logger.error("De nieuwe inhoud is niet geladen, de vorige versie blijft actief:\n%s", error)
                else:
                    logger.error("Sam kan de inhoud niet laden en er is geen vorige versie:\n%s", error)
        if cache.content is None:
            error = cache.error or ContentError("onbekende fout")
            raise ContentUnavailable(error.problems) from error
        return cache.content
