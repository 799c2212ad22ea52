"""rasa data validate passes without warnings, and the test stories pass with the trained model."""
from __future__ import annotations

import pytest

from bot import evaluation

pytestmark = pytest.mark.integration


def test_rasa_data_validate_has_no_warnings():
    assert evaluation.validate()


def test_test_stories_cover_every_intent():
    import yaml

    from bot.config import DOMAIN_FILE

    intents = set(yaml.safe_load(DOMAIN_FILE.read_text())["intents"])
    stories = yaml.safe_load(evaluation.TEST_STORIES.read_text())["stories"]
    used = {step["intent"] for story in stories for step in story["steps"] if "intent" in step}
    assert intents <= used


def test_dialogue_test_stories_pass():
    assert evaluation.dialogue_tests()
