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
                   only_24_7: bool = False, compact: bool = False) -> str:
    """The helplines for a category as lines of text, worded by content/helplines.yml.

    `only_24_7`: just the lines open day and night (the bridge's fail-safe when Rasa is down).
    `compact`: at most 3 short lines, closed lines left out (see `compact_text`), for the
    replies to a disclosure, where every line counts.
    """
    if compact and not only_24_7:
        return compact_text(category, now, content)
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


# --- compact form: the few lines a young person needs right now ---------------------------
COMPACT_LIMIT = 3
# How one line looks in the compact form when content/helplines.yml has no `compact_*` text.
COMPACT_TEXTS = {ALWAYS: "• {short}. Dag en nacht.", OPEN: "• {short}. Nu open.",
                 PROBABLY_OPEN: "• {short}. Meestal nu open.", UNKNOWN: "• {short}. Ik weet niet of ze nu open zijn."}
COMPACT_KEYS = {ALWAYS: "compact_always_open", OPEN: "compact_open_now", PROBABLY_OPEN: "compact_probably_open",
                UNKNOWN: "compact_hours_unknown"}


def compact_choice(category: str, now: Optional[datetime] = None, data: Optional[Dict[str, Any]] = None,
                   limit: int = COMPACT_LIMIT) -> List[Tuple[str, str]]:
    """At most `limit` (line id, status) pairs: no closed line, each line once, and always at
    least one line that is open day and night (the category's own first, else its fallback)."""
    data = data or content_module.current().helplines
    limit = max(1, int(limit))
    shown: List[Tuple[str, str]] = []
    for line_id, line_status in choose(category, now, data):
        line_status = ALWAYS if line_status == ADDED_24_7 else line_status
        if line_status != CLOSED and line_id not in {i for i, _ in shown}:
            shown.append((line_id, line_status))
    if not shown:
        return []
    kept = shown[:limit]
    if not any(s == ALWAYS for _, s in kept):
        first_24_7 = next((pair for pair in shown if pair[1] == ALWAYS), None)
        if first_24_7 is not None:
            kept = kept[:limit - 1] + [first_24_7]
    return kept


def compact_text(category: str, now: Optional[datetime] = None, content: Any = None,
                 limit: int = COMPACT_LIMIT) -> str:
    """The compact form of `helplines_text`: max `limit` short lines, only lines that are (or may be)
    open now, each phone number once. Worded by each line's `short` text in content/helplines.yml
    (falls back to "name: contact") and the `compact_*` texts."""
    data = (content or content_module.current()).helplines
    texts = data.get("texts") or {}
    out = []
    for line_id, line_status in compact_choice(category, now, data, limit):
        line = data["lines"][line_id]
        short = line.get("short")
        if not isinstance(short, str) or not short.strip():
            short = f"{line.get('name', line_id)}: {line.get('contact', '')}"
        template = texts.get(COMPACT_KEYS[line_status])
        if not isinstance(template, str) or "{short}" not in template:
            template = COMPACT_TEXTS[line_status]
        variables = {"short": short.strip().rstrip("."), "name": line.get("name", line_id),
                     "contact": line.get("contact", ""), "hours": describe_hours(line)}
        out.append(content_module.fill(template, variables))
    return "\n".join(out)
