"""Actions for the hard moments around a disclosure, and for answers with one set of buttons.

- action_answer: the answer to a question, the first time with the trusted-adult nudge; the
  nudge then carries the buttons (one set of buttons per turn).
- action_express_distress: distress without words (😭, "help", "???").
- action_feeling_bad: a bad feeling, with the lines open now.
- action_check_in: "Gaat dit over jou? Ben je nu veilig?", naming 113 and 112.
- action_fallback: not understood; the check-in when the risk component asks for it
  (`latest_message["risk"]["check_in"]`), or the answer with the safety line (113 and 112) for an
  acute word in a question it is sure is no disclosure (`risk["safety_line"]`), the help of the last
  handover when one is in context, else utter_default.
- action_help: the menu; shortly after a handover a typed "help" gets that help first.

Shortly after a handover (bot/actions/risk_context.py), the helplines are those of that handover.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import content
from bot.actions import risk_context
from bot.actions.answers import NUDGE, TRUSTED_ADULT_ANSWER, sent_responses
from bot.actions.replies import Message, helpline_variables, message, send_turn

# Question intent -> its answer. Answers with a {helplines} place get the lines of the category
# in ANSWER_HELPLINES (or "general").
ANSWERS = {
    "ask_sexting": "utter_ask_sexting",
    "ask_image_removal": "utter_ask_image_removal",
    "ask_grooming": "utter_ask_grooming",
    "ask_sextortion": "utter_ask_sextortion",
    "ask_loverboy": "utter_ask_loverboy",
    "ask_meeting_online_contact": "utter_ask_meeting_online_contact",
    "ask_privacy_settings": "utter_ask_privacy_settings",
    "ask_block_report": "utter_ask_block_report",
    "ask_law": "utter_ask_law",
    "ask_webcam": "utter_ask_webcam",
    "ask_saying_no": "utter_ask_saying_no",
}
ANSWER_HELPLINES = {"ask_image_removal": "image_shared", "ask_sextortion": "sextortion",
                    "ask_grooming": "grooming", "ask_loverboy": "exploitation"}

DISTRESS_LINES, FEELING_BAD_LINES, CHECK_IN_LINES = "distress", "feeling_bad", "check_in"
CHECK_IN, REMINDER, DEFAULT = "utter_check_in", "utter_handover_reminder", "utter_default"
SAFETY_LINE = "utter_safety_line"
# A question about the lines themselves: its answer, with the lines for distress (113 and 112 among them),
# is the safety line.
LINE_QUESTIONS = {"ask_helpline": "utter_ask_helpline"}


def intent_of(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def is_button(tracker: Tracker) -> bool:
    """The latest message is a button press or payload ("/help"), not typed words."""
    return str((tracker.latest_message or {}).get("text") or "").startswith("/")


def wants_check_in(tracker: Tracker) -> bool:
    risk = (tracker.latest_message or {}).get("risk")
    return isinstance(risk, dict) and risk.get("check_in") is True


def safety_line_intent(tracker: Tracker) -> Optional[str]:
    """When the risk component asks for the safety line: the intent to answer before it ("" for none)."""
    risk = (tracker.latest_message or {}).get("risk")
    if isinstance(risk, dict) and risk.get("safety_line") is True:
        return str(risk.get("answer_intent") or "")
    return None


def answer_message(intent: str, answer: str) -> Message:
    """A question's answer, with the lines of its category where it has a {helplines} place."""
    return message(answer, **helpline_variables(answer, ANSWER_HELPLINES.get(intent, "general")))


class ActionAnswer(Action):
    def name(self) -> Text:
        return "action_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        """The answer to a question; once per conversation followed by the trusted-adult nudge."""
        intent = intent_of(tracker)
        answer = ANSWERS.get(intent)
        if answer is None:  # a rule sent another intent here: say so honestly, never stay silent
            dispatcher.utter_message(response=DEFAULT)
            return []
        turn = [answer_message(intent, answer)]
        if not set(sent_responses(tracker)) & {NUDGE, TRUSTED_ADULT_ANSWER}:
            turn.append(message(NUDGE))
        send_turn(dispatcher, turn)
        return []


class ActionExpressDistress(Action):
    def name(self) -> Text:
        return "action_express_distress"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        """Comfort, room to say more, and the lines open now (after a handover: its lines)."""
        category = risk_context.helpline_category(tracker, default=DISTRESS_LINES)
        dispatcher.utter_message(response="utter_express_distress",
                                 **helpline_variables("utter_express_distress", category))
        return []


class ActionFeelingBad(Action):
    def name(self) -> Text:
        return "action_feeling_bad"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        category = risk_context.helpline_category(tracker, default=FEELING_BAD_LINES)
        dispatcher.utter_message(response="utter_feeling_bad", **helpline_variables("utter_feeling_bad", category))
        return []


def check_in(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(response=CHECK_IN, **helpline_variables(CHECK_IN, CHECK_IN_LINES))


def safety_line_answer(intent: str) -> Optional[str]:
    """The answer sent before the safety line: the question's answer or the topic's response (None for
    an intent without one)."""
    if intent in ANSWERS:
        return ANSWERS[intent]
    name = f"utter_{intent}"
    try:
        return name if name in content.current().responses else None
    except Exception:  # content unavailable: the safety line alone still names 113 and 112
        return None


def answer_with_safety_line(dispatcher: CollectingDispatcher, intent: str) -> None:
    """An acute word the detector is sure is no disclosure ("wat zeg je als een vriend zelfmoord wil
    plegen?"): the question stays a question, and one line names 113 and 112 (at most two messages)."""
    if intent in LINE_QUESTIONS:  # "is 113 ook voor als je je gewoon kut voelt?": the lines are the answer
        answer = LINE_QUESTIONS[intent]
        dispatcher.utter_message(response=answer, **helpline_variables(answer, DISTRESS_LINES))
        return
    turn = []
    answer = safety_line_answer(intent) if intent else None
    if answer:
        turn.append(answer_message(intent, answer))
    turn.append(message(SAFETY_LINE, **helpline_variables(SAFETY_LINE, CHECK_IN_LINES)))
    send_turn(dispatcher, turn)


def reminder(dispatcher: CollectingDispatcher, category: str) -> None:
    dispatcher.utter_message(response=REMINDER, **helpline_variables(REMINDER, category))


class ActionCheckIn(Action):
    def name(self) -> Text:
        return "action_check_in"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        """Asks whether it is about the young person and whether they are safe, naming 113 and 112."""
        check_in(dispatcher)
        return []


class ActionFallback(Action):
    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        """Not understood: the check-in if the risk component asks for it, or the answer with the safety
        line; shortly after a handover, the help of that handover; otherwise utter_default (rephrase,
        with the menu)."""
        context: Optional[risk_context.RiskContext] = risk_context.current(tracker)
        line_after = safety_line_intent(tracker)
        if wants_check_in(tracker):
            check_in(dispatcher)
        elif line_after is not None:
            answer_with_safety_line(dispatcher, line_after)
        elif context is not None:
            reminder(dispatcher, context.category)
        else:
            dispatcher.utter_message(response=DEFAULT)
        return []


class ActionHelp(Action):
    def name(self) -> Text:
        return "action_help"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        """The menu. Shortly after a handover, a typed "help"/"hulp" first gets the help of that
        handover (its buttons include the menu); the menu button itself always gives the menu."""
        context = risk_context.current(tracker)
        if context is not None and not is_button(tracker):
            reminder(dispatcher, context.category)
        else:
            dispatcher.utter_message(response="utter_help")
        return []
