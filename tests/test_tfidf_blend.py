"""Sam's intent regression (TF-IDF n-grams and USE sentence vectors): training, persistence, the blend."""
from __future__ import annotations

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.tfidf_blend import TfidfBlendClassifier

EXAMPLES = {
    "greet": ["hoi", "hallo", "hey daar", "goedemorgen", "hoi hoi", "hallo sam"],
    "ask_law": ["is sexting strafbaar", "mag dat van de wet", "is het verboden", "wat zegt de wet",
                "is nudes sturen illegaal", "kan je daarvoor naar de politie"],
}


@pytest.fixture
def storage(tmp_path):
    return LocalModelStorage(tmp_path)


def make(storage, **config):
    return TfidfBlendClassifier.create({**TfidfBlendClassifier.get_default_config(), "min_df": 1, **config},
                                       storage, Resource("tfidf"), ExecutionContext(None))


def trained(storage, examples=EXAMPLES, **config):
    component = make(storage, **config)
    data = TrainingData([Message.build(text, intent) for intent, texts in examples.items() for text in texts])
    component.train(data)
    return TfidfBlendClassifier.load({**component.config}, storage, Resource("tfidf"), ExecutionContext(None))


def diet_says(message_text, intent, confidence=1.0):
    message = Message.build(message_text)
    ranking = [{"name": intent, "confidence": confidence}]
    message.set(INTENT, ranking[0])
    message.set(INTENT_RANKING_KEY, ranking)
    return message


def test_a_trained_model_survives_persisting_and_classifies_new_wording(storage):
    component = trained(storage, weight=1.0)
    messages = component.process([Message.build("is dat strafbaar volgens de wet"), Message.build("hallootjes")])
    assert [m.get(INTENT)["name"] for m in messages] == ["ask_law", "greet"]
    ranking = messages[0].get(INTENT_RANKING_KEY)
    assert [r["confidence"] for r in ranking] == sorted((r["confidence"] for r in ranking), reverse=True)


def test_an_unknown_word_with_a_doubled_letter_reads_as_the_known_word(storage):
    component = trained(storage, weight=1.0)
    doubled, plain = component.process([Message.build("is dat strafbaarr"), Message.build("is dat strafbaar")])
    assert doubled.get(INTENT_RANKING_KEY) == plain.get(INTENT_RANKING_KEY)


def test_one_vs_rest_trains_one_regression_per_intent_and_ranks_by_shares(storage):
    examples = {**EXAMPLES, "thank": ["dankje", "bedankt", "thanks sam", "dank je wel", "merci", "top, dank"]}
    component = trained(storage, examples, weight=1.0, one_vs_rest=True)
    assert len(component.model.named_steps["classifier"].estimators_) == len(examples)
    messages = component.process([Message.build("is dat strafbaar volgens de wet")])
    ranking = messages[0].get(INTENT_RANKING_KEY)
    assert ranking[0]["name"] == "ask_law"
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


@pytest.mark.parametrize("weight, winner", [(0.75, "b"), (0.25, "a")])
def test_the_weight_decides_between_diet_and_the_regression(storage, weight, winner):
    component = make(storage, weight=weight)
    component.model = type("Fake", (), {"classes_": np.array(["a", "b"])})()
    ranking = component.blend([{"name": "a", "confidence": 1.0}], np.array([0.2, 0.8]))
    assert ranking[0]["name"] == winner
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


def test_commands_and_an_untrained_model_leave_diet_alone(storage):
    command = diet_says("/greet", "greet")
    trained(storage).process([command])
    assert command.get(INTENT)["name"] == "greet"
    plain = diet_says("hoi", "ask_law", 0.9)
    make(storage).process([plain])
    assert plain.get(INTENT)["name"] == "ask_law"


def test_sentence_vectors_carry_meaning_the_ngrams_do_not_see(storage):
    """With USE vectors, English with no word in common with the Dutch examples still lands right."""
    component = trained(storage, weight=1.0, use_weight=1.0)
    names = [step for step, _ in component.model.named_steps["features"].transformer_list]
    assert names == ["chars", "words", "meaning"]
    messages = component.process([Message.build("is this against the law"), Message.build("good morning")])
    assert [m.get(INTENT)["name"] for m in messages] == ["ask_law", "greet"]


def test_training_vectors_are_shared_once_and_single_messages_are_not_kept():
    from bot.risk import disclosure

    disclosure.forget_shared()
    texts = [f"voorbeeld nummer {i}" for i in range(disclosure.SHARE_BATCH)]
    first = disclosure.use_encoder()(texts)
    assert len(disclosure._shared) == len(texts)
    assert np.array_equal(disclosure.use_encoder()(texts[:3]), first[:3])
    disclosure.forget_shared()
    disclosure.use_encoder()(["een bericht van een jongere"])
    assert not disclosure._shared


def test_a_button_payload_gets_a_placeholder_intent_for_the_fallback_classifier(storage):
    """Without DIET nothing else classifies "/ask_law"; Rasa's RegexMessageHandler sets it later."""
    message = Message.build("/ask_law")
    trained(storage, weight=1.0).process([message])
    assert message.get(INTENT) == {"name": None, "confidence": 0.0}


def test_words_the_regression_never_saw_fall_below_the_fallback_threshold(storage):
    component = trained(storage, weight=1.0, use_weight=1.0)
    gibberish, known = Message.build("qwpoeiruty zxmvn"), Message.build("hallo daar")
    component.process([gibberish, known])
    assert gibberish.get(INTENT)["confidence"] < 0.35 <= known.get(INTENT)["confidence"]
    emoji = Message.build("😭😭")
    component.process([emoji])
    assert not component.reads_no_word("😭😭") and component.reads_no_word("qwpoeiruty")


def test_a_new_spelling_the_regression_is_sure_of_keeps_its_intent(storage):
    """No known word, but the letters say it clearly: "hallootjes" is a greeting, not gibberish."""
    component = trained(storage, weight=1.0, use_weight=1.0)
    messages = [Message.build(text) for text in ("hallootjes", "goedemorgennn", "qwpoeiruty zxmvn")]
    component.process(messages)
    assert all(component.reads_no_word(m.get("text")) for m in messages)
    assert [m.get(INTENT)["name"] for m in messages[:2]] == ["greet", "greet"]
    assert min(m.get(INTENT)["confidence"] for m in messages[:2]) >= 0.7 > 0.35 > messages[2].get(INTENT)["confidence"]
