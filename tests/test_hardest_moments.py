"""The hardest moments, answered right: the disclosure reply, the risk context, distress, the check-in,
one set of buttons per turn, and texts that never promise a line is open.

Assertions are on response names, slots, helpline ids and structure (lines, numbers, buttons),
not on Dutch wording. The clock is frozen: `risk_context.clock` and `bot.helplines.local_now`.
"""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import content, helplines
from bot.actions import risk_context
from bot.actions.answers import ActionFollowup, ActionHelplines
from bot.actions.handover import ActionHandover
from bot.actions.moments import (
    ANSWERS,
    ActionAnswer,
    ActionCheckIn,
    ActionExpressDistress,
    ActionFallback,
    ActionFeelingBad,
    ActionHelp,
)
from bot.actions.replies import names
from bot.config import CONTENT_DIR, STORIES_DIR
from bot.helplines import ALWAYS, compact_choice, compact_text, helplines_text
from bot.risk.lexicon import CATEGORIES

AMS = ZoneInfo("Europe/Amsterdam")
MOMENTS = {
    "weekday_morning": datetime(2026, 11, 25, 10, 0, tzinfo=AMS),
    "weekday_afternoon": datetime(2026, 11, 25, 14, 0, tzinfo=AMS),
    "weekday_evening": datetime(2026, 11, 25, 19, 30, tzinfo=AMS),
    "night": datetime(2026, 11, 26, 3, 0, tzinfo=AMS),
    "weekend": datetime(2026, 11, 28, 14, 0, tzinfo=AMS),
}
T0 = 1_800_000_000.0  # the frozen "now" of the risk context, in seconds since 1970
C = content.load_content()
# A phone number as the texts write it: 112, 113, 0800-0432, 020-261 52 75; not "113.nl".
NUMBER = re.compile(r"(?<![\w.-])(?:0\d{2,3}-\d{3,4}(?: \d{2})*|1\d{2})(?![\w-])(?!\.\w)")


# --- helpers -------------------------------------------------------------------------------
def tracker(text="...", intent="greet", slots=None, events=None, risk=None, sender="conv-1"):
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.97}, "entities": []}
    if risk is not None:
        latest["risk"] = risk
    return Tracker.from_dict({"sender_id": sender, "slots": slots or {}, "latest_message": latest,
                              "events": events or [], "paused": False, "active_loop": {},
                              "latest_action_name": "action_listen"})


def context(category, severity="high", minutes_ago=5.0):
    return {"risk_category": category, "risk_severity": severity, "risk_at": T0 - minutes_ago * 60}


def bot_event(name):
    return {"event": "bot", "text": "...", "metadata": {"utter_action": name}}


def user_event(text, intent):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


async def run(action, t):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return names(dispatcher.messages), dispatcher.messages, events


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def shown_buttons(message):
    """The buttons the young person sees under a dispatched message."""
    if message.get("response"):
        return list(C.response(message["response"]).get("buttons") or []) + list(message.get("buttons") or [])
    return list(message.get("buttons") or [])


def shown_text(message):
    if message.get("response"):
        variables = {k: v for k, v in message.items() if isinstance(v, str)}
        return content.fill(C.response(message["response"])["text"], variables)
    return message["text"]


def assert_one_set_of_buttons_under_the_last_message(messages):
    assert all(not shown_buttons(m) for m in messages[:-1]), names(messages)


@pytest.fixture
def frozen(monkeypatch):
    """Risk-context clock at T0; helplines at a chosen moment (default: a weekday afternoon)."""
    monkeypatch.setattr(risk_context, "clock", lambda: T0)
    monkeypatch.delenv(risk_context.MINUTES_ENV, raising=False)

    def at(moment):
        monkeypatch.setattr(helplines, "local_now", lambda now=None: moment if now is None else now)

    at(MOMENTS["weekday_afternoon"])
    return at


def lines_for(category, moment=None):
    return [line_id for line_id, _ in compact_choice(category, moment or MOMENTS["weekday_afternoon"])]


# --- risk context ----------------------------------------------------------------------------
def test_the_risk_context_holds_for_the_configured_time(frozen, monkeypatch):
    assert risk_context.current(tracker(slots=context("selfharm", "acute", 59))).category == "selfharm"
    assert risk_context.current(tracker(slots=context("selfharm", "acute", 61))) is None
    monkeypatch.setenv(risk_context.MINUTES_ENV, "120")
    assert risk_context.current(tracker(slots=context("selfharm", "acute", 61))).category == "selfharm"
    monkeypatch.setenv(risk_context.MINUTES_ENV, "0")
    assert risk_context.current(tracker(slots=context("selfharm", "acute", 1))) is None


@pytest.mark.parametrize("value, minutes", [("", 60.0), ("abc", 60.0), ("-5", 60.0), ("nan", 60.0),
                                            ("30", 30.0), ("1.5", 1.5), ("999999", 24 * 60.0)])
def test_the_lifetime_setting_has_a_safe_default(monkeypatch, value, minutes):
    monkeypatch.setenv(risk_context.MINUTES_ENV, value)
    assert risk_context.lifetime_minutes() == minutes


def test_no_context_without_a_handover_or_with_unreadable_slots(frozen):
    assert risk_context.current(tracker()) is None
    assert risk_context.current(tracker(slots={"risk_category": "selfharm"})) is None  # no time
    assert risk_context.current(tracker(slots={"risk_category": "selfharm", "risk_at": "gisteren"})) is None
    assert risk_context.current(tracker(slots={**context("selfharm"), "risk_category": "iets"})) is None
    assert risk_context.current(tracker(slots=context("selfharm", minutes_ago=-120))) is None  # clock far ahead
    assert risk_context.helpline_category(tracker(), default="distress") == "distress"


def test_a_less_severe_handover_keeps_the_acute_context_and_renews_its_time(frozen):
    events = risk_context.after_handover(tracker(slots=context("selfharm", "acute", 30)), "grooming", "high")
    assert slots_of(events) == {"risk_category": "selfharm", "risk_severity": "acute", "risk_at": T0}
    events = risk_context.after_handover(tracker(slots=context("grooming", "high", 30)), "selfharm", "acute")
    assert slots_of(events)["risk_category"] == "selfharm"
    events = risk_context.after_handover(tracker(slots=context("selfharm", "acute", 90)), "grooming", "high")
    assert slots_of(events)["risk_category"] == "grooming"  # the old one had expired


# --- the disclosure reply --------------------------------------------------------------------
@pytest.mark.parametrize("moment", sorted(MOMENTS))
@pytest.mark.parametrize("category", CATEGORIES)
async def test_a_disclosure_reply_is_two_short_messages_with_one_set_of_buttons(data_dir, frozen, category, moment):
    frozen(MOMENTS[moment])
    found, messages, events = await run(ActionHandover(), tracker("...", f"disclose_{category}"))
    assert found == [f"utter_handover_{category}", "utter_handover_helplines"]
    assert_one_set_of_buttons_under_the_last_message(messages)
    assert shown_buttons(messages[-1]), "buttons for the next step"
    assert any(b["payload"] == "/request_human" for b in shown_buttons(messages[-1])), "the offer of a person"
    texts = [shown_text(m) for m in messages]
    assert sum(t.count("\n") + 1 for t in texts) <= 8, texts
    numbers = NUMBER.findall("\n".join(texts))
    assert len(numbers) == len(set(numbers)), f"a number is named twice: {numbers}"
    assert not NUMBER.findall(texts[0]), "numbers only in the helplines message"
    assert messages[1]["helplines"] == compact_text(category, MOMENTS[moment])
    assert slots_of(events) == {"risk_category": category, "risk_severity": slots_of(events)["risk_severity"],
                                "risk_at": T0}


@pytest.mark.parametrize("moment", sorted(MOMENTS))
def test_the_lines_after_a_disclosure_fit_the_category_and_are_open(moment):
    now = MOMENTS[moment]
    for category in CATEGORIES:
        chosen = compact_choice(category, now)
        assert 1 <= len(chosen) <= 3 and any(s == ALWAYS for _, s in chosen), category
        assert all(s != helplines.CLOSED for _, s in chosen), category
    assert {"zelfmoordpreventie_113", "alarm_112"} <= set(lines_for("selfharm", now))
    assert "alarm_112" in lines_for("acute_danger", now) and "alarm_112" in lines_for("runaway", now)
    assert lines_for("abuse", now)[0] == "veilig_thuis"
    assert "helpwanted" in lines_for("sextortion", now)


def test_the_compact_form_is_a_parameter_and_the_default_is_unchanged(frozen):
    now = MOMENTS["night"]
    assert helplines_text("sextortion", now) != helplines_text("sextortion", now, compact=True)
    assert helplines_text("sextortion", now, compact=True) == compact_text("sextortion", now)
    assert helplines_text("selfharm", now, only_24_7=True, compact=True) == helplines_text("selfharm", now,
                                                                                           only_24_7=True)


def test_the_compact_form_keeps_a_24_7_line_within_the_limit():
    data = {"lines": {"a": {"name": "A", "contact": "1", "hours": "unknown"},
                      "b": {"name": "B", "contact": "2", "hours": "unknown"},
                      "c": {"name": "C", "contact": "3", "hours": "always", "hours_verified": True}},
            "routing": {"x": ["a", "b", "c"], "general": ["a"]}, "always_open": {"x": "c", "general": "c"}}
    assert [i for i, _ in compact_choice("x", MOMENTS["night"], data, limit=2)] == ["a", "c"]
    assert [i for i, _ in compact_choice("general", MOMENTS["night"], data, limit=1)] == ["c"]


def test_the_handover_texts_have_no_buttons_and_name_no_line():
    for category in CATEGORIES:
        response = C.response(f"utter_handover_{category}")
        assert not response.get("buttons"), category
        assert not mentioned_lines(response["text"]), category


# --- the risk context carries over ------------------------------------------------------------
def after_selfharm(text, intent, last=None, minutes_ago=5.0, **extra):
    events = [user_event("ik wil dood", "disclose_selfharm"), bot_event("utter_handover_selfharm"),
              bot_event(last or "utter_handover_helplines"), user_event(text, intent)]
    return tracker(text, intent, slots=context("selfharm", "acute", minutes_ago), events=events, **extra)


async def test_after_self_harm_a_request_for_a_person_still_names_113_and_112(data_dir, frozen):
    found, messages, _ = await run(ActionHelplines(), after_selfharm("ik wil met een mens praten", "request_human"))
    assert found == ["utter_request_human"]
    assert messages[0]["helplines"] == helplines_text("selfharm")


async def test_after_self_harm_a_helpline_question_gets_its_lines(data_dir, frozen):
    found, messages, _ = await run(ActionHelplines(), after_selfharm("welk nummer kan ik bellen", "ask_helpline"))
    assert found == ["utter_ask_helpline"] and messages[0]["helplines"] == helplines_text("selfharm")


async def test_yes_after_the_handover_is_a_request_for_a_person(data_dir, frozen):
    found, messages, _ = await run(ActionFollowup(), after_selfharm("ja", "affirm"))
    assert found == ["utter_request_human"] and messages[0]["helplines"] == helplines_text("selfharm")


async def test_no_after_the_handover_is_fine_and_keeps_the_lines(data_dir, frozen):
    found, messages, _ = await run(ActionFollowup(), after_selfharm("nee", "deny"))
    assert found == ["utter_handover_trusted_adult"] and messages[0]["helplines"] == compact_text("selfharm")


@pytest.mark.parametrize("intent, expected", [("affirm", "utter_handover_reminder"),
                                              ("deny", "utter_handover_trusted_adult")])
async def test_yes_or_no_without_a_question_after_self_harm_names_113_and_112(frozen, intent, expected):
    t = after_selfharm("ja", intent, last="utter_ask_sexting")
    found, messages, _ = await run(ActionFollowup(), t)
    assert found == [expected] and messages[0]["helplines"] == compact_text("selfharm")


async def test_distress_after_self_harm_names_113_and_112(frozen):
    found, messages, _ = await run(ActionExpressDistress(), after_selfharm("😭😭", "express_distress"))
    assert found == ["utter_express_distress"] and messages[0]["helplines"] == compact_text("selfharm")


async def test_distress_after_abuse_at_home_names_veilig_thuis(frozen):
    t = tracker("help", "express_distress", slots=context("abuse"))
    _, messages, _ = await run(ActionExpressDistress(), t)
    assert messages[0]["helplines"] == compact_text("abuse") and lines_for("abuse")[0] == "veilig_thuis"


async def test_distress_without_a_handover_gets_the_distress_lines(frozen):
    found, messages, _ = await run(ActionExpressDistress(), tracker("???", "express_distress"))
    assert found == ["utter_express_distress"] and messages[0]["helplines"] == compact_text("distress")


async def test_distress_after_the_context_expired_gets_the_distress_lines(frozen):
    t = after_selfharm("help", "express_distress", minutes_ago=61)
    _, messages, _ = await run(ActionExpressDistress(), t)
    assert messages[0]["helplines"] == compact_text("distress")


@pytest.mark.parametrize("slots, lines", [({}, "feeling_bad"), (context("selfharm", "acute"), "selfharm")])
async def test_feeling_bad_names_the_lines_open_now(frozen, slots, lines):
    found, messages, _ = await run(ActionFeelingBad(), tracker("ik voel me rot", "feeling_bad", slots=slots))
    assert found == ["utter_feeling_bad"] and messages[0]["helplines"] == compact_text(lines)


async def test_a_typed_help_after_self_harm_gets_the_help_and_the_menu_button_the_menu(frozen):
    found, messages, _ = await run(ActionHelp(), after_selfharm("help", "help"))
    assert found == ["utter_handover_reminder"] and messages[0]["helplines"] == compact_text("selfharm")
    assert any(b["payload"] == "/help" for b in shown_buttons(messages[0]))
    assert (await run(ActionHelp(), after_selfharm("/help", "help")))[0] == ["utter_help"]
    assert (await run(ActionHelp(), tracker("help", "help")))[0] == ["utter_help"]


# --- not understood and the check-in -----------------------------------------------------------
async def test_fallback_is_utter_default_normally(frozen):
    assert (await run(ActionFallback(), tracker("qwerty", "nlu_fallback")))[0] == ["utter_default"]
    assert (await run(ActionFallback(), tracker("qwerty", "nlu_fallback", risk={"check_in": False})))[0] == [
        "utter_default"]


async def test_fallback_checks_in_when_the_risk_component_asks(frozen):
    found, messages, _ = await run(ActionFallback(), tracker("ik weet niet", "nlu_fallback", risk={"check_in": True}))
    assert found == ["utter_check_in"] and messages[0]["helplines"] == compact_text("check_in")
    assert {"zelfmoordpreventie_113", "alarm_112"} <= set(lines_for("check_in", MOMENTS["night"]))
    assert [b["payload"] for b in shown_buttons(messages[0])] == ["/affirm", "/deny"]


@pytest.mark.parametrize("intent, answer", [
    ("ask_sexting", ["utter_ask_sexting"]),          # a question answered by action_answer
    ("ask_trusted_adult", ["utter_ask_trusted_adult"]),  # a question with its own response
    ("mention_topic", ["utter_mention_topic"]),
    ("no_such_intent", []),
    ("", []),
])
async def test_an_acute_word_in_a_question_gets_the_answer_and_the_safety_line(frozen, intent, answer):
    risk = {"check_in": False, "safety_line": True, "answer_intent": intent}
    found, messages, _ = await run(ActionFallback(), tracker("wat als iemand zelfmoord wil", "nlu_fallback", risk=risk))
    assert found == answer + ["utter_safety_line"] and messages[-1]["helplines"] == compact_text("check_in")
    assert_one_set_of_buttons_under_the_last_message(messages)
    assert [b["payload"] for b in shown_buttons(messages[-1])] == ["/affirm", "/request_human"]
    shown = " ".join(shown_text(m) for m in messages)
    numbers = NUMBER.findall(shown)
    assert numbers.count("113") == 1 and numbers.count("112") == 1, numbers  # each named, and only once


async def test_a_question_about_the_lines_with_an_acute_word_gets_them_with_113_and_112(frozen):
    risk = {"check_in": False, "safety_line": True, "answer_intent": "ask_helpline"}
    found, messages, _ = await run(ActionFallback(), tracker("is 113 ook als je niet dood wil?", "nlu_fallback",
                                                             risk=risk))
    assert found == ["utter_ask_helpline"] and messages[0]["helplines"] == compact_text("distress")
    assert {"zelfmoordpreventie_113", "alarm_112"} <= set(lines_for("distress", MOMENTS["night"]))


@pytest.mark.parametrize("intent, expected", [("affirm", "utter_check_in_yes"), ("deny", "utter_no_problem")])
async def test_the_safety_line_answer(frozen, intent, expected):
    events = [bot_event("utter_safety_line"), user_event("ja", intent)]
    found, _, _ = await run(ActionFollowup(), tracker("ja", intent, events=events))
    assert found == [expected]


async def test_fallback_after_self_harm_keeps_the_help_in_view(frozen):
    found, messages, _ = await run(ActionFallback(), after_selfharm("hmm", "nlu_fallback"))
    assert found == ["utter_handover_reminder"] and messages[0]["helplines"] == compact_text("selfharm")


async def test_the_check_in_action_names_113_and_112(frozen):
    found, messages, _ = await run(ActionCheckIn(), tracker())
    assert found == ["utter_check_in"] and messages[0]["helplines"] == compact_text("check_in")


@pytest.mark.parametrize("intent, expected", [("affirm", "utter_check_in_yes"), ("deny", "utter_check_in_no")])
async def test_the_check_in_answer(frozen, intent, expected):
    events = [bot_event("utter_check_in"), user_event("ja", intent)]
    found, messages, _ = await run(ActionFollowup(), tracker("ja", intent, events=events))
    assert found == [expected]
    assert messages[0].get("helplines") == (compact_text("distress") if intent == "affirm" else None)


# --- one set of buttons per turn ---------------------------------------------------------------
async def test_an_answer_with_the_nudge_shows_only_the_nudges_buttons(frozen):
    found, messages, _ = await run(ActionAnswer(), tracker("wat is sexting", "ask_sexting"))
    assert found == ["utter_ask_sexting", "utter_nudge_trusted_adult"]
    assert_one_set_of_buttons_under_the_last_message(messages)
    assert shown_text(messages[0]) == C.response("utter_ask_sexting")["text"]


async def test_a_later_answer_keeps_its_own_buttons(frozen):
    t = tracker("/ask_law", "ask_law", events=[bot_event("utter_nudge_trusted_adult")])
    found, messages, _ = await run(ActionAnswer(), t)
    assert found == ["utter_ask_law"] and shown_buttons(messages[0])


async def test_answers_that_name_helplines_get_the_lines_open_now(frozen):
    t = tracker("wat is sextortion", "ask_sextortion", events=[bot_event("utter_nudge_trusted_adult")])
    _, messages, _ = await run(ActionAnswer(), t)
    assert messages[0]["helplines"] == compact_text("sextortion")
    _, messages, _ = await run(ActionAnswer(), tracker("wat is sextortion", "ask_sextortion"))
    assert "{helplines}" not in shown_text(messages[0])  # also filled in when sent without buttons


async def test_an_unknown_intent_in_the_answer_action_is_not_silence(frozen):
    assert (await run(ActionAnswer(), tracker("...", "greet")))[0] == ["utter_default"]


def test_every_question_rule_uses_the_answer_action_and_every_answer_exists():
    rules = {}
    for path in STORIES_DIR.glob("*.yml"):
        for rule in yaml.safe_load(path.read_text()).get("rules") or []:
            steps = rule["steps"]
            rules[steps[0].get("intent")] = [s["action"] for s in steps[1:] if "action" in s]
    for intent, response in ANSWERS.items():
        assert rules[intent] == ["action_answer"] and response in C.responses, intent
    assert ANSWERS["ask_saying_no"] == "utter_ask_saying_no"  # "hoe zeg ik nee ..." gets the tips
    assert rules["tell_regret_sent_image"] == ["utter_tell_regret_sent_image"]
    assert rules["ask_send_picture"] == ["utter_ask_send_picture"]
    assert rules["share_personal_details"] == ["utter_share_personal_details"]
    assert rules["express_distress"] == ["action_express_distress"]
    assert rules["nlu_fallback"] == ["action_fallback"]
    for intent in ("tell_regret_sent_image", "ask_send_picture", "share_personal_details"):
        assert not any("handover" in action for action in rules[intent]), "no escalation"


def test_followups_after_the_hard_moments_point_to_existing_answers():
    for question in ("utter_handover_helplines", "utter_handover_reminder", "utter_check_in",
                     "utter_express_distress"):
        answers = C.followups[question]
        assert set(answers) == {"affirm", "deny"} and set(answers.values()) <= set(C.responses), question


# --- texts: no promise that a line is open, simple words ----------------------------------------
def line_mentions():
    """line id -> regexes that find it in a text: its numbers and its name."""
    found = {}
    for line_id, line in C.helplines["lines"].items():
        patterns = [re.escape(n) for n in NUMBER.findall(line["contact"])]
        name = re.sub(r"^(De |113 )", "", line["name"]).replace(" (chat)", "")
        if not name.isdigit():
            patterns.append(r"\b" + re.escape(name) + r"\b")
        found[line_id] = re.compile("|".join(f"(?<![\\w.-]){p}(?![\\w-])(?!\\.\\w)" if p[0].isdigit() else p
                                             for p in patterns), re.IGNORECASE)
    return found


MENTIONS = line_mentions()


def mentioned_lines(text):
    return {line_id for line_id, pattern in MENTIONS.items() if pattern.search(text)}


def my_responses():
    """Every text in content/responses/ except moderation.yml (the moderation flow's own texts)."""
    return {name: variants for name, variants in C.responses.items() if not C.sources[name].endswith("moderation.yml")}


@pytest.mark.parametrize("name", sorted(my_responses()))
def test_a_text_that_names_a_line_that_may_be_closed_uses_the_helplines_place(name):
    lines = C.helplines["lines"]
    for variant in C.responses[name]:
        not_24_7 = {i for i in mentioned_lines(variant["text"])
                    if not (lines[i].get("hours") == "always" and lines[i].get("hours_verified"))}
        assert not not_24_7 or "{helplines}" in variant["text"], (name, not_24_7)


@pytest.mark.parametrize("name", sorted(my_responses()))
def test_simple_words_and_no_blame(name):
    for variant in C.responses[name]:
        text = variant["text"]
        for phrase in ("eigen schuld", "waarom heb je", "had je maar", "stom", "hoe heb je dat kunnen"):
            assert phrase not in text.lower(), (name, phrase)
        for line in text.split("\n"):
            for sentence in re.split(r"(?<=[.?!:])\s+", line):
                assert len(sentence.strip("•- ").split()) <= 15, (name, sentence)


def test_the_helplines_file_has_a_short_form_for_every_line():
    data = yaml.safe_load((CONTENT_DIR / "helplines.yml").read_text(encoding="utf-8"))
    for line_id, line in data["lines"].items():
        short = line.get("short") or ""
        assert short.strip(), line_id
        assert len(NUMBER.findall(short)) == len(set(NUMBER.findall(short))), line_id
