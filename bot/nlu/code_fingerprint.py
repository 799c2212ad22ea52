"""A fingerprint of a component's own code and of this repo's modules it imports.

Rasa re-trains a component only when its fingerprint changes, and that fingerprint covers the
component class's source but not the modules it calls (the disclosure detector lives in
bot/risk/disclosure.py). Without this addon a change there would silently reuse the old trained
component from Rasa's cache.
"""
from __future__ import annotations

import hashlib

from bot.config import ROOT


def code_fingerprint(module: str) -> str:
    from bot.training import code_modules  # the same module walk as the model's own fingerprint

    digest = hashlib.sha256()
    for name, path in sorted(code_modules([module]).items()):
        digest.update(name.encode())
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
