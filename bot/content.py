"""Loads what Sam says and the facts it uses from content/.

This is the only module that reads content/. Files are re-read when they change,
so an editor's text change goes live without retraining or restarting.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from bot.config import CONTENT_DIR

RESPONSES_DIR = "responses"
HELPLINES_FILE = "helplines.yml"
LEXICON_FILE = "risk_lexicon.yml"
FOLLOWUPS_FILE = "followups.yml"
COMMANDS_FILE = "commands.yml"
_VARIABLE = re.compile(r"\{([a-z_]+)\}")


class ContentError(ValueError):
    """content/ holds something Sam cannot use; the message says what, in Dutch."""


@dataclass(frozen=True)
class Content:
    responses: Dict[str, List[Dict[str, Any]]]
    helplines: Dict[str, Any]
    lexicon: Dict[str, Any]
    followups: Dict[str, Dict[str, str]]
    commands: Dict[str, str] = field(default_factory=dict)
    version: str = ""  # changes when any content file changes
    lexicon_version: str = ""  # changes only when the risk lexicon changes

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


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle) or {}
    except yaml.YAMLError as error:
        raise ContentError(f"{path.name}: de YAML klopt niet ({error}).") from error


def _load_responses(directory: Path) -> Dict[str, List[Dict[str, Any]]]:
    responses: Dict[str, List[Dict[str, Any]]] = {}
    for path in sorted(directory.glob("*.yml")):
        data = _read_yaml(path).get("responses") or {}
        for name, variants in data.items():
            if name in responses:
                raise ContentError(f"{path.name}: '{name}' staat ook in een ander bestand.")
            if isinstance(variants, dict):
                variants = [variants]
            responses[name] = variants
    return responses


def _files(root: Path) -> List[Path]:
    return sorted(root.glob(f"{RESPONSES_DIR}/*.yml")) + [
        root / name for name in (HELPLINES_FILE, LEXICON_FILE, FOLLOWUPS_FILE, COMMANDS_FILE) if (root / name).exists()
    ]


def _fingerprint_of(paths: List[Path]) -> str:
    return "|".join(f"{p.name}:{p.stat().st_mtime_ns}:{p.stat().st_size}" for p in paths if p.exists())


def _fingerprint(root: Path) -> str:
    return _fingerprint_of(_files(root))


def load_content(root: Optional[Path] = None) -> Content:
    root = root or CONTENT_DIR
    return Content(
        responses=_load_responses(root / RESPONSES_DIR),
        helplines=_read_yaml(root / HELPLINES_FILE),
        lexicon=_read_yaml(root / LEXICON_FILE) if (root / LEXICON_FILE).exists() else {},
        followups=_read_yaml(root / FOLLOWUPS_FILE) if (root / FOLLOWUPS_FILE).exists() else {},
        commands=(_read_yaml(root / COMMANDS_FILE).get("commands") or {}) if (root / COMMANDS_FILE).exists() else {},
        version=_fingerprint(root),
        lexicon_version=_fingerprint_of([root / LEXICON_FILE]),
    )


@dataclass
class _Cache:
    content: Optional[Content] = None
    checked_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


_caches: Dict[Path, _Cache] = {}
RECHECK_SECONDS = 1.0


def current(root: Optional[Path] = None) -> Content:
    """The content as it is on disk now, re-read at most once a second when files changed.

    A broken edit keeps the last good content live (and is reported by the content check).
    """
    root = root or CONTENT_DIR
    cache = _caches.setdefault(root, _Cache())
    now = time.monotonic()
    if cache.content is not None and now - cache.checked_at < RECHECK_SECONDS:
        return cache.content
    with cache.lock:
        cache.checked_at = now
        if cache.content is None or _fingerprint(root) != cache.content.version:
            try:
                cache.content = load_content(root)
            except ContentError:
                if cache.content is None:
                    raise
        return cache.content
