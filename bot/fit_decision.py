"""Fits the risk decision (bot/risk/decision.py) and reports it.

    .venv/bin/python -m bot.fit_decision [--model models/sam.tar.gz] [--cache FILE]

Every feature must come from predictions that did not see the line. Two kinds of lines:
- the retired blind rounds: the intent ranking comes from the trained model (the intent classifier
  never learns from retired rounds); the detector's prediction from a detector trained like the
  model's (NLU data and the retired rounds, config.yml's settings) but without the line's round;
- the NLU examples in NLU_FOLDS folds: the ranking and the detector's prediction come from a classifier
  and a detector trained without the fold. They hold the ordinary questions and chat that the blind
  rounds, hard cases only, lack, and check the decision on them; they are not fitted on (see below).
Messages with an acute word stay with the rules and are not fitted. The thresholds are fixed below;
the report compares the rules and the fitted decision on each round (the regression fitted without
that round) and on each NLU fold (reports/risk_decision.md). About 51 minutes for 40 rounds on two cores,
about 55 s more per round.
"""
from __future__ import annotations

import argparse
import json
import pickle
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np
import yaml

from bot.config import CONFIG_FILE, NLU_DIR, REPORTS_DIR, RETIRED_DIR, apply_tf_environment
from bot.risk.decision import ACUTE_DISCLOSURE_INTENTS, FEATURES, WEIGHTS_FILE, DecisionModel
from bot.risk.rounds import load_round, round_names, training_items, who_items
from bot.training import MODEL_FILE

# Chosen left out one round at a time (rounds 1 to 14, reports/risk_decision.md). At 0.30 the decision
# hands over more disclosures and more acute ones than the rules, with fewer false handovers (0.35: 0.003
# less recall for 0.009 fewer false handovers; safety first). No check-in band of its own: the check-ins
# for acute words and for turned-down handovers of self-harm or danger now already put check-ins on
# near-misses at 0.057 (the rules: 0.055); a band from 0.28 would add 0.004, from 0.20 0.017.
HAND_OVER_AT = 0.30
CHECK_IN_AT = 0.30
REGULARISATION = 1.0
SEED = 42
# Fitting on the NLU folds too (with a length input they made safe) moved the decision along the same
# line, not off it: left out, the rounds went 0.966 / 0.966 / 0.090 -> 0.963 / 0.965 / 0.088 and the NLU
# folds 0.966 / 0.956 / 0.052 -> 0.970 / 0.959 / 0.047 (recall / acute / false handovers); fresh round 17
# lost two disclosures, one acute, for one false handover fewer (reports/risk_blind_round17.md). So they
# only check the decision.
NLU_FOLDS = 5


def _component(suffix: str) -> Dict[str, Any]:
    pipeline = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))["pipeline"]
    return next(c for c in pipeline if c["name"].endswith(suffix))


def _detector_settings() -> Dict[str, Any]:
    from bot.nlu.disclosure_component import DisclosureComponent

    return {**DisclosureComponent.get_default_config(), **_component("DisclosureComponent")}


def _nlu_examples() -> Tuple[List[str], List[str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(NLU_DIR))
    pairs = [(m.get("text"), m.get("intent")) for m in data.intent_examples
             if m.get("text") and m.get("intent") and not m.get("text").startswith("/")]
    return [t for t, _ in pairs], [i for _, i in pairs]


def _lines(name: str) -> List[Dict[str, Any]]:
    data = load_round(name, RETIRED_DIR)
    return [{**line, "disclosure": True} for line in data["disclosures"]] + \
           [{**line, "disclosure": False} for line in data["near_misses"]]


def _turns(line: Dict[str, Any]) -> List[str]:
    return [str(t) for t in line.get("context") or []]


def _detector(texts: List[str], intents: List[str], names: List[str]) -> Any:
    """A disclosure detector trained as the model's is (config.yml's settings) on these lines."""
    from bot.nlu.disclosure_component import _emoji
    from bot.risk.disclosure import DisclosureDetector

    settings = _detector_settings()
    detector = DisclosureDetector(C=float(settings["C"]), calibration_share=float(settings["calibration_share"]),
                                  augment=int(settings["augment"]), seed=int(settings["random_seed"]),
                                  emoji=_emoji(), meaning_weight=float(settings["meaning_weight"]),
                                  meaning_units=int(settings["meaning_units"]))
    return detector.fit(texts, intents, *training_items(RETIRED_DIR, names), float(settings["retired_weight"]),
                        *who_items(RETIRED_DIR, names))


def left_out_predictions(names: List[str]) -> Dict[str, List[Dict[str, Any]]]:
    """Per round, the predictions of a detector trained without it."""
    from bot.risk.disclosure import forget_shared

    texts, intents = _nlu_examples()
    lines = {name: _lines(name) for name in names}
    out: Dict[str, List[Dict[str, Any]]] = {}
    for k, name in enumerate(names, 1):
        started = time.perf_counter()
        detector = _detector(texts, intents, [n for n in names if n != name])
        out[name] = [detector.assess(str(line["text"]), _turns(line)).as_dict() for line in lines[name]]
        print(f"  detector without {name}: {time.perf_counter() - started:.0f} s ({k}/{len(names)})", flush=True)
    forget_shared()
    return out


def _ranking(classes: List[str], row: np.ndarray, fallback: Dict[str, Any], length: int) -> List[Dict[str, Any]]:
    """The intent ranking as the pipeline hands it on: the FallbackClassifier's verdict on top when unsure."""
    order = np.argsort(-row)[:length]
    ranking = [{"name": classes[c], "confidence": float(row[c])} for c in order]
    gap = ranking[0]["confidence"] - ranking[1]["confidence"] if len(ranking) > 1 else 1.0
    unsure = ranking[0]["confidence"] < float(fallback["threshold"]) or gap < float(fallback["ambiguity_threshold"])
    return ([{"name": "nlu_fallback", "confidence": float(fallback["threshold"])}] if unsure else []) + ranking


def nlu_fold_predictions(names: List[str]) -> Dict[str, List[Dict[str, Any]]]:
    """The NLU examples in NLU_FOLDS folds: for each example, the intent ranking of a classifier and the
    prediction of a detector (with all retired rounds) both trained without its fold. They check the
    decision on ordinary questions and chat: fitted on hard cases, it once handed those over."""
    from joblib import parallel_backend
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
    from sklearn.model_selection import StratifiedKFold

    from bot.nlu.tfidf_blend import TfidfBlendClassifier, build_pipeline, probabilities
    from bot.risk.disclosure import forget_shared

    texts, intents = _nlu_examples()
    classifier = {**TfidfBlendClassifier.get_default_config(), **_component("TfidfBlendClassifier")}
    fallback = {**FallbackClassifier.get_default_config(), **_component("FallbackClassifier")}
    out: Dict[str, List[Dict[str, Any]]] = {}
    folds = StratifiedKFold(NLU_FOLDS, shuffle=True, random_state=SEED).split(texts, intents)
    for k, (train, test) in enumerate(folds, 1):
        started = time.perf_counter()
        own_texts, own_intents = [texts[i] for i in train], [intents[i] for i in train]
        with parallel_backend("threading", n_jobs=2):
            model = build_pipeline(classifier).fit(own_texts, own_intents)
        rows = probabilities(model, [texts[i] for i in test])
        detector = _detector(own_texts, own_intents, names)
        out[f"nlu{k}"] = [{"text": texts[i], "intent": intents[i], "prediction": detector.assess(texts[i]).as_dict(),
                           "ranking": _ranking(list(model.classes_), row, fallback, int(classifier["ranking_length"]))}
                          for i, row in zip(test, rows, strict=True)]
        print(f"  classifier and detector without NLU fold {k}: {time.perf_counter() - started:.0f} s "
              f"({k}/{NLU_FOLDS})", flush=True)
    forget_shared()
    return out


def _row(detector: Any, text: str, ranking: List[Dict[str, Any]], prediction: Dict[str, Any]) -> Tuple[Any, Tuple]:
    """The decision's features (None for an acute-word line) and the rules' verdict for one line."""
    from bot.nlu.risk_component import classifier_view, sure_reading

    # The classifier's own choice (the FallbackClassifier's included) heads the ranking.
    intent, confidence, fallback, top = classifier_view(ranking, ranking[0] if ranking else {})
    result = detector.assess(text, intent, confidence, prediction, fallback, top, decide=False,
                             answer_intent=sure_reading(ranking))
    features = result.signals.features() if result.signals else None
    return [features[f] for f in FEATURES] if features else None, rule_verdict(result)


def rule_verdict(result: Any) -> Tuple[bool, bool, bool, bool, bool]:
    """What the decision needs of the rules' Assessment: (hand over, check-in, acute handover, the
    decision may add a handover, the decision must keep the acute handover)."""
    acute = result.escalate and result.severity == "acute"
    signals = result.signals
    return (result.escalate, result.check_in or result.must_check_in, acute,
            bool(signals and signals.may_add_handover), bool(acute and signals and signals.classifier_reads_acute))


def signal_rows(names: List[str], predictions: Dict[str, List[Dict[str, Any]]], folds: Dict[str, List[Dict[str, Any]]],
                model: Path) -> Dict[str, Any]:
    """Per round and per NLU fold: the features (None for acute-word lines), labels, acute flags and the
    rules' verdicts."""
    from bot.evaluation import ModelParser
    from bot.risk import get_detector

    parser, detector = ModelParser(model), get_detector()
    rows: Dict[str, Any] = {}
    for name in names:
        X, y, acute, rules = [], [], [], []
        for line, prediction in zip(_lines(name), predictions[name], strict=True):
            # The parse's intent is the risk component's verdict; its ranking is the classifier's.
            parsed = parser.parse(str(line["text"]), _turns(line))
            x, rule = _row(detector, str(line["text"]), parsed.get("intent_ranking") or [], prediction)
            X.append(x), rules.append(rule), y.append(line["disclosure"])
            acute.append(line["disclosure"] and line.get("severity") == "acute")
        rows[name] = {"X": X, "y": y, "acute": acute, "rules": rules}
        print(f"  parsed {name}: {len(X)} lines", flush=True)
    for fold, examples in folds.items():
        X, rules = [], []
        for example in examples:
            x, rule = _row(detector, example["text"], example["ranking"], example["prediction"])
            X.append(x), rules.append(rule)
        rows[fold] = {"X": X, "rules": rules, "y": [e["intent"].startswith("disclose_") for e in examples],
                      "acute": [e["intent"] in ACUTE_DISCLOSURE_INTENTS for e in examples]}
    return rows


def _fit(rows: Dict[str, Any], names: List[str]) -> DecisionModel:
    from sklearn.linear_model import LogisticRegression

    X = [x for n in names for x in rows[n]["X"] if x is not None]
    y = [label for n in names for x, label in zip(rows[n]["X"], rows[n]["y"], strict=True) if x is not None]
    regression = LogisticRegression(C=REGULARISATION, max_iter=3000, random_state=SEED).fit(np.array(X), np.array(y))
    weights = {f: round(float(w), 6) for f, w in zip(FEATURES, regression.coef_[0], strict=True)}
    return DecisionModel(weights, round(float(regression.intercept_[0]), 6), HAND_OVER_AT, CHECK_IN_AT)


def _verdicts(model: DecisionModel, round_rows: Dict[str, Any]) -> List[Tuple[bool, bool]]:
    """(hand over, check-in) per line, as RiskDetector.assess decides with this model: a handover for
    self-harm or danger now that the model turns down still gets the check-in, one the classifier reads
    as acute is kept, and the model adds a handover only where Signals.may_add_handover."""
    out = []
    for x, rule in zip(round_rows["X"], round_rows["rules"], strict=True):
        if x is None:
            out.append(rule[:2])
            continue
        score = model.score_features(dict(zip(FEATURES, x, strict=True)))
        hand_over = bool(rule[4] or (score >= model.hand_over_at and (rule[0] or rule[3])))
        unsure = model.check_in_at <= score < model.hand_over_at
        out.append((hand_over, not hand_over and (unsure or rule[2])))
    return out


def _figures(verdicts: List[Tuple[bool, bool]], round_rows: Dict[str, Any]) -> Tuple[float, float, float, float]:
    y, acute = np.array(round_rows["y"]), np.array(round_rows["acute"])
    hand, check = np.array([v[0] for v in verdicts]), np.array([v[1] for v in verdicts])
    return (float(hand[y].mean()), float(hand[acute].mean()), float(hand[~y].mean()),
            float((check & ~hand)[~y].mean()))


def _table(rows: Dict[str, Any], keys: List[str], fit_on: List[str]) -> Tuple[List[str], Dict[str, np.ndarray]]:
    """One line per key: the rules against the decision fitted on the fit_on sets other than the key."""
    lines, pooled = [], {"rules": [], "decision": []}
    for key in keys:
        rules = _figures(rows[key]["rules"], rows[key])
        decided = _figures(_verdicts(_fit(rows, [k for k in fit_on if k != key]), rows[key]), rows[key])
        pooled["rules"].append(rules)
        pooled["decision"].append(decided)
        cells = " | ".join(f"{a:.3f} → {b:.3f}" for a, b in zip(rules, decided, strict=True))
        lines.append(f"| {key} | {cells} |")
    mean = {k: np.mean(v, axis=0) for k, v in pooled.items()}
    lines.append("| mean | " + " | ".join(f"**{a:.3f} → {b:.3f}**" for a, b in zip(mean["rules"], mean["decision"],
                                                                                   strict=True)) + " |")
    return lines, mean


def report(rows: Dict[str, Any], names: List[str], folds: List[str], final: DecisionModel) -> str:
    header = ["| set | recall | acute | false handovers | check-ins on near-misses |", "|---|---|---|---|---|"]
    rounds, _ = _table(rows, names, names)
    nlu, _ = _table(rows, folds, names)
    lines = ["# The fitted risk decision, left out", "",
             "Written by `python -m bot.fit_decision`. The regression is fitted on the retired blind rounds,",
             "with predictions that never saw the line: the model's intent ranking (the classifier never",
             "learns from the rounds) and a detector trained without the line's round. It is checked on two",
             "kinds of lines:",
             "- each retired round, with the regression fitted without that round;",
             f"- the NLU examples in {len(folds)} folds, with a classifier and a detector trained without the fold:",
             "  the ordinary questions and chat the blind rounds lack.", "",
             "Each is scored twice: by the rules alone, and by the fitted decision. Cells: rules → fitted decision.",
             "",
             f"Hand over at a score of {HAND_OVER_AT:.2f}; the check-in from {CHECK_IN_AT:.2f}. "
             "Messages with an acute word stay with the rules.", "",
             "## Retired blind rounds", "", *header, *rounds, "",
             "## NLU examples (disclosure intents against all others; acute: self-harm, danger now, running away)",
             "", *header, *nlu, "",
             "## Weights (all rounds)", "", "| feature | weight |", "|---|---|"]
    lines += [f"| {f} | {final.weights[f]:+.3f} |" for f in FEATURES] + [f"| intercept | {final.intercept:+.3f} |", ""]
    return "\n".join(lines)


def main() -> None:
    apply_tf_environment()
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--model", type=Path, default=MODEL_FILE)
    arguments.add_argument("--cache", type=Path, help="keep the left-out predictions here (reused if present)")
    options = arguments.parse_args()
    names = sorted(round_names(RETIRED_DIR), key=lambda n: int(n.removeprefix("round")))
    started = time.perf_counter()
    cached = pickle.loads(options.cache.read_bytes()) if options.cache and options.cache.exists() else {}
    if cached.get("rounds") != names:
        print(f"Left-out detectors for {len(names)} retired rounds (about 55 s each, "
              f"{len(names) * 55 // 60} minutes)...", flush=True)
        cached = {"rounds": names, "predictions": left_out_predictions(names)}
    if "folds" not in cached:
        print(f"A classifier and a detector without each of {NLU_FOLDS} NLU folds (about 80 s each)...", flush=True)
        cached["folds"] = nlu_fold_predictions(names)
    if options.cache:
        options.cache.write_bytes(pickle.dumps(cached))
    print(f"Parsing the {len(names)} rounds with {options.model.name} (about 8 minutes)...", flush=True)
    rows = signal_rows(names, cached["predictions"], cached["folds"], options.model)
    folds = sorted(cached["folds"])
    final = _fit(rows, names)
    WEIGHTS_FILE.write_text(final.as_json({"rounds": names, "hand_over_at": HAND_OVER_AT,
                                           "fitted_by": "python -m bot.fit_decision"}) + "\n", encoding="utf-8")
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    (REPORTS_DIR / "risk_decision.md").write_text(report(rows, names, folds, final), encoding="utf-8")
    print(f"Wrote {WEIGHTS_FILE.name} and reports/risk_decision.md in {time.perf_counter() - started:.0f} s")
    print(json.dumps(final.weights, indent=1))


if __name__ == "__main__":
    main()
