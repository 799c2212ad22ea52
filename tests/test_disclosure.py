"""The disclosure detector (bot/risk/disclosure.py) and how the risk decision uses it.

No trained Rasa model is needed: the detector is trained here on a fixed, seeded sample of the NLU
data (at most SAMPLE examples per intent) and scored on a disjoint held-out sample.
"""
from __future__ import annotations

import os
import random
from collections import defaultdict

import numpy as np
import pytest
import yaml

os.environ["HF_HUB_OFFLINE"] = "1"  # the encoder ships its weights: nothing may be downloaded

from bot.config import NLU_DIR  # noqa: E402
from bot.nlu.risk_component import ANSWER_SURE  # noqa: E402
from bot.risk import get_detector  # noqa: E402
from bot.risk.detector import (  # noqa: E402
    ACUTE_WORD_NEEDS,
    CHECK_IN_AT,
    ESCALATE_AGAINST_CLASSIFIER_AT,
    ESCALATE_AT,
    LEXICON_NEEDS,
    LEXICON_VETO_MASS,
    SAFETY_LINE_BELOW,
)
from bot.risk.disclosure import DisclosureDetector, Prediction, _windows  # noqa: E402

SAMPLE = 70
HELD_OUT = 25
# Expected calibration error (10 bins) on the held-out sample: measured 0.028 with this sample
# (0.013 out-of-fold on the full NLU data, 0.016 on tests/data/holdout_*.yml); 0.10 leaves room
# for the NLU data to change.
ECE_BOUND = 0.10


def _nlu_examples():
    examples = []
    for path in sorted(NLU_DIR.rglob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" in block:
                for line in (block.get("examples") or "").splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        examples.append((line[2:].strip(), block["intent"]))
    return examples


def _calibration_error(p, y):
    """Expected calibration error over 10 equal-width bins."""
    bins = np.minimum((p * 10).astype(int), 9)
    return sum((bins == b).mean() * abs(p[bins == b].mean() - y[bins == b].mean())
               for b in range(10) if (bins == b).any())


@pytest.fixture(scope="module")
def split():
    by_intent = defaultdict(list)
    for text, intent in _nlu_examples():
        by_intent[intent].append(text)
    rng = random.Random(42)
    train, held_out = [], []
    for intent in sorted(by_intent):
        texts = sorted(by_intent[intent])
        rng.shuffle(texts)
        train += [(t, intent) for t in texts[:SAMPLE]]
        held_out += [(t, intent) for t in texts[SAMPLE:SAMPLE + HELD_OUT]]
    return train, held_out


MONEY_CATEGORIES = ("sextortion", "exploitation")


@pytest.fixture(scope="module")
def detector(split):
    train, _ = split
    return DisclosureDetector(augment=200).fit([t for t, _ in train], [i for _, i in train])


def test_outputs_are_probabilities(detector):
    texts = ["hoi", "ik wil dood", "hij heeft mijn naaktfoto's en wil geld", "", "wat is grooming?", "😭😭"]
    for prediction in detector.predict(texts):
        assert 0.0 <= prediction.p_acute <= prediction.p <= 1.0
        assert prediction.category is not None


def test_disclosures_score_above_chat(detector):
    assert detector.assess("hij dreigt mijn naaktfoto's te delen als ik niet betaal").p >= ESCALATE_AT
    assert detector.assess("ik heb zin in pizza vanavond").p < CHECK_IN_AT


def test_calibrated_on_held_out_examples(detector, split):
    _, held_out = split
    p = np.array([x.p for x in detector.predict([t for t, _ in held_out])])
    y = np.array([i.startswith("disclose_") for _, i in held_out], dtype=float)
    ece = _calibration_error(p, y)
    assert ece <= ECE_BOUND, ece


def test_context_makes_a_fragment_count(detector):
    context = ["ik moet je iets vertellen", "hij heeft foto's van me"]
    with_context = detector.assess("en nu wil hij geld", context)
    # The story names a money category, not the fragment's. An NLU-only detector has named this one
    # exploitation since the contrast examples of round 20 (more loverboy money lines); the shipped
    # detector, which also learns from the retired rounds, names it sextortion (reports/risk_blind_round21.md).
    assert with_context.p >= ESCALATE_AT and with_context.category in MONEY_CATEGORIES, with_context
    assert with_context.context_used
    # Chat before it adds nothing, and chat after chat stays chat.
    assert not detector.assess("en nu wil hij geld", ["hoi", "ik heb een nieuwe fiets"]).context_used
    assert detector.assess("zin in", ["hoi", "ik ga dit weekend naar de film"]).p < CHECK_IN_AT


def test_a_short_reply_to_a_topic_question_is_read_with_it(detector):
    """ "ja, bij mij" means nothing alone; after a question about a topic it is that disclosure."""
    for question, reply, category in (("hoe krijg je een naaktfoto weer offline", "ja, bij mij", "image_shared"),
                                      ("wat is een loverboy", "ik denk dat ik er een heb", "exploitation")):
        answer = detector.assess(reply, [question])
        assert answer.context_used and answer.p >= ESCALATE_AT and answer.category == category, answer
    question = ["wat moet je doen als iemand je naaktfoto doorstuurt"]
    # A thank-you after the same question, or a reply after chat, stays what it is.
    assert detector.assess("ok dankjewel", question).p < CHECK_IN_AT
    assert not detector.assess("ja, bij mij", ["hoi", "heb jij ook zin in het weekend"]).context_used


def _reads_with_context(detector, monkeypatch, alone, joined, before, turn="wat doe je als je foto rondgaat",
                        text="ja, bij mij"):
    """The detector's three readings (the message alone, with the turn before, that turn alone), fixed."""
    monkeypatch.setattr(detector, "read", lambda texts, context=(): [alone, joined, before])
    return detector._assess(text, [turn])


def test_the_answer_reading_needs_a_short_answer_to_a_question_that_is_no_disclosure(detector, monkeypatch):
    joined = Prediction(0.9, 0.0, "image_shared")
    # Alone 0.6 and the question 0.3: too little gain to complete it, yet together they are a disclosure.
    assert _reads_with_context(detector, monkeypatch, Prediction(0.6, 0.0, "exploitation"), joined,
                               Prediction(0.3, 0.0, "image_shared")).category == "image_shared"
    # The same readings after a statement ("ben weer te laat" / "de leiding gaat me afmaken lol"): no answer.
    assert not _reads_with_context(detector, monkeypatch, Prediction(0.6, 0.0, "exploitation"), joined,
                                   Prediction(0.3, 0.0, "image_shared"), turn="ben weer te laat",
                                   text="de leiding gaat me afmaken lol").context_used
    # A long message is no answer.
    assert not _reads_with_context(detector, monkeypatch, Prediction(0.6, 0.0, "exploitation"), joined,
                                   Prediction(0.3, 0.0, "image_shared"),
                                   text="ja bij mij en toen ging ik naar school en daarna naar huis").context_used
    # Together no disclosure: the reply stays alone.
    weak = Prediction(0.45, 0.0, "image_shared")
    assert not _reads_with_context(detector, monkeypatch, Prediction(0.3, 0.0, "exploitation"), weak,
                                   Prediction(0.1, 0.0, "image_shared")).context_used
    # After a disclosure (already handed over) an answer is not read as a new one.
    assert not _reads_with_context(detector, monkeypatch, Prediction(0.1, 0.0, "exploitation"), joined,
                                   Prediction(0.9, 0.0, "image_shared")).context_used


def test_the_model_pickles_without_its_encoder(detector):
    import pickle

    copy = pickle.loads(pickle.dumps(detector))
    assert copy._encoder is None
    assert copy.predict(["ik wil dood"])[0].p == pytest.approx(detector.predict(["ik wil dood"])[0].p, abs=1e-6)


@pytest.fixture(scope="module")
def with_meaning(split):
    train, _ = split
    return DisclosureDetector(augment=200, meaning_weight=0.3).fit([t for t, _ in train], [i for _, i in train])


def test_the_hidden_layer_is_calibrated_with_the_linear_reading(with_meaning, split):
    """The hidden layer's logit joins the linear score before calibration, so P stays a probability
    that means what it says on examples neither saw."""
    _, held_out = split
    assert with_meaning.meaning is not None
    p = np.array([x.p for x in with_meaning.predict([t for t, _ in held_out])])
    y = np.array([i.startswith("disclose_") for _, i in held_out], dtype=float)
    ece = _calibration_error(p, y)
    assert ece <= ECE_BOUND, ece
    assert with_meaning.assess("hij dreigt mijn naaktfoto's te delen als ik niet betaal").p >= ESCALATE_AT
    assert with_meaning.assess("ik heb zin in pizza vanavond").p < CHECK_IN_AT


def test_the_hidden_layer_reads_the_whole_message_not_each_window(with_meaning, monkeypatch):
    """A long message's windows are read by the linear regression; the hidden layer's reading of the
    whole message is added to each of them (a hidden layer per window added noise to the best of many)."""
    story = ("vandaag was school echt saai en daarna ging ik voetballen met mn vrienden op het veld, "
             "het was koud maar wel leuk, toen gingen we patat halen bij de snackbar en daarna naar huis")
    items = [(story,), *[(w,) for w in _windows(story)]]
    assert len(items) > 2
    seen = {}
    real = DisclosureDetector._predict

    def spy(self, predicted, meaning_of=None):
        seen["meaning_of"] = list(meaning_of)
        return real(self, predicted, meaning_of)

    monkeypatch.setattr(DisclosureDetector, "_predict", spy)
    with_meaning.read([story], ["hoi"])
    windows = len(items) - 1
    # the message, its windows (all read with the message's hidden layer), the message with its context
    # and the context alone (each its own).
    assert seen["meaning_of"] == [0] * (1 + windows) + [1 + windows, 2 + windows]


def test_a_detector_without_the_hidden_layer_still_reads(detector):
    """Models trained before the hidden layer (no `meaning` attribute) keep their linear reading."""
    import pickle

    old = pickle.loads(pickle.dumps(detector))
    del old.meaning
    assert old.predict(["ik wil dood"])[0].p == pytest.approx(detector.predict(["ik wil dood"])[0].p, abs=1e-6)


# --- the decision in bot/risk/detector.py --------------------------------------------------------
# Tests of one rule pass decide=False: the fitted decision (bot/risk/decision.py, tested in
# tests/test_risk_decision.py) weighs the rules' verdict with the other signals after them.

def _disclosure(p, category, acute=0.0):
    return Prediction(p, acute, category).as_dict()


def test_the_fallback_no_longer_hides_a_disclosure():
    # The classifier gave up (nlu_fallback, disclosure mass 0.3): today's rule handed nothing over.
    text = "ik weet niet hoe ik het moet zeggen maar het gebeurt elke week weer"
    assert not get_detector().assess(text, "disclose_abuse", 0.3).escalate
    result = get_detector().assess(text, "disclose_abuse", 0.3, _disclosure(0.9, "abuse"), fallback=True)
    assert result.escalate and result.category == "abuse" and result.source == "detector"


def test_the_detector_names_the_category_when_the_classifier_fell_back():
    result = get_detector().assess("ik ga niet meer terug na het weekend", "disclose_grooming", 0.55,
                                   _disclosure(0.92, "runaway"), fallback=True)
    assert result.escalate and result.category == "runaway"


def test_a_confident_classifier_still_names_the_category():
    result = get_detector().assess("hij wil dat ik naar hem toe kom", "disclose_grooming", 0.9,
                                   _disclosure(0.9, "runaway"))
    assert result.escalate and result.category == "grooming"


def test_a_classifier_sure_of_another_intent_needs_a_surer_detector():
    detector = get_detector()
    assert not detector.assess("ik ga dit weekend naar mijn vader", "disclose_runaway", 0.05,
                               _disclosure(0.75, "runaway"), decide=False).escalate
    assert detector.assess("ik ga dit weekend naar mijn vader en kom nooit meer terug", "disclose_runaway", 0.05,
                           _disclosure(0.9, "runaway"), decide=False).escalate


def _with_context(p, category, acute=0.0):
    return {**_disclosure(p, category, acute), "context_used": True}


def test_a_story_read_with_its_earlier_turns_names_its_own_category():
    """The classifier reads only the fragment ("en nu wil hij geld"); the detector read the whole story."""
    result = get_detector().assess("en nu wil hij geld", "disclose_acute_danger", 0.9,
                                   _with_context(0.95, "sextortion"), decide=False)
    assert result.escalate and result.category == "sextortion" and result.severity == "high"
    # Read alone, the confident classifier names it, as before.
    assert get_detector().assess("en nu wil hij geld", "disclose_acute_danger", 0.9,
                                 _disclosure(0.95, "sextortion"), decide=False).category == "acute_danger"


def test_danger_now_in_a_fragment_keeps_113_and_112_when_the_detector_also_reads_it():
    result = get_detector().assess("en nu staat hij hier", "disclose_acute_danger", 0.9,
                                   _with_context(0.95, "sextortion", acute=0.4), decide=False)
    assert result.escalate and result.category == "acute_danger" and result.severity == "acute"


def test_a_classifier_sure_of_another_intent_does_not_veto_a_reply_read_with_its_question():
    args = ("ja, bij mij", "disclose_abuse", 0.05)
    assert not get_detector().assess(*args, _disclosure(0.7, "image_shared"), decide=False).escalate
    result = get_detector().assess(*args, _with_context(0.7, "image_shared"), decide=False)
    assert result.escalate and result.category == "image_shared"


@pytest.mark.parametrize("text", ["hoe pleeg je zelfmoord", "ik wil dood", "is zelfbeschadiging erg?"])
def test_acute_words_always_get_113_and_112(text):
    detector = get_detector()
    result = detector.assess(text, "ask_helpline", 0.9, _disclosure(ACUTE_WORD_NEEDS + 0.1, "selfharm"))
    assert result.escalate and result.severity == "acute"
    # Both models read no disclosure at all: the check-in (it names 113 and 112) instead of a handover,
    # or, for a question the detector is sure of, the answer with the safety line (113 and 112 too).
    result = detector.assess(text, "feeling_bad", 0.9, _disclosure(0.01, "selfharm"))
    assert not result.escalate and result.must_check_in and result.check_in and result.category == "selfharm"
    result = detector.assess(text, "ask_helpline", 0.9, _disclosure(0.01, "selfharm"), answer_intent="ask_helpline")
    assert not result.escalate and result.safety_line
    assert not result.check_in and not result.must_check_in
    # Also when the classifier is unsure but found no disclosure intent ("disclose_selfharm" at 0.3).
    unsure = detector.assess(text, "disclose_selfharm", 0.3, _disclosure(ACUTE_WORD_NEEDS - 0.05, "selfharm"))
    assert not unsure.escalate and unsure.must_check_in
    # ... unless the classifier or P(acute) says it is a disclosure, or the detector is not there.
    assert detector.assess(text, "disclose_selfharm", 0.9, _disclosure(0.01, "selfharm")).escalate
    assert detector.assess(text, "ask_helpline", 0.9, _disclosure(0.01, "selfharm", acute=0.9)).escalate
    # A word the models cannot read (the classifier fell back; a word the detector never saw, such as
    # an editor's new code word) hands over.
    assert detector.assess(text, "ask_helpline", 0.3, _disclosure(0.01, "selfharm"), fallback=True).escalate
    matched_word = "zelfbeschadiging" if "zelfbeschadiging" in text else "zelfmoord" if "zelfmoord" in text else "dood"
    unread = {**_disclosure(0.01, "selfharm"), "unknown": [matched_word]}
    assert detector.assess(text, "ask_helpline", 0.9, unread).escalate
    # Another word it never saw (a typo beside the risk word) does not matter: it knows the risk word.
    assert not detector.assess(text, "ask_helpline", 0.9, {**_disclosure(0.01, "selfharm"), "unknown": ["xq"]}).escalate
    assert detector.assess(text).escalate  # the fail-safe path: the lexicon alone


def test_the_detector_counts_the_words_it_never_saw(detector):
    assert detector.assess("ik wil dood").unknown == []
    assert len({"paarse", "pinguin", "zwartbes"} & set(detector.assess("code paarse pinguin zwartbes").unknown)) >= 2


def test_a_long_run_of_one_letter_reads_as_the_word_the_detector_knows(detector):
    # The normaliser leaves two letters of a run ("weggggg" -> "wegg"); the detector knows "weg".
    assert "weg" in detector.words.vocabulary_ and "wegg" not in detector.words.vocabulary_
    assert detector.assess("ik ben weggggg").unknown == []
    assert detector.assess("ik ben weggggg").p == pytest.approx(detector.assess("ik ben weg").p)


def test_a_risk_word_the_detector_reads_as_no_disclosure_does_not_hand_over():
    detector = get_detector()
    text = "ik werd vorig jaar afgeperst met een foto maar dat is opgelost"
    assert detector.assess(text).escalate  # the lexicon alone (Rasa down): handed over, as always
    assert not detector.assess(text, "tell_safe_step", 0.8, _disclosure(0.05, "sextortion"), decide=False).escalate
    assert detector.assess(text, "tell_safe_step", 0.8, _disclosure(0.4, "sextortion"), decide=False).escalate


def test_a_risk_word_loses_only_when_both_models_read_no_disclosure():
    """The holdout's "iemand chanteert me met mn nudes wat moet ik doen": the detector, retrained with
    round 25, read P 0.29 (under LEXICON_NEEDS), the classifier disclose_sextortion at 0.44."""
    detector = get_detector()
    text = "iemand chanteert me met mn nudes wat moet ik doen"
    low = _disclosure(LEXICON_NEEDS - 0.01, "sextortion")
    leaning = detector.assess(text, "disclose_sextortion", LEXICON_VETO_MASS + 0.1, low, decide=False)
    assert leaning.escalate and leaning.category == "sextortion"
    assert not detector.assess(text, "disclose_sextortion", LEXICON_VETO_MASS - 0.1, low, decide=False).escalate


def test_a_how_to_question_stays_a_question():
    detector = get_detector()
    question = "wat moet je doen als iemand je naaktfoto's doorstuurt?"
    result = detector.assess(question, "disclose_image_shared", 0.6, _disclosure(0.9, "image_shared"), decide=False)
    assert not result.escalate and result.general_question
    happening = detector.assess("wat moet ik doen, hij stuurt nu mijn naaktfoto's door?", "disclose_image_shared",
                                0.4, _disclosure(0.9, "image_shared"), fallback=True, decide=False)
    assert happening.escalate


def test_unsure_asks_a_check_in_question():
    # The classifier is sure it is something else; the detector is between unsure and clear.
    unsure = (CHECK_IN_AT + ESCALATE_AGAINST_CLASSIFIER_AT) / 2
    result = get_detector().assess("het gebeurde gisteren weer", "feeling_bad", 0.6, _disclosure(unsure, "abuse"),
                                   decide=False)
    assert not result.escalate and result.check_in
    below = get_detector().assess("het gebeurde gisteren weer", "feeling_bad", 0.6,
                                  _disclosure(CHECK_IN_AT - 0.05, "abuse"), decide=False)
    assert not below.escalate and not below.check_in


def test_a_disclosure_intent_the_detector_rejects_outright_is_not_handed_over():
    # P(about me) as the trained detector reads this message (0.60); the fitted decision weighs it, so the
    # test does not leave it at the 1.0 of a model without the who-and-when regression.
    rejected = {**_disclosure(0.01, "abuse"), "p_self": 0.6}
    assert not get_detector().assess("mijn begeleider snapt me niet", "disclose_abuse", 0.6, rejected).escalate


@pytest.mark.parametrize("intent", ["disclose_selfharm", "disclose_acute_danger"])
def test_an_acute_disclosure_intent_is_never_vetoed(intent):
    """Self-harm and danger now: the classifier being right matters more than two models agreeing."""
    result = get_detector().assess("tot nooit meer", intent, 0.6, _disclosure(0.0, "selfharm"), decide=False)
    assert result.escalate and result.severity == "acute"
    # The fitted decision may turn the handover down; the check-in still names 113 and 112.
    decided = get_detector().assess("tot nooit meer", intent, 0.6, _disclosure(0.0, "selfharm"))
    assert decided.escalate or decided.must_check_in


def test_without_the_model_the_lexicon_path_is_unchanged():
    detector = get_detector()
    assert detector.assess("ik wil dood").escalate
    assert not detector.assess("het gebeurde gisteren weer").escalate
    assert detector.assess("er is iets gebeurd met die jongen van snap", "disclose_grooming", 0.95).source == "intent"


# --- inside Rasa, without a trained model ---------------------------------------------------------

def test_the_components_hand_over_a_fragment_the_classifier_fell_back_on(detector):
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.disclosure_component import DisclosureComponent
    from bot.nlu.risk_component import RiskDetectorComponent

    ranking = [{"name": "nlu_fallback", "confidence": 0.35}, {"name": "out_of_scope", "confidence": 0.3},
               {"name": "disclose_sextortion", "confidence": 0.2}, {"name": "feeling_bad", "confidence": 0.15}]
    message = Message(data={"text": "en nu wil hij geld", "intent": dict(ranking[0]), "intent_ranking": ranking,
                            "metadata": {"context": ["ik moet je iets vertellen", "hij heeft foto's van me"]}})
    DisclosureComponent({}, None, None, detector).process([message])
    assert message.get("disclosure")["context_used"]
    RiskDetectorComponent().process([message])
    risk = message.get("risk")
    assert risk["escalate"] and risk["category"] in MONEY_CATEGORIES and risk["source"] == "detector"
    assert message.get("intent")["name"] == f"disclose_{risk['category']}"  # the dialogue answers the category


def _risk_of(text, ranking, disclosure):
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.risk_component import RiskDetectorComponent

    message = Message(data={"text": text, "intent": dict(ranking[0]), "intent_ranking": ranking,
                            "disclosure": disclosure})
    RiskDetectorComponent().process([message])
    return message.get("risk"), message.get("intent")["name"]


def test_an_acute_word_that_is_no_disclosure_becomes_the_check_in():
    ranking = [{"name": "feeling_bad", "confidence": 0.9}, {"name": "out_of_scope", "confidence": 0.05}]
    risk, intent = _risk_of("die toets was echt zelfmoord", ranking, _disclosure(0.01, "selfharm"))
    assert not risk["escalate"] and risk["check_in"] and risk["must_check_in"] and not risk["safety_line"]
    assert intent == "nlu_fallback"  # action_fallback then asks the check-in


@pytest.mark.parametrize("top, p, line", [
    ("ask_trusted_adult", 0.01, True),   # a how-to question the detector is sure of: it stays a question
    ("out_of_scope", 0.01, True),
    ("mention_topic", SAFETY_LINE_BELOW - 0.01, True),
    ("ask_trusted_adult", SAFETY_LINE_BELOW, False),  # the detector is unsure: the check-in
    ("express_distress", 0.01, False),  # distress keeps the question "Ben je nu veilig?"
    ("affirm", 0.01, False),
    ("ask_saying_no", 0.01, False),  # "hoe help je iemand die dood wil" read as saying no to a nude request
    ("tell_safe_step", 0.01, False),  # "mn leven is voorbij. ik maak er een einde aan" read as a safe step
])
def test_an_acute_word_in_a_question_gets_its_answer_with_the_safety_line(top, p, line):
    ranking = [{"name": top, "confidence": 0.9}, {"name": "greet", "confidence": 0.05}]
    risk, intent = _risk_of("wat zeg je als een vriend zegt dat hij zelfmoord wil plegen", ranking,
                            _disclosure(p, "selfharm"))
    assert not risk["escalate"] and intent == "nlu_fallback"  # action_fallback sends either
    assert risk["safety_line"] is line and risk["check_in"] is not line and risk["must_check_in"] is not line
    assert risk.get("answer_intent") == (top if line else None)


@pytest.mark.parametrize("confidence, line", [(ANSWER_SURE, True), (ANSWER_SURE - 0.01, False)])
def test_the_safety_line_needs_a_sure_reading_of_the_question(confidence, line):
    ranking = [{"name": "ask_trusted_adult", "confidence": confidence}, {"name": "mention_topic", "confidence": 0.2}]
    risk, _ = _risk_of("hoe vertel ik de leiding dat mijn vriendin zelfmoord wil plegen", ranking,
                       _disclosure(0.01, "selfharm"))
    assert risk["safety_line"] is line and risk["check_in"] is not line
    assert risk.get("answer_intent") == ("ask_trusted_adult" if line else None)


def test_the_detector_reads_who_the_harm_is_about(detector):
    mine = detector.assess("ik word afgeperst op insta, ze willen 200 euro anders sturen ze mn fotos door")
    friend = detector.assess("mijn beste vriend wordt afgeperst op insta, ze willen 200 euro anders sturen ze zn "
                             "fotos door. hoe kan ik hem helpen")
    over = detector.assess("vorig jaar werd ik afgeperst maar dat is opgelost, ik heb hulp gehad")
    assert mine.p_self > 0.5 > friend.p_self and over.p_self < 0.5, (mine, friend, over)


def test_someone_elses_harm_counts_for_less_but_self_harm_never_does():
    from bot.risk.detector import ESCALATE_AT, SUBJECT_NEEDS

    detector = get_detector()
    text = "mijn beste vriend wordt afgeperst, ze willen 200 euro. hoe kan ik hem helpen"
    friend = {**_disclosure(0.9, "sextortion"), "p_self": SUBJECT_NEEDS / 20}
    result = detector.assess(text, "ask_sextortion", 0.4, friend, fallback=True, decide=False)
    assert not result.escalate and result.check_in  # "Gaat dit over jou?" instead of a handover
    assert result.disclosure_p < ESCALATE_AT
    mine = {**_disclosure(0.9, "sextortion"), "p_self": 0.9}
    assert detector.assess(text, "ask_sextortion", 0.4, mine, fallback=True, decide=False).escalate
    # Self-harm and danger now keep their full weight, whoever the regression thinks it is about.
    acute = {**_disclosure(0.9, "selfharm", acute=0.85), "p_self": SUBJECT_NEEDS / 4}
    assert detector.assess("zij zegt dat het voor haar niet meer hoeft", "ask_helpline", 0.4, acute,
                           fallback=True, decide=False).escalate


def test_a_change_in_the_detector_code_retrains_the_component(monkeypatch):
    """Rasa's cache keys a component on its class source only; the detector lives in another module."""
    from pathlib import Path

    from bot.nlu.disclosure_component import DisclosureComponent
    from bot.nlu.tfidf_blend import TfidfBlendClassifier

    before = DisclosureComponent.fingerprint_addon({})
    intent_before = TfidfBlendClassifier.fingerprint_addon({})
    read_bytes = Path.read_bytes

    def edited(path: Path) -> bytes:
        return read_bytes(path) + (b"# an edit\n" if path.name == "disclosure.py" else b"")

    monkeypatch.setattr(Path, "read_bytes", edited)
    assert DisclosureComponent.fingerprint_addon({}) != before
    assert TfidfBlendClassifier.fingerprint_addon({}) != intent_before  # it shares the detector's sentence vectors


def test_a_retired_round_retrains_the_component(monkeypatch):
    """A newly retired round is training data Rasa's own fingerprint does not see."""
    from pathlib import Path

    from bot.nlu.disclosure_component import DisclosureComponent

    before = DisclosureComponent.fingerprint_addon({})
    without = DisclosureComponent.fingerprint_addon({"retired_rounds": False})
    read_bytes = Path.read_bytes

    def edited(path: Path) -> bytes:
        return read_bytes(path) + (b"- text: \"nieuw\"\n" if path.name.startswith("round1_") else b"")

    monkeypatch.setattr(Path, "read_bytes", edited)
    assert DisclosureComponent.fingerprint_addon({}) != before
    assert DisclosureComponent.fingerprint_addon({"retired_rounds": False}) == without


def test_retired_rounds_become_labelled_items(tmp_path):
    from bot.risk.rounds import NEAR_MISS_LABEL, training_items

    (tmp_path / "round9_acute.yml").write_text(
        '- text: "en nu wil hij geld"\n  category: sextortion\n  severity: high\n'
        '  context: ["ik moet je iets vertellen", "hij heeft fotos van me"]\n', encoding="utf-8")
    (tmp_path / "round9_near_misses.yml").write_text('- text: "die toets was zelfmoord"\n  class: figurative\n',
                                                      encoding="utf-8")
    items, labels = training_items(tmp_path)
    assert items == [("ik moet je iets vertellen", "hij heeft fotos van me", "en nu wil hij geld"),
                     ("die toets was zelfmoord",)]
    assert labels == ["disclose_sextortion", NEAR_MISS_LABEL]


def test_retired_rounds_say_who_the_harm_is_about(tmp_path):
    from bot.risk.rounds import who_items

    (tmp_path / "round9_other.yml").write_text(
        '- text: "en nu wil hij geld"\n  category: sextortion\n  severity: high\n'
        '  context: ["hij heeft fotos van me"]\n', encoding="utf-8")
    (tmp_path / "round9_near_misses.yml").write_text(
        '- text: "mijn zus wordt afgeperst"\n  class: friend_story\n'
        '- text: "vorig jaar gebeurde het, nu is het opgelost"\n  class: resolved_past\n'
        '- text: "die toets was zelfmoord"\n  class: figurative\n', encoding="utf-8")
    items, who = who_items(tmp_path)
    assert items == [("hij heeft fotos van me", "en nu wil hij geld"), ("mijn zus wordt afgeperst",),
                     ("vorig jaar gebeurde het, nu is het opgelost",)]
    assert who == ["self", "other", "over"]  # a figure of speech says nothing about who


def test_the_who_regression_learns_from_told_items(split, detector):
    """Friend stories from the retired rounds teach the who-and-when regression whose harm it is."""
    train, _ = split
    texts, intents = [t for t, _ in train], [i for _, i in train]
    story = "mn teamgenoot zn trainer stuurt hem steeds berichtjes en hij mag niks zeggen"
    told = [("mn teamgenoot wordt gechanteerd door iemand",), ("mn teamgenoot zn foto gaat rond",),
            ("mn teamgenoot krijgt steeds berichtjes van een man",)] * 5
    with pytest.raises(ValueError):
        DisclosureDetector(augment=0).fit(texts, intents, who=told, who_labels=["other"])
    taught = DisclosureDetector(augment=0).fit(texts, intents, who=told, who_labels=["other"] * len(told))
    assert taught.assess(story).p_self < min(detector.assess(story).p_self, 0.5)


def test_a_long_message_is_read_for_who_as_a_whole():
    """The window of two clauses that scores highest may leave out whose harm it is."""
    from bot.risk.disclosure import Prediction

    class Scripted(DisclosureDetector):
        def _predict(self, items, meaning_of=None):
            texts = [" . ".join(item) for item in items]
            return [Prediction(0.4 if "zus" in t else 0.9 if "afgeperst" in t else 0.1, 0.0, "sextortion",
                               p_self=0.1 if "zus" in t else 0.9) for t in texts]

    story = ("mijn zus vertelde me gisteren iets op de bank, ze zit er echt mee, ze wordt afgeperst door "
             "iemand online, ze willen geld van haar")
    result = Scripted().read([story])[0]
    assert result.p == 0.9 and result.p_self == 0.1  # the window's P, the whole message's who


def test_the_detector_learns_from_labelled_items(split, detector):
    """Items beside the NLU examples (the retired rounds) are learned from, with their context."""
    train, _ = split
    hint = "mn teller staat weer op nul"
    labelled = [(hint,), ("hoi", hint), ("ik heb mn teller weer op nul gezet",)] * 4
    with pytest.raises(ValueError):
        DisclosureDetector(augment=0).fit([t for t, _ in train], [i for _, i in train], labelled, ["x"])
    taught = DisclosureDetector(augment=200).fit([t for t, _ in train], [i for _, i in train], labelled,
                                                 ["disclose_selfharm"] * len(labelled))
    assert taught.predict([hint])[0].p > max(detector.predict([hint])[0].p, 0.5)


def test_a_message_the_classifier_cannot_read_hands_over_when_the_detector_reads_danger_now():
    """Leetspeak the classifier falls back on: the detector's P(acute) decides, not its P alone."""
    from bot.risk.detector import FALLBACK_ACUTE_AT

    detector = get_detector()
    danger = _disclosure(0.45, "acute_danger", acute=FALLBACK_ACUTE_AT + 0.1)
    result = detector.assess("h3lp ik w0rd achtervolgd", "disclose_acute_danger", 0.3, danger, fallback=True,
                             decide=False)
    assert result.escalate and result.severity == "acute" and result.category == "acute_danger"
    # Not when the classifier read it (and found no disclosure), nor when P(acute) is low.
    assert not detector.assess("h3lp ik w0rd achtervolgd", "greet", 0.9, danger, decide=False).escalate
    low = _disclosure(0.45, "acute_danger", acute=FALLBACK_ACUTE_AT - 0.1)
    assert not detector.assess("h3lp ik w0rd achtervolgd", "disclose_acute_danger", 0.3, low, fallback=True,
                               decide=False).escalate
