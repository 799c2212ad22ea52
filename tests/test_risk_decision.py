"""The fitted last step of the risk decision (bot/risk/decision.py) and what stays with the rules.

Decision models with fixed weights are injected, so each test says what the decision does with a
score, not what today's weights happen to score. The shipped weights are checked for fitting this
code and the retired rounds.
"""
from __future__ import annotations

import json

import pytest

import bot.risk.detector as detector_module
from bot.risk import get_detector
from bot.risk.decision import FEATURES, WEIGHTS_FILE, DecisionModel, Signals, decision_model, parse_model
from bot.risk.detector import ACUTE_NAMES_AT
from bot.risk.disclosure import Prediction
from bot.risk.normalise import disguised
from bot.risk.rounds import round_names


def _disclosure(p, category, acute=0.0):
    return Prediction(p, acute, category).as_dict()


def _model(intercept, **weights):
    return DecisionModel({f: weights.get(f, 0.0) for f in FEATURES}, intercept, hand_over_at=0.3, check_in_at=0.2)


@pytest.fixture
def decide_with(monkeypatch):
    def use(model):
        monkeypatch.setattr(detector_module, "decision_model", lambda: model)
    return use


SURE_YES, SURE_NO, UNSURE = _model(10.0), _model(-10.0), _model(-1.2)  # UNSURE scores 0.23: the check-in band


def test_the_decision_hands_over_what_the_rules_let_go(decide_with):
    text = "het is weer gebeurd en ik durf niks te zeggen"
    disclosure = _disclosure(0.2, "abuse")
    fell_back = dict(intent="disclose_abuse", confidence=0.3, disclosure=disclosure, fallback=True)
    assert not get_detector().assess(text, **fell_back, decide=False).escalate
    decide_with(SURE_YES)
    result = get_detector().assess(text, **fell_back)
    assert result.escalate and result.source == "decision" and result.category == "abuse"
    assert result.severity == "high" and result.decision_score == pytest.approx(1.0, abs=1e-3)


def test_the_decision_never_adds_a_handover_to_what_the_classifier_read_as_something_else(decide_with):
    """A topic question the classifier read ("wat moet je doen als ...") stays a question."""
    decide_with(SURE_YES)
    result = get_detector().assess("wat moet je doen als iemand dreigt je foto te delen", "ask_sextortion", 0.8,
                                   _disclosure(0.2, "sextortion"))
    assert not result.escalate and not result.check_in and result.decision_score is not None
    # The same message, read by the classifier as a disclosure under its threshold, may be handed over.
    assert get_detector().assess("wat moet je doen als iemand dreigt je foto te delen", "disclose_sextortion", 0.4,
                                 _disclosure(0.2, "sextortion"), top_intent="disclose_sextortion").escalate


def test_the_decision_may_add_a_handover_the_detector_read_with_the_earlier_turns(decide_with):
    """The classifier never sees the earlier turns: its "affirm" for "ja, bij mij" does not stop it."""
    decide_with(SURE_YES)
    args = ("ja, bij mij", "disclose_abuse", 0.05)
    low = _disclosure(0.3, "image_shared")
    assert not get_detector().assess(*args, low, top_intent="affirm").escalate
    result = get_detector().assess(*args, {**low, "context_used": True}, top_intent="affirm")
    assert result.escalate and result.source == "decision" and result.category == "image_shared"


def test_a_handover_the_detector_reads_as_acute_is_named_so_whatever_the_classifier_named_it(decide_with):
    """The classifier names it image_shared (no 112); the detector reads danger now: 112 it is."""
    decide_with(SURE_YES)
    text = "die man staat bij school ik zie hem bij het hek hij zwaait naar mij"
    acute = ("disclose_image_shared", 0.7, _disclosure(0.99, "acute_danger", acute=0.4))
    result = get_detector().assess(text, *acute)
    assert result.escalate and result.category == "acute_danger" and result.severity == "acute"
    assert 0.2 < ACUTE_NAMES_AT <= 0.4
    # The rules' verdict, which the decision (and its acute guard) reads, keeps the classifier's name.
    assert get_detector().assess(text, *acute, decide=False).category == "image_shared"
    # Under ACUTE_NAMES_AT, or with a detector that reads another category, the classifier's name stays.
    for disclosure in (_disclosure(0.99, "acute_danger", acute=0.2), _disclosure(0.99, "grooming", acute=0.6)):
        result = get_detector().assess(text, "disclose_image_shared", 0.7, disclosure)
        assert result.escalate and result.category == "image_shared" and result.severity == "high"


def test_a_handover_the_decision_turns_down_stays_turned_down_whatever_the_detector_names(decide_with):
    """Naming comes after the decision: a turned-down handover is not made acute (and kept by the guard)."""
    decide_with(SURE_NO)
    result = get_detector().assess("wat gebeurt er als je wegloopt, krijg je straf? ik ben het niet van plan",
                                   "disclose_runaway", 0.8, _disclosure(0.9, "selfharm", acute=0.5))
    assert not result.escalate and not result.must_check_in


def test_a_handover_the_decision_adds_is_named_acute_when_the_detector_reads_it_so(decide_with):
    """A question form the rules let go; the decision hands it over, named as the classifier reads it
    (grooming), unless the detector reads self-harm."""
    decide_with(SURE_YES)
    text = "wat als je een plek hebt gevonden waar niemand je vindt"
    for p_acute, category, severity in ((0.35, "selfharm", "acute"), (0.1, "grooming", "high")):
        args = (text, "disclose_grooming", 0.7, _disclosure(0.4, "selfharm", acute=p_acute))
        assert not get_detector().assess(*args, decide=False).escalate
        result = get_detector().assess(*args)
        assert result.escalate and result.source == "decision", result
        assert (result.category, result.severity) == (category, severity)


def test_a_confident_disclosure_intent_names_the_category_of_a_decided_handover(decide_with):
    decide_with(SURE_YES)
    result = get_detector().assess("hij blijft maar appen", "disclose_grooming", 0.45, _disclosure(0.3, "abuse"))
    assert result.escalate and result.category == "abuse"  # the intent is under 0.5: the detector names it
    result = get_detector().assess("hij blijft maar appen", "disclose_grooming", 0.6, _disclosure(0.3, "abuse"))
    assert result.escalate and result.category == "grooming"


def test_the_decision_turns_down_a_handover_it_reads_as_no_disclosure(decide_with):
    args = ("hij wil dat ik naar hem toe kom", "disclose_grooming", 0.9, _disclosure(0.9, "grooming"))
    assert get_detector().assess(*args, decide=False).escalate
    decide_with(SURE_NO)
    result = get_detector().assess(*args)
    assert not result.escalate and not result.check_in and not result.must_check_in
    assert result.source == "decision"
    decide_with(UNSURE)
    unsure = get_detector().assess(*args)
    assert not unsure.escalate and unsure.check_in and not unsure.must_check_in


@pytest.mark.parametrize("intent, category", [("disclose_selfharm", "selfharm"),
                                              ("disclose_acute_danger", "acute_danger")])
def test_a_turned_down_handover_for_self_harm_or_danger_now_still_names_113_and_112(decide_with, intent, category):
    """The classifier fell back; the detector read self-harm or danger now."""
    args = ("het hoeft allemaal niet meer", intent, 0.3, _disclosure(0.7, category, acute=0.7))
    rules = get_detector().assess(*args, fallback=True, decide=False)
    assert rules.escalate and rules.severity == "acute"
    decide_with(SURE_NO)
    result = get_detector().assess(*args, fallback=True)
    assert not result.escalate and result.must_check_in and result.check_in


@pytest.mark.parametrize("intent, category", [("disclose_selfharm", "selfharm"),
                                              ("disclose_acute_danger", "acute_danger")])
def test_the_decision_keeps_an_acute_handover_the_classifier_reads_as_acute(decide_with, intent, category):
    decide_with(SURE_NO)
    result = get_detector().assess("het hoeft allemaal niet meer", intent, 0.7, _disclosure(0.4, category))
    assert result.escalate and result.severity == "acute" and result.category == category
    assert result.decision_score == pytest.approx(0.0, abs=1e-3)  # the score is kept for the case page
    # Read as something else by the classifier, the same handover is the decision's to turn down.
    other = get_detector().assess("het hoeft allemaal niet meer", intent, 0.4, _disclosure(0.7, category, acute=0.7),
                                  top_intent="feeling_bad")
    assert not other.escalate and other.must_check_in


@pytest.mark.parametrize("text", ["ik wil dood", "ik wil zelfmoord plegen"])
def test_acute_words_stay_with_the_rules(decide_with, text):
    decide_with(SURE_NO)
    result = get_detector().assess(text, "disclose_selfharm", 0.9, _disclosure(0.9, "selfharm"))
    assert result.escalate and result.severity == "acute" and result.decision_score is None


def test_a_risk_word_hidden_on_purpose_stays_with_the_rules(decide_with):
    decide_with(SURE_NO)
    text = "1k w0rd 4fg3p3rst m3t m1jn nud3s"
    result = get_detector().assess(text, "disclose_sextortion", 0.2, _disclosure(0.55, "sextortion"), fallback=True)
    assert result.escalate and result.category == "sextortion" and result.decision_score is None
    plain = get_detector().assess("ik word afgeperst met mijn nudes", "disclose_sextortion", 0.2,
                                  _disclosure(0.55, "sextortion"), fallback=True)
    assert not plain.escalate and plain.decision_score is not None


def test_an_acute_word_hidden_on_purpose_hands_over_whatever_the_detector_reads():
    """A figure of speech with an acute word gets the check-in; the same word hidden on purpose is meant."""
    low = ("out_of_scope", 0.9, _disclosure(0.1, "selfharm", acute=0.1))
    plain = get_detector().assess("ik heb mezelf gesneden", *low, decide=False)
    assert not plain.escalate and plain.must_check_in
    hidden = get_detector().assess("1k h3b m3z3lf g3sn3d3n", *low, decide=False)
    assert hidden.escalate and hidden.severity == "acute" and hidden.category == "selfharm"


@pytest.mark.parametrize("text, hidden", [
    ("h3lp ik w0rd achtervolgd", True), ("e.x.p.o.s.e.d ben ik", True), ("hij noemt me een sl*t", True),
    ("ik ben 13jr", False), ("covid19 en 2e keer", False), ("help!", False), ("ja. nee. weet niet", False),
])
def test_disguised_words_are_recognised(text, hidden):
    assert disguised(text) is hidden


def test_without_the_detector_the_rules_decide_alone(decide_with):
    decide_with(SURE_NO)
    result = get_detector().assess("er is iets gebeurd met die jongen van snap", "disclose_grooming", 0.95)
    assert result.escalate and result.source == "intent" and result.decision_score is None
    assert get_detector().assess("ik word afgeperst met mijn naaktfoto").escalate  # the lexicon alone


def test_without_weights_the_rules_decide_alone(decide_with):
    decide_with(None)
    args = ("hij wil dat ik naar hem toe kom", "disclose_grooming", 0.9, _disclosure(0.9, "grooming"))
    assert get_detector().assess(*args).as_dict() == get_detector().assess(*args, decide=False).as_dict()


def test_the_signals_are_what_the_rules_read(decide_with):
    decide_with(None)
    disclosure = {**_disclosure(0.8, "abuse", acute=0.1), "p_self": 0.6, "context_used": True}
    result = get_detector().assess("ik ben bang voor mijn stiefvader?", "disclose_abuse", 0.7, disclosure,
                                   top_intent="ask_helpline")
    s = result.signals
    assert (s.p, s.p_acute, s.p_self, s.mass) == (0.8, 0.1, 0.6, 0.7)
    assert s.question_form and s.about_self and s.context_used and not s.fallback and not s.acute_intent
    assert s.top_intent == "ask_helpline" and s.rule_escalates == result.escalate
    assert "signals" not in result.as_dict()  # never in the parse data


def test_a_score_follows_its_weights():
    signals = Signals(0.9, 0.0, 1.0, 0.0, False, False, False, False, False, False, "", False)
    assert _model(0.0, logit_p=1.0).score(signals) == pytest.approx(0.9, abs=1e-6)
    assert _model(0.0, logit_p=-1.0).score(signals) == pytest.approx(0.1, abs=1e-6)
    assert _model(-1000.0).score(signals) == pytest.approx(0.0)  # no overflow


def test_the_shipped_weights_fit_this_code_and_the_retired_rounds():
    model = decision_model()
    assert model is not None and set(model.weights) == set(FEATURES)
    data = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    # Retiring a round changes the detector the weights were fitted for: refit (python -m bot.fit_decision).
    from bot.config import RETIRED_DIR

    assert sorted(data["provenance"]["rounds"]) == sorted(round_names(RETIRED_DIR))


@pytest.mark.parametrize("broken", [
    "not json", json.dumps({"features": ["logit_p"], "weights": [1.0], "intercept": 0, "hand_over_at": 0.3,
                            "check_in_at": 0.2}),
    json.dumps({"features": list(FEATURES), "weights": [0.0] * len(FEATURES), "intercept": 0, "hand_over_at": 0.3,
                "check_in_at": 0.5}),
    json.dumps({"features": list(FEATURES), "weights": [float("nan")] * len(FEATURES), "intercept": 0,
                "hand_over_at": 0.3, "check_in_at": 0.2}),
])
def test_broken_weights_leave_the_rules_in_charge(tmp_path, broken):
    path = tmp_path / "weights.json"
    path.write_text(broken, encoding="utf-8")
    assert decision_model.__wrapped__(path) is None
    with pytest.raises(ValueError):
        parse_model(broken)
    assert decision_model.__wrapped__(tmp_path / "missing.json") is None


def test_the_fit_reports_what_the_detector_decides(decide_with):
    """bot.fit_decision scores the rounds from stored signals; it must decide as assess() does."""
    from bot.fit_decision import _verdicts, rule_verdict

    cases = [("hij wil dat ik naar hem toe kom", "disclose_grooming", 0.9, _disclosure(0.9, "grooming")),
             ("het hoeft allemaal niet meer", "disclose_selfharm", 0.7, _disclosure(0.4, "selfharm")),
             ("het is weer gebeurd", "feeling_bad", 0.8, _disclosure(0.2, "abuse")),
             ("het hoeft niet meer", "disclose_selfharm", 0.4, _disclosure(0.7, "selfharm", 0.7), False, "feeling_bad"),
             ("ik wil dood", "disclose_selfharm", 0.9, _disclosure(0.9, "selfharm"))]
    for model in (SURE_YES, SURE_NO, UNSURE, _model(0.0, logit_p=1.0, about_self=-0.5)):
        decide_with(model)
        rules = [get_detector().assess(*case, decide=False) for case in cases]
        rows = {"X": [[r.signals.features()[f] for f in FEATURES] if r.signals else None for r in rules],
                "rules": [rule_verdict(r) for r in rules]}
        decided = [get_detector().assess(*case) for case in cases]
        assert _verdicts(model, rows) == [(d.escalate, d.check_in or d.must_check_in) for d in decided]
