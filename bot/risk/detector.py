"""Decides whether a message is a disclosure that needs a human helpline.

Two signals are combined: the risk lexicon and (when Rasa runs) the NLU intent.
A general question about a topic is not a disclosure; acute words always are.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Dict, List, Optional

from bot import content
from bot.risk.lexicon import CATEGORIES, SEVERITIES, Hit, Lexicon

DISCLOSURE_PREFIX = "disclose_"
INTENT_THRESHOLD = 0.5
# Severity when only the NLU intent says "disclosure".
INTENT_SEVERITY = {"selfharm": "acute", "acute_danger": "acute"}


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

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


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

    def _is_question_form(self, keys: List[str], text: str) -> bool:
        return text.rstrip().endswith("?") or bool(keys and keys[0] in self.lexicon.question_words)

    def assess(self, text: str, intent: Optional[str] = None, confidence: float = 0.0) -> Assessment:
        """`intent`/`confidence`: the classifier's most likely disclosure intent and its probability."""
        hits, keys = self.lexicon.match(text)
        about_self = self._talks_about_self(keys)
        general = self._is_question_form(keys, text) and not about_self
        intent_category = None
        if intent and intent.startswith(DISCLOSURE_PREFIX) and confidence >= INTENT_THRESHOLD:
            intent_category = intent[len(DISCLOSURE_PREFIX):]
            if intent_category not in CATEGORIES:
                intent_category = None

        acute = [h for h in hits if h.entry.severity == "acute"]
        if acute:
            return self._prefer_intent(self._result(acute, hits, "lexicon", 1.0, general), intent_category)
        # A general question is not a disclosure, except that self-harm and acute danger
        # always get the 24/7 lines, also when asked as a question.
        if general and INTENT_SEVERITY.get(intent_category or "") != "acute":
            return Assessment(escalate=False, matched=[h.label for h in hits], general_question=True)

        # Non-acute words count when the young person talks about themselves; topic words
        # ("loverboy") only name the category of a disclosure the intent classifier found.
        signals = [h for h in hits if not h.entry.topic] if about_self else []
        if signals:
            return self._prefer_intent(self._result(signals, hits, "lexicon", 1.0, general), intent_category)
        if intent_category:
            return Assessment(
                escalate=True,
                category=intent_category,
                severity=INTENT_SEVERITY.get(intent_category, "high"),
                matched=[h.label for h in hits] + [intent],
                source="intent",
                confidence=round(float(confidence), 3),
                general_question=general,
            )
        return Assessment(escalate=False, matched=[h.label for h in hits])

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
