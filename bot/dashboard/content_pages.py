"""Inhoud: editors (and admins) change what Sam says in the browser (bot/content_editing.py does
the work): texts with their buttons, helplines, risk words; example questions and retraining
(bot/model_update.py); the history of changes, each one undoable.

Every change goes the same way: the form, then "Voorbeeld bekijken" shows the checks' verdict in
Dutch and a preview like a Telegram chat (risk words: which labelled sentences change outcome),
then "Publiceren". Publishing needs a preview of exactly this value (`previewed`), and the value
the form started from (`base`) must still be the one on disk: else it is refused, never
overwritten. Works without JavaScript; static/content.js only follows a retraining live.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

from starlette.responses import Response

from bot import content, content_editing, model_update, training
from bot.categories import CATEGORIES, SEVERITIES
from bot.content_editing import DAYS, HELPLINE_FIELDS, Conflict, EditError, value_hash
from bot.dashboard.auth import route
from bot.dashboard.web import ACTION_LABELS, Ctx
from bot.helplines import describe_hours, helplines_text

EDITORS = ("editor", "admin")
MAX_BUTTONS = 8
EMPTY_BUTTON_ROWS = 2
HISTORY_PAGE = 100
TOPICS = {  # content/LEESMIJ.md: what each file holds
    "content/responses/conversation.yml": "Gesprek: begroeten, menu, ja/nee, niet begrepen, je rot voelen",
    "content/responses/answers.yml": "Antwoorden op vragen (sexting, grooming, sextortion, de wet, ...)",
    "content/responses/handover.yml": "Eerste reactie op een melding (ook acuut: 112/113)",
    "content/responses/moderation.yml": "Als een mens het gesprek overneemt of een verzoek oppakt",
    "content/responses/telegram.yml": "Telegram: /start, /vergeet, /mens, foto's, spraak, stickers, storing",
}
SEVERITY_TEXT = {"acute": "acuut (altijd 113/112)", "high": "hoog", "concern": "zorg"}
ROUTING_TEXT = {"general": "algemeen (de rest)", "distress": "zonder woorden laat iemand merken dat het slecht gaat",
                "feeling_bad": "je rot voelen", "check_in": "Sam vraagt of het over de jongere zelf gaat"}
HOURS_MODES = {"always": "Dag en nacht (24/7)", "unknown": "Niet zeker (Sam zegt nooit 'nu open')",
               "days": "Per dag"}
ACTION_LABELS.update({
    "content_change": "Inhoud veranderd", "content_undo": "Inhoud: wijziging ongedaan gemaakt",
    "model_training_started": "Opnieuw trainen gestart", "model_update_loaded": "Nieuw model in gebruik",
    "model_update_refused": "Nieuw model niet gebruikt",
})


# --- reading what is there now -----------------------------------------------------------------
def _load(path) -> Any:
    try:
        return content_editing._plain_load(path) or {}
    except Exception:  # noqa: BLE001 - a broken file: the overview shows what it can
        return {}


def _texts() -> List[Dict[str, Any]]:
    """Every text by topic (the file it lives in)."""
    groups = []
    for path in content_editing.response_files():
        file = f"content/{content.RESPONSES_DIR}/{path.name}"
        items = []
        for name, variants in ((_load(path).get("responses") or {}).items()):
            variants = [variants] if isinstance(variants, dict) else variants if isinstance(variants, list) else []
            for index, variant in enumerate(variants):
                if isinstance(variant, dict):
                    items.append({"name": name, "variant": index, "count": len(variants),
                                  "text": str(variant.get("text") or ""),
                                  "buttons": [b for b in variant.get("buttons") or [] if isinstance(b, dict)]})
        groups.append({"file": file, "topic": TOPICS.get(file, path.stem), "texts": items})
    return groups


def _helplines_data() -> Dict[str, Any]:
    return _load(content_editing.content_root() / content.HELPLINES_FILE)


def _hours_text(line: Dict[str, Any]) -> str:
    hours = line.get("hours")
    if hours == "always":
        return "dag en nacht"
    if hours == "unknown" or hours is None:
        return "niet zeker"
    return describe_hours(line) or str(hours)


def _helplines() -> List[Dict[str, Any]]:
    data = _helplines_data()
    routing = data.get("routing") or {}
    out = []
    for line_id, line in (data.get("lines") or {}).items():
        if isinstance(line, dict):
            out.append({"id": line_id, **{k: line.get(k) for k in HELPLINE_FIELDS}, "hours_text": _hours_text(line),
                        "routing": [c for c, ids in routing.items() if isinstance(ids, list) and line_id in ids]})
    return out


def _lexicon_data() -> Dict[str, Any]:
    return _load(content_editing.content_root() / content.LEXICON_FILE)


def _risk_words() -> List[Dict[str, Any]]:
    entries = _lexicon_data().get("entries") or []
    by_category: Dict[str, List[Dict[str, Any]]] = {c: [] for c in CATEGORIES}
    for index, entry in enumerate(entries):
        if isinstance(entry, dict) and ("term" in entry or "all" in entry):
            by_category.setdefault(str(entry.get("category")), []).append(
                {"index": index, "label": content_editing.words_label(entry), "severity": entry.get("severity"),
                 "topic": bool(entry.get("topic"))})
    return [{"category": c, "entries": e} for c, e in by_category.items() if e]


def _context() -> Dict[str, Any]:
    return {"category_choices": CATEGORIES, "severity_choices": SEVERITIES, "severity_text": SEVERITY_TEXT,
            "routing_text": ROUTING_TEXT, "days": DAYS, "hours_modes": HOURS_MODES}


def index(ctx: Ctx) -> Response:
    return ctx.render("content_index.html", groups=_texts(), helplines=_helplines(), risk_groups=_risk_words(),
                      **_context())


# --- the shared preview / publish step -----------------------------------------------------------
def _verdict(kind: str, target: Dict[str, Any], new: Any) -> Tuple[Optional[content_editing.Change],
                                                                   content_editing.Verdict]:
    try:
        change = content_editing.prepare(kind, target, new)
    except EditError as error:
        return None, content_editing.Verdict(errors=[content_editing.Finding("fout", "", None, p)
                                                     for p in error.problems])
    return change, content_editing.check(change)


def _step(ctx: Ctx, kind: str, target: Dict[str, Any], new: Any, base: str, render, where: str) -> Response:
    """Preview (verdict + preview), or publish when this exact value was previewed; `render(status,
    **context)` draws the page; `where` is the page to go back to after publishing."""
    action = ctx.value("action")
    previewed = ctx.value("previewed")
    try:
        current = content_editing.current_value(kind, target)
    except EditError as error:
        return render(400, error="\n".join(error.problems))
    try:
        content_editing.verify_base(kind, target, base, current)
    except Conflict as error:
        return render(409, conflict=str(error), current=error.current, mine=new)
    if action == "publish" and previewed == value_hash(new):
        try:
            change_id, verdict = content_editing.publish(ctx.db, ctx.account, kind, target, new, base)
        except Conflict as error:
            return render(409, conflict=str(error), current=error.current, mine=new)
        except EditError as error:
            change, verdict = _verdict(kind, target, new)
            return render(400, error="Niet gepubliceerd. " + " ".join(error.problems), verdict=verdict, change=change)
        note = (" Let op: " + " ".join(f.message for f in verdict.warnings)) if verdict.warnings else ""
        if not change_id:
            return ctx.redirect(where, "Er was niets te veranderen: dit staat er al zo.")
        live = ("Sam leert dit pas na opnieuw trainen (Inhoud → Opnieuw trainen)." if kind == "example"
                else "Sam gebruikt het binnen een paar seconden.")
        return ctx.redirect(where, f"Gepubliceerd (wijziging {change_id}). {live}{note}")
    change, verdict = _verdict(kind, target, new)
    hint = None
    if action == "publish":
        hint = "Je hebt iets veranderd na het voorbeeld. Bekijk het voorbeeld hieronder en publiceer dan opnieuw."
    return render(200 if verdict.ok else 400, verdict=verdict, change=change, previewed_hash=value_hash(new),
                  hint=hint)


def _live_content() -> Optional[content.Content]:
    try:
        return content.current(content_editing.content_root())
    except Exception:  # noqa: BLE001 - no good content: the preview shows the variable's name
        return None


def _bubble_text(name: str, text: str, loaded: Optional[content.Content], category: str) -> str:
    """The text as the young person would see it now, {helplines} filled with the real lines."""
    if loaded is None or "{helplines}" not in text:
        return text
    try:
        lines = helplines_text(category, content=loaded, only_24_7=name == "utter_failsafe_risk",
                               compact=name.startswith("utter_handover"))
    except Exception:  # noqa: BLE001 - the preview then shows the variable as it is
        return text
    return content.fill(text, {"helplines": lines})


def _preview_category(name: str, chosen: str) -> str:
    if chosen in CATEGORIES or chosen == "general":
        return chosen
    return next((c for c in CATEGORIES if name.endswith(c)), "general")


# --- texts and buttons ---------------------------------------------------------------------------
def _text_target(ctx: Ctx, source: Any) -> Dict[str, Any]:
    variant = str(source.get("variant") or "0")
    return {"name": str(source.get("name") or ""), "variant": int(variant) if variant.isdigit() else 0}


def _text_from_form(ctx: Ctx) -> Dict[str, Any]:
    buttons = []
    for number in range(MAX_BUTTONS):
        title, payload = ctx.value(f"button_title_{number}").strip(), ctx.value(f"button_payload_{number}").strip()
        if title or payload:
            buttons.append({"title": title, "payload": payload})
    text = ctx.value("text").replace("\r\n", "\n").replace("\r", "\n").strip()
    return {"text": text, "buttons": buttons}


def _text_page(ctx: Ctx, target: Dict[str, Any], value: Dict[str, Any], base: str, status: int = 200,
               **extra: Any) -> Response:
    file = extra.pop("file", None)
    category = _preview_category(target["name"], ctx.value("preview_category"))
    verdict = extra.get("verdict")
    if extra.get("conflict"):
        value, base = extra["current"], value_hash(extra["current"])
    loaded = (verdict.content if verdict is not None and verdict.content is not None else _live_content())
    shown = value if not extra.get("conflict") else extra["mine"]
    rows = list(value.get("buttons") or []) + [{"title": "", "payload": ""}] * EMPTY_BUTTON_ROWS
    return ctx.render("content_text.html", status=status, target=target, value=value, base=base,
                      file=file or content_editing.file_for("text", target), rows=rows[:MAX_BUTTONS],
                      intents=content_editing.domain_intents(), preview_category=category,
                      preview_text=_bubble_text(target["name"], shown.get("text", ""), loaded, category),
                      preview_buttons=shown.get("buttons") or [], categories=CATEGORIES,
                      category_labels_all={**{c: c for c in CATEGORIES}, "general": "general"},
                      **{"verdict": None, "previewed_hash": "", "hint": None, "conflict": None, "mine": None,
                         "change": None, **extra})


def text_page(ctx: Ctx) -> Response:
    target = _text_target(ctx, ctx.request.query_params)
    try:
        value = content_editing.current_value("text", target)
    except EditError as error:
        return ctx.render("error.html", status=404, message=" ".join(error.problems))
    if value is None:
        return ctx.render("error.html", status=404, message="Deze tekst bestaat niet.")
    return _text_page(ctx, target, value, value_hash(value))


def text_post(ctx: Ctx) -> Response:
    target = _text_target(ctx, ctx.form)
    new = _text_from_form(ctx)
    base = ctx.value("base")
    where = f"/content/text?name={quote(target['name'])}&variant={target['variant']}"

    def render(status: int, **extra: Any) -> Response:
        try:
            return _text_page(ctx, target, new, base, status, **extra)
        except EditError as error:
            return ctx.render("error.html", status=404, message=" ".join(error.problems))

    return _step(ctx, "text", target, new, base, render, where)


# --- helplines -----------------------------------------------------------------------------------
FORM_FIELDS = ("name", "contact", "short", "for", "hours", "hours_verified", "verified", "source", "confidence")


def _helpline_from_form(ctx: Ctx, current: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """The line as the form says it; fields the form does not show stay as they are."""
    current = current or {}
    value: Dict[str, Any] = {k: v for k, v in current.items() if k not in FORM_FIELDS + ("routing", "verified_on")}
    for key in ("name", "contact", "short", "for"):
        text = ctx.value(key).strip()
        if text:
            value[key] = text
    mode = ctx.value("hours_mode")
    if mode == "days":
        value["hours"] = {day: ctx.value(f"hours_{day}").strip() for day in DAYS if ctx.value(f"hours_{day}").strip()}
    else:
        value["hours"] = "always" if mode == "always" else "unknown"
    value["hours_verified"] = ctx.value("hours_verified") == "1"
    for key in ("verified", "source", "confidence"):
        text = ctx.value(key).strip()
        if text:
            value[key] = text  # `verified` is the one name for the date; an older `verified_on` is dropped
    routing = [c for c in ctx.form.getlist("routing") if isinstance(c, str)]
    value["routing"] = [c for c in _routing_keys() if c in routing]
    return value


def _routing_keys() -> List[str]:
    return [str(k) for k in (_helplines_data().get("routing") or {})]


def _helpline_page(ctx: Ctx, line_id: str, value: Optional[Dict[str, Any]], base: str, new_line: bool,
                   status: int = 200, **extra: Any) -> Response:
    if extra.get("conflict") and extra.get("current") is not None:
        value, base, new_line = extra["current"], value_hash(extra["current"]), False
    value = value or {"hours": "unknown", "hours_verified": False, "routing": []}
    verdict = extra.get("verdict")
    loaded = verdict.content if verdict is not None and verdict.content is not None else None
    previews = []
    if loaded is not None:
        for category in (value.get("routing") or [])[:3]:
            previews.append({"category": category, "text": helplines_text(category, content=loaded)})
    hours = value.get("hours")
    return ctx.render("content_helpline.html", status=status, line_id=line_id, value=value, base=base,
                      new_line=new_line, routing_keys=_routing_keys(), hours_mode="days" if isinstance(hours, dict)
                      else (hours if hours in ("always", "unknown") else "unknown"),
                      hours_days=hours if isinstance(hours, dict) else {}, previews=previews,
                      **_context(), **{"verdict": None, "previewed_hash": "", "hint": None, "conflict": None,
                                       "mine": None, "change": None, "remove": False, **extra})


def helpline_page(ctx: Ctx) -> Response:
    line_id = ctx.request.query_params.get("id", "")
    if not line_id:
        return _helpline_page(ctx, "", None, value_hash(None), True)
    value = content_editing.current_value("helpline", {"id": line_id})
    if value is None:
        return ctx.render("error.html", status=404, message="Deze hulplijn bestaat niet.")
    return _helpline_page(ctx, line_id, value, value_hash(value), False)


def helpline_post(ctx: Ctx) -> Response:
    new_line = ctx.value("new_line") == "1"
    line_id = (ctx.value("line_id") or ctx.value("id")).strip()
    remove = ctx.value("remove") == "1" and not new_line
    try:
        current = content_editing.current_value("helpline", {"id": line_id}) if line_id else None
    except EditError:
        current = None
    value = _helpline_from_form(ctx, None if new_line else current)
    new = None if remove else value
    base = ctx.value("base")

    def render(status: int, **extra: Any) -> Response:
        return _helpline_page(ctx, line_id, value, base, new_line, status, remove=remove, **extra)

    if not content_editing.LINE_ID.match(line_id):
        return render(400, error="Geef de hulplijn een code van 2 tot 40 kleine letters, cijfers of liggende "
                                 "streepjes, bijvoorbeeld 'vertrouwenspersoon'.")
    return _step(ctx, "helpline", {"id": line_id}, new, base, render, f"/content/helpline?id={quote(line_id)}")


# --- risk words ----------------------------------------------------------------------------------
def _risk_from_form(ctx: Ctx) -> Dict[str, Any]:
    words = ctx.value("words").strip()
    value: Dict[str, Any] = {}
    if ctx.value("mode") == "all":
        value["all"] = [w.strip() for w in words.replace(";", ",").split(",") if w.strip()]
    else:
        value["term"] = " ".join(words.split())
    value["category"] = ctx.value("category")
    value["severity"] = ctx.value("severity")
    if ctx.value("topic") == "1":
        value["topic"] = True
    return value


def _risk_page(ctx: Ctx, original: Optional[Dict[str, Any]], value: Optional[Dict[str, Any]], base: str,
               status: int = 200, **extra: Any) -> Response:
    if extra.get("conflict") and extra.get("current") is not None:
        value = original = extra["current"]
        base = value_hash(extra["current"])
    value = value or {"term": "", "category": "", "severity": "high"}
    verdict = extra.get("verdict")
    effect = verdict.effect if verdict is not None else None
    return ctx.render("content_risk.html", status=status, original=original,
                      original_json=json.dumps(content_editing.risk_identity(original), ensure_ascii=False)
                      if original else "", value=value, base=base, effect=effect,
                      words=", ".join(value["all"]) if "all" in value else value.get("term", ""),
                      mode="all" if "all" in value else "term", **_context(),
                      **{"verdict": None, "previewed_hash": "", "hint": None, "conflict": None, "mine": None,
                         "remove": False, **extra})


def risk_page(ctx: Ctx) -> Response:
    entry = ctx.request.query_params.get("entry", "")
    if not entry:
        return _risk_page(ctx, None, None, value_hash(None))
    entries = _lexicon_data().get("entries") or []
    if not entry.isdigit() or int(entry) >= len(entries) or not isinstance(entries[int(entry)], dict):
        return ctx.render("error.html", status=404, message="Dit risicowoord bestaat niet (meer).")
    value = content_editing._risk_value(entries[int(entry)])
    return _risk_page(ctx, value, value, value_hash(value))


def risk_post(ctx: Ctx) -> Response:
    try:
        original = json.loads(ctx.value("original")) if ctx.value("original") else None
    except ValueError:
        original = None
    if original is not None and not (isinstance(original, dict) and ("term" in original or "all" in original)):
        original = None
    value = _risk_from_form(ctx)
    remove = ctx.value("remove") == "1" and original is not None
    new = None if remove else value
    base = ctx.value("base")
    target = content_editing.risk_identity(original if original is not None else value)
    shown_original = content_editing.current_value("risk_word", target) if original is not None else None

    def render(status: int, **extra: Any) -> Response:
        return _risk_page(ctx, shown_original or original, value, base, status, remove=remove, **extra)

    if not (value.get("term") or value.get("all")):
        return render(400, error="Schrijf het risicowoord (of de woorden) in.")
    return _step(ctx, "risk_word", target, new, base, render, "/content#risicowoorden")


# --- example questions ---------------------------------------------------------------------------
def _examples_page(ctx: Ctx, status: int = 200, **extra: Any) -> Response:
    recent = content_editing.history(ctx.db, 20, "c.kind = 'example'")
    return ctx.render("content_examples.html", status=status, intents=content_editing.nlu_intents(), recent=recent,
                      intent=ctx.value("intent") or ctx.request.query_params.get("intent", ""),
                      example=ctx.value("example"), model_current=_model_current(),
                      **{"verdict": None, "previewed_hash": "", "hint": None, "conflict": None, "mine": None,
                         "change": None, **extra})


def _model_current() -> Optional[bool]:
    try:
        return training.is_current()
    except Exception:  # noqa: BLE001 - content or data unreadable: unknown
        return None


def examples_page(ctx: Ctx) -> Response:
    return _examples_page(ctx)


def examples_post(ctx: Ctx) -> Response:
    intent, example = ctx.value("intent"), " ".join(ctx.value("example").split())
    if intent not in content_editing.nlu_intents():
        return _examples_page(ctx, 400, error="Kies een intent uit de lijst.")
    if not example:
        return _examples_page(ctx, 400, error="Schrijf een voorbeeldvraag.")

    def render(status: int, **extra: Any) -> Response:
        if extra.get("conflict"):
            extra["error"], extra["conflict"] = extra["conflict"], None
        return _examples_page(ctx, status, **extra)

    return _step(ctx, "example", {"intent": intent, "example": example}, example, ctx.value("base") or value_hash(None),
                 render, f"/content/examples?intent={quote(intent)}")


# --- history and undo ----------------------------------------------------------------------------
def history_page(ctx: Ctx, status: int = 200, error: Optional[str] = None) -> Response:
    return ctx.render("content_history.html", status=status, rows=content_editing.history(ctx.db, HISTORY_PAGE),
                      error=error, kind_labels=content_editing.KIND_LABELS, severity_text=SEVERITY_TEXT)


def undo(ctx: Ctx) -> Response:
    change_id = ctx.value("change_id")
    if not change_id.isdigit():
        return history_page(ctx, 400, "Kies een wijziging uit de lijst.")
    try:
        new_id, verdict = content_editing.undo(ctx.db, ctx.account, int(change_id))
    except Conflict as error:
        return history_page(ctx, 409, str(error))
    except EditError as error:
        return history_page(ctx, 400, "Niet ongedaan gemaakt. " + " ".join(error.problems))
    if not new_id:
        return ctx.redirect("/content/history", "Er was niets te veranderen: de oude versie staat er al.")
    return ctx.redirect("/content/history", f"Wijziging {change_id} is ongedaan gemaakt (wijziging {new_id}). "
                                            f"Sam gebruikt de oude versie binnen een paar seconden.")


# --- retraining ----------------------------------------------------------------------------------
def training_page(ctx: Ctx, status: int = 200, error: Optional[str] = None) -> Response:
    return ctx.render("content_training.html", status=status, job=model_update.latest(ctx.db),
                      model_current=_model_current(), error=error, poll_seconds=2)


def training_status(ctx: Ctx) -> Response:
    return ctx.render("content_training_status.html", fragment=True, job=model_update.latest(ctx.db))


def training_start(ctx: Ctx) -> Response:
    try:
        model_update.start(ctx.db, ctx.account, ctx.settings)
    except model_update.Busy:
        return training_page(ctx, 409, "Er wordt al getraind. Wacht tot dat klaar is.")
    return ctx.redirect("/content/training", "Het trainen is begonnen. Dit duurt een paar minuten; Sam blijft "
                                             "gewoon werken met het oude model.")


def routes() -> list:
    return [
        route("/content", index, EDITORS),
        route("/content/text", text_page, EDITORS),
        route("/content/text", text_post, EDITORS, methods=["POST"]),
        route("/content/helpline", helpline_page, EDITORS),
        route("/content/helpline", helpline_post, EDITORS, methods=["POST"]),
        route("/content/risk", risk_page, EDITORS),
        route("/content/risk", risk_post, EDITORS, methods=["POST"]),
        route("/content/examples", examples_page, EDITORS),
        route("/content/examples", examples_post, EDITORS, methods=["POST"]),
        route("/content/history", history_page, EDITORS),
        route("/content/undo", undo, EDITORS, methods=["POST"]),
        route("/content/training", training_page, EDITORS),
        route("/content/training", training_start, EDITORS, methods=["POST"]),
        route("/content/training/status", training_status, EDITORS, fragment=True),
    ]
