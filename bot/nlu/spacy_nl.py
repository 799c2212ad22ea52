"""Provides spaCy's blank Dutch pipeline (lookup lemmas) to Rasa; no model download needed."""
from __future__ import annotations

from typing import Any, Dict, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP

from bot.risk.lexicon import dutch_nlp

MODEL_NAME = "nl_blank_lookup_lemmas"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="DutchSpacyNLP",
)
class DutchSpacyNLP(SpacyNLP):
    """SpacyNLP, but built from spacy.blank('nl') instead of a downloaded package."""

    @staticmethod
    def load_model(spacy_model_name: Text) -> SpacyModel:
        return SpacyModel(model=dutch_nlp(), model_name=MODEL_NAME)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DutchSpacyNLP:
        return cls(cls.load_model(MODEL_NAME), {**cls.get_default_config(), **config})
