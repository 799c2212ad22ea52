"""Undo the ways young people (and evaders) write words, so the lexicon sees plain Dutch.

Order matters: invisible characters first, then emoji, case and accents, leetspeak,
letters split by separators, and finally runs of repeated letters.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Dict, List

# Digits and symbols used as letters; only applied inside words that also contain letters,
# so phone numbers like 112 and 0800-0113 stay as they are.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "@": "a", "$": "s", "€": "e", "!": "i", "|": "l"})
_LEET_WORD = re.compile(r"(?=\S*[a-z])(?=\S*[0-9@$€!|])[a-z0-9@$€!|]+")
# Three or more single letters separated by one space, dot, dash, underscore or star: "z e l f".
_SPLIT_LETTERS = re.compile(r"(?<![a-z])(?:[a-z][ .\-_*·]){2,}[a-z](?![a-z])")
_SEPARATORS = re.compile(r"[ .\-_*·]")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_APOSTROPHE_S = re.compile(r"(\w)['’`´]s\b")
_SPACES = re.compile(r"\s+")


def strip_invisible(text: str) -> str:
    """Drops zero-width, format and control characters; keeps newlines as spaces."""
    return "".join(
        " " if ch in "\n\r\t" else ch
        for ch in text
        if unicodedata.category(ch) not in ("Cf", "Cc", "Co", "Cs") or ch in "\n\r\t"
    )


def clean_text(text: str) -> str:
    """Plain text for the classifier: NFKC, no control or invisible characters, single spaces."""
    return " ".join(strip_invisible(unicodedata.normalize("NFKC", text)).split())


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn"))


def replace_emoji(text: str, emoji_words: Dict[str, str]) -> str:
    """Emoji used as words ("ik wil 💀") become those words; longest emoji first."""
    for emoji in sorted(emoji_words, key=len, reverse=True):
        if emoji in text:
            text = text.replace(emoji, f" {emoji_words[emoji]} ")
    return text


def _unleet(match: re.Match) -> str:
    word = match.group(0)
    return word.translate(_LEET)


def normalise(text: str, emoji_words: Dict[str, str] | None = None) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = strip_invisible(text)
    # Variation selectors and skin tones are not Cf; drop them so emoji match as plain codepoints.
    text = re.sub("[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]", "", text)
    if emoji_words:
        text = replace_emoji(text, emoji_words)
    text = strip_accents(text.lower())
    text = _APOSTROPHE_S.sub(r"\1s", text)
    text = _LEET_WORD.sub(_unleet, text)
    text = _SPLIT_LETTERS.sub(lambda m: _SEPARATORS.sub("", m.group(0)), text)
    text = _REPEATS.sub(r"\1\1", text)
    return _SPACES.sub(" ", text).strip()


def skeleton(word: str) -> str:
    """A word with every double letter made single: 'dooood'/'dood' -> 'dod', 'helllpp' -> 'help'.

    Used as the matching key, so repeated letters and doubled/undoubled typos match.
    """
    return re.sub(r"(.)\1+", r"\1", word)


def words_of(text: str) -> List[str]:
    """The words of a text as the detector's word vocabulary holds them (lowercase \\w+ runs)."""
    return re.findall(r"\w+", text.lower())
