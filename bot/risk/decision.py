"""The last step of the risk decision: one logistic regression over the signals the rules read.

The rules in bot/risk/detector.py combine three readers (risk lexicon, intent classifier, disclosure
detector) with thresholds, one signal at a time. Each threshold trades recall for false handovers on
its own; together they sat on one line of that trade-off. This regression weighs all signals at once,
the rules' own verdict among them, and was fitted on predictions that never saw the text: the intent
classifier does not learn from the retired blind rounds, and the detector's predictions come from a
detector trained without the round (left out one round at a time). Left out, it hands over as many
disclosures as the rules on the retired rounds with fewer false handovers; on the NLU examples in folds
(the ordinary questions and chat the rounds lack) it hands over slightly fewer than the rules, also with
fewer false handovers (reports/risk_decision.md).

Acute words and disguised risk words stay with the rules (always 113 and 112: a handover or the
check-in), and without Rasa the lexicon decides alone: this module only runs when the detector spoke.
Without a valid weights file the rules decide alone, as before. The regression may turn a handover
down (a turned-down self-harm or danger-now handover gets the check-in), but it adds one only where
the classifier read a disclosure or fell back, or the detector read the message with the earlier turns
the classifier never sees (Signals.may_add_handover): it was first fitted on the
hard cases of the blind rounds alone, and handed over ordinary topic questions. It never turns down
an acute handover that the classifier itself reads as self-harm, danger now or running away
(Signals.classifier_reads_acute).

The weights live in decision_weights.json, next to this file, and are refitted by
`python -m bot.fit_decision` (about 50 minutes) when a blind round is retired or a rule changes.
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

logger = logging.getLogger(__name__)

WEIGHTS_FILE = Path(__file__).resolve().parent / "decision_weights.json"
ACUTE_INTENTS = ("disclose_selfharm", "disclose_acute_danger")
# The intents of a disclosure that cannot wait; the decision keeps the rules' acute handover for them.
ACUTE_DISCLOSURE_INTENTS = (*ACUTE_INTENTS, "disclose_runaway")
SAFE_STEP_INTENT = "tell_safe_step"
DISCLOSURE_PREFIX = "disclose_"
QUESTION_INTENT_PREFIX = "ask_"


def _logit(x: float) -> float:
    x = min(max(float(x), 1e-4), 1.0 - 1e-4)
    return math.log(x / (1.0 - x))


@dataclass(frozen=True)
class Signals:
    """What the rules read about one message, before they decide."""

    p: float  # the detector's calibrated P(disclosure), before the who-and-when scaling
    p_acute: float
    p_self: float
    mass: float  # the classifier's probability on the disclose_* intents (0 when none is ranked)
    fallback: bool  # the classifier could not read the message
    acute_intent: bool  # its most likely disclosure intent is self-harm or danger now
    own_word: bool  # a non-topic lexicon word, said about oneself
    about_self: bool  # first-person words not followed by a third party
    question_form: bool  # ends with "?" or starts with a question word
    context_used: bool  # the detector read the previous turns with it
    top_intent: str  # the classifier's best intent other than the fallback
    rule_escalates: bool  # the rules' own verdict

    @property
    def may_add_handover(self) -> bool:
        """Whether the regression may hand over what the rules let go: only where the classifier read a
        disclosure or could not read the message, or the detector read it with the earlier turns, which
        the classifier never sees. Fitted on hard cases only, it otherwise handed over ordinary topic
        questions: in 5-fold cross-validation of the NLU data, 443 non-disclosure examples against the
        rules' 338 (macro-F1 0.894 -> 0.882); with this guard 314 (0.898)."""
        return self.fallback or self.top_intent.startswith(DISCLOSURE_PREFIX) or self.context_used

    @property
    def classifier_reads_acute(self) -> bool:
        """Whether the classifier's best intent is an acute disclosure. The decision may not turn down the
        rules' acute handover then: with round 18 in its fit it turned down 13 of the NLU folds' acute
        disclosures ("ik zou me willen ophangen", "ik snij"), 11 of them read so by the classifier
        (reports/risk_blind_round19.md)."""
        return not self.fallback and self.top_intent in ACUTE_DISCLOSURE_INTENTS

    def features(self) -> Dict[str, float]:
        return {
            "logit_p": _logit(self.p), "logit_p_acute": _logit(self.p_acute), "logit_p_self": _logit(self.p_self),
            "mass": self.mass, "logit_mass": _logit(self.mass), "fallback": float(self.fallback),
            "acute_intent": float(self.acute_intent),
            "own_word": float(self.own_word), "about_self": float(self.about_self),
            "question_form": float(self.question_form), "context_used": float(self.context_used),
            "top_is_question": float(self.top_intent.startswith(QUESTION_INTENT_PREFIX)),
            "top_is_safe_step": float(self.top_intent == SAFE_STEP_INTENT),
            "rule_escalates": float(self.rule_escalates),
        }


FEATURES: Tuple[str, ...] = tuple(Signals(0, 0, 0, 0, False, False, False, False, False, False, "", False).features())


@dataclass(frozen=True)
class DecisionModel:
    weights: Dict[str, float]
    intercept: float
    hand_over_at: float  # a score at least this hands over
    check_in_at: float  # below hand_over_at and at least this: "Gaat dit over jou? Ben je nu veilig?"

    def score(self, signals: Signals) -> float:
        return self.score_features(signals.features())

    def score_features(self, values: Dict[str, float]) -> float:
        z = self.intercept + sum(self.weights[name] * values[name] for name in FEATURES)
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def as_json(self, provenance: Dict[str, object]) -> str:
        return json.dumps({"features": list(FEATURES), "weights": [self.weights[f] for f in FEATURES],
                           "intercept": self.intercept, "hand_over_at": self.hand_over_at,
                           "check_in_at": self.check_in_at, "provenance": provenance}, indent=1)


def parse_model(text: str) -> DecisionModel:
    """Raises ValueError on a file that does not fit this code (other features, missing numbers)."""
    data = json.loads(text)
    names: List[str] = list(data["features"])
    if tuple(names) != FEATURES:
        raise ValueError(f"the decision weights are for other features: {names}")
    weights = {name: float(w) for name, w in zip(names, data["weights"], strict=True)}
    model = DecisionModel(weights, float(data["intercept"]), float(data["hand_over_at"]), float(data["check_in_at"]))
    if not all(math.isfinite(v) for v in [*weights.values(), model.intercept]):
        raise ValueError("the decision weights are not finite numbers")
    if not 0.0 < model.check_in_at <= model.hand_over_at < 1.0:
        raise ValueError("the decision thresholds must satisfy 0 < check_in_at <= hand_over_at < 1")
    return model


@lru_cache(maxsize=1)
def decision_model(path: Path = WEIGHTS_FILE) -> Optional[DecisionModel]:
    """The fitted decision, or None (the rules decide alone) when the file is missing or broken."""
    try:
        return parse_model(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.error("Risk decision weights unusable, the rules decide alone: %s", error)
        return None
