"""The risk lexicon and detector on their own (the fail-safe path): categories, evasion tricks,
near-miss classes. The combined Rasa path is measured on the labelled sets in test_risk_targets."""
from __future__ import annotations

import pytest

from bot.risk import get_detector
from bot.risk.normalise import normalise, skeleton, uncensor, uncensor_word

DETECTOR = get_detector()


def assess(text, intent=None, confidence=0.0):
    return DETECTOR.assess(text, intent, confidence)


@pytest.mark.parametrize("text, category", [
    ("hij dreigt mijn naaktfoto's te delen als ik niet betaal", "sextortion"),
    ("iemand heeft mijn naaktfoto doorgestuurd naar de hele klas", "image_shared"),
    ("een oudere man op insta zegt dat ik het geheim moet houden", "grooming"),
    ("ik moet van hem met andere mannen slapen voor geld", "exploitation"),
    ("mijn stiefvader slaat me", "abuse"),
    ("ik wil dood", "selfharm"),
    ("ik ga vannacht weglopen van de groep", "runaway"),
    ("er staat iemand voor de deur en ik ben bang", "acute_danger"),
])
def test_every_category_is_detected(text, category):
    result = assess(text)
    assert result.escalate and result.category == category


@pytest.mark.parametrize("trick, text", [
    ("case", "IK WIL DOOD"),
    ("diacritics", "ik wil zélfmóórd plegen"),
    ("repeated letters", "ik wil zelllfmooooord plegen"),
    ("leetspeak", "ik denk aan z3lfm00rd"),
    ("zero-width", "ik denk aan zelf\u200bmo\u200doord"),
    ("byte order mark", "ik denk aan zelf\ufeffmoord"),
    ("split by spaces", "ik denk aan z e l f m o o r d"),
    ("split by dots", "ik denk aan z.e.l.f.m.o.o.r.d"),
    ("split by dashes", "ik denk aan s-u-i-c-i-d-e"),
    ("censored", "ik denk aan z*lfm*rd"),
    ("censored short word", "ik wil d**d"),
    ("censored with leetspeak", "ik wil me sn*jd3n"),
    ("censored english", "thinking about s#icide"),
    ("typo", "ik denk aan zelfmord"),
    ("english", "i want to kill myself"),
    ("emoji as word", "ik wil 💀"),
    ("flemish", "ik zen bang, er staat iemand voor de deur"),
    ("abbreviation", "kwil dood"),
    ("compound", "ik heb zelfmoordgedachten"),
])
def test_evasion_tricks_are_seen_through(trick, text):
    result = assess(text)
    assert result.escalate, trick
    assert result.severity == "acute"


def test_missing_diacritics_and_slang():
    result = assess("ik ben geexposed op een expose acc")
    assert result.escalate and result.category == "image_shared"


@pytest.mark.parametrize("text", [
    "hoe pleeg je zelfmoord",
    "wat is zelfmoord eigenlijk",
    "is zelfbeschadiging erg",
])
def test_selfharm_words_always_escalate_even_as_a_question(text):
    result = assess(text)
    assert result.escalate and result.category == "selfharm" and result.severity == "acute"


@pytest.mark.parametrize("near_miss_class, text", [
    ("topic question", "wat is sextortion"),
    ("topic question", "hoe herken je een loverboy"),
    ("topic question", "wat moet je doen als iemand dreigt je fotos te delen"),
    ("topic question", "is het strafbaar om nudes door te sturen"),
    ("ordinary chat", "hoi hoe gaat het"),
    ("ordinary chat", "ik heb zin in pizza vanavond"),
    ("feelings", "ik voel me alleen vandaag"),
    ("figurative", "ik lig dood van het lachen"),
    ("figurative", "mijn telefoon is dood"),
    ("kitchen", "mag ik zelf een appel snijden met een mes"),
    ("kitchen", "het mes in de keuken is zo bot"),
    ("third person", "in de film werd iemand ontvoerd"),
    ("third person", "in de les hadden we het over grooming"),
    ("safe step", "ik heb mijn account op prive gezet"),
    ("bot and help", "wat is het nummer van de kindertelefoon"),
    ("bot and help", "lees iemand mee met deze chat"),
])
def test_near_misses_do_not_escalate_on_the_lexicon(near_miss_class, text):
    assert not assess(text).escalate, near_miss_class


def test_a_general_question_demotes_a_disclosure_intent():
    assert not assess("wat is sextortion", "disclose_sextortion", 0.9).escalate


def test_a_confident_disclosure_intent_escalates_without_lexicon_words():
    result = assess("er is iets gebeurd met die jongen van snap", "disclose_grooming", 0.95)
    assert result.escalate and result.category == "grooming" and result.source == "intent"


@pytest.mark.parametrize("text, intent, category", [
    ("hij bedreigt me nu met een wapen", "disclose_acute_danger", "acute_danger"),
    ("hij heeft een mes", "disclose_acute_danger", "acute_danger"),
    ("hij dreigt mijn fotos te delen als ik nie betaal", "disclose_sextortion", "sextortion"),
])
def test_a_confident_classifier_names_the_category_of_a_lexicon_hit(text, intent, category):
    result = assess(text, intent, 0.9)
    assert result.escalate and result.category == category and result.source == "lexicon+intent"


def test_a_more_severe_lexicon_hit_outranks_the_classifier_category():
    result = assess("hij dreigt mijn naaktfoto te delen en ik wil dood", "disclose_sextortion", 0.9)
    assert result.category == "selfharm" and result.severity == "acute"


def test_severity_takes_the_highest_hit():
    result = assess("hij dreigt mijn naaktfoto te delen en ik wil dood")
    assert result.category == "selfharm" and result.severity == "acute"


def test_normalise_undoes_tricks_but_keeps_phone_numbers():
    assert normalise("Z3LFM00RD") == "zelfmoord"
    assert normalise("bel 0800-0113 of 112") == "bel 0800-0113 of 112"
    assert normalise("he\u200blp") == "help"
    assert skeleton("dooooood") == skeleton("dood")


def test_uncensor_reads_a_risk_word_first():
    words = {"dood", "zelfmoord", "nudes", "leven"}
    assert uncensor("ik wil z*lfm*rd plegen", words) == "ik wil zelfmoord plegen"
    assert uncensor("Ik wil D**D", words) == "Ik wil dood"  # "deed" and "daad" fit too: the risk word wins
    assert uncensor("hij heeft mn n#des", words) == "hij heeft mn nudes"
    assert uncensor_word("s*icide") == "suicide"  # the one frequent word that fits


@pytest.mark.parametrize("text", ["f*** dit", "k*t school", "5*3=15", "ik ben #1", "#jesuis", "**", "w*l"])
def test_uncensor_leaves_what_it_cannot_read_alone(text):
    # Too little shows, no letters, no stars between letters, or more than one word fits.
    assert uncensor(text, {"dood", "wel"}) == text


def test_the_pipeline_reads_a_censored_word_as_the_risk_word():
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.normaliser import TextNormaliser

    messages = [Message(data={TEXT: "ik wil z*lfm*rd\u200b plegen"}), Message(data={TEXT: "/start"}),
                Message(data={TEXT: "ik ben weggggg, HEEEELP, hij wil 1000 euro"})]
    TextNormaliser().process(messages)
    assert [m.get(TEXT) for m in messages] == ["ik wil zelfmoord plegen", "/start",
                                               "ik ben wegg, HEELP, hij wil 1000 euro"]
