"""The queue: every open case, most severe first, then the longest waiting; "Volgende" takes the
most urgent one nobody has yet; moderators mark themselves on or off duty."""
from __future__ import annotations

from starlette.responses import Response

from bot.dashboard.auth import route
from bot.dashboard.web import STAFF, Ctx
from bot.store import accounts, audit, cases

POLL_SECONDS = 5


def _context(ctx: Ctx) -> dict:
    return {
        "cases": cases.queue(ctx.db),
        "on_duty": accounts.on_duty_now(ctx.db, ctx.settings.dashboard_session_minutes),
        "my_takeovers": cases.takeovers(ctx.db, ctx.account["id"]),
        "max_takeovers": ctx.settings.dashboard_max_takeovers,
        "poll_seconds": POLL_SECONDS,
    }


def queue_page(ctx: Ctx) -> Response:
    return ctx.render("queue.html", **_context(ctx))


def queue_rows(ctx: Ctx) -> Response:
    """Only the rows, for the page's live update (static/dashboard.js)."""
    return ctx.render("_queue_rows.html", fragment=True, cases=cases.queue(ctx.db))


def next_case(ctx: Ctx) -> Response:
    try:
        case_id = cases.next_case(ctx.db, ctx.account, ctx.value("request_id") or None)
    except audit.AlreadyDone:
        return ctx.redirect("/queue")
    if case_id is None:
        return ctx.redirect("/queue", "Er is geen melding die nog niemand heeft opgepakt.")
    return ctx.redirect(f"/cases/{case_id}", "Je hebt deze melding opgepakt.")


def duty(ctx: Ctx) -> Response:
    on = ctx.value("on_duty") == "1"
    if accounts.set_on_duty(ctx.db, ctx.account["id"], on):
        audit.record(ctx.db, ctx.account, "on_duty" if on else "off_duty")
    return ctx.redirect("/queue", "Je bent nu in dienst." if on else "Je bent nu uit dienst.")


def dismiss_hint(ctx: Ctx) -> Response:
    accounts.set_pause_hint(ctx.db, ctx.account["session_id"], False)
    return ctx.redirect("/queue")


def routes() -> list:
    return [
        route("/queue", queue_page, STAFF),
        route("/queue/rows", queue_rows, STAFF, fragment=True),
        route("/queue/next", next_case, STAFF, methods=["POST"]),
        route("/duty", duty, STAFF, methods=["POST"]),
        route("/hint/dismiss", dismiss_hint, STAFF, methods=["POST"]),
    ]
