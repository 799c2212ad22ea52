"""Actions around informational answers: the trusted-adult nudge, yes/no follow-ups, helplines."""
from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import content
from bot.actions import risk_context
from bot.actions.replies import helpline_variables
from bot.config import load_settings
from bot.helplines import helplines_text
from bot.requests import request_person

NUDGE = "utter_nudge_trusted_adult"
TRUSTED_ADULT_ANSWER = "utter_ask_trusted_adult"


def sent_responses(tracker: Tracker) -> List[str]:
    """Names of the responses Sam sent in this conversation, oldest first."""
    return [
        (event.get("metadata") or {}).get("utter_action", "")
        for event in tracker.events
        if event.get("event") == "bot"
    ]


def last_response_before_user(tracker: Tracker) -> Optional[str]:
    """The name of Sam's last message before the young person's latest one."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif event.get("event") == "bot" and seen_user:
            return (event.get("metadata") or {}).get("utter_action")
    return None


class ActionNudgeTrustedAdult(Action):
    def name(self) -> Text:
        return "action_nudge_trusted_adult"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        """Suggests talking to a trusted adult once per conversation."""
        already = set(sent_responses(tracker)) & {NUDGE, TRUSTED_ADULT_ANSWER}
        if not already:
            dispatcher.utter_message(response=NUDGE)
        return []


REQUEST_HUMAN_ANSWER = "utter_request_human"
# "ja"/"nee" without a question from Sam, shortly after a handover: the help stays in view.
RISK_FOLLOWUPS = {"affirm": "utter_handover_reminder", "deny": "utter_handover_trusted_adult"}
DISTRESS = "distress"  # helplines for a reply that may be about distress, without a handover in context


def as_request_human(tracker: Tracker) -> Tracker:
    """The same tracker, with the latest message read as a request for a person."""
    copy_of = copy.copy(tracker)
    copy_of.latest_message = {**(tracker.latest_message or {}),
                              "intent": {"name": "request_human", "confidence": 1.0}}
    return copy_of


class ActionFollowup(Action):
    def name(self) -> Text:
        return "action_followup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        """Answers "ja"/"nee" in the light of the question Sam asked last (content/followups.yml).

        Shortly after a handover, a "ja"/"nee" without a question still names the helplines of that
        handover; a "ja" that means "I want a person" is a request for a person (action_helplines)."""
        intent = (tracker.latest_message.get("intent") or {}).get("name") or "affirm"
        asked = last_response_before_user(tracker)
        followups = content.current().followups.get(asked or "", {})
        answer = followups.get(intent)
        if not answer:
            in_context = risk_context.current(tracker) is not None
            answer = RISK_FOLLOWUPS.get(intent) if in_context else None
            answer = answer or f"utter_{intent}"
        if answer == REQUEST_HUMAN_ANSWER:
            return await ActionHelplines().run(dispatcher, as_request_human(tracker), domain)
        category = risk_context.helpline_category(tracker, default=DISTRESS)
        dispatcher.utter_message(response=answer, **helpline_variables(answer, category))
        return []


class ActionHelplines(Action):
    def name(self) -> Text:
        return "action_helplines"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        """Lists the helplines and whether each is open now."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        response = "utter_request_human" if intent == "request_human" else "utter_ask_helpline"
        if intent == "request_human":  # a moderator on duty gets the request (bot/requests.py, never raises)
            response = request_person(load_settings(), tracker.sender_id, "request_human") or response
        # After a handover, the lines of that handover (self-harm: 113 and 112), else the general ones.
        dispatcher.utter_message(response=response, helplines=helplines_text(risk_context.helpline_category(tracker)))
        return []
