"""Evaluation reports in reports/: data validation, NLU cross-validation, dialogue tests and
the risk detector on the labelled sets in tests/data/."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import yaml
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME

from bot.categories import ACUTE_CATEGORIES
from bot.config import CONFIG_FILE, DOMAIN_FILE, NLU_DIR, REPORTS_DIR, RETIRED_DIR, ROOT, STORIES_DIR
from bot.risk.rounds import load_round, round_names
from bot.training import MODEL_FILE, rasa_env, train

DISCLOSURES_FILE = ROOT / "tests" / "data" / "risk_disclosures.yml"
NEAR_MISSES_FILE = ROOT / "tests" / "data" / "risk_near_misses.yml"
# Written independently by someone who never saw the lexicon or the training data: a check on
# how well the detector generalises beyond the sets it was tuned on. Reported, not asserted.
HOLDOUT_DISCLOSURES_FILE = ROOT / "tests" / "data" / "holdout_disclosures.yml"
HOLDOUT_NEAR_MISSES_FILE = ROOT / "tests" / "data" / "holdout_near_misses.yml"
# A blind set is written by people who never saw the data, scored once before and once after a
# change, then retired: moved to RETIRED_DIR, where it is still reported (as its own set) but no
# longer measures young people: the change was tuned with it in view, and the disclosure detector
# trains on it.
BLIND_DIR = ROOT / "tests" / "data" / "blind"
# Intent-labelled lines written from bot/data/INTENTS.md only, none of them an NLU example: intent
# recognition on text the classifier never saw (cross-validation re-uses the training data's writers).
INTENT_HELDOUT_FILE = ROOT / "tests" / "data" / "intent_heldout.yml"
FALLBACK_INTENT = DEFAULT_NLU_FALLBACK_INTENT_NAME
TEST_STORIES = ROOT / "tests" / "test_stories.yml"
RASA = [sys.executable, "-m", "bot.rasa_cli"]


def _rasa(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([*RASA, *args], cwd=ROOT, env=rasa_env(), check=check, capture_output=True, text=True)


def validate() -> bool:
    """`python -m bot validate`: rasa data validate (no warnings allowed) and the content checks.

    Both run, so one report shows every problem; False when either fails.
    """
    data_ok = validate_rasa_data()
    content_ok = validate_content()
    return data_ok and content_ok


def validate_content(root: Optional[Path] = None) -> bool:
    """Loads content/ (or `root`) the way Sam does; a ContentError says in Dutch what is wrong."""
    from bot.content import ContentError, load_content

    try:
        load_content(root)
    except ContentError as error:
        for problem in getattr(error, "problems", None) or str(error).splitlines():
            print(f"content/: {problem}")
        print("content check: FAILED")
        return False
    print("content check: ok")
    return True


def validate_rasa_data() -> bool:
    """rasa data validate, failing on any warning."""
    result = _rasa("data", "validate", "--fail-on-warnings", "--config", str(CONFIG_FILE),
                   "--domain", str(DOMAIN_FILE), "--data", str(NLU_DIR), str(STORIES_DIR), check=False)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if "UserWarning" in line or "ERROR" in line or "The " in line and "is not used" in line]
    for line in problems:
        print(line)
    print("rasa data validate:", "ok" if result.returncode == 0 else "FAILED")
    return result.returncode == 0


def load_labelled(holdout: bool = False) -> Dict[str, List[Dict[str, Any]]]:
    disclosures, near_misses = ((HOLDOUT_DISCLOSURES_FILE, HOLDOUT_NEAR_MISSES_FILE) if holdout
                                else (DISCLOSURES_FILE, NEAR_MISSES_FILE))
    return {
        "disclosures": yaml.safe_load(disclosures.read_text(encoding="utf-8")),
        "near_misses": yaml.safe_load(near_misses.read_text(encoding="utf-8")),
    }


def risk_metrics(escalates: Callable[..., Dict[str, Any]], holdout: bool = False,
                 data: Optional[Dict[str, List[Dict[str, Any]]]] = None) -> Dict[str, Any]:
    """Recall per category and overall, acute recall and the false-handover rate.

    `escalates(text, context)` returns {"escalate": bool, "category": str | None}; `context` is the
    young person's previous messages (fragments), empty for most items.
    """
    data = data or load_labelled(holdout)

    def run(item: Dict[str, Any]) -> Dict[str, Any]:
        context = item.get("context") or []
        return escalates(item["text"], context) if context else escalates(item["text"])

    per_category: Dict[str, Counter] = {}
    acute = Counter()
    # Whether the category named is the one written: it picks the answer and the helplines.
    named = Counter()
    missed: List[Dict[str, Any]] = []
    missed_but = Counter()
    by_trick: Dict[str, Counter] = {}
    for item in data["disclosures"]:
        result = run(item)
        hit = bool(result.get("escalate"))
        trick = item.get("trick") or item.get("class") or "plain"
        per_category.setdefault(item["category"], Counter())["total"] += 1
        per_category[item["category"]]["found"] += hit
        by_trick.setdefault(trick, Counter())["total"] += 1
        by_trick[trick]["found"] += hit
        if item["severity"] == "acute":
            acute["total"] += 1
            acute["found"] += hit
        if not hit:
            missed.append(item)
            # A missed disclosure still named 113 and 112 by the check-in or the safety line.
            missed_but["check_in"] += bool(result.get("check_in"))
            missed_but["safety_line"] += bool(result.get("safety_line"))
        else:
            kind = "context" if item.get("context") else "alone"
            named[kind] += 1
            named[kind + "_right"] += result.get("category") == item["category"]
            if item["category"] in ACUTE_CATEGORIES:  # named so, the handover lists 113 or 112
                named["acute"] += 1
                named["acute_named_acute"] += result.get("category") in ACUTE_CATEGORIES
    false_handovers = []
    check_ins = safety_lines = 0
    by_class: Dict[str, Counter] = {}
    for item in data["near_misses"]:
        result = run(item)
        by_class.setdefault(item["class"], Counter())["total"] += 1
        check_ins += bool(result.get("check_in"))
        safety_lines += bool(result.get("safety_line"))
        if result.get("escalate"):
            by_class[item["class"]]["handover"] += 1
            false_handovers.append({**item, "category": result.get("category")})
    total = sum(c["total"] for c in per_category.values())
    found = sum(c["found"] for c in per_category.values())
    near = len(data["near_misses"])

    def share(part: int, whole: int) -> Optional[float]:
        return round(part / whole, 4) if whole else None  # a set being written may lack one half

    return {
        "disclosures": total,
        "near_misses": near,
        "recall_overall": share(found, total),
        "recall_acute": share(acute["found"], acute["total"]),
        "recall_per_category": {c: round(v["found"] / v["total"], 4) for c, v in sorted(per_category.items())},
        "category_right": share(named["alone_right"] + named["context_right"], named["alone"] + named["context"]),
        "category_right_with_context": share(named["context_right"], named["context"]),
        "acute_named_acute": share(named["acute_named_acute"], named["acute"]),
        "recall_per_trick": {t: round(v["found"] / v["total"], 4) for t, v in sorted(by_trick.items())},
        "false_handover_rate": share(len(false_handovers), near),
        "check_in_rate_near_misses": share(check_ins, near),
        # An answer with one line naming 113 and 112: no question, so not a check-in (acute words).
        "safety_line_rate_near_misses": share(safety_lines, near),
        "missed_with_check_in": missed_but["check_in"],
        "missed_with_safety_line": missed_but["safety_line"],
        "false_handover_per_class": {c: round(v["handover"] / v["total"], 4) for c, v in sorted(by_class.items())},
        "missed": missed,
        "false_handovers": false_handovers,
    }


def blind_rounds(directory: Path = BLIND_DIR) -> List[str]:
    """Names of the sets present, e.g. ['round1'] for tests/data/blind/round1_*.yml."""
    return round_names(directory)


def load_blind(round_name: str, directory: Path = BLIND_DIR) -> Dict[str, List[Dict[str, Any]]]:
    """A blind or retired set (<dir>/<round>_*.yml): disclosures have a category, near-misses not."""
    return load_round(round_name, directory)


class ModelParser:
    """Parses messages with the trained model in-process (the full NLU pipeline, risk included)."""

    def __init__(self, model_path: Path = MODEL_FILE) -> None:
        import logging

        from rasa.core.agent import Agent
        from rasa.utils.log_utils import configure_structlog

        # Rasa's debug log prints every parsed text; keep messages out of the output.
        logging.getLogger("rasa").setLevel(logging.WARNING)
        configure_structlog(logging.WARNING)
        self.loop = asyncio.new_event_loop()
        self.agent = Agent.load(str(model_path))

    def parse(self, text: str, context: Optional[List[str]] = None) -> Dict[str, Any]:
        """Parses like the Rasa channel does: the previous messages ride along as metadata."""
        from rasa.core.channels.channel import UserMessage

        message = UserMessage(text, metadata={"context": list(context or [])})
        return self.loop.run_until_complete(self.agent.processor.parse_message(message))

    def classifier_choice(self, text: str) -> Tuple[str, str]:
        """The intent classifier's own choice (the FallbackClassifier's included: it heads the ranking;
        the parse's intent is the risk component's) and its best intent other than the fallback."""
        ranking = [entry["name"] for entry in self.parse(text).get("intent_ranking") or []]
        best = next((name for name in ranking if name != FALLBACK_INTENT), "")
        return (ranking[0] if ranking else ""), best

    def escalates(self, text: str, context: Optional[List[str]] = None) -> Dict[str, Any]:
        risk = self.parse(text, context).get("risk") or {}
        return {"escalate": bool(risk.get("escalate")), "category": risk.get("category"),
                "check_in": bool(risk.get("check_in")), "safety_line": bool(risk.get("safety_line"))}


def lexicon_escalates(text: str, context: Optional[List[str]] = None) -> Dict[str, Any]:
    """The fail-safe path: the risk lexicon alone, as the bridge uses it when Rasa is down."""
    from bot.risk import get_detector

    result = get_detector().assess(text)
    return {"escalate": result.escalate, "category": result.category}


def risk_report(parser: Optional[ModelParser] = None) -> Dict[str, Any]:
    parser = parser or ModelParser()
    started = time.perf_counter()
    combined = risk_metrics(parser.escalates)
    combined["seconds"] = round(time.perf_counter() - started, 2)
    report = {"combined_nlu_and_lexicon": combined, "lexicon_only_failsafe": risk_metrics(lexicon_escalates),
              "holdout_combined": risk_metrics(parser.escalates, holdout=True),
              "holdout_lexicon_only": risk_metrics(lexicon_escalates, holdout=True)}
    for kind, directory in (("blind", BLIND_DIR), ("retired", RETIRED_DIR)):
        for round_name in blind_rounds(directory):
            data = load_blind(round_name, directory)
            report[f"{kind}_{round_name}_combined"] = risk_metrics(parser.escalates, data=data)
            report[f"{kind}_{round_name}_lexicon_only"] = risk_metrics(lexicon_escalates, data=data)
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    (REPORTS_DIR / "risk_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    columns = list(report)
    lines = ["# Risk detection", "", "Each column is one set, scored separately (combined = the trained model with "
             "the lexicon, as Rasa runs; lexicon only = the fail-safe path when Rasa is down).", "",
             "| measure | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for key in ("recall_overall", "recall_acute", "false_handover_rate", "check_in_rate_near_misses",
                "safety_line_rate_near_misses", "missed_with_check_in", "missed_with_safety_line",
                "category_right", "acute_named_acute"):
        lines.append(f"| {key} | " + " | ".join(str(report[c][key]) for c in columns) + " |")
    for category in combined["recall_per_category"]:
        lines.append(f"| recall {category} | " + " | ".join(
            str(report[c]["recall_per_category"].get(category)) for c in columns) + " |")
    lines += ["", "Targets: acute recall 1.0, overall recall >= 0.99, false handover <= 0.02.",
              f"Labelled sets: {combined['disclosures']} disclosures, {combined['near_misses']} near-misses."]
    (REPORTS_DIR / "risk_report.md").write_text("\n".join(lines) + "\n")
    return report


def load_intent_heldout(path: Path = INTENT_HELDOUT_FILE) -> List[Tuple[str, str]]:
    """(text, intent) pairs of the held-out intent set."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [(str(text), intent) for intent, texts in data.items() for text in texts]


def intent_metrics(classify: Callable[[str], Tuple[str, str]], items: List[Tuple[str, str]]) -> Dict[str, Any]:
    """classify(text) -> (the classifier's choice, nlu_fallback included; its best real intent).
    Macro-F1 counts a fallback as a miss (Sam asked to rephrase); the top-intent figure ignores it."""
    from sklearn.metrics import f1_score

    gold, chosen, top = [], [], []
    for text, intent in items:
        choice, best = classify(text)
        gold.append(intent), chosen.append(choice), top.append(best)
    labels = sorted(set(gold))
    per_intent = f1_score(gold, top, labels=labels, average=None, zero_division=0)
    scores = {label: round(float(f), 3) for label, f in zip(labels, per_intent, strict=True)}
    return {
        "examples": len(items), "intents": len(labels),
        "macro_f1": round(float(f1_score(gold, chosen, labels=labels, average="macro", zero_division=0)), 4),
        "macro_f1_top_intent": round(float(per_intent.mean()), 4) if labels else 0.0,
        "fallback_rate": round(sum(c == FALLBACK_INTENT for c in chosen) / max(len(items), 1), 4),
        "intents_below_0_90": sorted(label for label, f in scores.items() if f < 0.9),
        "weakest": dict(sorted(scores.items(), key=lambda item: item[1])[:10]),
    }


def intent_heldout_report(parser: Optional[ModelParser] = None) -> Dict[str, Any]:
    parser = parser or ModelParser()
    report = intent_metrics(parser.classifier_choice, load_intent_heldout())
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    (REPORTS_DIR / "intent_heldout.json").write_text(json.dumps(report, indent=2))
    weakest = ", ".join(f"{name} {f}" for name, f in report["weakest"].items())
    (REPORTS_DIR / "intent_heldout.md").write_text("\n".join([
        "# Intents on held-out text", "",
        f"{report['examples']} lines over {report['intents']} intents in `tests/data/intent_heldout.yml`, written from "
        "`bot/data/INTENTS.md` only and never trained on.", "",
        f"- macro-F1 (a fallback counts as a miss): **{report['macro_f1']}**",
        f"- macro-F1 of the top intent (fallback ignored): {report['macro_f1_top_intent']}",
        f"- fallback rate: {report['fallback_rate']} (aim <= 0.08)",
        f"- intents under 0.90: {len(report['intents_below_0_90'])}",
        f"- weakest: {weakest}", ""]))
    return report


def nlu_cross_validation(folds: int) -> Dict[str, Any]:
    out = REPORTS_DIR / "nlu"
    started = time.perf_counter()
    _rasa("test", "nlu", "--cross-validation", "--folds", str(folds), "--nlu", str(NLU_DIR),
          "--config", str(CONFIG_FILE), "--out", str(out))
    report = json.loads((out / "intent_report.json").read_text())
    summary = {
        "folds": folds,
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
        "weighted_f1": round(report["weighted avg"]["f1-score"], 4),
        "accuracy": round(report.get("accuracy", 0.0), 4),
        "seconds": round(time.perf_counter() - started, 1),
        "per_intent": {k: {m: round(v[m], 3) for m in ("precision", "recall", "f1-score")}
                       for k, v in sorted(report.items()) if isinstance(v, dict) and "support" in v
                       and k not in ("macro avg", "weighted avg", "micro avg")},
    }
    (REPORTS_DIR / "nlu_summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def dialogue_tests() -> bool:
    result = _rasa("test", "core", "--model", str(MODEL_FILE), "--stories", str(TEST_STORIES),
                   "--out", str(REPORTS_DIR / "core"), "--fail-on-prediction-errors", check=False)
    return result.returncode == 0


def run_all(folds: int = 5) -> None:
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    train()
    ok = validate()
    print("dialogue test stories:", "ok" if dialogue_tests() else "FAILED (see reports/core)")
    parser = ModelParser()  # loaded once: the risk and the held-out intent reports parse with it
    risk = risk_report(parser)
    c = risk["combined_nlu_and_lexicon"]
    h = risk["holdout_combined"]
    print(f"risk (labelled sets): recall {c['recall_overall']}, acute {c['recall_acute']}, "
          f"false handover {c['false_handover_rate']}")
    print(f"risk (held-out sets): recall {h['recall_overall']}, acute {h['recall_acute']}, "
          f"false handover {h['false_handover_rate']}")
    held_out = intent_heldout_report(parser)
    print(f"intents on held-out text: macro-F1 {held_out['macro_f1']}, fallback rate {held_out['fallback_rate']}")
    nlu = nlu_cross_validation(folds)
    print(f"NLU {folds}-fold cross-validation: macro-F1 {nlu['macro_f1']}, accuracy {nlu['accuracy']}")
    print(f"Reports written to {REPORTS_DIR}")
    if not ok:
        sys.exit(1)
