"""One case: the transcript, the risk assessment, earlier cases of the same young person, notes,
the helplines already named, and the actions (claim, assign, take over, reply, hand back,
transfer, note, resolve). Every view and every action goes into the audit log."""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from starlette.responses import Response

from bot.dashboard import transcript
from bot.dashboard.auth import route
from bot.dashboard.web import STAFF, Ctx
from bot.store import accounts, audit, cases

POLL_SECONDS = 3


def _page(ctx: Ctx, case: Dict[str, Any], status: int = 200, error: Optional[str] = None) -> Response:
    entries = transcript.build(ctx.db, ctx.settings.tracker_db_path, case)
    return ctx.render(
        "case.html", status=status, error=error, case=case, entries=entries,
        told=transcript.helplines_told(entries), earlier=cases.earlier(ctx.db, case),
        notes=cases.conversation_notes(ctx.db, case["conversation_id"]) or cases.notes(ctx.db, case["id"]),
        colleagues=[c for c in cases.staff(ctx.db) if c["id"] != ctx.account["id"]],
        outcomes=cases.OUTCOMES, my_takeovers=cases.takeovers(ctx.db, ctx.account["id"]),
        max_takeovers=ctx.settings.dashboard_max_takeovers, poll_seconds=POLL_SECONDS,
        max_reply=cases.MAX_REPLY, max_note=cases.MAX_NOTE)


def case_page(ctx: Ctx, case_id: int) -> Response:
    cases.sync(ctx.db)
    case = cases.get(ctx.db, case_id)
    if case is None:
        return ctx.render("error.html", status=404, message="Deze melding bestaat niet (meer).")
    cases.record_view(ctx.db, ctx.account, case)
    return _page(ctx, case)


def case_transcript(ctx: Ctx, case_id: int) -> Response:
    """Only the transcript, for the page's live update while a chat is taken over. Part of the
    page view that was audited when the page opened."""
    case = cases.get(ctx.db, case_id)
    if case is None:
        return ctx.render("error.html", status=404, fragment=True, message="Deze melding bestaat niet (meer).")
    return ctx.render("_transcript.html", fragment=True, case=case,
                      entries=transcript.build(ctx.db, ctx.settings.tracker_db_path, case))


def _act(action: Callable[[Ctx, int, Optional[str]], Any], done: str, same: str) -> Callable[..., Response]:
    """Runs an action: on success back to the case page (a reload does not repeat it); when not
    allowed, the page again with the reason and an error status."""

    def handler(ctx: Ctx, case_id: int) -> Response:
        request_id = ctx.value("request_id") or None
        try:
            changed = action(ctx, case_id, request_id)
        except audit.AlreadyDone:
            changed = False
        except cases.CaseError as error:
            case = cases.get(ctx.db, case_id)
            if case is None:
                return ctx.render("error.html", status=404, message=str(error))
            return _page(ctx, case, status=error.status, error=str(error))
        return ctx.redirect(f"/cases/{case_id}", done if changed else same)

    return handler


def _resolve(ctx: Ctx, case_id: int, request_id: Optional[str]) -> bool:
    result = cases.resolve(ctx.db, ctx.account, case_id, ctx.value("outcome"), ctx.value("follow_up"), request_id)
    if result["changed"] and result["acute"]:
        accounts.set_pause_hint(ctx.db, ctx.account["session_id"], True)
    return result["changed"]


def _resolved(ctx: Ctx, case_id: int) -> Response:
    response = _act(_resolve, "De melding is afgesloten.", "Deze melding was al afgesloten.")(ctx, case_id)
    if response.status_code == 303:
        return ctx.redirect("/queue")  # the flash and the pause hint show on the queue
    return response


def _max(ctx: Ctx) -> int:
    return ctx.settings.dashboard_max_takeovers


ACTIONS = {
    "claim": _act(lambda ctx, case_id, rid: cases.claim(ctx.db, ctx.account, case_id, rid),
                  "Je hebt deze melding opgepakt.", "Je had deze melding al."),
    "assign": _act(lambda ctx, case_id, rid: cases.assign(ctx.db, ctx.account, case_id, ctx.value("to"), _max(ctx),
                                                          rid),
                   "De melding is toegewezen.", "Deze collega had de melding al."),
    "takeover": _act(lambda ctx, case_id, rid: cases.take_over(ctx.db, ctx.account, case_id, _max(ctx), rid),
                     "Je hebt het gesprek overgenomen. Sam is stil.", "Je had het gesprek al overgenomen."),
    "handback": _act(lambda ctx, case_id, rid: cases.hand_back(ctx.db, ctx.account, case_id, rid),
                     "Sam praat weer met de jongere.", "Sam praatte al met de jongere."),
    "reply": _act(lambda ctx, case_id, rid: cases.reply(ctx.db, ctx.account, case_id, ctx.value("text"), rid),
                  "Je bericht is verstuurd.", "Dit bericht was al verstuurd."),
    "transfer": _act(lambda ctx, case_id, rid: cases.transfer(ctx.db, ctx.account, case_id, ctx.value("to"),
                                                              ctx.value("note"), _max(ctx), rid),
                     "De melding is overgedragen.", "De melding was al overgedragen."),
    "note": _act(lambda ctx, case_id, rid: cases.add_note(ctx.db, ctx.account, case_id, ctx.value("text"), rid),
                 "Je notitie is opgeslagen.", "Deze notitie was al opgeslagen."),
}


def routes() -> list:
    made = [
        route("/cases/{case_id:int}", case_page, STAFF),
        route("/cases/{case_id:int}/transcript", case_transcript, STAFF, fragment=True),
        route("/cases/{case_id:int}/resolve", _resolved, STAFF, methods=["POST"]),
    ]
    made += [route(f"/cases/{{case_id:int}}/{name}", handler, STAFF, methods=["POST"])
             for name, handler in ACTIONS.items()]
    return made
