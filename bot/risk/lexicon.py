"""The editors' risk lexicon (content/risk_lexicon.yml), compiled for fast matching.

Message and lexicon terms go through the same analysis: normalise, spaCy Dutch tokens with
lookup lemmas, then the 'skeleton' of each lemma. Terms become spaCy PhraseMatcher patterns
on those keys; longer words also match with typos (rapidfuzz) and inside compounds.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, FrozenSet, List, Sequence, Tuple

import spacy
from rapidfuzz import fuzz, process
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from bot.categories import CATEGORIES, SEVERITIES  # noqa: F401  (re-exported)
from bot.risk.normalise import normalise, skeleton, uncensor

FUZZY_MIN_LENGTH = 6
FUZZY_SCORE = 84
COMPOUND_MIN_LENGTH = 6


@dataclass(frozen=True)
class Entry:
    id: int
    words: Tuple[str, ...]  # the editor's words, for reports
    keys: Tuple[str, ...]  # analysed keys
    phrase: bool  # True: the words in this order; False: all of them anywhere in the message
    category: str
    severity: str
    topic: bool  # a topic word: only counts when the young person talks about themselves


@dataclass(frozen=True)
class Hit:
    entry: Entry

    @property
    def label(self) -> str:
        return " ".join(self.entry.words)


@lru_cache(maxsize=1)
def dutch_nlp() -> spacy.language.Language:
    """spacy.blank('nl') with the lookup lemmatizer from spacy-lookups-data (no model download)."""
    nlp = spacy.blank("nl")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


class Lexicon:
    def __init__(self, data: Dict) -> None:
        self.nlp = dutch_nlp()
        self.emoji: Dict[str, str] = {str(k): str(v) for k, v in (data.get("emoji") or {}).items()}
        # The lexicon's own words, which a censored word ("z*lfm*rd") is read as first.
        self.censor_words: FrozenSet[str] = frozenset(
            word for raw in data.get("entries") or [] for text in ([raw["term"]] if "term" in raw else raw["all"])
            for word in normalise(str(text)).split() if word.isalpha())
        # Slang and spelling variants written out ("nie" -> "niet", "kben" -> "ik ben").
        self.spelling: Dict[str, str] = {normalise(str(k)): normalise(str(v))
                                         for k, v in (data.get("spelling") or {}).items()}
        # A message starting with one of these words, without "ik"/"mijn", is a general question.
        self.question_words = self._word_keys(data.get("question_words"))
        self.first_person = self._word_keys(data.get("first_person"))
        self.third_party = self._word_keys(data.get("third_party"))
        self.entries: List[Entry] = []
        for raw in data.get("entries") or []:
            self._add_entry(raw)
        self._vocabulary_set = frozenset(k for e in self.entries for k in e.keys)
        # Surface forms of lexicon words point to their lemma key, so an unknown inflection
        # or a typo of the written form still finds the entry ("snijjj" -> "snij" -> "snijden").
        self.alias: Dict[str, str] = {}
        for raw in data.get("entries") or []:
            for text in ([raw["term"]] if "term" in raw else raw["all"]):
                doc = self.nlp(self._respell(normalise(str(text), self.emoji)))
                for token in doc:
                    lemma_key = skeleton(token.lemma_ or token.lower_)
                    self.alias.setdefault(lemma_key, lemma_key)
                    self.alias.setdefault(skeleton(token.lower_), lemma_key)
        self.vocabulary = sorted(k for k in self.alias if len(k) >= FUZZY_MIN_LENGTH)
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="NORM")
        for entry in self.entries:
            if entry.phrase:
                self.matcher.add(str(entry.id), [self._doc_from_keys(entry.keys)])
        self._cooccurrence = [e for e in self.entries if not e.phrase]

    def _add_entry(self, raw: Dict) -> None:
        phrase = "term" in raw
        words = (str(raw["term"]),) if phrase else tuple(str(w) for w in raw["all"])
        keys: Tuple[str, ...] = tuple(k for w in words for k in self.keys_of(w)) if phrase else tuple(
            " ".join(self.keys_of(w)) for w in words
        )
        self.entries.append(
            Entry(
                id=len(self.entries),
                words=words,
                keys=keys,
                phrase=phrase,
                category=raw["category"],
                severity=raw.get("severity", "high"),
                topic=bool(raw.get("topic", False)),
            )
        )

    def _word_keys(self, words: Sequence[str] | None) -> FrozenSet[str]:
        return frozenset(k for w in words or [] for k in self.keys_of(str(w)))

    def _respell(self, text: str) -> str:
        return " ".join(self.spelling.get(word, word) for word in text.split(" "))

    def _analyse(self, text: str) -> List[Tuple[str, str]]:
        """(lemma key, surface key) per token of a text, after normalising and respelling."""
        doc = self.nlp(self._respell(normalise(uncensor(text, self.censor_words), self.emoji)))
        return [(skeleton(t.lemma_ or t.lower_), skeleton(t.lower_)) for t in doc if not t.is_punct and not t.is_space]

    def keys_of(self, text: str) -> List[str]:
        """Analysed keys of a text: normalised, respelled, tokenised, lemmatised, skeletonised."""
        return [lemma for lemma, _ in self._analyse(text)]

    def _doc_from_keys(self, keys: Sequence[str]) -> Doc:
        doc = Doc(self.nlp.vocab, words=list(keys))
        for token, key in zip(doc, keys, strict=True):
            token.norm_ = key
        return doc

    def canonical_keys(self, text: str) -> List[str]:
        """Message keys with typos mapped to lexicon words and compounds split off."""
        out: List[str] = []
        for key, surface in self._analyse(text):
            if key in self._vocabulary_set:
                out.append(key)
            elif surface in self.alias or key in self.alias:
                out.append(self.alias.get(surface) or self.alias[key])
            elif len(key) < FUZZY_MIN_LENGTH - 1:
                out.append(key)
            else:
                best = process.extractOne(surface, self.vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_SCORE)
                if best:
                    out.append(self.alias[best[0]])
                    continue
                part = next((v for v in self.vocabulary if len(v) >= COMPOUND_MIN_LENGTH and v in surface), None)
                out.append(self.alias[part] if part else key)
        return out

    def match(self, text: str) -> Tuple[List[Hit], List[str]]:
        keys = self.canonical_keys(text)
        hits: Dict[int, Hit] = {}
        if keys:
            doc = self._doc_from_keys(keys)
            for match_id, _, _ in self.matcher(doc):
                entry = self.entries[int(self.nlp.vocab.strings[match_id])]
                hits[entry.id] = Hit(entry)
        present = set(keys)
        joined = f" {' '.join(keys)} "
        for entry in self._cooccurrence:
            if all((k in present) if " " not in k else (f" {k} " in joined) for k in entry.keys):
                hits[entry.id] = Hit(entry)
        return list(hits.values()), keys
