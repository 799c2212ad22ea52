"""Trains the Rasa model into models/ when it is missing or outdated.

"Outdated" means a change to what the model learns from: config, domain, NLU data, stories,
the Dutch spaCy provider, or the set of response names. A text-only change in content/ does
not retrain: the ContentNLG serves live texts.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List

from bot import content
from bot.config import (CONFIG_FILE, DOMAIN_FILE, MODEL_NAME, MODELS_DIR, NLU_DIR, ROOT, STORIES_DIR,
                        TF_ENVIRONMENT)

MODEL_FILE = MODELS_DIR / f"{MODEL_NAME}.tar.gz"
FINGERPRINT_FILE = MODELS_DIR / f"{MODEL_NAME}.fingerprint"


def training_inputs() -> List[Path]:
    files = [CONFIG_FILE, DOMAIN_FILE, ROOT / "bot" / "nlu" / "spacy_nl.py", ROOT / "requirements.lock"]
    files += sorted(NLU_DIR.rglob("*.yml")) + sorted(STORIES_DIR.rglob("*.yml"))
    return files


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in training_inputs():
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    digest.update(json.dumps(sorted(content.load_content().responses)).encode())
    return digest.hexdigest()


def is_current() -> bool:
    return MODEL_FILE.exists() and FINGERPRINT_FILE.exists() and FINGERPRINT_FILE.read_text().strip() == fingerprint()


def rasa_env() -> dict:
    env = {**os.environ, **TF_ENVIRONMENT}
    env.setdefault("ACTION_SERVER_PORT", "5055")
    return env


def train(force: bool = False) -> Path:
    if not force and is_current():
        print(f"Model is up to date: {MODEL_FILE.relative_to(ROOT)}")
        return MODEL_FILE
    print("Training the model (about 1-2 minutes)...", flush=True)
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = fingerprint()
    command = [
        sys.executable, "-m", "bot.rasa_cli", "train",
        "--config", str(CONFIG_FILE), "--domain", str(DOMAIN_FILE),
        "--data", str(NLU_DIR), str(STORIES_DIR),
        "--out", str(MODELS_DIR), "--fixed-model-name", MODEL_NAME, "--quiet",
    ]
    subprocess.run(command, cwd=ROOT, env=rasa_env(), check=True)
    FINGERPRINT_FILE.write_text(stamp)
    return MODEL_FILE
