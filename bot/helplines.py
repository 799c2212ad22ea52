"""Which helplines fit a risk category and whether they are open now (Europe/Amsterdam).

Honest about hours: a line whose hours are not verified is never called "open now", and a
24/7 line is always added when a chosen line is closed or unverified.
"""
from __future__ import annotations

from datetime import datetime, time
from typing import Any, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from bot import content as content_module
from bot.config import load_settings

DAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")
ALWAYS, UNKNOWN, OPEN, PROBABLY_OPEN, CLOSED = "always", "unknown", "open", "probably_open", "closed"
ADDED_24_7 = "added_24_7"  # a 24/7 line added because a chosen line is closed or unverified


def local_now(now: Optional[datetime] = None) -> datetime:
    tz = ZoneInfo(load_settings().timezone)
    if now is None:
        return datetime.now(tz)
    return now.astimezone(tz) if now.tzinfo else now.replace(tzinfo=tz)


def _parse_range(value: str) -> Tuple[time, time]:
    start, end = (part.strip() for part in str(value).split("-"))
    to_time = lambda s: time(*(int(x) for x in s.split(":")))  # noqa: E731
    return to_time(start), to_time(end)


def status(line: Dict[str, Any], now: datetime) -> str:
    hours = line.get("hours", UNKNOWN)
    if hours == ALWAYS:
        return ALWAYS if line.get("hours_verified", True) else UNKNOWN
    if not isinstance(hours, dict):
        return UNKNOWN
    open_status = OPEN if line.get("hours_verified", False) else PROBABLY_OPEN
    today, yesterday = DAYS[now.weekday()], DAYS[(now.weekday() - 1) % 7]
    t = now.time()
    try:
        if today in hours:
            start, end = _parse_range(hours[today])
            if (start <= t < end) if start < end else (t >= start):  # overnight range opens today
                return open_status
        if yesterday in hours:
            start, end = _parse_range(hours[yesterday])
            if end <= start and t < end:  # overnight range from yesterday still running
                return open_status
    except (TypeError, ValueError):  # unreadable hours (content checks reject them): not sure, so unknown
        return UNKNOWN
    return CLOSED


def describe_hours(line: Dict[str, Any]) -> str:
    hours = line.get("hours")
    if not isinstance(hours, dict):
        return ""
    groups: List[Tuple[List[str], str]] = []
    for day in DAYS:
        if day in hours:
            if groups and groups[-1][1] == hours[day] and DAYS.index(groups[-1][0][-1]) == DAYS.index(day) - 1:
                groups[-1][0].append(day)
            else:
                groups.append(([day], hours[day]))
    return ", ".join(f"{d[0]}-{d[-1]} {h}" if len(d) > 1 else f"{d[0]} {h}" for d, h in groups)


def _always_open_for(category: str, data: Dict[str, Any]) -> List[str]:
    fallback = data.get("always_open") or []
    if isinstance(fallback, dict):
        chosen = fallback.get(category) or fallback.get("general") or []
        return [chosen] if isinstance(chosen, str) else list(chosen)
    return list(fallback)


def choose(category: str, now: Optional[datetime] = None,
           data: Optional[Dict[str, Any]] = None) -> List[Tuple[str, str]]:
    """(line id, status) pairs to show, in order: the category's lines, then a 24/7 line if needed."""
    data = data or content_module.current().helplines
    now = local_now(now)
    lines = data.get("lines") or {}
    routing = data.get("routing") or {}
    ids = routing.get(category) or routing.get("general") or []  # an unknown category gets the general lines
    chosen = [(line_id, status(lines[line_id], now)) for line_id in ids if line_id in lines]
    uncertain = any(s in (CLOSED, UNKNOWN, PROBABLY_OPEN) for _, s in chosen)
    if (uncertain or not chosen) and not any(s == ALWAYS for _, s in chosen):
        shown = {line_id for line_id, _ in chosen}
        for line_id in _always_open_for(category, data):
            if line_id not in shown and line_id in lines and status(lines[line_id], now) == ALWAYS:
                chosen.append((line_id, ADDED_24_7))
                break
    return chosen


def always_open(category: str, data: Optional[Dict[str, Any]] = None) -> List[Tuple[str, str]]:
    """Only the 24/7 lines for a category: the category's own, else its always-open fallback."""
    data = data or content_module.current().helplines
    lines = data.get("lines") or {}
    ids = list((data.get("routing") or {}).get(category) or []) + _always_open_for(category, data)
    chosen = [line_id for line_id in dict.fromkeys(ids) if line_id in lines
              and lines[line_id].get("hours") == ALWAYS and lines[line_id].get("hours_verified", True)]
    return [(line_id, ALWAYS) for line_id in chosen]


def helplines_text(category: str, now: Optional[datetime] = None, content: Any = None,
                   only_24_7: bool = False) -> str:
    """The helplines for a category as lines of text, worded by content/helplines.yml.

    `only_24_7`: just the lines open day and night (the bridge's fail-safe when Rasa is down).
    """
    data = (content or content_module.current()).helplines
    texts = data.get("texts") or {}
    template = {ALWAYS: "always_open", ADDED_24_7: "always_open", OPEN: "open_now",
                PROBABLY_OPEN: "probably_open", CLOSED: "closed_now", UNKNOWN: "hours_unknown"}
    out = []
    chosen = always_open(category, data) if only_24_7 else choose(category, now, data)
    for line_id, line_status in chosen:
        line = data["lines"][line_id]
        if line_status == ADDED_24_7 and texts.get("closed_add_24_7"):
            out.append(texts["closed_add_24_7"])
        variables = {"name": line.get("name", line_id), "contact": line.get("contact", ""),
                     "for": line.get("for", ""), "hours": describe_hours(line)}
        out.append(content_module.fill(texts.get(template[line_status], "{name}: {contact}"), variables))
    return "\n".join(out)
