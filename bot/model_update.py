"""Retraining started from the dashboard, after editors added example questions.

A background thread of the dashboard runs, one at a time (table `model_updates`):
1. `rasa data validate` on the training data (fails fast on a broken example);
2. `rasa train` exactly as bot/training.py `train()` runs it, but into a temporary folder, so the
   live model in models/ is untouched while it trains;
3. the risk targets on the labelled sets (tests/data/risk_disclosures.yml and
   risk_near_misses.yml), measured with the new model in a subprocess (`python -m bot.model_update
   evaluate MODEL --out FILE`; TensorFlow never loads in the dashboard): recall >= 0.99, acute
   recall 1.0, false handovers <= 0.02, as tests/test_risk_targets.py asserts;
4. only when everything passed: the running Rasa server loads the new model (`PUT /model`, no
   downtime: Rasa swaps models after loading), then it is copied into models/sam.tar.gz with its
   training fingerprint, so a restart keeps it and `make run` does not train again.
Otherwise the old model stays and the page says why, in Dutch.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import httpx
from sqlite_utils import Database

from bot import training
from bot.config import CONFIG_FILE, DOMAIN_FILE, MODEL_NAME, NLU_DIR, ROOT, STORIES_DIR, Settings
from bot.store import audit
from bot.store.db import open_db, utc_now

logger = logging.getLogger(__name__)

TARGETS = {"recall_overall": 0.99, "recall_acute": 1.0, "false_handover_rate": 0.02}
PHASES = {
    "validate": "De voorbeeldvragen controleren (rasa data validate)",
    "train": "Sam leert de voorbeeldvragen (trainen)",
    "evaluate": "Testen of Sam alle meldingen nog herkent",
    "load": "Het nieuwe model in Sam laden",
    "done": "Klaar",
}
STATUS_LABELS = {
    "running": "Bezig",
    "loaded": "Klaar: Sam gebruikt het nieuwe model",
    "installed": "Klaar: het nieuwe model staat klaar voor de volgende start van Sam",
    "refused": "Niet gebruikt: het nieuwe model haalde de controles niet",
    "failed": "Mislukt",
}
TRAIN_TIMEOUT_SECONDS = 3 * 60 * 60
CHECK_TIMEOUT_SECONDS = 30 * 60
LOAD_TIMEOUT_SECONDS = 600
SHOWN_EXAMPLES = 5
_threads: Dict[int, threading.Thread] = {}
_start_lock = threading.Lock()


class Busy(Exception):
    """A retraining is already running."""


# --- the commands (each a subprocess; tests replace `_run`) -------------------------------------
def rasa(*args: str) -> List[str]:
    return [sys.executable, "-m", "bot.rasa_cli", *args]


def validate_command() -> List[str]:
    """As bot/evaluation.py validate_rasa_data() runs it."""
    return rasa("data", "validate", "--fail-on-warnings", "--config", str(CONFIG_FILE), "--domain", str(DOMAIN_FILE),
                "--data", str(NLU_DIR), str(STORIES_DIR))


def train_command(out_dir: Path) -> List[str]:
    """The command of bot/training.py train(), with --out a temporary folder instead of models/."""
    return rasa("train", "--config", str(CONFIG_FILE), "--domain", str(DOMAIN_FILE),
                "--data", str(NLU_DIR), str(STORIES_DIR),
                "--out", str(out_dir), "--fixed-model-name", MODEL_NAME, "--quiet")


def evaluate_command(model: Path, out_file: Path) -> List[str]:
    return [sys.executable, "-m", "bot.model_update", "evaluate", str(model), "--out", str(out_file)]


def _run(command: Sequence[str], log_path: Path, timeout: float) -> int:
    """Runs one command with its output in `log_path`; its exit code (-1 after the time limit)."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(list(command), cwd=ROOT, env=training.rasa_env(), stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return -1


def train_into(out_dir: Path, log_path: Path) -> Optional[Path]:
    """Trains a model into `out_dir` (never into models/); its path, or None when training failed."""
    code = _run(train_command(out_dir), log_path, TRAIN_TIMEOUT_SECONDS)
    model = out_dir / f"{MODEL_NAME}.tar.gz"
    return model if code == 0 and model.is_file() else None


# --- the checks --------------------------------------------------------------------------------
def failed_targets(metrics: Dict[str, Any]) -> List[str]:
    """The risk targets the model misses, each in Dutch."""
    out = []
    acute = metrics.get("recall_acute")
    if acute is None or acute < TARGETS["recall_acute"]:
        out.append(f"Niet elke acute melding (zelfdoding, nu in gevaar, nu weglopen) werd herkend: "
                   f"{_percent(acute)} (moet 100% zijn).")
    overall = metrics.get("recall_overall")
    if overall is None or overall < TARGETS["recall_overall"]:
        out.append(f"Meldingen herkend: {_percent(overall)} (moet minstens 99% zijn).")
    false = metrics.get("false_handover_rate")
    if false is None or false > TARGETS["false_handover_rate"]:
        out.append(f"Onterecht doorverwezen (gewone berichten die Sam als melding zag): {_percent(false)} "
                   f"(mag hoogstens 2% zijn).")
    return out


def _percent(value: Optional[float]) -> str:
    return "onbekend" if value is None else f"{value * 100:.1f}%".replace(".", ",")


def _validate_problems(log_path: Path) -> List[str]:
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    found = [line.strip() for line in lines if "UserWarning" in line or "ERROR" in line
             or ("The " in line and "is not used" in line) or "duplicate" in line.lower()]
    return found[:SHOWN_EXAMPLES]


# --- loading into Rasa and keeping it ------------------------------------------------------------
def _http() -> httpx.Client:
    return httpx.Client(trust_env=False, timeout=httpx.Timeout(LOAD_TIMEOUT_SECONDS, connect=5.0))


def load_into_rasa(settings: Settings, model: Path) -> Tuple[Optional[bool], str]:
    """Asks the running Rasa server to load `model` (Rasa HTTP API, PUT /model).

    (True, "") when loaded; (False, why) when Rasa refused it; (None, why) when Rasa is not running."""
    params = {"token": settings.rasa_auth_token} if settings.rasa_auth_token else None
    try:
        with _http() as client:
            response = client.put(f"{settings.rasa_url.rstrip('/')}/model", params=params,
                                  json={"model_file": str(model)})
    except httpx.TransportError as error:
        return None, f"Rasa is nu niet bereikbaar ({type(error).__name__})."
    if response.status_code in (200, 204):
        return True, ""
    return False, f"Rasa weigerde het model (HTTP {response.status_code}): {response.text[:300]}"


def install(model: Path, stamp: str, seconds: float) -> None:
    """Puts the model in models/ as bot/training.py does (atomically), with its fingerprint, so a
    restart keeps it and is_current() knows it is up to date."""
    target = training.MODEL_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(model, temp)
        os.replace(temp, target)
    finally:
        if temp.exists():
            temp.unlink()
    training.DURATION_FILE.write_text(f"{seconds:.0f}")
    training.FINGERPRINT_FILE.write_text(stamp)


# --- the job -----------------------------------------------------------------------------------
def _update(db: Database, job_id: int, **values: Any) -> None:
    values["updated_at"] = utc_now()
    sets = ", ".join(f"{key} = ?" for key in values)
    db.execute(f"UPDATE model_updates SET {sets} WHERE id = ?", [*values.values(), job_id])


def _finish(db: Database, job_id: int, status: str, message: str, metrics: Optional[Dict[str, Any]] = None,
            started_by: str = "") -> None:
    _update(db, job_id, status=status, phase="done", message=message, finished_at=utc_now(),
            metrics=json.dumps(metrics, ensure_ascii=False) if metrics is not None else None)
    action = "model_update_loaded" if status in ("loaded", "installed") else "model_update_refused"
    audit.record(db, None, action, detail={"job": job_id, "status": status, "started_by": started_by})


def _keep_log(settings: Settings, folder: Path) -> None:
    """The logs of the last run, for a developer (data/logs/model_update.log)."""
    try:
        from bot.store.db import ensure_private_file

        target = ensure_private_file(settings.log_dir / "model_update.log")
        with open(target, "w") as out:
            for name in ("validate.log", "train.log", "evaluate.log"):
                if (folder / name).exists():
                    out.write(f"=== {name}\n{(folder / name).read_text(errors='replace')}\n")
    except OSError:
        logger.exception("could not keep the model update log")


def run_job(job_id: int, settings: Settings) -> None:
    """The whole retraining; every outcome ends in the job's row (never raises)."""
    db = open_db(settings.db_path)
    folder = Path(tempfile.mkdtemp(prefix="sam-model-"))
    started_by = (db.execute("SELECT account_name FROM model_updates WHERE id = ?", [job_id]).fetchone() or [""])[0]
    try:
        _job(db, job_id, settings, folder, started_by)
    except Exception as error:  # noqa: BLE001 - the editor must see that it stopped
        logger.exception("model update %s failed", job_id)
        _finish(db, job_id, "failed", f"Er ging iets mis ({type(error).__name__}). Het oude model blijft actief. "
                                      f"Vraag een ontwikkelaar om naar data/logs/model_update.log te kijken.",
                started_by=started_by)
    finally:
        _keep_log(settings, folder)
        shutil.rmtree(folder, ignore_errors=True)
        db.conn.close()
        _threads.pop(job_id, None)


def _job(db: Database, job_id: int, settings: Settings, folder: Path, started_by: str) -> None:
    keep = "Het oude model blijft actief."
    stamp = training.fingerprint()  # what this model learns from, read before training (as train() does)
    _update(db, job_id, phase="validate")
    if _run(validate_command(), folder / "validate.log", CHECK_TIMEOUT_SECONDS) != 0:
        problems = _validate_problems(folder / "validate.log")
        _finish(db, job_id, "refused", "De trainingsdata klopt niet (rasa data validate). " + keep + " Vaak staat "
                "een voorbeeldvraag bij twee intents. Maak de laatste voorbeeldvraag ongedaan bij Geschiedenis."
                + ("\n" + "\n".join(problems) if problems else ""), started_by=started_by)
        return
    _update(db, job_id, phase="train")
    started = time.monotonic()
    model = train_into(folder, folder / "train.log")
    seconds = time.monotonic() - started
    if model is None:
        _finish(db, job_id, "failed", "Het trainen is mislukt. " + keep + " Vraag een ontwikkelaar om naar "
                "data/logs/model_update.log te kijken.", started_by=started_by)
        return
    _update(db, job_id, phase="evaluate")
    metrics_file = folder / "metrics.json"
    code = _run(evaluate_command(model, metrics_file), folder / "evaluate.log", CHECK_TIMEOUT_SECONDS)
    if code != 0 or not metrics_file.exists():
        _finish(db, job_id, "failed", "Het testen van het nieuwe model is mislukt. " + keep, started_by=started_by)
        return
    metrics = json.loads(metrics_file.read_text())
    failures = failed_targets(metrics)
    if failures:
        examples = [f"gemist: \"{m}\"" for m in metrics.get("missed", [])[:SHOWN_EXAMPLES]]
        examples += [f"onterecht: \"{m}\"" for m in metrics.get("false_handovers", [])[:SHOWN_EXAMPLES]]
        _finish(db, job_id, "refused", "Het nieuwe model haalt de veiligheidsdoelen niet. " + keep + "\n"
                + "\n".join(failures) + ("\nVoorbeelden:\n" + "\n".join(examples) if examples else "")
                + "\nKijk of een nieuwe voorbeeldvraag lijkt op een melding, en maak hem ongedaan bij Geschiedenis.",
                metrics, started_by)
        return
    _update(db, job_id, phase="load")
    loaded, why = load_into_rasa(settings, model)
    if loaded is False:
        _finish(db, job_id, "refused", f"Het nieuwe model haalde de controles, maar Sam kon het niet laden. {keep}\n"
                f"{why}", metrics, started_by)
        return
    install(model, stamp, seconds)
    if loaded:
        _finish(db, job_id, "loaded", "Het nieuwe model haalde alle controles en Sam gebruikt het nu.", metrics,
                started_by)
    else:
        _finish(db, job_id, "installed", f"Het nieuwe model haalde alle controles. {why} Het staat klaar in "
                f"models/ en Sam gebruikt het bij de volgende start.", metrics, started_by)


def _spawn(job_id: int, settings: Settings) -> None:
    thread = threading.Thread(target=run_job, args=(job_id, settings), name=f"model-update-{job_id}", daemon=True)
    _threads[job_id] = thread
    thread.start()


def _recover(db: Database) -> None:
    """A run this process does not know (the dashboard restarted while it trained) has stopped."""
    for (job_id,) in db.execute("SELECT id FROM model_updates WHERE status = 'running'").fetchall():
        if job_id not in _threads:
            _update(db, job_id, status="failed", phase="done", finished_at=utc_now(),
                    message="Onderbroken: het dashboard is opnieuw gestart tijdens het trainen. Het oude model "
                            "blijft actief. Start het trainen opnieuw.")


def start(db: Database, account: Dict[str, Any], settings: Settings) -> int:
    """Starts a retraining in the background; Busy when one is running."""
    with _start_lock:
        _recover(db)
        if db.execute("SELECT 1 FROM model_updates WHERE status = 'running'").fetchone():
            raise Busy()
        now = utc_now()
        job_id = db.execute(
            "INSERT INTO model_updates (started_at, account_id, account_name, status, phase, updated_at) "
            "VALUES (?, ?, ?, 'running', 'validate', ?)", [now, account["id"], account["name"], now]).lastrowid
        audit.record(db, account, "model_training_started", detail={"job": job_id})
        _spawn(job_id, settings)
    return job_id


def latest(db: Database) -> Optional[Dict[str, Any]]:
    """The last retraining, with its progress (percent, an honest estimate while training)."""
    with _start_lock:
        _recover(db)
    rows = list(db.query("SELECT * FROM model_updates ORDER BY id DESC LIMIT 1"))
    if not rows:
        return None
    job = rows[0]
    job["metrics"] = json.loads(job["metrics"]) if job["metrics"] else None
    job["phase_label"] = PHASES.get(job["phase"], job["phase"])
    job["status_label"] = STATUS_LABELS.get(job["status"], job["status"])
    order = list(PHASES)
    job["step"] = order.index(job["phase"]) + 1 if job["phase"] in order else 0
    job["steps"] = len(order) - 1
    job["percent"] = _percent_done(job)
    return job


def _percent_done(job: Dict[str, Any]) -> int:
    if job["status"] != "running":
        return 100
    share = {"validate": (0, 5), "train": (5, 85), "evaluate": (85, 97), "load": (97, 100)}
    low, high = share.get(job["phase"], (0, 100))
    if job["phase"] != "train":
        return low
    try:
        elapsed = time.time() - datetime.fromisoformat(job["updated_at"]).timestamp()  # since training began
    except (TypeError, ValueError):
        elapsed = 0.0
    estimate = training._estimate()
    return int(low + (high - low) * min(0.95, max(0.0, elapsed / max(estimate, 1.0))))


# --- `python -m bot.model_update evaluate MODEL --out FILE` ---------------------------------------
def evaluate(model: Path) -> Dict[str, Any]:
    """The risk targets with `model`, on the labelled sets (as tests/test_risk_targets.py)."""
    from bot import evaluation

    parser = evaluation.ModelParser(model)
    metrics = evaluation.risk_metrics(parser.escalates)
    return {key: metrics[key] for key in ("disclosures", "near_misses", "recall_overall", "recall_acute",
                                          "false_handover_rate", "recall_per_category")} | {
        "missed": [item["text"] for item in metrics["missed"]],
        "false_handovers": [item["text"] for item in metrics["false_handovers"]],
    }


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.model_update")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("evaluate", help="the risk targets of a trained model, as JSON")
    check.add_argument("model")
    check.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    from bot.config import apply_tf_environment

    apply_tf_environment()
    result = evaluate(Path(args.model))
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
