"""Removes invisible characters (zero-width spaces, joiners, byte-order marks, control codes)
from a message before tokenisation, so 'lover\u200bboy' reaches the classifier as 'loverboy', and
writes censored words out ('z*lfm*rd' -> 'zelfmoord', the risk lexicon's words first), so the
classifier, the disclosure detector and the risk component all read the word that was meant. Runs of
one letter are cut to two ('weggggg' -> 'wegg'), as the lexicon and the detector read them."""
from __future__ import annotations

from typing import Any, Dict, FrozenSet, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.risk.normalise import clean_text, shorten_letter_runs, uncensor


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class TextNormaliser(GraphComponent):
    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> TextNormaliser:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if text and not text.startswith("/"):
                message.set(TEXT, shorten_letter_runs(uncensor(clean_text(text), _risk_words())))
        return messages


def _risk_words() -> FrozenSet[str]:
    from bot.risk.detector import get_detector  # the live lexicon, rebuilt when an editor changes it

    return get_detector().lexicon.censor_words
