"""action_handover: comfort, first steps, the helplines open now and the offer of a person.

Two messages, in the same turn as the message that triggered it, short enough for a young person
with LVB (at most 8 lines together):
1. `utter_handover_<category>`: comfort first, then one or two first steps for this category;
   no phone numbers (so no number is named twice);
2. `utter_handover_helplines`: the lines open now for this category in the compact form (max 3,
   each number once, always one line open day and night) and the buttons for the next step.
The category, severity and time are stored as the risk context (bot/actions/risk_context.py), and
the escalation is recorded for the moderators. Recording never blocks or prevents the reply.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import risk_context
from bot.actions.replies import message, send_turn
from bot.categories import CATEGORIES
from bot.helplines import helplines_text
from bot.risk.detector import DISCLOSURE_PREFIX, INTENT_SEVERITY
from bot.store import escalations
from bot.store.db import open_db

logger = logging.getLogger(__name__)
MAX_TURNS = 12


def risk_of(tracker: Tracker) -> Dict[str, Any]:
    """The risk assessment of the latest message, or one derived from its disclosure intent."""
    message = tracker.latest_message or {}
    risk = dict(message.get("risk") or {})
    intent = (message.get("intent") or {}).get("name") or ""
    if not risk.get("category") and intent.startswith(DISCLOSURE_PREFIX):
        category = intent[len(DISCLOSURE_PREFIX):]
        risk.update(category=category, severity=INTENT_SEVERITY.get(category, "high"),
                    matched=[intent], source="intent", confidence=(message.get("intent") or {}).get("confidence", 1.0))
    if risk.get("category") not in CATEGORIES:
        # Unknown category: still hand over, with the most protective general routing.
        risk.update(category="abuse", severity=risk.get("severity") or "high")
    return risk


def last_turns(tracker: Tracker, limit: int = MAX_TURNS) -> List[Dict[str, Any]]:
    turns = []
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text"):
            turns.append({"from": "jongere", "text": event["text"], "at": event.get("timestamp")})
        elif event.get("event") == "bot" and event.get("text"):
            turns.append({"from": "sam", "response": (event.get("metadata") or {}).get("utter_action"),
                          "text": event["text"], "at": event.get("timestamp")})
    return turns[-limit:]


class ActionHandover(Action):
    def name(self) -> Text:
        return "action_handover"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        """Hands the young person over to human help, in this same turn."""
        risk = risk_of(tracker)
        category = risk["category"]
        send_turn(dispatcher, [
            message(f"utter_handover_{category}"),
            message("utter_handover_helplines", helplines=helplines_text(category, compact=True)),
        ])
        try:
            escalations.record_trigger(
                open_db(),
                conversation_id=tracker.sender_id,
                category=category,
                severity=risk.get("severity") or "high",
                matched=list(risk.get("matched") or []),
                confidence=float(risk.get("confidence") or 0.0),
                source=risk.get("source") or "intent",
                turns=last_turns(tracker),
            )
        except Exception:  # the young person's reply matters more than the record
            logger.exception("could not record escalation")
        return risk_context.after_handover(tracker, category, risk.get("severity") or "high")
