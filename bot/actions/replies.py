"""The messages of one turn, sent so the young person sees one set of buttons, under the last message.

The terminal chat numbers the buttons of every message from 1 and Telegram shows a keyboard
under every message, so two messages with buttons in one turn would give two sets with the same
numbers. `send_turn` sends every message but the last without its buttons: it renders those texts
here (from content/, like the Rasa NLG does) and keeps their response name in `utter_action`,
so the tracker, the moderators and the tests still see which response was sent.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Sequence, Tuple

from rasa_sdk.executor import CollectingDispatcher

from bot import content
from bot.helplines import helplines_text

logger = logging.getLogger(__name__)

Message = Tuple[str, Dict[str, Any]]  # (response name, variables such as helplines)


def message(response: str, **variables: Any) -> Message:
    return response, variables


def send_without_buttons(dispatcher: CollectingDispatcher, response: str, **variables: Any) -> None:
    """Sends a response's text (variables filled in) without its buttons."""
    try:
        rendered = content.current().render(response, **variables)
    except Exception:  # content unavailable or the name unknown: the full response is better than none
        logger.exception("could not render %s without buttons", response)
        dispatcher.utter_message(response=response, **variables)
        return
    dispatcher.utter_message(text=rendered["text"], utter_action=response)


def has_buttons(response: str) -> bool:
    try:
        return bool(content.current().response(response).get("buttons"))
    except Exception:  # unknown here: treat it as having buttons, so they are never doubled
        return True


def send_turn(dispatcher: CollectingDispatcher, messages: Sequence[Message]) -> None:
    """Sends the messages in order; only the last one keeps its buttons."""
    for index, (response, variables) in enumerate(messages):
        if index == len(messages) - 1 or not has_buttons(response):
            dispatcher.utter_message(response=response, **variables)
        else:
            send_without_buttons(dispatcher, response, **variables)


def needs_helplines(response: str) -> bool:
    """Whether the response has a {helplines} place (unknown response: no)."""
    try:
        variants = content.current().responses.get(response) or []
    except Exception:
        return False
    return any("{helplines}" in str(v.get("text") or "") for v in variants if isinstance(v, dict))


def helpline_variables(response: str, category: str, compact: bool = True) -> Dict[str, Any]:
    """{"helplines": ...} for a response with a {helplines} place, else nothing (so no helplines
    text ends up in the metadata of a message that does not show it)."""
    return {"helplines": helplines_text(category, compact=compact)} if needs_helplines(response) else {}


def names(messages: List[Dict[str, Any]]) -> List[str]:
    """The response names of dispatched messages (for tests and logging)."""
    return [m.get("response") or m.get("utter_action") for m in messages]
