"""Decides whether a message is a disclosure that needs a human helpline.

Three signals are combined: the risk lexicon, and (when Rasa runs) the NLU intent and the
disclosure detector (bot/risk/disclosure.py, a calibrated P(disclosure) that reads the previous
turns too). A general question about a topic is not a disclosure; acute words always are.
Without Rasa, `assess(text)` is the lexicon alone: the fail-safe path, unchanged.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Dict, List, Optional

from bot import content
from bot.risk.decision import (
    ACUTE_INTENTS,
    DISCLOSURE_PREFIX,
    QUESTION_INTENT_PREFIX,
    DecisionModel,
    Signals,
    decision_model,
)
from bot.risk.lexicon import CATEGORIES, SEVERITIES, Hit, Lexicon
from bot.risk.normalise import disguised, normalise, words_of

INTENT_THRESHOLD = 0.5
# Thresholds on the disclosure detector's calibrated P(disclosure), chosen on the labelled sets in
# tests/data and the retired blind rounds in bot/data/retired (never on a blind set before its "after"
# score); since the detector learns from the retired rounds, on its predictions for each round left out.
# Safety first: the lowest thresholds that keep false handovers on near-misses low.
# Kept here, not in bot/risk/disclosure.py, so the fail-safe path never imports scikit-learn.
ESCALATE_AT = 0.50  # a clear disclosure: hand over, also when the intent classifier fell back
# When the classifier did not fall back and gives the disclose_* intents less than this much
# probability, it is sure the message is something else; the detector then needs more to overrule it.
CLASSIFIER_SURE_BELOW = 0.2
ESCALATE_AGAINST_CLASSIFIER_AT = 0.80
# Unsure (the classifier is sure of something else, the detector between this and the threshold above):
# Sam may ask "Gaat dit over jou? Ben je nu veilig?". Kept narrow: the check-ins on near-misses (at most
# 5%) are better spent on acute words in a lesson or a past that is over (ACUTE_WORD_NEEDS).
CHECK_IN_AT = 0.70
# A disclosure intent without any lexicon word, which the detector scores below this, is not handed
# over: two models that disagree this much is how "mijn begeleider snapt me niet" became abuse.
# Never for self-harm or danger now: left out one round at a time (rounds 1 to 10), the veto dropped
# acute disclosures the classifier had right ("🖤🖤🖤 tot nooit meer 🖤🖤🖤", "loop zo naar het spoor");
# without it acute recall 0.957 -> 0.961 for false handovers 0.118 -> 0.121 (reports/risk_blind_round11.md).
VETO_BELOW = 0.05
# With the detector there (Rasa runs), the lexicon is its fail-safe, not its master: a risk word in a
# message the detector reads as no disclosure at all (a friend's story, a lesson, a past that is over,
# "die toets was zelfmoord") does not hand over on the word alone. Without the detector the lexicon
# decides alone, as before.
LEXICON_NEEDS = 0.30  # a non-acute word about oneself hands over when P(disclosure) is at least this
# ... or when the classifier gives a disclosure intent at least this much: the word loses only when both
# models read no disclosure. "iemand chanteert me met mn nudes wat moet ik doen" (holdout) fell to P 0.29
# once round 25 was learned, with disclose_sextortion at 0.44.
LEXICON_VETO_MASS = 0.30
# An acute word ("zelfmoord", "wil dood") always gets 113 and 112: below this P(disclosure), when the
# classifier found no disclosure intent and did not fall back, the detector learned the matched words
# and P(acute) is low, as the check-in instead of a handover. A word the detector never saw (an
# editor's new code word) still hands over: its P(disclosure) says nothing about it; so does a message
# the classifier fell back on. Widened from P < 0.10 with a sure classifier once the detector learned
# from the retired rounds: left out one round at a time (rounds 1 to 8), an acute word alone under P 0.5
# handed over 32 near-misses and no disclosure (reports/risk_blind_round10.md).
ACUTE_WORD_NEEDS = 0.30
# ... and below this P(disclosure), when the classifier is sure the message is a question or an ordinary
# topic (SAFETY_LINE_INTENTS; `answer_intent`), the detector is not unsure but sure: Sam answers it and
# adds one line naming 113 and 112 (the safety line) instead of asking "Gaat dit over jou?". A how-to
# question, a lesson or a figure of speech stays what it is (#9); the check-in is kept for the unsure.
SAFETY_LINE_BELOW = 0.05
# The classifier's readings that get their answer with the safety line: questions (ask_*), a topic
# mentioned, something Sam does not cover. A bad feeling, distress, "help", "ja" or "nee" keep the
# check-in: there the question "Ben je nu veilig?" is the answer.
SAFETY_LINE_INTENTS = ("mention_topic", "out_of_scope")
# ... but not these: left out over the retired rounds, "hoe help je iemand die zegt dat ze dood wil" read
# as how to say no to a nude request, and two missed disclosures ("mn leven is voorbij. ik maak er een
# einde aan") as a safe step told ("Goed dat je dat gedaan hebt"). They keep the check-in.
NO_SAFETY_LINE_INTENTS = ("ask_saying_no", "ask_send_picture", "tell_safe_step")
# Below this P(about me, now) from the detector's who-and-when regression, P(disclosure) is scaled down
# by P(self) / SUBJECT_NEEDS, unless at least ACUTE_SHARE of P is self-harm or danger now. Chosen on
# retired rounds 1 to 4: false handovers fell in all four (by 0.004 to 0.018) at three disclosures over
# them and the holdout, which get the check-in instead; acute recall unchanged (reports/risk_blind_rounds5_6.md).
SUBJECT_NEEDS = 0.2
ACUTE_SHARE = 0.5
# The classifier fell back (it cannot read the message: leetspeak, a typo, a new word) and the detector
# gives self-harm or danger now at least this P(acute): hand over. Left out one round at a time (rounds
# 1 to 10): acute recall 0.961 -> 0.963, false handovers 0.121 -> 0.122; it also catches the holdout's
# "h3lp ik w0rd achtervolgd" (P 0.49). See reports/risk_blind_round12.md.
FALLBACK_ACUTE_AT = 0.30
# Severity when only the NLU intent says "disclosure".
INTENT_SEVERITY = {"selfharm": "acute", "acute_danger": "acute"}
# A handover named for another category still gets the acute lines (113, 112) when the detector reads
# self-harm or danger now with at least this P(acute): the classifier named "heb een plek gevonden waar
# niemand me vindt, ga er vannacht naartoe" running away, "die man van roblox staat bij school"
# image_shared. Left out over rounds 1 to 21, 83 of about 1,700 handed-over disclosures of self-harm or
# danger now were named for a category without those lines; at 0.30, 40 acute disclosures get them,
# and 17 other disclosures are named danger now or self-harm instead (reports/risk_blind_round24.md).
# Only the name changes, after the decision: which messages are handed over stays the same.
ACUTE_NAMES_AT = 0.30


def answers_with_safety_line(intent: Optional[str]) -> bool:
    """Whether a message the classifier reads as `intent` gets its answer with the safety line (an acute
    word the detector is sure is no disclosure), rather than the check-in."""
    return bool(intent) and intent not in NO_SAFETY_LINE_INTENTS and (
        intent.startswith(QUESTION_INTENT_PREFIX) or intent in SAFETY_LINE_INTENTS)


def rank(severity: Optional[str]) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


@dataclass
class Assessment:
    escalate: bool
    category: Optional[str] = None
    severity: Optional[str] = None
    matched: List[str] = field(default_factory=list)
    source: str = ""
    confidence: float = 0.0
    general_question: bool = False
    disclosure_p: Optional[float] = None  # the detector's P(disclosure), when it ran
    # Unsure (the detector between its two thresholds): Sam may ask "Gaat dit over jou? Ben je nu veilig?"
    check_in: bool = False
    # An acute word without a disclosure: the check-in (naming 113 and 112) replaces the answer.
    must_check_in: bool = False
    # An acute word in a question or topic the detector is sure is no disclosure: its answer, then one
    # line naming 113 and 112 (SAFETY_LINE_BELOW; the risk component picks the answer).
    safety_line: bool = False
    decision_score: Optional[float] = None  # the fitted decision's score, when it decided
    signals: Optional[Signals] = field(default=None, repr=False)  # what the fitted decision read

    def as_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        data.pop("signals")
        return data


class RiskDetector:
    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    def _talks_about_self(self, keys: List[str]) -> bool:
        for i, key in enumerate(keys):
            if key in self.lexicon.first_person:
                following = keys[i + 1] if i + 1 < len(keys) else ""
                if following not in self.lexicon.third_party:
                    return True
        return False

    def asks(self, text: str) -> bool:
        """Whether the message asks a question (a question mark, or a question word first)."""
        return self._is_question_form(self.lexicon.match(text)[1], text)

    def _is_question_form(self, keys: List[str], text: str) -> bool:
        return text.rstrip().endswith("?") or bool(keys and keys[0] in self.lexicon.question_words)

    def assess(self, text: str, intent: Optional[str] = None, confidence: float = 0.0,
               disclosure: Optional[Dict[str, Any]] = None, fallback: bool = False,
               top_intent: Optional[str] = None, decide: bool = True,
               answer_intent: Optional[str] = None) -> Assessment:
        """`intent`/`confidence`: the classifier's most likely disclosure intent and its probability.
        `disclosure`: the detector's {"p", "p_acute", "category"}; `fallback`: the classifier fell back;
        `top_intent`: its best intent other than the fallback (defaults to `intent`); `answer_intent`: that
        intent when the classifier is sure of it (bot.nlu.risk_component.sure_reading), else None.
        With the detector there, the rules' verdict and the signals they read go to the fitted decision
        (bot/risk/decision.py), except for acute words; `decide=False` returns the rules' verdict alone."""
        result = self._assess(text, intent, confidence, disclosure, fallback, top_intent, decide, answer_intent)
        # Named last: a name must not change what the decision decides (its acute guard reads the rules'
        # severity; named before it, a how-to question about running away was kept as self-harm).
        return self._name_acute(result, disclosure) if decide else result

    def _assess(self, text: str, intent: Optional[str], confidence: float, disclosure: Optional[Dict[str, Any]],
                fallback: bool, top_intent: Optional[str], decide: bool, answer_intent: Optional[str]) -> Assessment:
        hits, keys = self.lexicon.match(text)
        result = self._by_rules(text, hits, keys, intent, confidence, disclosure, fallback, answer_intent)
        if disclosure is None or any(h.entry.severity == "acute" for h in hits):
            return result
        about_self = self._talks_about_self(keys)
        own_word = about_self and any(not h.entry.topic for h in hits)
        if own_word and disguised(text):  # a risk word hidden on purpose: the lexicon undid that, the rules decide
            return result
        result.signals = Signals(
            p=float(disclosure.get("p") or 0.0), p_acute=float(disclosure.get("p_acute") or 0.0),
            p_self=float(disclosure.get("p_self", 1.0)),
            mass=min(1.0, confidence) if intent and intent.startswith(DISCLOSURE_PREFIX) else 0.0,
            fallback=fallback, acute_intent=intent in ACUTE_INTENTS,
            own_word=own_word, about_self=about_self,
            question_form=self._is_question_form(keys, text), context_used=bool(disclosure.get("context_used")),
            top_intent=top_intent if top_intent is not None else intent or "", rule_escalates=result.escalate)
        model = decision_model() if decide else None
        return self._decide(result, model, intent, confidence, disclosure, fallback, hits) if model else result

    def _decide(self, result: Assessment, model: DecisionModel, intent: Optional[str], confidence: float,
                disclosure: Dict[str, Any], fallback: bool, hits: List[Hit]) -> Assessment:
        """The fitted decision over the rules' verdict: hand over at hand_over_at, the check-in below it."""
        score = model.score(result.signals)
        result.decision_score = round(score, 4)
        if result.escalate and result.severity == "acute" and result.signals.classifier_reads_acute:
            return result
        if score >= model.hand_over_at and (result.escalate or result.signals.may_add_handover):
            if result.escalate:
                return result
            intent_category = intent[len(DISCLOSURE_PREFIX):] if (
                intent and intent.startswith(DISCLOSURE_PREFIX) and confidence >= INTENT_THRESHOLD
                and not fallback) else None
            detector_category = disclosure.get("category")
            order = (detector_category, intent_category) if result.signals.context_used else (
                intent_category, detector_category)
            category = next((c for c in order if c in CATEGORIES), None)
            if category is None:
                return result
            severity = INTENT_SEVERITY.get(category, "high")
            return Assessment(escalate=True, category=category, severity=severity, matched=[h.label for h in hits],
                              source="decision", confidence=round(score, 3), general_question=result.general_question,
                              disclosure_p=result.disclosure_p, decision_score=result.decision_score,
                              signals=result.signals)
        # A handover for self-harm or danger now that the model turns down still names 113 and 112.
        acute_turned_down = result.escalate and result.severity == "acute"
        unsure = model.check_in_at <= score < model.hand_over_at
        return Assessment(escalate=False, matched=[h.label for h in hits], source="decision" if result.escalate else "",
                          general_question=result.general_question, disclosure_p=result.disclosure_p,
                          check_in=unsure or acute_turned_down, must_check_in=acute_turned_down,
                          decision_score=result.decision_score, signals=result.signals)

    def _by_rules(self, text: str, hits: List[Hit], keys: List[str], intent: Optional[str], confidence: float,
                  disclosure: Optional[Dict[str, Any]], fallback: bool,
                  answer_intent: Optional[str] = None) -> Assessment:
        about_self = self._talks_about_self(keys)
        general = self._is_question_form(keys, text) and not about_self
        intent_category = None
        if intent and intent.startswith(DISCLOSURE_PREFIX) and confidence >= INTENT_THRESHOLD:
            intent_category = intent[len(DISCLOSURE_PREFIX):]
            if intent_category not in CATEGORIES:
                intent_category = None
        p = float(disclosure["p"]) if disclosure else None
        p_acute = float(disclosure.get("p_acute") or 0.0) if disclosure else 0.0
        someone_else = p is not None and self._about_someone_else(disclosure)
        if someone_else:  # a friend's story told with every harm word: the detector's P counts for less
            p = p * float(disclosure["p_self"]) / SUBJECT_NEEDS
        mass = confidence if intent and intent.startswith(DISCLOSURE_PREFIX) else 0.0
        # The classifier reads the message alone; when the detector read it with the earlier turns (a
        # fragment, "ja, bij mij"), the classifier neither vetoes it nor names its category.
        read_with_context = bool(disclosure and disclosure.get("context_used"))
        classifier_sure = not fallback and mass < CLASSIFIER_SURE_BELOW and not read_with_context
        clear = p is not None and p >= (ESCALATE_AGAINST_CLASSIFIER_AT if classifier_sure else ESCALATE_AT)
        detector_category = disclosure.get("category") if disclosure else None
        if detector_category not in CATEGORIES:
            detector_category = None
        # Which category to name: a confident classifier, unless it fell back or saw only a fragment of
        # the story; then the detector's.
        named = intent_category if intent_category and not fallback else (
            detector_category if clear and detector_category else intent_category)
        # ... unless the classifier reads the fragment as self-harm or danger now and the detector, which
        # read the whole story, agrees: then the acute category (113, 112) stays.
        if read_with_context and clear and detector_category and not self._acute_reading(
                intent_category, p_acute):
            named = detector_category

        acute = [h for h in hits if h.entry.severity == "acute"]
        acute_detector = p is not None and p_acute >= ESCALATE_AT
        if acute:
            informed = self._detector_knows(acute, disclosure)
            no_disclosure_intent = not fallback and not intent_category
            # An acute word hidden on purpose ("1k h3b m3z3lf g3sn3d3n") is meant: the detector, which reads
            # the hidden letters poorly (P 0.38, then 0.27 once rounds 22 and 23 were retired), cannot undo it.
            if (p is not None and p < ACUTE_WORD_NEEDS and no_disclosure_intent and informed and not acute_detector
                    and not disguised(text)):
                found = self._result(acute, hits, "lexicon", 1.0, general)
                line = p < SAFETY_LINE_BELOW and answers_with_safety_line(answer_intent)
                return Assessment(escalate=False, category=found.category, severity=found.severity,
                                  matched=found.matched, source="lexicon", general_question=general,
                                  disclosure_p=p, check_in=not line, must_check_in=not line, safety_line=line)
            return self._with_p(self._prefer_intent(self._result(acute, hits, "lexicon", 1.0, general), named), p)
        # A general question is not a disclosure, except that self-harm and acute danger
        # always get the 24/7 lines, also when asked as a question.
        if general and INTENT_SEVERITY.get(intent_category or "") != "acute" and not acute_detector:
            return Assessment(escalate=False, matched=[h.label for h in hits], general_question=True,
                              disclosure_p=p)

        # Non-acute words count when the young person talks about themselves; topic words
        # ("loverboy") only name the category of a disclosure the intent classifier found.
        signals = [h for h in hits if not h.entry.topic] if about_self else []
        # (A disclosure intent the classifier names needs 0.5, so under LEXICON_VETO_MASS it names none.)
        if signals and p is not None and p < LEXICON_NEEDS and mass < LEXICON_VETO_MASS:
            signals = []
        if signals:
            return self._with_p(self._prefer_intent(self._result(signals, hits, "lexicon", 1.0, general), named), p)
        acute_intent = INTENT_SEVERITY.get(intent_category or "") == "acute"
        if intent_category and not clear and p is not None and p < VETO_BELOW and not acute_intent:
            intent_category = None
        if intent_category or clear:
            category = named or intent_category
            by_detector = clear and not (intent_category and not fallback)
            return Assessment(
                escalate=True,
                category=category,
                severity=INTENT_SEVERITY.get(category, "high"),
                matched=[h.label for h in hits] + ([intent] if intent_category else []),
                source="detector" if by_detector else "intent" if p is None or not clear else "intent+detector",
                confidence=round(float(p if by_detector else confidence), 3),
                general_question=general,
                disclosure_p=p,
            )
        if fallback and p is not None and p_acute >= FALLBACK_ACUTE_AT:
            category = detector_category if INTENT_SEVERITY.get(detector_category or "") == "acute" else "selfharm"
            return Assessment(escalate=True, category=category, severity="acute", matched=[h.label for h in hits],
                              source="detector", confidence=round(p_acute, 3), general_question=general,
                              disclosure_p=p)
        # Unsure, or a clear disclosure that reads as someone else's: "Gaat dit over jou?"
        was_clear = someone_else and float(disclosure["p"]) >= ESCALATE_AT
        return Assessment(escalate=False, matched=[h.label for h in hits], disclosure_p=p,
                          check_in=p is not None and (p >= CHECK_IN_AT or was_clear))

    @staticmethod
    def _name_acute(result: Assessment, disclosure: Optional[Dict[str, Any]]) -> Assessment:
        """A handover the detector reads as self-harm or danger now (ACUTE_NAMES_AT) is named so, with its
        lines, whatever the classifier or the lexicon named it."""
        if not (result.escalate and disclosure) or result.severity == "acute":
            return result
        category = disclosure.get("category")
        if RiskDetector._acute_reading(category, float(disclosure.get("p_acute") or 0.0)):
            result.category, result.severity = category, "acute"
        return result

    @staticmethod
    def _acute_reading(category: Optional[str], p_acute: float) -> bool:
        """A category of self-harm or danger now, with the detector's P(acute) at least ACUTE_NAMES_AT."""
        return INTENT_SEVERITY.get(category or "") == "acute" and p_acute >= ACUTE_NAMES_AT

    @staticmethod
    def _about_someone_else(disclosure: Dict[str, Any]) -> bool:
        """The who-and-when regression reads the harm as someone else's (or over), and the detector's
        category is not self-harm or danger now: those always keep their full weight."""
        p, p_acute = float(disclosure.get("p") or 0.0), float(disclosure.get("p_acute") or 0.0)
        return float(disclosure.get("p_self", 1.0)) < SUBJECT_NEEDS and p_acute < ACUTE_SHARE * max(p, 1e-9)

    @staticmethod
    def _detector_knows(chosen: List[Hit], disclosure: Optional[Dict[str, Any]]) -> bool:
        """Whether the detector learned the words of these lexicon entries: its P(disclosure) says
        nothing about a word it never saw (an editor's brand-new code word)."""
        if not disclosure:
            return False
        unknown = disclosure.get("unknown")
        if not isinstance(unknown, list):  # a model from before the detector listed them
            return False
        unknown_set = set(unknown)
        return not any(word in unknown_set for hit in chosen for word in words_of(normalise(" ".join(hit.entry.words))))

    @staticmethod
    def _with_p(result: Assessment, p: Optional[float]) -> Assessment:
        result.disclosure_p = p
        return result

    @staticmethod
    def _prefer_intent(result: Assessment, intent_category: Optional[str]) -> Assessment:
        """The lexicon decides *that* a message escalates; for *which* category, the classifier
        saw the whole sentence ("hij bedreigt me nu met een wapen" is danger now, not sextortion),
        so its category wins unless the lexicon found something more severe."""
        if not intent_category:
            return result
        result.source = "lexicon+intent"
        intent_severity = INTENT_SEVERITY.get(intent_category, "high")
        if rank(intent_severity) >= rank(result.severity):
            result.category, result.severity = intent_category, intent_severity
        return result

    @staticmethod
    def _result(chosen: List[Hit], hits: List[Hit], source: str, confidence: float, general: bool) -> Assessment:
        top = max(chosen, key=lambda h: rank(h.entry.severity))
        return Assessment(
            escalate=True,
            category=top.entry.category,
            severity=top.entry.severity,
            matched=sorted({h.label for h in hits}),
            source=source,
            confidence=confidence,
            general_question=general,
        )


@lru_cache(maxsize=4)
def _detector_for(version: str) -> RiskDetector:
    return RiskDetector(Lexicon(content.current().lexicon))


def get_detector() -> RiskDetector:
    """The detector for the current risk lexicon; rebuilt when an editor changes it."""
    return _detector_for(content.current().lexicon_version)
