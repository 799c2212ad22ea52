"""Which helplines are shown, by category and by what is open now (frozen clock, Amsterdam time)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot import content
from bot.helplines import (
    ADDED_24_7,
    ALWAYS,
    CLOSED,
    OPEN,
    PROBABLY_OPEN,
    UNKNOWN,
    choose,
    compact_choice,
    compact_text,
    describe_hours,
    helplines_text,
    status,
)

AMS = ZoneInfo("Europe/Amsterdam")
WEEKDAY_EVENING = datetime(2026, 11, 25, 19, 30, tzinfo=AMS)  # Wednesday
NIGHT = datetime(2026, 11, 26, 3, 0, tzinfo=AMS)  # Thursday 03:00
WEEKEND = datetime(2026, 11, 28, 14, 0, tzinfo=AMS)  # Saturday
WEEKDAY_MORNING = datetime(2026, 11, 25, 10, 0, tzinfo=AMS)

DATA = {
    "lines": {
        "day_line": {"name": "Dag", "contact": "1", "hours": {d: "09:00-17:00" for d in ("ma", "di", "wo", "do", "vr")},
                     "hours_verified": True},
        "evening_line": {"name": "Avond", "contact": "2", "hours": {d: "11:00-21:00" for d in
                         ("ma", "di", "wo", "do", "vr", "za", "zo")}, "hours_verified": False},
        "night_line": {"name": "Nacht", "contact": "3", "hours": {"wo": "20:00-02:00"}, "hours_verified": True},
        "unknown_line": {"name": "Onbekend", "contact": "4", "hours": "unknown"},
        "always_line": {"name": "Altijd", "contact": "5", "hours": "always", "hours_verified": True},
    },
    "routing": {"sextortion": ["unknown_line", "day_line"], "general": ["evening_line"], "selfharm": ["always_line"]},
    "always_open": {"sextortion": "always_line", "general": "always_line", "selfharm": "always_line"},
}


def test_verified_day_hours_open_and_closed():
    line = DATA["lines"]["day_line"]
    assert status(line, WEEKDAY_MORNING) == OPEN
    assert status(line, WEEKDAY_EVENING) == CLOSED
    assert status(line, WEEKEND) == CLOSED
    assert status(line, NIGHT) == CLOSED


def test_unverified_hours_are_never_called_open():
    line = DATA["lines"]["evening_line"]
    assert status(line, WEEKDAY_EVENING) == PROBABLY_OPEN
    assert status(line, NIGHT) == CLOSED
    assert status(DATA["lines"]["unknown_line"], WEEKDAY_MORNING) == UNKNOWN


def test_overnight_hours_run_past_midnight():
    line = DATA["lines"]["night_line"]
    assert status(line, datetime(2026, 11, 25, 23, 0, tzinfo=AMS)) == OPEN  # Wednesday 23:00
    assert status(line, datetime(2026, 11, 26, 1, 30, tzinfo=AMS)) == OPEN  # Thursday 01:30
    assert status(line, NIGHT) == CLOSED


@pytest.mark.parametrize("moment", [WEEKDAY_EVENING, NIGHT, WEEKEND])
def test_a_24_7_line_is_added_when_a_chosen_line_is_closed_or_unverified(moment):
    chosen = choose("sextortion", moment, DATA)
    assert chosen[-1] == ("always_line", ADDED_24_7)


def test_no_extra_line_when_a_24_7_line_is_already_shown():
    assert choose("selfharm", NIGHT, DATA) == [("always_line", ALWAYS)]


@pytest.mark.parametrize("moment", [WEEKDAY_EVENING, NIGHT, WEEKEND])
@pytest.mark.parametrize("category", ["selfharm", "acute_danger"])
def test_real_content_acute_categories_start_with_an_open_emergency_line(category, moment):
    first_id, first_status = choose(category, moment)[0]
    assert first_status == ALWAYS
    assert first_id in ("zelfmoordpreventie_113", "alarm_112")


@pytest.mark.parametrize("moment", [WEEKDAY_EVENING, NIGHT, WEEKEND, WEEKDAY_MORNING])
@pytest.mark.parametrize("category", ["sextortion", "image_shared", "grooming", "exploitation", "abuse", "runaway",
                                      "general"])
def test_real_content_always_offers_a_line_that_is_open_now(category, moment):
    assert any(s in (ALWAYS, OPEN, ADDED_24_7) for _, s in choose(category, moment))


def test_text_is_honest_about_a_closed_line_at_night():
    data = content.current().helplines
    line = data["lines"]["kindertelefoon"]
    closed = content.fill(data["texts"]["closed_now"], {**line, "hours": describe_hours(line)})
    night = helplines_text("sextortion", NIGHT)
    assert closed in night
    assert closed not in helplines_text("sextortion", WEEKDAY_EVENING)
    assert any(status(data["lines"][i], NIGHT) == ALWAYS for i, _ in choose("sextortion", NIGHT))


def test_compact_leaves_out_closed_lines_and_keeps_one_24_7_line():
    # Evening: the day line is closed (left out), the unknown line stays, the 24/7 line is added.
    assert compact_choice("sextortion", WEEKDAY_EVENING, DATA) == [("unknown_line", UNKNOWN), ("always_line", ALWAYS)]
    assert compact_choice("sextortion", WEEKDAY_MORNING, DATA) == [("unknown_line", UNKNOWN), ("day_line", OPEN),
                                                                   ("always_line", ALWAYS)]
    assert compact_choice("sextortion", WEEKDAY_MORNING, DATA, limit=2) == [("unknown_line", UNKNOWN),
                                                                            ("always_line", ALWAYS)]


def test_compact_text_uses_the_short_form_or_name_and_contact():
    class Fake:
        helplines = {**DATA, "lines": {**DATA["lines"], "always_line": {**DATA["lines"]["always_line"],
                                                                          "short": "Kort"}}}

    text = compact_text("sextortion", WEEKDAY_EVENING, Fake)
    assert text.splitlines()[0].startswith("• Onbekend: 4") and "Kort" in text.splitlines()[1]
    assert helplines_text("sextortion", WEEKDAY_EVENING, Fake, compact=True) == text
