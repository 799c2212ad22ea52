"""Undo the ways young people (and evaders) write words, so the lexicon sees plain Dutch.

Order matters: invisible characters first, then emoji, case and accents, leetspeak,
letters split by separators, and finally runs of repeated letters.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Collection, Container, Dict, List, Optional

# Digits and symbols used as letters; only applied inside words that also contain letters,
# so phone numbers like 112 and 0800-0113 stay as they are.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "@": "a", "$": "s", "€": "e", "!": "i", "|": "l"})
_LEET_WORD = re.compile(r"(?=\S*[a-z])(?=\S*[0-9@$€!|])[a-z0-9@$€!|]+")
# Three or more single letters separated by one space, dot, dash, underscore or star: "z e l f".
_SPLIT_LETTERS = re.compile(r"(?<![a-z])(?:[a-z][ .\-_*·]){2,}[a-z](?![a-z])")
_SEPARATORS = re.compile(r"[ .\-_*·]")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_LETTER_RUNS = re.compile(r"([^\W\d_])\1{2,}", re.IGNORECASE)
_APOSTROPHE_S = re.compile(r"(\w)['’`´]s\b")
_SPACES = re.compile(r"\s+")
# A censored word: letters with stars or hashes standing for some of them ("z*lfm*rd", "d**d", "n#des").
# At least two letters must show, and they must be at least a third of the word: "f***" stays as it is.
_CENSORED = re.compile(r"(?<![\w*#])(?=[\w*#]*[^\W\d_])\w*(?:[*#]+\w*)+(?![\w*#])")
_CENSOR_RUN = re.compile(r"[*#]+")
CENSOR_MAX_EXTRA = 2  # a star may hide up to two letters more than it shows ("zelfm*rd")
FREQUENT_WORDS = 60000


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


def shorten_letter_runs(text: str) -> str:
    """Runs of three or more of one letter cut to two, as the lexicon and the detector read them:
    "weggggg" -> "wegg", "HEEEELP" -> "HEELP". Digits stay: "1000 euro" is an amount."""
    return _LETTER_RUNS.sub(r"\1\1", text)


_WORD = re.compile(r"\w+")
_DOUBLE = re.compile(r"([a-z])\1")


def known_spelling(text: str, vocabulary: Container[str]) -> str:
    """A word a model never saw, with a letter doubled that a word it knows has once, read as that
    word: the runs cut to two above leave "wegg" for "weggggg", and a model knows "weg"."""
    def known(match: re.Match) -> str:
        word = match.group(0)
        if word in vocabulary or not _DOUBLE.search(word):
            return word
        candidates = [word[:m.start()] + word[m.start() + 1:] for m in _DOUBLE.finditer(word)]
        return next((c for c in candidates + [_DOUBLE.sub(r"\1", word)] if c in vocabulary), word)

    return _WORD.sub(known, text)


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


# A digit or symbol between letters ("h3lp", "4fg3p3rst"); not "13jr", "covid19" or "2e".
_LEET_INSIDE = re.compile(r"[a-z][0-9@$]+[a-z]")


def disguised(text: str) -> bool:
    """Whether the message hides a word the way normalise() undoes: leetspeak inside a word, letters
    split by dots or spaces ("e.x.p.o.s.e.d"), or stars for letters ("z*lfm*rd")."""
    lowered = strip_accents(strip_invisible(text or "").lower())
    return bool(_LEET_INSIDE.search(lowered) or _SPLIT_LETTERS.search(lowered) or _CENSORED.search(lowered))


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


@lru_cache(maxsize=1)
def _frequent_words() -> Dict[str, List[str]]:
    """Dutch, then English, words by frequency (wordfreq ships its lists), grouped by length."""
    from wordfreq import top_n_list

    by_length: Dict[str, List[str]] = {}
    for word in dict.fromkeys(top_n_list("nl", FREQUENT_WORDS) + top_n_list("en", FREQUENT_WORDS // 2)):
        if word.isalpha():
            by_length.setdefault(str(len(word)), []).append(word)
    return by_length


def _censor_pattern(word: str, exact: bool) -> re.Pattern:
    """'z*lfm*rd' -> ^z[a-z]{1,3}lfm[a-z]{1,3}rd$ (exact: each star is one letter)."""
    def hidden(run: re.Match) -> str:
        n = len(run.group(0))
        return f"[^\\W\\d_]{{{n}}}" if exact else f"[^\\W\\d_]{{{n},{n + CENSOR_MAX_EXTRA}}}"

    parts = _CENSOR_RUN.split(word)
    runs = list(_CENSOR_RUN.finditer(word))
    body = re.escape(parts[0]) + "".join(hidden(r) + re.escape(p) for r, p in zip(runs, parts[1:], strict=True))
    return re.compile(f"^{body}$")


def uncensor_word(word: str, preferred: Collection[str] = ()) -> Optional[str]:
    """The word a censored word stands for: a `preferred` word (the risk lexicon's: a young person
    hides the words that matter most) if one fits, else the one Dutch or English word with exactly
    as many letters as stars. None when nothing or more than one fits, or too little of it shows."""
    word = word.lower().translate(_LEET)
    letters = sum(ch.isalpha() for ch in word)
    if letters < 2 or letters * 3 < len(word):
        return None
    loose = _censor_pattern(word, exact=False)
    found = sorted((w for w in preferred if len(w) >= 4 and loose.match(w)), key=lambda w: (len(w) != len(word), w))
    if found:
        return found[0]
    exact = _censor_pattern(word, exact=True)
    fits = [w for w in _frequent_words().get(str(len(word)), []) if exact.match(w)]
    return fits[0] if len(fits) == 1 else None


def uncensor(text: str, preferred: Collection[str] = ()) -> str:
    """Censored words written out: "ik wil z*lfm*rd plegen" -> "ik wil zelfmoord plegen". Without
    this, the lexicon, the classifier and the detector all see two unknown halves of a word."""
    if "*" not in text and "#" not in text:
        return text
    return _CENSORED.sub(lambda m: uncensor_word(m.group(0), preferred) or m.group(0), text)


def skeleton(word: str) -> str:
    """A word with every double letter made single: 'dooood'/'dood' -> 'dod', 'helllpp' -> 'help'.

    Used as the matching key, so repeated letters and doubled/undoubled typos match.
    """
    return re.sub(r"(.)\1+", r"\1", word)


def words_of(text: str) -> List[str]:
    """The words of a text as the detector's word vocabulary holds them (lowercase \\w+ runs)."""
    return re.findall(r"\w+", text.lower())
