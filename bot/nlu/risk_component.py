"""Runs the risk detector on every message inside Rasa, after intent classification.

A disclosure (lexicon, confident disclosure intent, or a clear disclosure from the detector that
bot.nlu.disclosure_component put on the message) becomes the matching disclose_* intent, so the
same rules fire on every channel; a disclosure intent on a general question is demoted; an acute
word that is no disclosure becomes the check-in, or its answer with the safety line (both through
action_fallback), so it still names 113 and 112.
The assessment is added to the parse data as `risk` for action_handover.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.disclosure_component import DISCLOSURE_KEY
from bot.risk.detector import DISCLOSURE_PREFIX, get_detector

RISK_KEY = "risk"
ANSWER_KEY = "answer_intent"
# An acute word gets its answer with the safety line, instead of the check-in, only when the classifier is
# at least this sure what the message is (bot/risk/detector.py, SAFETY_LINE_BELOW).
ANSWER_SURE = 0.5


def classifier_view(ranking: List[Dict[str, Any]], chosen: Dict[str, Any]) -> Tuple[Optional[str], float, bool, str]:
    """What the risk decision reads of the classifier, from its intent ranking and the intent the
    pipeline chose: the most likely disclosure intent with the probability mass of all disclosure
    intents (a message split between two kinds of disclosure is still a disclosure), else its own best
    intent; whether the FallbackClassifier overrode it (kept as a fact, not as a mask over the
    disclosure probability); and its best intent other than the fallback."""
    own = [c for c in ranking or [chosen] if c.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME]
    top = own[0] if own else {}
    disclosures = [c for c in own if (c.get(INTENT_NAME_KEY) or "").startswith(DISCLOSURE_PREFIX)]
    if disclosures:
        mass = sum(float(c.get(PREDICTED_CONFIDENCE_KEY) or 0.0) for c in disclosures)
        intent, confidence = disclosures[0][INTENT_NAME_KEY], min(mass, 1.0)
    else:
        intent, confidence = top.get(INTENT_NAME_KEY), float(top.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
    fallback = chosen.get(INTENT_NAME_KEY) == DEFAULT_NLU_FALLBACK_INTENT_NAME
    return intent, confidence, fallback, top.get(INTENT_NAME_KEY) or ""


def sure_reading(ranking: List[Dict[str, Any]]) -> Optional[str]:
    """The classifier's best intent other than the fallback, when it gives it at least ANSWER_SURE."""
    own = [c for c in ranking if c.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME]
    sure = own and float(own[0].get(PREDICTED_CONFIDENCE_KEY) or 0.0) >= ANSWER_SURE
    return own[0].get(INTENT_NAME_KEY) if sure else None


def _best_non_disclosure(message: Message) -> Optional[Dict[str, Any]]:
    for candidate in message.get(INTENT_RANKING_KEY) or []:
        name = candidate.get(INTENT_NAME_KEY) or ""
        if not name.startswith(DISCLOSURE_PREFIX):
            return candidate
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RiskDetectorComponent(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RiskDetectorComponent:
        get_detector()  # build the lexicon at start-up, not on the first message
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        detector = get_detector()
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):
                continue
            intent, confidence, fallback, top_intent = classifier_view(
                message.get(INTENT_RANKING_KEY) or [], message.get(INTENT) or {})
            answer = sure_reading(message.get(INTENT_RANKING_KEY) or [])
            assessment = detector.assess(text, intent, confidence, disclosure=message.get(DISCLOSURE_KEY),
                                         fallback=fallback, top_intent=top_intent, answer_intent=answer)
            risk = assessment.as_dict()
            if assessment.safety_line:
                risk[ANSWER_KEY] = answer
            message.set(RISK_KEY, risk, add_to_output=True)
            current = (message.get(INTENT) or {}).get(INTENT_NAME_KEY) or ""
            if assessment.escalate:
                intent = {INTENT_NAME_KEY: DISCLOSURE_PREFIX + assessment.category, PREDICTED_CONFIDENCE_KEY: 1.0}
                message.set(INTENT, intent, add_to_output=True)
            elif assessment.must_check_in or assessment.safety_line:
                # An acute word that is no disclosure ("die toets was zelfmoord"): action_fallback asks
                # "Gaat dit over jou? Ben je nu veilig?" with 113 and 112 instead of the usual answer,
                # or, when the detector is sure (a lesson, a how-to question), gives the answer to
                # risk["answer_intent"] with one line naming 113 and 112.
                intent = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: 1.0}
                message.set(INTENT, intent, add_to_output=True)
            elif current.startswith(DISCLOSURE_PREFIX):
                replacement = _best_non_disclosure(message)
                if replacement:
                    message.set(INTENT, dict(replacement), add_to_output=True)
        return messages
