"""Consistency of the repository itself: Makefile and README, settings and .env.example, what
`python -m bot validate` checks, and what makes the model outdated. Fast: no model, no servers."""
from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot import content, evaluation, training
from bot.config import BOT_DIR, CONFIG_FILE, CONTENT_DIR, RETIRED_DIR, ROOT

MAKEFILE = ROOT / "Makefile"
README = ROOT / "README.md"
ENV_EXAMPLE = ROOT / ".env.example"

# Environment variables that are process plumbing, not settings: the code sets them itself for
# TensorFlow, Rasa and the action server, so they do not belong in .env.example.
PLUMBING = {
    # bot.config.TF_ENVIRONMENT: keep TensorFlow small and quiet, silence library warnings
    "TF_CPP_MIN_LOG_LEVEL", "TF_INTRA_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS",
    "TF_ENABLE_ONEDNN_OPTS", "OMP_NUM_THREADS", "PYTHONWARNINGS", "SQLALCHEMY_SILENCE_UBER_WARNING",
    "RASA_TELEMETRY_ENABLED",  # forced to false by bot.rasa_cli and bot.config
    "SANIC_HOST",  # bot.services: the action server listens on loopback only
    "SAM_TRACKER_DB",  # bot.services -> endpoints.yml: derived from SAM_DATA_DIR
}
# Functions of bot.config whose first argument is the name of an environment variable.
ENV_READERS = {"_env", "secret_from_env_or_file"}


# --- Makefile and README ------------------------------------------------------------------------

def makefile_verbs() -> list:
    phony = re.search(r"^\.PHONY:(.*)$", MAKEFILE.read_text(), re.MULTILINE)
    assert phony, "the Makefile has no .PHONY line"
    return phony.group(1).split()


@pytest.mark.parametrize("verb", makefile_verbs())
def test_every_make_verb_is_in_the_readme(verb):
    assert re.search(rf"\bmake {re.escape(verb)}\b", README.read_text()), f"README.md does not mention `make {verb}`"


@pytest.mark.parametrize("verb", makefile_verbs())
def test_every_phony_verb_has_a_rule(verb):
    rules = set(re.findall(r"^([\w.-]+):", MAKEFILE.read_text(), re.MULTILINE))
    assert verb in rules, f"`{verb}` is in .PHONY but the Makefile has no `{verb}:` rule"


# --- settings and .env.example ------------------------------------------------------------------

def _is_os_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ"
            and isinstance(node.value, ast.Name) and node.value.id == "os")


def _first_string(call: ast.Call):
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def env_names_read(source: str) -> set:
    """Names read with os.environ.get("X"), os.environ["X"], os.getenv("X"), "X" in os.environ,
    _env("X", ...) and secret_from_env_or_file("X", ...). Writes and pops are not reads."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            if ((isinstance(func, ast.Attribute) and func.attr == "get" and _is_os_environ(func.value))
                    or (isinstance(func, ast.Attribute) and func.attr == "getenv"
                        and isinstance(func.value, ast.Name) and func.value.id == "os")
                    or (isinstance(func, ast.Name) and func.id in ENV_READERS)):
                names.add(_first_string(node))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_os_environ(node.value):
            if isinstance(node.slice, ast.Constant):
                names.add(node.slice.value)
        elif isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            if any(_is_os_environ(c) for c in node.comparators) and isinstance(node.left, ast.Constant):
                names.add(node.left.value)
    return {name for name in names if isinstance(name, str)}


def settings_in_code() -> set:
    names = set()
    for path in sorted(BOT_DIR.rglob("*.py")):
        names |= env_names_read(path.read_text(encoding="utf-8"))
    return names - PLUMBING


def settings_in_env_example() -> set:
    """`X=` lines, also commented out ones (`# X=...` documents an optional setting)."""
    return set(re.findall(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.MULTILINE)) - PLUMBING


def test_the_environment_scanner_finds_every_kind_of_read():
    source = '''
import os
a = os.environ.get("A", "")
b = os.environ["B"]
c = os.getenv("C")
d = _env("D", "1")
e = secret_from_env_or_file("E", path, "e.key")
f = "F" in os.environ
os.environ["WRITTEN"] = "1"
os.environ.pop("POPPED", None)
'''
    assert env_names_read(source) == {"A", "B", "C", "D", "E", "F"}


def test_the_code_reads_settings():
    assert {"SAM_DATA_DIR", "TELEGRAM_BOT_TOKEN", "SAM_PSEUDONYM_SECRET"} <= settings_in_code()


def test_every_setting_the_code_reads_is_in_env_example():
    missing = settings_in_code() - settings_in_env_example()
    assert not missing, f"read by the code but not in .env.example: {sorted(missing)}"


def test_every_setting_in_env_example_is_read_by_the_code():
    unused = settings_in_env_example() - settings_in_code()
    assert not unused, f"in .env.example but read nowhere in bot/: {sorted(unused)}"


# --- python -m bot validate ----------------------------------------------------------------------

def _broken_content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    (root / "responses" / "conversation.yml").write_text("responses:\n  utter_greet: [\"open\n", encoding="utf-8")
    return root


def test_validate_content_accepts_the_real_content(capsys):
    assert evaluation.validate_content()
    assert "content check: ok" in capsys.readouterr().out


def test_validate_content_fails_on_broken_content_with_a_dutch_message(tmp_path, capsys):
    assert not evaluation.validate_content(_broken_content(tmp_path))
    out = capsys.readouterr().out
    assert "content/: responses/conversation.yml" in out or "content/: conversation.yml" in out, out
    assert "content check: FAILED" in out


def test_validate_content_fails_on_a_response_name_in_two_files(tmp_path, capsys):
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    (root / "responses" / "extra.yml").write_text("responses:\n  utter_greet:\n    - text: Hoi\n", encoding="utf-8")
    assert not evaluation.validate_content(root)
    out = capsys.readouterr().out
    assert "extra.yml" in out and "'utter_greet' staat ook in" in out, out


@pytest.mark.parametrize("data_ok, content_broken, expected", [
    (True, False, True), (True, True, False), (False, False, False)])
def test_validate_fails_when_rasa_data_or_content_fails(tmp_path, monkeypatch, data_ok, content_broken, expected):
    monkeypatch.setattr(evaluation, "validate_rasa_data", lambda: data_ok)  # no rasa subprocess here
    if content_broken:
        monkeypatch.setattr(content, "CONTENT_DIR", _broken_content(tmp_path))
    assert evaluation.validate() is expected


# --- what makes the model outdated --------------------------------------------------------------

def config_module_files() -> list:
    config = yaml.safe_load(CONFIG_FILE.read_text())
    names = [entry["name"] for section in ("importers", "pipeline", "policies") for entry in config.get(section) or []]
    modules = sorted({name.rsplit(".", 1)[0] for name in names if name.startswith("bot.")})
    assert modules, "config.yml names none of Sam's own components"
    return [ROOT / (module.replace(".", "/") + ".py") for module in modules]


@pytest.mark.parametrize("path", config_module_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_component_named_in_config_is_a_training_input(path):
    assert path in training.training_inputs()


def test_code_the_components_import_is_a_training_input_but_content_is_not():
    inputs = training.training_inputs()
    assert set((BOT_DIR / "risk").glob("*.py")) <= set(inputs)  # the risk component uses bot/risk/
    # Settings, texts and opening hours are runtime plumbing: editing them never retrains.
    assert not {BOT_DIR / "config.py", BOT_DIR / "content.py", BOT_DIR / "helplines.py"} & set(inputs)
    assert not [p for p in inputs if CONTENT_DIR in p.parents]


def test_the_retired_blind_rounds_are_training_inputs():
    """The disclosure detector learns from them: retiring a round must retrain."""
    rounds = sorted(RETIRED_DIR.glob("round*_*.yml"))
    assert rounds and set(rounds) <= set(training.training_inputs())


def test_a_text_change_keeps_the_model_but_a_new_response_name_retrains(tmp_path, monkeypatch):
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    monkeypatch.setattr(content, "CONTENT_DIR", root)
    before = training.fingerprint()
    path = root / "responses" / "conversation.yml"
    data = yaml.safe_load(path.read_text())
    data["responses"]["utter_greet"][0]["text"] = "Een andere groet"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    assert training.fingerprint() == before
    data["responses"]["utter_brand_new"] = [{"text": "Nieuw"}]
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    assert training.fingerprint() != before
