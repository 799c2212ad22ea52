"""The TF-IDF classifier that is blended with DIET: training, persistence and the blend."""
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


def trained(storage, **config):
    component = make(storage, **config)
    data = TrainingData([Message.build(text, intent) for intent, texts in EXAMPLES.items() for text in texts])
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
