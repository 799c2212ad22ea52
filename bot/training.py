"""Trains the Rasa model into models/ when it is missing or outdated.

"Outdated" means a change to what the model learns from: config, domain, NLU data, stories, the
retired blind rounds, the pinned dependencies, the set of response names, or the code of this
repo's own components (every `bot.` module config.yml names as importer, pipeline component or
policy, plus every module of this repo they import). A text-only change in content/ does not
retrain: the ContentNLG serves live texts.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Set

import yaml

from bot import content
from bot.config import (
    CONFIG_FILE,
    DOMAIN_FILE,
    MODEL_NAME,
    MODELS_DIR,
    NLU_DIR,
    RETIRED_DIR,
    ROOT,
    STORIES_DIR,
    TF_ENVIRONMENT,
)

MODEL_FILE = MODELS_DIR / f"{MODEL_NAME}.tar.gz"
FINGERPRINT_FILE = MODELS_DIR / f"{MODEL_NAME}.fingerprint"
DURATION_FILE = MODELS_DIR / f"{MODEL_NAME}.seconds"


CONFIG_SECTIONS = ("importers", "pipeline", "policies")
PACKAGE = "bot"
# Runtime plumbing the components import but that changes nothing they learn: settings, the live
# texts (response *names* are fingerprinted separately) and opening hours. Editing them must not
# force a retrain (a text edit goes live without one).
NOT_LEARNED = {"bot", "bot.config", "bot.content", "bot.content_rules", "bot.helplines"}


def config_modules(config_file: Path = CONFIG_FILE) -> List[str]:
    """The modules of this repo's own classes that config.yml names (importers, pipeline, policies)."""
    config = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
    names = {entry.get("name", "") for section in CONFIG_SECTIONS for entry in config.get(section) or []
             if isinstance(entry, dict)}
    return sorted(name.rsplit(".", 1)[0] for name in names if name.startswith(f"{PACKAGE}."))


def _module_file(module: str) -> Optional[Path]:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, module: str) -> Set[str]:
    """Modules of this repo that a file imports, anywhere in it (also inside functions).

    `from a import b` yields both `a` and `a.b`; names that are not modules are dropped later.
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x, from ..y import z
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name == PACKAGE or name.startswith(f"{PACKAGE}.")}


def code_modules(roots: List[str]) -> Dict[str, Path]:
    """The given modules and every module of this repo they import, transitively, with the
    packages whose __init__ runs on the way."""
    modules: Dict[str, Path] = {}
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module in modules or module in NOT_LEARNED:
            continue
        path = _module_file(module)
        if path is None:  # a class or function imported from a module, not a module
            continue
        modules[module] = path
        parts = module.split(".")
        todo += [".".join(parts[:depth]) for depth in range(1, len(parts))]
        todo += sorted(_imports(path, module))
    return modules


def training_inputs() -> List[Path]:
    files = [CONFIG_FILE, DOMAIN_FILE, ROOT / "requirements.lock"]
    files += sorted(set(code_modules(config_modules()).values()))
    files += sorted(NLU_DIR.rglob("*.yml")) + sorted(STORIES_DIR.rglob("*.yml"))
    files += sorted(RETIRED_DIR.glob("*.yml"))  # the disclosure detector learns from them too
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


def _estimate() -> float:
    """Seconds the last training took here (an honest estimate), else a typical 2-core figure."""
    try:
        return float(DURATION_FILE.read_text())
    except (OSError, ValueError):
        return 180.0


def train(force: bool = False, progress_every: float = 15.0) -> Path:
    if not force and is_current():
        print(f"Model is up to date: {MODEL_FILE.relative_to(ROOT)}")
        return MODEL_FILE
    estimate = _estimate()
    print(f"Training the model (about {estimate / 60:.1f} minutes on this machine)...", flush=True)
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = fingerprint()
    command = [
        sys.executable, "-m", "bot.rasa_cli", "train",
        "--config", str(CONFIG_FILE), "--domain", str(DOMAIN_FILE),
        "--data", str(NLU_DIR), str(STORIES_DIR),
        "--out", str(MODELS_DIR), "--fixed-model-name", MODEL_NAME, "--quiet",
    ]
    log_path = MODELS_DIR / "train.log"
    started = time.monotonic()
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=rasa_env(), stdout=log, stderr=subprocess.STDOUT)
        while process.poll() is None:
            try:
                process.wait(timeout=progress_every)
            except subprocess.TimeoutExpired:
                elapsed = time.monotonic() - started
                left = max(estimate - elapsed, 10)
                print(f"  still training: {elapsed:.0f} s done, about {left:.0f} s to go", flush=True)
    if process.returncode != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-30:]
        print("\n".join(tail), file=sys.stderr)
        raise subprocess.CalledProcessError(process.returncode, command)
    duration = time.monotonic() - started
    DURATION_FILE.write_text(f"{duration:.0f}")
    FINGERPRINT_FILE.write_text(stamp)
    print(f"Model trained in {duration:.0f} s: {MODEL_FILE.relative_to(ROOT)}", flush=True)
    return MODEL_FILE
