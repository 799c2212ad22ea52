"""Actions around informational answers: the trusted-adult nudge, yes/no follow-ups, helplines."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import content
from bot.helplines import helplines_text

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


class ActionFollowup(Action):
    def name(self) -> Text:
        return "action_followup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        """Answers "ja"/"nee" in the light of the question Sam asked last (content/followups.yml)."""
        intent = (tracker.latest_message.get("intent") or {}).get("name") or "affirm"
        asked = last_response_before_user(tracker)
        followups = content.current().followups.get(asked or "", {})
        dispatcher.utter_message(response=followups.get(intent) or f"utter_{intent}")
        return []


class ActionHelplines(Action):
    def name(self) -> Text:
        return "action_helplines"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        """Lists the helplines and whether each is open now."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        response = "utter_request_human" if intent == "request_human" else "utter_ask_helpline"
        dispatcher.utter_message(response=response, helplines=helplines_text("general"))
        return []
