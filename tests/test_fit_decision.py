"""The decision fit (bot/fit_decision.py) scores the NLU examples with fold classifiers: their rankings
must be what the pipeline (Sam's regression, then Rasa's FallbackClassifier) hands the risk component."""
from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.fit_decision import _component, _ranking
from bot.nlu.tfidf_blend import TfidfBlendClassifier, probabilities

EXAMPLES = {
    "greet": ["hoi", "hallo", "hey daar", "goedemorgen", "hoi hoi", "hallo sam"],
    "ask_law": ["is sexting strafbaar", "mag dat van de wet", "is het verboden", "wat zegt de wet",
                "is nudes sturen illegaal", "kan je daarvoor naar de politie"],
    "disclose_selfharm": ["ik wil niet meer leven", "ik snij in mezelf", "ik wil er niet meer zijn",
                          "ik doe mezelf pijn", "ik wil dood", "ik zie het niet meer zitten"],
}
MESSAGES = ["is dat strafbaar volgens de wet", "hallootjes", "qwpoeiruty zxmvn", "hoi, mag dat van de wet",
            "ik wil niet meer", "😭😭"]


@pytest.mark.parametrize("threshold, ambiguity", [(0.35, 0.05), (0.6, 0.05), (0.1, 0.4)])
def test_the_fit_ranks_an_example_as_the_pipeline_does(tmp_path, threshold, ambiguity):
    storage, context = LocalModelStorage(tmp_path), ExecutionContext(None)
    config = {**TfidfBlendClassifier.get_default_config(), "min_df": 1, "weight": 1.0, "use_weight": 1.0,
              "one_vs_rest": True}
    component = TfidfBlendClassifier.create(config, storage, Resource("tfidf"), context)
    component.train(TrainingData([Message.build(t, i) for i, texts in EXAMPLES.items() for t in texts]))
    component = TfidfBlendClassifier.load(config, storage, Resource("tfidf"), context)
    fallback = FallbackClassifier.create({**FallbackClassifier.get_default_config(), "threshold": threshold,
                                          "ambiguity_threshold": ambiguity}, storage, Resource("fb"), context)
    messages = fallback.process(component.process([Message.build(text) for text in MESSAGES]))
    fitted = [_ranking(list(component.model.classes_), row, {"threshold": threshold, "ambiguity_threshold": ambiguity},
                       10) for row in probabilities(component.model, MESSAGES)]
    piped = [m.get(INTENT_RANKING_KEY) for m in messages]
    assert [[r["name"] for r in ranking] for ranking in fitted] == [[r["name"] for r in ranking] for ranking in piped]
    assert [r["confidence"] for ranking in fitted for r in ranking] == pytest.approx(
        [r["confidence"] for ranking in piped for r in ranking])
    assert any(r[0]["name"] == "nlu_fallback" for r in fitted) or threshold < 0.35


def test_the_fit_reads_the_pipeline_settings_from_config():
    assert _component("FallbackClassifier")["threshold"] > 0
    assert _component("TfidfBlendClassifier")["one_vs_rest"] is True
    assert _component("DisclosureComponent")["name"].endswith("DisclosureComponent")
