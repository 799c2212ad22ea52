"""Training-data importer that adds the texts in content/ to the domain.

Editors never edit domain.yml: content/responses/*.yml is the single source of texts.
Only responses that stories and rules use become domain responses; the rest are sent by
custom actions or the channel gateway. At run time the ContentNLG serves the live texts,
so a text-only change needs no retraining.
"""
from __future__ import annotations

from typing import Set

import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.importers.rasa import RasaFileImporter

from bot import content


class ContentImporter(RasaFileImporter):
    def _story_responses(self) -> Set[str]:
        """utter_ actions named in stories and rules (read directly: get_stories needs the domain)."""
        used: Set[str] = set()
        for path in self._story_files:
            with open(path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle) or {}
            for block in (data.get("stories") or []) + (data.get("rules") or []):
                for step in block.get("steps") or []:
                    action = step.get("action") if isinstance(step, dict) else None
                    if action and action.startswith("utter_"):
                        used.add(action)
        return used

    def get_domain(self) -> Domain:
        domain = super().get_domain()
        used = self._story_responses()
        responses = {name: v for name, v in content.load_content().responses.items() if name in used}
        return domain.merge(Domain.from_dict({"responses": responses}))
