"""Runs the disclosure detector (bot/risk/disclosure.py) inside Rasa.

Trained with the model on the same NLU data (disclose_* against everything else) and on the
retired blind rounds (bot/data/retired/, read by bot/risk/rounds.py), and stored in it, like the
TF-IDF blend. Each message gets `disclosure` = {"p", "p_acute", "category", "context_used",
"unknown", "p_self"} (see Prediction in bot/risk/disclosure.py), read together with the young
person's previous texts that the channel puts in the metadata (`context`, oldest first). The risk
component, after it, makes the decision.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.code_fingerprint import code_fingerprint
from bot.risk.disclosure import DisclosureDetector, forget_shared
from bot.risk.rounds import files_fingerprint as rounds_fingerprint
from bot.risk.rounds import training_items as retired_items
from bot.risk.rounds import who_items

logger = logging.getLogger(__name__)
MODEL_FILE = "disclosure_detector.joblib"
DISCLOSURE_KEY = "disclosure"


def _is_command(text: Optional[Text]) -> bool:
    return not text or text.startswith("/")


def _context(message: Message) -> List[str]:
    context = (message.get("metadata") or {}).get("context") or []
    return [str(t) for t in context if isinstance(t, str)] if isinstance(context, list) else []


def _emoji() -> Dict[str, str]:
    """The editors' emoji-as-word table, so "ik wil 💀" reaches the detector as "ik wil dood"."""
    from bot import content

    return {str(k): str(v) for k, v in (content.current().lexicon.get("emoji") or {}).items()}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class DisclosureComponent(GraphComponent):
    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """Retrain when this repo's code behind the component (see bot/nlu/code_fingerprint.py) or a
        retired round changes: Rasa's own fingerprint sees neither."""
        rounds = rounds_fingerprint() if config.get("retired_rounds", True) else "none"
        return f"{code_fingerprint(cls.__module__)}-{rounds}"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # retired_rounds: also learn from the retired blind rounds (off for small test fixtures), each
        # line counted retired_weight times (3: best of 1, 2 and 3 left out one round at a time).
        # meaning_weight: how much the hidden layer on the sentence embedding adds to the linear score
        # (0: none), with meaning_units units (bot/risk/disclosure.py, _fit_meaning).
        return {"C": 10.0, "calibration_share": 0.25, "augment": 600, "random_seed": 42, "retired_rounds": True,
                "retired_weight": 3.0, "meaning_weight": 0.0, "meaning_units": 256}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 detector: Optional[DisclosureDetector] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.detector = detector

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> DisclosureComponent:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [(m.get(TEXT), m.get(INTENT)) for m in training_data.intent_examples
                    if not _is_command(m.get(TEXT)) and m.get(INTENT)]
        texts = [t for t, _ in examples]
        intents = [i for _, i in examples]
        labelled, labels = retired_items() if self.config["retired_rounds"] else ([], [])
        who, who_labels = who_items() if self.config["retired_rounds"] else ([], [])
        detector = DisclosureDetector(C=float(self.config["C"]),
                                      calibration_share=float(self.config["calibration_share"]),
                                      augment=int(self.config["augment"]), seed=int(self.config["random_seed"]),
                                      emoji=_emoji(), meaning_weight=float(self.config["meaning_weight"]),
                                      meaning_units=int(self.config["meaning_units"]))
        try:
            self.detector = detector.fit(texts, intents, labelled, labels, float(self.config["retired_weight"]),
                                         who, who_labels)
        except ValueError as error:  # no disclosures in the data (a test fixture): run without
            logger.warning("The disclosure detector is not trained: %s", error)
            return self._resource
        finally:
            forget_shared()  # the last component that reads the training vectors
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self.detector, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> DisclosureComponent:
        detector = None
        try:
            with model_storage.read_from(resource) as directory:
                detector = joblib.load(directory / MODEL_FILE)
            detector.predict(["hoi"])  # load the encoder now, not on a young person's first message
        except (ValueError, FileNotFoundError):
            logger.warning("No disclosure detector in this Rasa model; the risk decision runs without it.")
        return cls(config, model_storage, resource, detector)

    def process(self, messages: List[Message]) -> List[Message]:
        if self.detector is None:
            return messages
        for message in messages:
            text = message.get(TEXT)
            if _is_command(text):
                continue
            prediction = self.detector.assess(text, _context(message))
            message.set(DISCLOSURE_KEY, prediction.as_dict(), add_to_output=True)
        return messages
