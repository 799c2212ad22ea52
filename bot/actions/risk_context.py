"""Risk context: what the last handover was about, so the next turns still point to the right help.

After a disclosure, action_handover stores the category, severity and time of the handover in
slots. For SAM_RISK_CONTEXT_MINUTES (default 60) after that, replies that name helplines (a
request for a person, "ja", "help", distress emoji, a helpline question, not understood) use the
lines of that category: after self-harm still 113 and 112, after abuse at home Veilig Thuis.

The clock is `clock()` (monkeypatch it in tests) or the `now` argument (seconds since the epoch).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from bot.categories import CATEGORIES, SEVERITIES

CATEGORY_SLOT, SEVERITY_SLOT, AT_SLOT = "risk_category", "risk_severity", "risk_at"
SLOTS = (CATEGORY_SLOT, SEVERITY_SLOT, AT_SLOT)
MINUTES_ENV = "SAM_RISK_CONTEXT_MINUTES"
DEFAULT_MINUTES = 60.0
MAX_MINUTES = 24 * 60.0  # never longer than a day, whatever the setting says

clock: Callable[[], float] = time.time


def lifetime_minutes() -> float:
    """SAM_RISK_CONTEXT_MINUTES, read on every call; a missing or unreadable value gives the default.
    0 switches the risk context off."""
    raw = os.environ.get("SAM_RISK_CONTEXT_MINUTES", "").strip()  # = MINUTES_ENV
    try:
        minutes = float(raw) if raw else DEFAULT_MINUTES
    except ValueError:
        return DEFAULT_MINUTES
    if minutes != minutes or minutes < 0:  # NaN or negative
        return DEFAULT_MINUTES
    return min(minutes, MAX_MINUTES)


@dataclass(frozen=True)
class RiskContext:
    category: str
    severity: str
    at: float

    @property
    def acute(self) -> bool:
        return self.severity == "acute"


def remember(category: str, severity: Optional[str], now: Optional[float] = None) -> List[Dict[str, Any]]:
    """The slot events that store this handover as the risk context."""
    severity = severity if severity in SEVERITIES else "high"
    return [SlotSet(CATEGORY_SLOT, category), SlotSet(SEVERITY_SLOT, severity),
            SlotSet(AT_SLOT, float(clock() if now is None else now))]


def after_handover(tracker: Tracker, category: str, severity: Optional[str],
                   now: Optional[float] = None) -> List[Dict[str, Any]]:
    """The slot events after a handover: the new category, unless a more severe handover is still
    in context (self-harm, then grooming: "help" must still get 113 and 112). The time is renewed."""
    previous = current(tracker, now)
    severity = severity if severity in SEVERITIES else "high"
    if previous and SEVERITIES.index(previous.severity) > SEVERITIES.index(severity):
        category, severity = previous.category, previous.severity
    return remember(category, severity, now)


def _slot(tracker: Tracker, name: str) -> Any:
    return tracker.get_slot(name)


def current(tracker: Tracker, now: Optional[float] = None) -> Optional[RiskContext]:
    """The risk context of this conversation if the last handover was recent enough, else None."""
    category = _slot(tracker, CATEGORY_SLOT)
    if category not in CATEGORIES:
        return None
    try:
        at = float(_slot(tracker, AT_SLOT))
    except (TypeError, ValueError):
        return None  # a category without a time (an old conversation): too uncertain to use
    now = clock() if now is None else now
    age_minutes = (now - at) / 60.0
    if age_minutes < -1 or age_minutes > lifetime_minutes():  # too old, or a clock far in the future
        return None
    severity = _slot(tracker, SEVERITY_SLOT)
    return RiskContext(category, severity if severity in SEVERITIES else "high", at)


def helpline_category(tracker: Tracker, default: str = "general", now: Optional[float] = None) -> str:
    """The helpline category for a reply now: the recent handover's category, else `default`."""
    context = current(tracker, now)
    return context.category if context else default
