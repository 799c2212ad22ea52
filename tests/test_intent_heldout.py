"""The held-out intent set stays held out, and its measure counts what it says."""
import yaml

from bot.config import DOMAIN_FILE
from bot.evaluation import FALLBACK_INTENT, intent_metrics, load_intent_heldout
from tests.test_nlu_data import examples, near_exact


def test_no_held_out_line_is_an_nlu_example():
    trained = {near_exact(line) for lines in examples().values() for line in lines}
    leaked = [text for text, _ in load_intent_heldout() if near_exact(text) in trained]
    assert leaked == []


def test_held_out_intents_are_domain_intents_with_at_least_two_lines_each():
    items = load_intent_heldout()
    intents = set(yaml.safe_load(DOMAIN_FILE.read_text())["intents"])
    counts = {}
    for _, intent in items:
        counts[intent] = counts.get(intent, 0) + 1
    assert set(counts) <= intents
    assert min(counts.values()) >= 2


ITEMS = [("hoi", "greet"), ("hallo", "greet"), ("doei", "goodbye"), ("bye", "goodbye")]


def test_a_perfect_classifier_scores_one():
    metrics = intent_metrics(lambda text: (dict(ITEMS)[text], dict(ITEMS)[text]), ITEMS)
    assert metrics["macro_f1"] == 1.0 and metrics["fallback_rate"] == 0.0
    assert metrics["intents_below_0_90"] == []


def test_a_fallback_counts_as_a_miss_but_not_for_the_top_intent():
    def classify(text):
        right = dict(ITEMS)[text]
        return (FALLBACK_INTENT if text == "hoi" else right), right

    metrics = intent_metrics(classify, ITEMS)
    assert metrics["fallback_rate"] == 0.25
    assert metrics["macro_f1"] < 1.0
    assert metrics["macro_f1_top_intent"] == 1.0


def test_confusions_lower_both_intents():
    metrics = intent_metrics(lambda text: ("greet", "greet"), ITEMS)
    assert metrics["intents_below_0_90"] == ["goodbye", "greet"]
    assert list(metrics["weakest"])[0] == "goodbye"
